//! The seed format and the demo tenant's well-known values.

use serde_json::{Map, Value};

use super::super::{Seed, demo};

fn user_id(user: &Map<String, Value>) -> &str {
    user.get("id").and_then(Value::as_str).unwrap_or_default()
}

fn user<'a>(seed: &'a Seed, id: &str) -> &'a Map<String, Value> {
    let found = seed.users.iter().find(|u| user_id(u) == id);
    found.unwrap_or_else(|| panic!("demo tenant lacks user {id}"))
}

fn text<'a>(user: &'a Map<String, Value>, key: &str) -> &'a str {
    user.get(key).and_then(Value::as_str).unwrap_or_default()
}

#[test]
fn demo_tenant_is_valid() {
    assert_eq!(Seed::demo().validate(), Ok(()));
}

#[test]
fn demo_constants_match_the_json() {
    let seed = Seed::demo();
    assert_eq!(seed.tenant.id, demo::TENANT_ID);
    assert_eq!(seed.tenant.domain, demo::TENANT_DOMAIN);
    let app = |id: &str| seed.apps.iter().find(|a| a.client_id == id).cloned();
    assert_eq!(
        app(demo::CLIENT_ID).map(|a| a.client_secret).as_deref(),
        Some(demo::CLIENT_SECRET)
    );
    let invite = app(demo::INVITE_ONLY_CLIENT_ID).map(|a| (a.client_secret, a.roles));
    assert_eq!(
        invite.as_ref().map(|i| i.0.as_str()),
        Some(demo::INVITE_ONLY_CLIENT_SECRET)
    );
    assert!(invite.is_some_and(|i| i.1.iter().any(|r| r == "User.Invite.All")));
    let expired = app(demo::EXPIRED_CLIENT_ID);
    assert!(expired.as_ref().is_some_and(|a| a.secret_expired));
    assert_eq!(
        expired.map(|a| a.client_secret).as_deref(),
        Some(demo::EXPIRED_CLIENT_SECRET)
    );
    let read_only = app(demo::READ_ONLY_CLIENT_ID).map(|a| a.client_secret);
    assert_eq!(read_only.as_deref(), Some(demo::READ_ONLY_CLIENT_SECRET));
}

#[test]
fn demo_users_match_their_constants() {
    let seed = Seed::demo();
    let adele = user(&seed, demo::ADELE_ID);
    assert_eq!(text(adele, "userPrincipalName"), demo::ADELE_UPN);
    assert_eq!(text(adele, "mail"), demo::ADELE_MAIL);
    assert_eq!(text(adele, "externalUserState"), "Accepted");
    assert_eq!(adele.get("otherMails"), Some(&Value::Array(Vec::new())));
    let pairs = [
        (demo::PENDING_GUEST_ID, demo::PENDING_GUEST_MAIL),
        (demo::MEMBER_ID, demo::MEMBER_MAIL),
        (demo::ROLE_GUEST_ID, demo::ROLE_GUEST_MAIL),
        (demo::GROUP_ROLE_GUEST_ID, demo::GROUP_ROLE_GUEST_MAIL),
        (demo::OTHER_DOMAIN_GUEST_ID, demo::OTHER_DOMAIN_GUEST_MAIL),
        (demo::APOSTROPHE_GUEST_ID, demo::APOSTROPHE_GUEST_MAIL),
    ];
    for (id, mail) in pairs {
        assert_eq!(text(user(&seed, id), "mail"), mail, "user {id}");
    }
    assert_eq!(
        text(user(&seed, demo::PENDING_GUEST_ID), "externalUserState"),
        "PendingAcceptance"
    );
    assert_eq!(text(user(&seed, demo::MEMBER_ID), "userType"), "Member");
    for id in [demo::SHARED_GUEST_A_ID, demo::SHARED_GUEST_B_ID] {
        let other = user(&seed, id).get("otherMails").cloned();
        assert_eq!(
            other,
            Some(serde_json::json!([demo::SHARED_MAIL])),
            "user {id}"
        );
    }
}

