//! The policy through the running service: limits that survive a restart,
//! protections, deny rules, group targeting, decisions in the audit row and
//! the problem, and reloading.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use common::{TestApp, expect_problem, tenant};
use serde_json::{Value, json};

/// One rule with `extra` fields for the demo helpdesk token, plus the grants.
fn policy(extra: &str) -> String {
    format!(
        "[[grant]]\ncaller = {{ roles = ['GuestReset.Helpdesk'] }}\npermissions = ['resets:create', 'resets:read:own']\n\
         [[grant]]\ncaller = {{ roles = ['GuestReset.RedeemUrl'] }}\npermissions = ['resets:redeem-url']\n\
         [[grant]]\ncaller = {{ roles = ['GuestReset.Admin'] }}\npermissions = ['admin']\n\
         [[rule]]\nname = 'helpdesk'\ncaller = {{ roles = ['GuestReset.Helpdesk'] }}\n\
         target_domains = ['fabrikam.example']\nnew_email_domains = ['northwind.example', 'fabrikam.example']\n{extra}\n"
    )
}

fn adele() -> Value {
    json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL })
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn cooldown_holds_across_a_restart_and_can_be_overridden_where_allowed() {
    let app = TestApp::spawn_with_policy(&policy(
        "cooldown_hours = 24\nallow_cooldown_override = true",
    ))
    .await;
    assert_eq!(app.post_reset(adele()).await.status(), 201);
    let again = app.post_reset(adele()).await;
    let wait = retry_after(&again);
    assert!((23 * 3600..=24 * 3600).contains(&wait), "{wait}");
    expect_problem(again, 409, "cooldown-active").await;

    let config = app.config.clone();
    let app = TestApp::restart(app, config).await;
    let writes_before = app.graph_writes().len();
    expect_problem(app.post_reset(adele()).await, 409, "cooldown-active").await;
    assert_eq!(
        app.graph_writes().len(),
        writes_before,
        "a refused reset wrote to Graph"
    );

    let mut body = adele();
    body["override_cooldown"] = json!(true);
    assert_eq!(app.post_reset(body).await.status(), 201);
    let rows = app.audit_rows().await;
    let statuses: Vec<_> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["succeeded", "denied", "denied", "succeeded"]);
    assert_eq!(rows[3]["override_cooldown"], 1);
}

#[tokio::test]
async fn quota_per_caller_holds_across_a_restart() {
    let app = TestApp::spawn_with_policy(&policy("max_resets_per_hour = 1")).await;
    assert_eq!(app.post_reset(adele()).await.status(), 201);
    let bianca = json!({ "user": tenant::PENDING_GUEST_MAIL });
    let refused = app.post_reset(bianca.clone()).await;
    assert!(retry_after(&refused) > 3500);
    let problem = expect_problem(refused, 429, "quota-exceeded").await;
    assert!(
        problem["policy"]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("quota"),
        "{problem}"
    );

    let config = app.config.clone();
    let app = TestApp::restart(app, config).await;
    expect_problem(app.post_reset(bianca.clone()).await, 429, "quota-exceeded").await;
    // Another caller has its own quota.
    let other = app.token_with(json!({ "sub": "helpdesk-agent-2" }));
    assert_eq!(app.post_reset_as(&other, bianca).await.status(), 201);
}

