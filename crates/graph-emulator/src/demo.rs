//! Well-known values of the built-in demo tenant (`crates/graph-emulator/src/demo_tenant.json`,
//! org "Contoso"). A unit test checks that they match the JSON.

pub const TENANT_ID: &str = "abd52d7b-5a6e-4d73-ab8b-f23b4a22e7c2";
pub const TENANT_DOMAIN: &str = "contoso.onmicrosoft.com";
/// The service's app: User.ReadWrite.All + User.Read.All.
pub const CLIENT_ID: &str = "94a4b756-3601-47b7-9c4d-5e19738c4145";
pub const CLIENT_SECRET: &str = "dQ98Q~Emu1ator.Demo-Secret_Contoso.App01";
/// User.Invite.All + User.Read.All: may invite, may not reset.
pub const INVITE_ONLY_CLIENT_ID: &str = "1e8cd27d-501f-4463-9065-9db1076570db";
pub const INVITE_ONLY_CLIENT_SECRET: &str = "iN98Q~Invite.Only-Demo_Secret.Contoso02";
/// Its only secret has expired (AADSTS7000222).
pub const EXPIRED_CLIENT_ID: &str = "7b683e72-e04e-4835-ab20-2572f1f8b6d6";
pub const EXPIRED_CLIENT_SECRET: &str = "eX98Q~Expired.Demo-Secret_Contoso.App03";
/// User.Read.All only: may read, may neither write nor invite.
pub const READ_ONLY_CLIENT_ID: &str = "6af41a6b-0716-477b-9cce-07cd4788efa8";
pub const READ_ONLY_CLIENT_SECRET: &str = "rD98Q~Read.Only-Demo_Secret.Contoso04";

/// guest-reset's own API registration (no secret). Its v2.0 tokens carry `aud` =
/// API_CLIENT_ID, also when requested with API_SCOPE; the issuer is
/// `Emulator::api_issuer(base)`. Assignment is not required, so a client without a
/// role (e.g. CLIENT_ID) still gets a token, without `roles`.
pub const API_CLIENT_ID: &str = "b9617ab4-7131-436d-a1ed-1b218741aff0";
pub const API_APP_ID_URI: &str = "api://guest-reset";
pub const API_SCOPE: &str = "api://guest-reset/.default";
/// The API's app roles (values, as they appear in `roles`).
pub const APP_ROLE_HELPDESK: &str = "GuestReset.Helpdesk";
pub const APP_ROLE_AUDITOR: &str = "GuestReset.Auditor";
pub const APP_ROLE_ADMIN: &str = "GuestReset.Admin";
pub const APP_ROLE_REDEEM_URL: &str = "GuestReset.RedeemUrl";
/// Helpdesk portal: Helpdesk + RedeemUrl on the API.
pub const HELPDESK_PORTAL_CLIENT_ID: &str = "5456e7e3-ca13-41ac-9ea8-a54d02992234";
pub const HELPDESK_PORTAL_CLIENT_SECRET: &str = "hP98Q~Helpdesk.Portal-Demo_Secret.Contoso05";
/// Its service principal: `oid` and `sub` of its API tokens.
pub const HELPDESK_PORTAL_SP_ID: &str = "db9dd2fc-6e34-4664-972d-ba14823c6cfa";
/// Audit reader: Auditor on the API.
pub const AUDITOR_CLIENT_ID: &str = "4742cc67-9dd1-497b-a36e-9ad8395ec86c";
pub const AUDITOR_CLIENT_SECRET: &str = "aU98Q~Auditor.Demo-Secret_Contoso.App06";
pub const AUDITOR_SP_ID: &str = "0f06270c-c183-4297-8e93-f6ebe647d64a";
/// Admin client: Admin on the API.
pub const ADMIN_CLIENT_ID: &str = "a51ff8d8-17ac-4918-8e9d-c7201bb34142";
pub const ADMIN_CLIENT_SECRET: &str = "aD98Q~Admin.Demo-Secret_Contoso.App07";
pub const ADMIN_SP_ID: &str = "19ee4e43-1864-46d5-b61d-0ec39f154618";

