//! Each permission against each route: what the grants give a token is all
//! it may do; someone else's reset is "not found" without `read:all`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use common::{TestApp, expect_problem, tenant};
use serde_json::{Value, json};

async fn call(app: &TestApp, token: &str, method: &str, path: &str) -> u16 {
    let url = format!("{}{path}", app.base);
    let request = match method {
        "POST" => app.client.post(url).json(&json!({
            "user": tenant::PENDING_GUEST_MAIL, "ticket": "INC-7", "reason": "matrix test", "dry_run": true
        })),
        _ => app.client.get(url),
    };
    request
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn permission_matrix() {
    let app = TestApp::spawn().await;
    // A reset by someone else, for the "other's reset" column.
    let other = app.token_with(json!({ "sub": "someone-else" }));
    let created: Value = app
        .post_reset_as(
            &other,
            json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL }),
        )
        .await
        .json()
        .await
        .unwrap();
    let others = format!("/v1/resets/{}", created["id"].as_str().unwrap());
    let routes = [
        ("POST", "/v1/resets"),
        ("GET", "/v1/resets"),
        ("GET", others.as_str()),
        ("GET", "/v1/whoami"),
        ("POST", "/v1/admin/policy/reload"),
    ];
    let matrix: [(&str, &[&str], [u16; 5]); 5] = [
        ("no role", &[], [403, 403, 403, 200, 403]),
        (
            "helpdesk",
            &["GuestReset.Helpdesk"],
            [200, 200, 404, 200, 403],
        ),
        (
            "redeem-url only",
            &["GuestReset.RedeemUrl"],
            [403, 403, 403, 200, 403],
        ),
        (
            "auditor",
            &["GuestReset.Auditor"],
            [403, 200, 200, 200, 403],
        ),
        ("admin", &["GuestReset.Admin"], [403, 200, 200, 200, 200]),
    ];
    for (who, roles, expected) in matrix {
        let token = app.token_with(json!({ "sub": format!("matrix-{who}"), "roles": roles }));
        for ((method, path), want) in routes.iter().zip(expected) {
            let got = if *method == "POST" && path.ends_with("reload") {
                app.client
                    .post(format!("{}{path}", app.base))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            } else {
                call(&app, &token, method, path).await
            };
            assert_eq!(got, want, "{who}: {method} {path}");
        }
    }
}

#[tokio::test]
async fn read_own_lists_only_the_callers_resets() {
    let app = TestApp::spawn().await;
    let agent_2 = app.token_with(json!({ "sub": "helpdesk-agent-2" }));
    app.post_reset(json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL }))
        .await;
    app.post_reset_as(&agent_2, json!({ "user": tenant::PENDING_GUEST_MAIL }))
        .await;
    let mine: Value = app
        .get("/v1/resets?requested_by=helpdesk-agent-2")
        .await
        .json()
        .await
        .unwrap();
    let subjects: Vec<_> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["requested_by"]["subject"].clone())
        .collect();
    assert_eq!(
        subjects,
        [json!("helpdesk-agent-1")],
        "read:own ignores requested_by"
    );
    let all: Value = app
        .get_as(&app.auditor_token(), "/v1/resets")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    // A subject from another issuer is someone else.
    let hs_issuer_twin = app.token_with(json!({ "iss": "https://other.example" }));
    assert_eq!(call(&app, &hs_issuer_twin, "GET", "/v1/resets").await, 401);
}

#[tokio::test]
async fn the_redeem_url_needs_its_own_permission() {
    let app = TestApp::spawn().await;
    let no_link = app.token_with(json!({ "roles": ["GuestReset.Helpdesk"] }));
    let body = json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL, "send_invitation_message": false });
    expect_problem(
        app.post_reset_as(&no_link, body.clone()).await,
        403,
        "permission-denied",
    )
    .await;
    assert!(app.graph_writes().is_empty(), "refused before Graph");
    assert_eq!(app.audit_rows().await[0]["status"], "denied");
    let with_link: Value = app.post_reset(body).await.json().await.unwrap();
    assert!(
        with_link["invite_redeem_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://")),
        "{with_link}"
    );
}

#[tokio::test]
async fn whoami_shows_identity_permissions_and_rules() {
    let app = TestApp::spawn().await;
    let me: Value = app.get("/v1/whoami").await.json().await.unwrap();
    assert_eq!(me["identity"]["subject"], "helpdesk-agent-1");
    assert_eq!(me["identity"]["app_id"], "portal-app");
    assert_eq!(
        me["permissions"],
        json!([
            "resets:create",
            "resets:read:own",
            "resets:redeem-url",
            "guests:read"
        ])
    );
    let rules: Vec<_> = me["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["fabrikam-helpdesk", "moves-to-litware", "no-free-mail"]
    );
    let auditor: Value = app
        .get_as(&app.auditor_token(), "/v1/whoami")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        auditor["permissions"],
        json!(["resets:read:all", "audit:read", "guests:read"])
    );
    assert_eq!(
        auditor["rules"],
        json!([{ "name": "no-free-mail", "effect": "deny", "description": null }])
    );
}
