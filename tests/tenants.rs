//! Several tenants from one service, through the public API against the
//! emulator's two demo tenants (Contoso, Tailspin Toys) on one address:
//! resets land in the named tenant's directory only, a helpdesk of one
//! tenant can neither reset nor read in the other (both directions), and
//! the tenant is required, resolved by name or id, and recorded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::tenants::*;
use common::{TestApp, tenant};
use serde_json::{Value, json};
use tenant::tailspin;

#[tokio::test]
async fn resets_in_each_tenant_reach_only_that_tenants_directory() {
    let app = two_tenants().await;
    let response = app.post_reset_as(&helpdesk(&app, "contoso"), adele()).await;
    assert_eq!(response.status(), 201);
    let record: Value = response.json().await.unwrap();
    assert_eq!(record["tenant"], "contoso");
    assert_eq!(record["tenant_id"], tenant::TENANT_ID);
    // By directory id, in another case: the same tenant as its name.
    let mut body = alex();
    body["tenant"] = json!(tailspin::TENANT_ID.to_uppercase());
    let response = app.post_reset_as(&helpdesk(&app, "tailspin"), body).await;
    assert_eq!(response.status(), 201);
    let record: Value = response.json().await.unwrap();
    assert_eq!(record["tenant"], "tailspin");
    assert_eq!(record["target"]["id"], tailspin::ALEX_ID);
    assert_eq!(applied(&app.emulator), [tenant::ADELE_ID]);
    assert_eq!(applied(tailspin_emulator(&app)), [tailspin::ALEX_ID]);
    // The shared app got a token from each tenant's own authority.
    for (e, id) in [
        (&app.emulator, tenant::TENANT_ID),
        (tailspin_emulator(&app), tailspin::TENANT_ID),
    ] {
        let token_path = format!("/{id}/oauth2/v2.0/token");
        assert!(e.requests().iter().any(|r| r.path == token_path), "{id}");
    }
    println!("tenants: Adele reset in contoso, Alex in tailspin; each directory saw only its own");
}