#[tokio::test]
async fn a_reset_in_flight_blocks_a_second_one_for_the_same_guest() {
    let app = TestApp::spawn().await;
    // What a concurrent request leaves while Graph works: an allowed, pending row.
    let store = app.store().await;
    let mut row: guest_reset::record::ResetRecord = serde_json::from_value(json!({
        "id": uuid::Uuid::now_v7().to_string(), "status": "pending", "dry_run": false,
        "user": tenant::ADELE_MAIL, "problem": null,
        "target": { "id": tenant::ADELE_ID, "user_principal_name": null, "previous_email": null,
                    "user_type": "Guest", "external_user_state": null },
        "new_email": null, "other_mails_added": false, "send_invitation_message": true,
        "redirect_url": null, "invitation": null, "graph_request_ids": [],
        "requested_by": { "issuer": "x", "subject": "other", "object_id": null, "tenant_id": null, "app": null, "name": null },
        "ticket": null, "reason": null, "override_cooldown": false,
        "policy": { "allowed": true, "rule": "r", "reasons": [], "version": "v" },
        "request_id": null, "created_at": guest_reset::record::now_rfc3339(), "completed_at": null
    }))
    .unwrap();
    store.insert(&row).await.unwrap();
    expect_problem(app.post_reset(adele()).await, 409, "reset-in-progress").await;
    assert!(app.graph_writes().is_empty());
    row.status = guest_reset::record::Status::Failed;
    let pending = guest_reset::record::Status::Pending;
    assert!(store.update_from(&row, pending).await.unwrap());
    assert_eq!(app.post_reset(adele()).await.status(), 201);
}

#[tokio::test]
async fn protected_users_and_groups_cannot_be_reset_by_any_rule() {
    let protected = format!(
        "[protected]\nusers = ['{}']\ngroups = ['{}']\n{}",
        tenant::PENDING_GUEST_MAIL.to_uppercase(),
        tenant::ALL_PARTNERS_GROUP_ID,
        policy("")
    );
    let app = TestApp::spawn_with_policy(&protected).await;
    let bianca = expect_problem(
        app.post_reset(json!({ "user": tenant::PENDING_GUEST_ID }))
            .await,
        403,
        "target-protected",
    )
    .await;
    assert!(
        bianca["detail"]
            .as_str()
            .unwrap()
            .contains("protected users"),
        "{bianca}"
    );
    // Adele is in Fabrikam Partners, which is nested in All External Partners.
    let adele = expect_problem(app.post_reset(adele()).await, 403, "target-protected").await;
    assert!(
        adele["detail"]
            .as_str()
            .unwrap()
            .contains(tenant::ALL_PARTNERS_GROUP_ID),
        "{adele}"
    );
    assert!(app.graph_writes().is_empty());
    let rows = app.audit_rows().await;
    assert!(
        rows.iter()
            .all(|r| r["status"] == "denied" && r["policy_allowed"] == 0),
        "{rows:?}"
    );
}

#[tokio::test]
async fn guests_can_be_targeted_by_group_membership() {
    let by_group = policy("")
        + &format!(
            "[[rule]]\nname = 'partners'\ncaller = {{ roles = ['GuestReset.Helpdesk'] }}\n\
             target_groups = ['{}']\nnew_email_domains = ['tailspin.example']\n",
            tenant::ALL_PARTNERS_GROUP_ID
        );
    let app = TestApp::spawn_with_policy(&by_group).await;
    let lee = json!({ "user": tenant::OTHER_DOMAIN_GUEST_ID, "new_email": "lee@tailspin.example" });
    let r: Value = app.post_reset(lee).await.json().await.unwrap();
    assert_eq!(r["status"], "succeeded", "{r}");
    assert_eq!(r["policy"]["rule"], "partners");
    // Megan is a member, in no partner group: the policy says why per rule.
    let megan = expect_problem(
        app.post_reset(json!({ "user": tenant::MEMBER_ID })).await,
        422,
        "not-a-guest",
    )
    .await;
    assert_eq!(megan["policy"]["allowed"], false, "{megan}");
}

