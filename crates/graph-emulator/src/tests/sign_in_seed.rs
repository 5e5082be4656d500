//! The demo tenant's sign-in side: the console app, the API's delegated permission,
//! people's roles on the API, and how seeds are checked for them.

use serde_json::{Value, json};

use super::super::{Emulator, Seed, demo};

fn user_index(seed: &Seed, id: &str) -> usize {
    let found = seed
        .users
        .iter()
        .position(|u| u.get("id").and_then(Value::as_str) == Some(id));
    found.unwrap_or_else(|| panic!("demo tenant lacks user {id}"))
}

#[test]
fn the_console_and_the_delegated_scope_match_their_constants() {
    let seed = Seed::demo();
    let app = |id: &str| seed.apps.iter().find(|a| a.client_id == id).cloned();
    let console = app(demo::CONSOLE_CLIENT_ID).expect("console app");
    assert_eq!(console.client_secret, demo::CONSOLE_CLIENT_SECRET);
    assert_eq!(
        console.service_principal_id.as_deref(),
        Some(demo::CONSOLE_SP_ID)
    );
    let uris = [
        demo::CONSOLE_REDIRECT_URI,
        demo::CONSOLE_REDIRECT_URI_LOOPBACK_IP,
    ];
    assert_eq!(console.redirect_uris, uris);
    let api = app(demo::API_CLIENT_ID).expect("API app");
    let scopes: Vec<&str> = api
        .oauth2_permission_scopes
        .iter()
        .map(|s| s.value.as_str())
        .collect();
    assert_eq!(scopes, [demo::API_DELEGATED_PERMISSION]);
    let scope = format!(
        "{}/{}",
        demo::API_APP_ID_URI,
        demo::API_DELEGATED_PERMISSION
    );
    assert_eq!(demo::CONSOLE_SCOPE, scope);
}

#[test]
fn people_hold_the_documented_roles_on_the_api() {
    let seed = Seed::demo();
    let cases = [
        (demo::MIRIAM_ID, Some(demo::APP_ROLE_HELPDESK)),
        (demo::PATTI_ID, Some(demo::APP_ROLE_APPROVER)),
        (demo::NESTOR_ID, Some(demo::APP_ROLE_BULK_OPERATOR)),
        (demo::LIDIA_ID, Some(demo::APP_ROLE_AUDITOR)),
        (demo::MEMBER_ID, None),
    ];
    for (id, role) in cases {
        let user = &seed.users[user_index(&seed, id)];
        let expected = role.map(|r| json!({ demo::API_CLIENT_ID: [r] }));
        assert_eq!(user.get("apiRoles").cloned(), expected, "user {id}");
        assert_eq!(user.get("userType"), Some(&json!("Member")), "user {id}");
    }
    for (id, mail) in [
        (demo::NESTOR_ID, demo::NESTOR_MAIL),
        (demo::LIDIA_ID, demo::LIDIA_MAIL),
    ] {
        let user = &seed.users[user_index(&seed, id)];
        assert_eq!(user.get("mail"), Some(&json!(mail)), "user {id}");
        assert_eq!(
            user.get("externalUserState"),
            Some(&Value::Null),
            "user {id}"
        );
    }
}

#[test]
fn role_assignments_stay_out_of_the_user_object() {
    let emulator = Emulator::demo();
    let miriam = emulator.user(demo::MIRIAM_ID).unwrap_or_default();
    assert!(miriam.get("apiRoles").is_none(), "{miriam}");
}

#[test]
fn seeds_with_bad_people_roles_or_redirect_uris_are_refused() {
    let mut seed = Seed::demo();
    let i = user_index(&seed, demo::NESTOR_ID);
    seed.users[i].insert(
        "apiRoles".to_owned(),
        json!({ demo::API_CLIENT_ID: ["GuestReset.Nope"] }),
    );
    let err = seed.validate().unwrap_err();
    assert!(
        err.contains(&format!("users[{i}]")) && err.contains("GuestReset.Nope"),
        "{err}"
    );

    let mut seed = Seed::demo();
    seed.users[i].insert("apiRoles".to_owned(), json!(["GuestReset.Auditor"]));
    assert!(seed.validate().unwrap_err().contains("apiRoles must map"));

    let mut seed = Seed::demo();
    let console = seed
        .apps
        .iter()
        .position(|a| a.client_id == demo::CONSOLE_CLIENT_ID);
    let console = console.expect("console app");
    seed.apps[console]
        .redirect_uris
        .push("http://console.example/callback".to_owned());
    let err = seed.validate().unwrap_err();
    assert!(
        err.contains(&format!("apps[{console}]")) && err.contains("https"),
        "{err}"
    );
}