#[test]
fn demo_sponsor_walkthrough_matches_its_constants() {
    let seed = Seed::demo();
    let johanna = user(&seed, demo::JOHANNA_ID);
    assert_eq!(text(johanna, "userPrincipalName"), demo::JOHANNA_UPN);
    assert_eq!(text(johanna, "mail"), demo::JOHANNA_MAIL);
    assert_eq!(text(johanna, "externalUserState"), "Accepted");
    let sponsors = serde_json::json!([demo::MEMBER_ID, demo::PARTNER_MANAGERS_GROUP_ID]);
    assert_eq!(johanna.get("sponsors"), Some(&sponsors));
    let adele_sponsors = user(&seed, demo::ADELE_ID).get("sponsors").cloned();
    assert_eq!(adele_sponsors, Some(serde_json::json!([demo::MEMBER_ID])));
    let new_mail_is_nowhere = seed.users.iter().all(|u| {
        let json = Value::Object(u.clone()).to_string();
        !json.contains(demo::JOHANNA_NEW_MAIL)
    });
    assert!(new_mail_is_nowhere);

    let managers = seed
        .groups
        .iter()
        .find(|g| g.id == demo::PARTNER_MANAGERS_GROUP_ID);
    let members = managers.map(|g| (g.members.clone(), g.is_assignable_to_role));
    let expected = vec![demo::PATTI_ID.to_owned(), demo::MIRIAM_ID.to_owned()];
    assert_eq!(members, Some((expected, false)));
    for (id, mail) in [
        (demo::PATTI_ID, demo::PATTI_MAIL),
        (demo::MIRIAM_ID, demo::MIRIAM_MAIL),
    ] {
        let member = user(&seed, id);
        assert_eq!(text(member, "mail"), mail, "user {id}");
        assert_eq!(text(member, "userType"), "Member", "user {id}");
        let holds_role = seed
            .directory_roles
            .iter()
            .any(|r| r.members.iter().any(|m| m == id));
        assert!(!holds_role, "user {id} holds no directory role");
    }
}

#[test]
fn demo_roles_and_groups_match_their_constants() {
    let seed = Seed::demo();
    let role = |id: &str| seed.directory_roles.iter().find(|r| r.id == id).cloned();
    let inviter = role(demo::GUEST_INVITER_ROLE_ID).map(|r| (r.role_template_id, r.members));
    assert_eq!(
        inviter,
        Some((
            demo::GUEST_INVITER_TEMPLATE_ID.to_owned(),
            vec![demo::ROLE_GUEST_ID.to_owned()]
        ))
    );
    let helpdesk = role(demo::HELPDESK_ROLE_ID).map(|r| (r.role_template_id, r.members));
    assert_eq!(
        helpdesk,
        Some((
            demo::HELPDESK_TEMPLATE_ID.to_owned(),
            vec![demo::ROLE_GROUP_ID.to_owned()]
        ))
    );
    let group = seed.groups.iter().find(|g| g.id == demo::ROLE_GROUP_ID);
    assert!(
        group.is_some_and(|g| g.is_assignable_to_role && g.members == [demo::GROUP_ROLE_GUEST_ID])
    );
    let all = seed
        .groups
        .iter()
        .find(|g| g.id == demo::ALL_PARTNERS_GROUP_ID);
    assert!(all.is_some_and(|g| g.members.iter().any(|m| m == demo::PARTNERS_GROUP_ID)));
}

#[test]
fn validation_names_the_offending_entry() {
    let mut seed = Seed::demo();
    seed.users[1].insert("favouriteColour".to_owned(), Value::from("teal"));
    let err = seed.validate().unwrap_err();
    assert!(
        err.contains("users[1]") && err.contains("favouriteColour"),
        "{err}"
    );

    let mut seed = Seed::demo();
    seed.groups[0]
        .members
        .push("00000000-0000-0000-0000-000000000001".to_owned());
    let err = seed.validate().unwrap_err();
    assert!(err.contains("does not exist"), "{err}");

    let mut seed = Seed::demo();
    let duplicate = seed.users[0].clone();
    seed.users.push(duplicate);
    assert!(seed.validate().unwrap_err().contains("duplicate id"));
}

