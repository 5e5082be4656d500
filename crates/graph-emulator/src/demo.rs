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
/// The API's app roles (values, as they appear in `roles`), for apps and for people.
pub const APP_ROLE_HELPDESK: &str = "GuestReset.Helpdesk";
pub const APP_ROLE_AUDITOR: &str = "GuestReset.Auditor";
pub const APP_ROLE_ADMIN: &str = "GuestReset.Admin";
pub const APP_ROLE_REDEEM_URL: &str = "GuestReset.RedeemUrl";
pub const APP_ROLE_APPROVER: &str = "GuestReset.Approver";
pub const APP_ROLE_BULK_OPERATOR: &str = "GuestReset.BulkOperator";
/// The API's delegated permission (as it appears in `scp`), and the scope a sign-in
/// asks for it with. Delegated tokens carry `aud` = API_CLIENT_ID and the person's app
/// roles on the API in `roles`.
pub const API_DELEGATED_PERMISSION: &str = "access_as_user";
pub const CONSOLE_SCOPE: &str = "api://guest-reset/access_as_user";
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
/// The console, a web app that signs people in (authorization code with PKCE, OpenID
/// Connect) and calls the API as them with CONSOLE_SCOPE. Its redirect URIs are on
/// loopback hosts, where any port matches, as in Entra.
pub const CONSOLE_CLIENT_ID: &str = "f09c1c60-700e-4f3d-9dff-f3827a41b7c6";
pub const CONSOLE_CLIENT_SECRET: &str = "cN98Q~Console.Demo-Secret_Contoso.App08";
pub const CONSOLE_SP_ID: &str = "04baadc1-b220-41c6-a8c8-2ac5d0142ace";
pub const CONSOLE_REDIRECT_URI: &str = "http://localhost/console/auth/callback";
pub const CONSOLE_REDIRECT_URI_LOOPBACK_IP: &str = "http://127.0.0.1/console/auth/callback";

/// Adele Vance: Accepted guest; her new address is not on the object yet. Sponsored by
/// Megan Bowen (MEMBER_ID).
pub const ADELE_ID: &str = "a75a50af-c591-45d9-af8d-ccc72f36768e";
pub const ADELE_UPN: &str = "adele.vance_fabrikam.example#EXT#@contoso.onmicrosoft.com";
pub const ADELE_MAIL: &str = "adele.vance@fabrikam.example";
pub const ADELE_NEW_MAIL: &str = "adele@northwind.example";
/// Bianca Pisani: guest still PendingAcceptance.
pub const PENDING_GUEST_ID: &str = "a1dfca7e-0f65-49c2-bb6d-7d28151afe07";
pub const PENDING_GUEST_MAIL: &str = "bianca.pisani@fabrikam.example";
/// Megan Bowen: a member, not a guest; the user sponsor of Adele and Johanna.
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

/// Johanna Lorenz: Accepted guest shaped like Adele, for the sponsor approval
/// walk-through: sponsored by Megan Bowen (MEMBER_ID, a user sponsor) and by Partner
/// Managers (a group sponsor). Her new address is not on the object yet.
pub const JOHANNA_ID: &str = "48047c03-f49d-4d8d-80dd-64907403b6cf";
pub const JOHANNA_UPN: &str = "johanna.lorenz_fabrikam.example#EXT#@contoso.onmicrosoft.com";
pub const JOHANNA_MAIL: &str = "johanna.lorenz@fabrikam.example";
pub const JOHANNA_NEW_MAIL: &str = "johanna@litware.example";
/// Partner Managers: security group sponsoring Johanna; members Patti and Miriam.
pub const PARTNER_MANAGERS_GROUP_ID: &str = "c8ce5405-3929-4631-ac3c-b6daeb44da85";
/// Patti Fernandez and Miriam Graham: members (not guests, no directory roles) in
/// Partner Managers. On the API, Patti is an Approver and Miriam is Helpdesk; Megan
/// Bowen (MEMBER_ID) holds no role on it.
pub const PATTI_ID: &str = "a551c2a7-6a89-48f3-b53f-ea9f4b041642";
pub const PATTI_MAIL: &str = "patti.fernandez@contoso.example";
pub const MIRIAM_ID: &str = "983786c2-190d-4093-9472-5af19f8d5916";
pub const MIRIAM_MAIL: &str = "miriam.graham@contoso.example";
/// Nestor Wilke: a member, BulkOperator on the API (not Tailspin's Nestor).
pub const NESTOR_ID: &str = "f63e3082-8a8a-400f-b7f1-65d661e0f83e";
pub const NESTOR_MAIL: &str = "nestor.wilke@contoso.example";
/// Lidia Holloway: a member, Auditor on the API.
pub const LIDIA_ID: &str = "467049a0-b94d-4dab-9a22-82c131ff997f";
pub const LIDIA_MAIL: &str = "lidia.holloway@contoso.example";

