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