#[test]
fn demo_api_and_portal_apps_match_their_constants() {
    let seed = Seed::demo();
    let app = |id: &str| seed.apps.iter().find(|a| a.client_id == id).cloned();
    let api = app(demo::API_CLIENT_ID).expect("API app");
    assert_eq!(api.identifier_uris, [demo::API_APP_ID_URI]);
    assert_eq!(
        demo::API_SCOPE,
        format!("{}/.default", demo::API_APP_ID_URI)
    );
    let values: Vec<&str> = api.app_roles.iter().map(|r| r.value.as_str()).collect();
    let all = [
        demo::APP_ROLE_HELPDESK,
        demo::APP_ROLE_AUDITOR,
        demo::APP_ROLE_ADMIN,
        demo::APP_ROLE_REDEEM_URL,
        demo::APP_ROLE_APPROVER,
        demo::APP_ROLE_BULK_OPERATOR,
    ];
    assert_eq!(values, all);
    let clients = [
        (
            demo::HELPDESK_PORTAL_CLIENT_ID,
            demo::HELPDESK_PORTAL_CLIENT_SECRET,
            demo::HELPDESK_PORTAL_SP_ID,
        ),
        (
            demo::AUDITOR_CLIENT_ID,
            demo::AUDITOR_CLIENT_SECRET,
            demo::AUDITOR_SP_ID,
        ),
        (
            demo::ADMIN_CLIENT_ID,
            demo::ADMIN_CLIENT_SECRET,
            demo::ADMIN_SP_ID,
        ),
    ];
    for (id, secret, sp) in clients {
        let client = app(id).expect("client app");
        assert_eq!(client.client_secret, secret, "{id}");
        assert_eq!(client.service_principal_id.as_deref(), Some(sp), "{id}");
        assert!(client.api_roles.contains_key(demo::API_CLIENT_ID), "{id}");
    }
}

#[test]
fn api_validation_names_the_offending_app() {
    let portal = |seed: &Seed| {
        let found = seed
            .apps
            .iter()
            .position(|a| a.client_id == demo::HELPDESK_PORTAL_CLIENT_ID);
        found.expect("portal app")
    };
    let mut seed = Seed::demo();
    let i = portal(&seed);
    let granted = vec!["GuestReset.Nope".to_owned()];
    seed.apps[i]
        .api_roles
        .insert(demo::API_CLIENT_ID.to_owned(), granted);
    let err = seed.validate().unwrap_err();
    assert!(
        err.contains(&format!("apps[{i}]")) && err.contains("GuestReset.Nope"),
        "{err}"
    );

    let mut seed = Seed::demo();
    let granted = vec!["User.Read.All".to_owned()];
    seed.apps[i]
        .api_roles
        .insert(demo::CLIENT_ID.to_owned(), granted);
    assert!(
        seed.validate()
            .unwrap_err()
            .contains("not an app with appRoles")
    );

    let mut seed = Seed::demo();
    seed.apps[i].identifier_uris = vec![demo::API_APP_ID_URI.to_uppercase()];
    assert!(seed.validate().unwrap_err().contains("duplicate"));

    let mut seed = Seed::demo();
    seed.apps[i].client_secret.clear();
    assert!(
        seed.validate()
            .unwrap_err()
            .contains("clientSecret are required")
    );
}

#[test]
fn a_seed_without_api_fields_still_loads() {
    let json = serde_json::json!({
        "tenant": { "id": demo::TENANT_ID, "domain": demo::TENANT_DOMAIN },
        "apps": [{ "clientId": demo::CLIENT_ID, "clientSecret": "s", "roles": ["User.Read.All"] }],
    });
    let seed: Seed = serde_json::from_value(json).expect("old seed parses");
    assert_eq!(seed.validate(), Ok(()));
    assert!(seed.apps[0].api_roles.is_empty() && seed.apps[0].app_roles.is_empty());
}