/// Fabrikam Partners (Adele, Bianca), nested in All External Partners.
pub const PARTNERS_GROUP_ID: &str = "6addca51-d8d4-49de-8fc2-b77c5f83a88c";
pub const ALL_PARTNERS_GROUP_ID: &str = "f76092fd-1f0e-49f2-8b8c-8ea14f4dacdc";
/// Tier 1 Helpdesk: role-assignable group holding Helpdesk Administrator (Lynne).
pub const ROLE_GROUP_ID: &str = "9b62d3c2-0218-4a63-b19c-6c01aed107dc";
pub const GUEST_INVITER_ROLE_ID: &str = "418c0b90-fd77-4ad6-95cb-6ab485b523cd";
pub const GUEST_INVITER_TEMPLATE_ID: &str = "95e79109-95c0-4d8e-aee3-d01accf2d47b";
pub const HELPDESK_ROLE_ID: &str = "a8969210-e5be-4cc6-a45a-d62ca9a13cd2";
pub const HELPDESK_TEMPLATE_ID: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";

/// The demo's second tenant (`crates/graph-emulator/src/demo_tailspin.json`, org
/// "Tailspin Toys"), hosted beside Contoso by `Cloud::demo`. It has no guest-reset API
/// and no API callers: those live in the home tenant, Contoso.
pub mod tailspin {
    pub const TENANT_ID: &str = "43b53740-77eb-4a73-b445-a7c4abc71448";
    pub const TENANT_DOMAIN: &str = "tailspintoys.onmicrosoft.com";
    /// The multi-tenant service app, consented in Tailspin too: the same client id and
    /// secret as Contoso's (`super::CLIENT_ID`), the way an MSP tool holds one app and
    /// asks each customer tenant's authority for a token. Same Graph roles.
    pub const CLIENT_ID: &str = super::CLIENT_ID;
    pub const CLIENT_SECRET: &str = super::CLIENT_SECRET;
    /// That app's service principal in Tailspin (`oid` of Tailspin's tokens for it).
    pub const CLIENT_SP_ID: &str = "aaf3e05e-49ab-49f2-bd75-0e9c28c37444";
    /// Tailspin's own single-tenant app: User.ReadWrite.All + User.Read.All.
    pub const OWN_CLIENT_ID: &str = "b941d1ed-df8a-4ecc-b153-baae7702dbb7";
    pub const OWN_CLIENT_SECRET: &str = "tT98Q~Tailspin.Own-Demo_Secret.Tailspin01";
    pub const OWN_SP_ID: &str = "2c9a3e90-ea8b-4c23-a04c-afbe669b2c47";

    /// Alex Wilber: Accepted guest shaped like Adele; his new address is on no object.
    pub const ALEX_ID: &str = "32752667-dcf8-427d-bc92-2aaee9977f40";
    pub const ALEX_UPN: &str = "alex.wilber_litware.example#EXT#@tailspintoys.onmicrosoft.com";
    pub const ALEX_MAIL: &str = "alex.wilber@litware.example";
    pub const ALEX_NEW_MAIL: &str = "alex@northwind.example";
    /// Diego Siciliani (Litware): a second Accepted guest; not Contoso's Diego.
    pub const DIEGO_ID: &str = "3dbc057f-8125-4937-afa8-e0ff3960c0e2";
    pub const DIEGO_MAIL: &str = "diego.siciliani@litware.example";
    /// Pradeep Gupta: Accepted guest whose mail has the domain of Contoso's guests
    /// (fabrikam.example), so per-tenant policy can differ on the same domain.
    pub const PRADEEP_ID: &str = "5b6fc4c8-19a5-4d73-8cc8-5f7aac0da5f4";
    pub const PRADEEP_MAIL: &str = "pradeep.gupta@fabrikam.example";
    /// Nestor Wilke: a member, not a guest.
    pub const MEMBER_ID: &str = "0a9b56d9-7a73-4c88-a7d4-77e5746a4f83";
    pub const MEMBER_MAIL: &str = "nestor.wilke@tailspintoys.example";
    /// Tailspin Partners: Alex, Diego and Pradeep.
    pub const PARTNERS_GROUP_ID: &str = "45106918-9b45-4e98-8359-ca242042eee6";
}

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