#[tokio::test]
async fn the_tenant_is_required_with_several_and_an_unknown_one_is_named() {
    let app = two_tenants().await;
    let token = helpdesk(&app, "contoso");
    let mut body = adele();
    body.as_object_mut().unwrap().remove("tenant");
    let (status, kind, p) = problem_type(app.post_reset_as(&token, body).await).await;
    assert_eq!(
        (status, kind.as_str()),
        (400, "urn:guest-reset:problem:tenant-required")
    );
    assert!(
        p["detail"].as_str().unwrap().contains("contoso, tailspin"),
        "{p}"
    );
    let mut body = adele();
    body["tenant"] = json!("fabrikam");
    let (status, kind, p) = problem_type(app.post_reset_as(&token, body).await).await;
    assert_eq!(
        (status, kind.as_str()),
        (422, "urn:guest-reset:problem:tenant-unknown")
    );
    assert!(
        p["detail"].as_str().unwrap().contains("\"fabrikam\""),
        "{p}"
    );
    for bad in [json!(""), json!("x".repeat(65))] {
        let mut body = adele();
        body["tenant"] = bad;
        let (status, kind, _) = problem_type(app.post_reset_as(&token, body).await).await;
        assert_eq!(
            (status, kind.as_str()),
            (400, "urn:guest-reset:problem:invalid-request")
        );
    }
    // The refusals are in the audit, and nothing reached Graph.
    let listed = list(&app, &app.auditor_token(), "").await;
    let kinds: Vec<&str> = listed
        .iter()
        .map(|r| r["problem"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 4, "{listed:?}");
    assert!(
        kinds[2..].iter().all(|k| k.contains("tenant-")),
        "{kinds:?}"
    );
    assert!(app.emulator.applied_resets().is_empty());
    assert!(tailspin_emulator(&app).requests().is_empty());
}

#[tokio::test]
async fn a_helpdesk_cannot_reset_in_the_other_tenant_in_either_direction() {
    let app = two_tenants().await;
    let cases = [
        ("contoso", alex(), "tailspin"),
        ("tailspin", adele(), "contoso"),
    ];
    for (who, body, other) in cases {
        let response = app.post_reset_as(&helpdesk(&app, who), body).await;
        let (status, kind, p) = problem_type(response).await;
        assert_eq!(
            (status, kind.as_str()),
            (403, "urn:guest-reset:problem:permission-denied"),
            "{who}"
        );
        assert!(p["detail"].as_str().unwrap().contains(other), "{p}");
        assert_eq!(p["status"], 403);
    }
    // Neither directory heard a thing: the refusal came before any Graph call.
    assert!(app.emulator.requests().is_empty());
    assert!(tailspin_emulator(&app).requests().is_empty());
    // A guest with an address of the same domain in the other tenant is
    // not found in this one: requests go to the named tenant's Graph only.
    let body = json!({ "tenant": "contoso", "user": tailspin::PRADEEP_MAIL, "new_email": "p@northwind.example" });
    let (status, kind, _) =
        problem_type(app.post_reset_as(&helpdesk(&app, "contoso"), body).await).await;
    assert_eq!(
        (status, kind.as_str()),
        (422, "urn:guest-reset:problem:user-not-found")
    );
    println!(
        "isolation: contoso->tailspin 403, tailspin->contoso 403, no Graph call; a tailspin guest is not found via contoso"
    );
}

#[tokio::test]
async fn lists_and_reads_show_only_the_tenants_a_caller_may_read() {
    let app = two_tenants().await;
    let contoso = helpdesk(&app, "contoso");
    let tailspin = helpdesk(&app, "tailspin");
    let a: Value = app
        .post_reset_as(&contoso, adele())
        .await
        .json()
        .await
        .unwrap();
    let b: Value = app
        .post_reset_as(&tailspin, alex())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tenants_of(&list(&app, &contoso, "").await), ["contoso"]);
    assert_eq!(tenants_of(&list(&app, &tailspin, "").await), ["tailspin"]);
    // Asking for the other tenant by filter does not widen what is shown.
    assert!(list(&app, &contoso, "?tenant=tailspin").await.is_empty());
    let auditor = app.auditor_token();
    assert_eq!(
        tenants_of(&list(&app, &auditor, "").await),
        ["tailspin", "contoso"]
    );
    assert_eq!(
        tenants_of(&list(&app, &auditor, "?tenant=TAILSPIN").await),
        ["tailspin"]
    );
    // The other tenant's reset is "not found", in both directions.
    for (token, own, other) in [(&contoso, &a, &b), (&tailspin, &b, &a)] {
        let other = app
            .get_as(
                token,
                &format!("/v1/resets/{}", other["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(other.status(), 404);
        let own = app
            .get_as(
                token,
                &format!("/v1/resets/{}", own["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(own.status(), 200);
    }
    println!(
        "lists: contoso helpdesk sees [contoso], tailspin helpdesk sees [tailspin], auditor sees both; cross reads 404"
    );
}

#[tokio::test]
async fn readiness_names_each_tenant_and_stays_ready_while_one_works() {
    let app = two_tenants().await;
    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(
        ready["checks"]["tenants"],
        json!({ "contoso": "ok", "tailspin": "ok" })
    );
    // The shared app loses its service principal in Tailspin (consent revoked).
    tailspin_emulator(&app).remove_app(tenant::CLIENT_ID);
    // A new process: no cached token to lean on.
    let config = app.config.clone();
    let second = TestApp::restart(app, config).await;
    let response = second.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let ready: Value = response.json().await.unwrap();
    assert_eq!(ready["checks"]["tenants"]["tailspin"], "token_unavailable");
    assert_eq!(ready["checks"]["tenants"]["contoso"], "ok");
    assert_eq!(ready["checks"]["graph_token"], "ok");
}
