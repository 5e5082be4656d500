//! The demo's second tenant, Tailspin Toys: valid, its constants match the JSON, it
//! shares only the multi-tenant app with Contoso, and no object id with it.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::super::{Seed, demo};
use demo::tailspin;

fn user<'a>(seed: &'a Seed, id: &str) -> &'a Map<String, Value> {
    let found = seed.users.iter().find(|u| u["id"] == id);
    found.unwrap_or_else(|| panic!("Tailspin lacks user {id}"))
}

fn text<'a>(user: &'a Map<String, Value>, key: &str) -> &'a str {
    user.get(key).and_then(Value::as_str).unwrap_or_default()
}

#[test]
fn tailspin_is_a_valid_seed() {
    assert_eq!(Seed::demo_tailspin().validate(), Ok(()));
}

#[test]
fn tailspin_apps_match_their_constants() {
    let (seed, contoso) = (Seed::demo_tailspin(), Seed::demo());
    assert_eq!(seed.tenant.id, tailspin::TENANT_ID);
    assert_eq!(seed.tenant.domain, tailspin::TENANT_DOMAIN);
    assert_eq!(seed.tenant.display_name.as_deref(), Some("Tailspin Toys"));
    let app = |seed: &Seed, id: &str| seed.apps.iter().find(|a| a.client_id == id).cloned();
    let shared = app(&seed, tailspin::CLIENT_ID).unwrap();
    let home = app(&contoso, demo::CLIENT_ID).unwrap();
    assert_eq!(shared.client_secret, demo::CLIENT_SECRET);
    assert_eq!(
        shared.roles, home.roles,
        "the same Graph roles as in Contoso"
    );
    let sp = shared.service_principal_id.as_deref();
    assert_eq!(sp, Some(tailspin::CLIENT_SP_ID));
    assert_ne!(sp, home.service_principal_id.as_deref());
    let own = app(&seed, tailspin::OWN_CLIENT_ID).unwrap();
    assert_eq!(own.client_secret, tailspin::OWN_CLIENT_SECRET);
    assert_eq!(
        own.service_principal_id.as_deref(),
        Some(tailspin::OWN_SP_ID)
    );
    assert_eq!(own.roles, ["User.ReadWrite.All", "User.Read.All"]);
    // guest-reset's API and its callers live in Contoso only.
    assert_eq!(seed.apps.len(), 2);
    assert!(
        seed.apps
            .iter()
            .all(|a| a.app_roles.is_empty() && a.api_roles.is_empty())
    );
}

#[test]
fn tailspin_users_match_their_constants() {
    let seed = Seed::demo_tailspin();
    let alex = user(&seed, tailspin::ALEX_ID);
    assert_eq!(text(alex, "userPrincipalName"), tailspin::ALEX_UPN);
    assert_eq!(alex.get("otherMails"), Some(&Value::Array(Vec::new())));
    let guests = [
        (tailspin::ALEX_ID, tailspin::ALEX_MAIL),
        (tailspin::DIEGO_ID, tailspin::DIEGO_MAIL),
        (tailspin::PRADEEP_ID, tailspin::PRADEEP_MAIL),
    ];
    for (id, mail) in guests {
        let guest = user(&seed, id);
        assert_eq!(text(guest, "mail"), mail, "{id}");
        assert_eq!(text(guest, "userType"), "Guest", "{id}");
        assert_eq!(text(guest, "externalUserState"), "Accepted", "{id}");
    }
    let member = user(&seed, tailspin::MEMBER_ID);
    assert_eq!(text(member, "mail"), tailspin::MEMBER_MAIL);
    assert_eq!(text(member, "userType"), "Member");
    let domain = |mail: &str| mail.split_once('@').map(|(_, d)| d.to_owned());
    assert_eq!(domain(tailspin::PRADEEP_MAIL), domain(demo::ADELE_MAIL));
    let group = seed
        .groups
        .iter()
        .find(|g| g.id == tailspin::PARTNERS_GROUP_ID);
    assert_eq!(group.map(|g| g.members.len()), Some(3));
}

#[test]
fn alexs_new_address_is_on_no_object_in_either_tenant() {
    for seed in [Seed::demo_tailspin(), Seed::demo()] {
        let text = serde_json::to_string(&seed).unwrap();
        assert!(!text.contains(tailspin::ALEX_NEW_MAIL));
    }
}

#[test]
fn tailspin_shares_no_object_id_with_contoso() {
    let ids = |seed: &Seed| -> HashSet<String> {
        let users = seed.users.iter().map(|u| text(u, "id").to_owned());
        let groups = seed.groups.iter().map(|g| g.id.clone());
        let sps = seed
            .apps
            .iter()
            .filter_map(|a| a.service_principal_id.clone());
        let mut ids: HashSet<String> = users.chain(groups).chain(sps).collect();
        ids.insert(seed.tenant.id.clone());
        ids
    };
    let shared: Vec<String> = (ids(&Seed::demo_tailspin()))
        .intersection(&ids(&Seed::demo()))
        .cloned()
        .collect();
    assert!(shared.is_empty(), "{shared:?}");
}

#[test]
fn seed_files_naming_one_domain_twice_are_refused_with_both_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut copy = Seed::demo_tailspin();
    copy.tenant.id = "6f1c7a36-0a52-4b8e-9d8e-3c4b2a1f0e9d".to_owned();
    let paths = [dir.path().join("a.json"), dir.path().join("b.json")];
    let json = |seed: &Seed| serde_json::to_string(seed).unwrap();
    std::fs::write(&paths[0], json(&Seed::demo_tailspin())).unwrap();
    std::fs::write(&paths[1], json(&copy)).unwrap();
    let error = match super::super::Cloud::from_seed_files(&paths) {
        Ok(_) => panic!("a clash must be refused"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains("a.json and "), "{error}");
    assert!(error.contains("b.json both define the tenant domain tailspintoys.onmicrosoft.com"));
    let distinct = [paths[0].clone()];
    assert!(super::super::Cloud::from_seed_files(&distinct).is_ok());
}