/// Adele Vance: Accepted guest; her new address is not on the object yet.
pub const ADELE_ID: &str = "a75a50af-c591-45d9-af8d-ccc72f36768e";
pub const ADELE_UPN: &str = "adele.vance_fabrikam.example#EXT#@contoso.onmicrosoft.com";
pub const ADELE_MAIL: &str = "adele.vance@fabrikam.example";
pub const ADELE_NEW_MAIL: &str = "adele@northwind.example";
/// Bianca Pisani: guest still PendingAcceptance.
pub const PENDING_GUEST_ID: &str = "a1dfca7e-0f65-49c2-bb6d-7d28151afe07";
pub const PENDING_GUEST_MAIL: &str = "bianca.pisani@fabrikam.example";
/// Megan Bowen: a member, not a guest.
pub const MEMBER_ID: &str = "1d4c24ea-15bd-40e1-9613-7d1e6c1e4c06";
pub const MEMBER_MAIL: &str = "megan.bowen@contoso.example";
/// Grady Archie: guest holding the Guest Inviter role directly.
pub const ROLE_GUEST_ID: &str = "1a082a85-5c57-40bf-b81d-297d33f707a4";
pub const ROLE_GUEST_MAIL: &str = "grady.archie@fabrikam.example";
/// Lynne Robbins: guest holding Helpdesk Administrator through a role-assignable group.
pub const GROUP_ROLE_GUEST_ID: &str = "e61b1379-ffc5-4bf1-8800-5114917c09f7";
pub const GROUP_ROLE_GUEST_MAIL: &str = "lynne.robbins@fabrikam.example";
/// Diego Siciliani and Isaiah Langer both carry SHARED_MAIL in otherMails.
pub const SHARED_GUEST_A_ID: &str = "11d9ee1b-f95e-4496-9b61-cdc42726be06";
pub const SHARED_GUEST_B_ID: &str = "857b6bba-7ef9-4a24-9291-546826a34333";
pub const SHARED_MAIL: &str = "shared@tailspin.example";
/// Lee Gu: Accepted guest from tailspin.example.
pub const OTHER_DOMAIN_GUEST_ID: &str = "2eb47519-7e1b-4077-add6-6466992f12b7";
pub const OTHER_DOMAIN_GUEST_MAIL: &str = "lee.gu@tailspin.example";
/// Liam O'Connor: an address with an apostrophe, for `''` escaping in `$filter`.
pub const APOSTROPHE_GUEST_ID: &str = "ae52f443-491a-4d7d-98d3-94517faa8870";
pub const APOSTROPHE_GUEST_MAIL: &str = "liam.o'connor@fabrikam.example";

/// Fabrikam Partners (Adele, Bianca), nested in All External Partners.
pub const PARTNERS_GROUP_ID: &str = "6addca51-d8d4-49de-8fc2-b77c5f83a88c";
pub const ALL_PARTNERS_GROUP_ID: &str = "f76092fd-1f0e-49f2-8b8c-8ea14f4dacdc";
/// Tier 1 Helpdesk: role-assignable group holding Helpdesk Administrator (Lynne).
pub const ROLE_GROUP_ID: &str = "9b62d3c2-0218-4a63-b19c-6c01aed107dc";
pub const GUEST_INVITER_ROLE_ID: &str = "418c0b90-fd77-4ad6-95cb-6ab485b523cd";
pub const GUEST_INVITER_TEMPLATE_ID: &str = "95e79109-95c0-4d8e-aee3-d01accf2d47b";
pub const HELPDESK_ROLE_ID: &str = "a8969210-e5be-4cc6-a45a-d62ca9a13cd2";
pub const HELPDESK_TEMPLATE_ID: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";

/// Object id of the `i`-th extra guest of `Emulator::demo_with_guests`.
pub fn guest_id(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

/// Mail of the `i`-th extra guest.
pub fn guest_mail(i: usize) -> String {
    format!("guest-{i}@fabrikam.example")
}

/// Adele's seed entry, renamed to the `i`-th extra guest.
pub(super) fn extra_guest(adele: &serde_json::Value, i: usize) -> serde_json::Value {
    let mut guest = adele.clone();
    let (mail, upn) = (
        guest_mail(i),
        format!("guest-{i}_fabrikam.example#EXT#@contoso.onmicrosoft.com"),
    );
    guest["id"] = serde_json::json!(guest_id(i));
    guest["displayName"] = serde_json::json!(format!("Guest {i}"));
    guest["mail"] = serde_json::json!(mail);
    guest["userPrincipalName"] = serde_json::json!(upn);
    guest["proxyAddresses"] = serde_json::json!([format!("SMTP:{mail}")]);
    guest["identities"] = serde_json::json!([{ "signInType": "userPrincipalName", "issuer": "contoso.onmicrosoft.com", "issuerAssignedId": upn }]);
    guest
}
