//! A tenant's webhook deliveries (a fixed tenant, or one read from the body)
//! and what stays when a tenant is removed from the tenants file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::tenants::*;
use common::{TestApp, tenant};
use guest_reset::emulator::Cloud;
use serde_json::{Value, json};
use tenant::tailspin;

fn alex_ticket(tenant: Option<&str>) -> Vec<u8> {
    let mut ticket = json!({ "ticket": { "key": "INC-31", "guest": tailspin::ALEX_MAIL,
        "new_email": tailspin::ALEX_NEW_MAIL, "summary": "moved", "agent": "agent@tailspin.example" } });
    if let Some(t) = tenant {
        ticket["ticket"]["tenant"] = json!(t);
    }
    serde_json::to_vec(&ticket).unwrap()
}

#[tokio::test]
async fn a_webhook_source_fixes_its_tenant_or_reads_it_from_the_delivery() {
    use common::webhooks::{WHSEC, accepted_id, deliver, finished, now, source, standard};
    use guest_reset::webhook::Scheme;
    let app = TestApp::spawn_cloud(Cloud::demo(), |c| {
        std::fs::write(&c.policy_file, POLICY).unwrap();
        let mut fixed = source("tailspin-desk", Scheme::StandardWebhooks, WHSEC, None);
        fixed.tenant = Some("tailspin".into());
        fixed.roles = vec!["Tailspin.Helpdesk".into()];
        let mut mapped = source("msp-desk", Scheme::StandardWebhooks, WHSEC, None);
        mapped.fields.tenant = Some("/ticket/tenant".into());
        mapped.roles = vec!["Tailspin.Helpdesk".into()];
        c.webhooks.sources = vec![fixed, mapped];
    })
    .await;
    let body = alex_ticket(None);
    let signed = standard("msg_t1", now(), &body, WHSEC);
    let id = accepted_id(deliver(&app, "tailspin-desk", &signed, &body).await, 202).await;
    let row = finished(&app, &id).await;
    assert_eq!(
        (row["status"].as_str(), row["tenant"].as_str()),
        (Some("succeeded"), Some("tailspin"))
    );
    let body = alex_ticket(Some("tailspin"));
    let signed = standard("msg_t2", now(), &body, WHSEC);
    let id = accepted_id(deliver(&app, "msp-desk", &signed, &body).await, 202).await;
    assert_eq!(finished(&app, &id).await["tenant"], "tailspin");
    // The mapped tenant must be there; and the source's grants still apply.
    let body = alex_ticket(None);
    let signed = standard("msg_t3", now(), &body, WHSEC);
    let missing = deliver(&app, "msp-desk", &signed, &body).await;
    assert_eq!(missing.status(), 422);
    let body = alex_ticket(Some("contoso"));
    let signed = standard("msg_t4", now(), &body, WHSEC);
    let refused = deliver(&app, "msp-desk", &signed, &body).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(tailspin_emulator(&app).applied_resets().len(), 2);
}

#[tokio::test]
async fn a_tenant_removed_from_the_file_keeps_its_audit_rows_readable() {
    let app = two_tenants().await;
    let tailspin = helpdesk(&app, "tailspin");
    let done: Value = app
        .post_reset_as(&tailspin, alex())
        .await
        .json()
        .await
        .unwrap();
    let mut config = app.config.clone();
    config.tenants.retain(|t| t.name == "contoso");
    let app = TestApp::restart(app, config).await;
    let auditor = app.auditor_token();
    assert_eq!(
        tenants_of(&list(&app, &auditor, "?tenant=tailspin").await),
        ["tailspin"]
    );
    let path = format!("/v1/resets/{}", done["id"].as_str().unwrap());
    let row: Value = app.get_as(&tailspin, &path).await.json().await.unwrap();
    assert_eq!(
        (row["tenant"].as_str(), row["status"].as_str()),
        (Some("tailspin"), Some("succeeded"))
    );
    // New work for it is refused by name, and recorded.
    let (status, kind, _) = problem_type(app.post_reset_as(&tailspin, alex()).await).await;
    assert_eq!(
        (status, kind.as_str()),
        (422, "urn:guest-reset:problem:tenant-unknown")
    );
}

#[tokio::test]
async fn a_webhook_source_fixed_to_an_unknown_tenant_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let graph = ([127, 0, 0, 1], 9).into();
    let mut config =
        guest_reset::demo::config(([127, 0, 0, 1], 0).into(), dir.path(), policy, graph);
    config.tenants = guest_reset::demo::tenants(&config.graph);
    config.webhooks.sources[0].tenant = Some("fabrikam".into());
    let err = guest_reset::app::build_state(&config)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("GUEST_RESET_WEBHOOKS_FILE") && err.contains("\"fabrikam\""),
        "{err}"
    );
}