#[tokio::test]
async fn deny_rules_and_unmet_conditions_are_recorded_and_explained() {
    let strict = policy(
        "ticket_pattern = 'INC-[0-9]{4}'\nmin_reason_length = 10\ninvitation_message = 'must'",
    ) + "[[rule]]\nname = 'no-northwind-moves'\neffect = 'deny'\nnew_email_domains = ['northwind.example']\n";
    let app = TestApp::spawn_with_policy(&strict).await;
    let denied = expect_problem(app.post_reset(adele()).await, 403, "policy-denied").await;
    assert!(
        denied["policy"]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("no-northwind-moves"),
        "{denied}"
    );
    let sloppy = json!({ "user": tenant::ADELE_MAIL, "ticket": "INC-1", "reason": "pls", "send_invitation_message": false });
    let body = expect_problem(app.post_reset(sloppy).await, 403, "policy-denied").await;
    let reasons = body["policy"]["reasons"].to_string();
    for needle in [
        "ticket must match",
        "reason must be at least 10",
        "must be sent",
    ] {
        assert!(reasons.contains(needle), "{needle}: {reasons}");
    }
    let row = app.audit_rows().await.pop().unwrap();
    assert_eq!(row["status"], "denied");
    assert!(
        row["policy_reasons"]
            .as_str()
            .unwrap()
            .contains("ticket must match")
    );
    assert_eq!(row["policy_version"], body["policy"]["version"]);
    assert!(app.graph_writes().is_empty());
}

#[tokio::test]
async fn a_dry_run_shows_the_decision_without_claiming_anything() {
    let app = TestApp::spawn_with_policy(&policy("max_resets_per_hour = 1")).await;
    let mut dry = adele();
    dry["dry_run"] = json!(true);
    for _ in 0..3 {
        let r: Value = app.post_reset(dry.clone()).await.json().await.unwrap();
        assert_eq!(r["policy"]["allowed"], true, "{r}");
        assert!(
            r["policy"]["version"]
                .as_str()
                .unwrap()
                .starts_with("sha256:")
        );
    }
    // Dry runs used none of the quota.
    assert_eq!(app.post_reset(adele()).await.status(), 201);
}

#[tokio::test]
async fn admin_reload_swaps_a_valid_policy_and_keeps_the_old_one_otherwise() {
    let app = TestApp::spawn_with_policy(&policy("")).await;
    let admin = app.token_with(json!({ "roles": ["GuestReset.Admin"] }));
    let reload = |token: String| {
        let (client, url) = (
            app.client.clone(),
            format!("{}/v1/admin/policy/reload", app.base),
        );
        async move { client.post(url).bearer_auth(token).send().await.unwrap() }
    };
    let before = version(&app).await;
    expect_problem(reload(app.token()).await, 403, "permission-denied").await;

    std::fs::write(
        &app.config.policy_file,
        policy("[[rule]]\nname = 'broken'\ncolour = 'red'"),
    )
    .unwrap();
    let bad = expect_problem(reload(admin.clone()).await, 422, "policy-invalid").await;
    assert!(bad["detail"].as_str().unwrap().contains("line 17"), "{bad}");
    assert_eq!(version(&app).await, before, "the old policy stays");

    std::fs::write(
        &app.config.policy_file,
        policy("") + "[[rule]]\nname = 'block'\neffect = 'deny'\n",
    )
    .unwrap();
    let ok: Value = reload(admin).await.json().await.unwrap();
    assert_eq!(ok["previous"], before);
    assert_eq!(ok["current"], version(&app).await);
    assert_ne!(ok["current"], before);
    expect_problem(app.post_reset(adele()).await, 403, "policy-denied").await;
}

async fn version(app: &TestApp) -> Value {
    app.get("/v1/whoami").await.json::<Value>().await.unwrap()["policy_version"].clone()
}

#[tokio::test]
async fn concurrent_requests_for_one_guest_reset_it_once() {
    let app = TestApp::spawn_with_policy(&policy("cooldown_hours = 24")).await;
    let mut body = adele();
    body["ticket"] = json!("INC-9");
    body["reason"] = json!("concurrency");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let request = app
            .client
            .post(format!("{}/v1/resets", app.base))
            .bearer_auth(app.token())
            .json(&body);
        tasks.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    let statuses = tasks.join_all().await;
    let ok = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(ok, 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [201, 409].contains(s)),
        "{statuses:?}"
    );
    let invitations = app
        .graph_writes()
        .iter()
        .filter(|w| w.starts_with("POST /v1.0/invitations"))
        .count();
    assert_eq!(invitations, 1);
}
