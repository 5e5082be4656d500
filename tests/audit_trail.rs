//! The audit trail end to end: every reset move is an event; `guest-reset
//! audit verify` (the binary) catches an edited, deleted, reordered or
//! truncated event and an edited, deleted or forged reset row; a consistent
//! rewrite passes the chain alone and is caught by a checkpoint kept off the
//! box. Runs on SQLite, and on PostgreSQL in .ci/postgres-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use common::{TestApp, guest_id, tenant_with_guests};
use serde_json::{Value, json};

const POLICY: &str = r#"
[[grant]]
caller = { roles = ["GuestReset.Helpdesk"] }
permissions = ["resets:create", "resets:read:own"]
[[grant]]
caller = { roles = ["GuestReset.Auditor"] }
permissions = ["resets:read:all", "audit:read"]
[[rule]]
name = "trail"
caller = { roles = ["GuestReset.Helpdesk"] }
target_domains = ["fabrikam.example"]
new_email_domains = ["northwind.example"]
"#;

/// A service with `n` resets done, stopped (nothing writes any more).
async fn trail_of(n: usize) -> TestApp {
    let mut app = TestApp::spawn_on(tenant_with_guests(n), |c| {
        std::fs::write(&c.policy_file, POLICY).unwrap();
    })
    .await;
    for i in 0..n {
        let body =
            json!({"user": guest_id(i), "new_email": format!("guest-{i}@northwind.example")});
        let response = app.post_reset(body).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }
    app.stop().await;
    app
}

fn audit(app: &TestApp, args: &[&str]) -> (i32, String) {
    common::audit::cli(app, args)
}

async fn tamper(app: &TestApp, statements: &[&str]) {
    common::audit::tamper(app, statements).await
}

async fn head(app: &TestApp) -> u64 {
    app.store().await.audit_head().await.unwrap().0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_move_of_a_reset_is_an_event_and_the_untouched_trail_verifies() {
    let app = trail_of(2).await;
    let events = app.store().await.events_after(0, 1000).await.unwrap();
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.subject.as_str()))
        .collect();
    let first = &events
        .iter()
        .find(|e| e.kind == "reset.received")
        .unwrap()
        .subject;
    let moves: Vec<&str> = kinds
        .iter()
        .filter(|(_, s)| s == first)
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(moves.first(), Some(&"reset.received"), "{kinds:?}");
    assert_eq!(moves.last(), Some(&"reset.succeeded"), "{kinds:?}");
    assert!(moves.contains(&"reset.running"), "{moves:?}");
    assert!(
        kinds.iter().any(|(k, _)| *k == "service.started"),
        "{kinds:?}"
    );
    let done = events
        .iter()
        .rev()
        .find(|e| e.kind == "reset.succeeded")
        .unwrap();
    assert!(
        !done.data["reset"]["graph_request_ids"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(done.actor["type"], "service");
    assert_eq!(
        events
            .iter()
            .find(|e| e.kind == "reset.received")
            .unwrap()
            .actor["type"],
        "caller"
    );
    let (code, out) = audit(&app, &["verify"]);
    eprintln!("untouched: {out}");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("ok up to {}", events.len())), "{out}");
    assert!(out.contains("2 reset rows agree"), "{out}");
}

/// One tampering per fresh trail: what `verify` says about it.
async fn caught(statements: &[&str], expected: &str) {
    let app = trail_of(2).await;
    let n = head(&app).await;
    let sql: Vec<String> = statements
        .iter()
        .map(|s| {
            s.replace("{N}", &n.to_string())
                .replace("{N-1}", &(n - 1).to_string())
        })
        .collect();
    let sql: Vec<&str> = sql.iter().map(String::as_str).collect();
    tamper(&app, &sql).await;
    let (code, out) = audit(&app, &["verify"]);
    eprintln!("{:?}: {}", statements, out.trim());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(expected), "expected {expected:?} in {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_event_is_caught() {
    caught(
        &["update audit_events set data = replace(data, 'northwind', 'mallory') where seq = 3"],
        "event 3 does not match its hash",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_event_is_caught() {
    caught(
        &["delete from audit_events where seq = 3"],
        "event 4 comes after event 2",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_events_are_caught() {
    caught(
        &[
            "update audit_events set seq = -1 where seq = 3",
            "update audit_events set seq = 3 where seq = 4",
            "update audit_events set seq = 4 where seq = -1",
        ],
        "event 3 does not follow event 2",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_trail_is_caught() {
    caught(
        &["delete from audit_events where seq >= {N-1}"],
        "but its head says",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_reset_row_is_caught() {
    caught(
        &["update resets set new_email = 'mallory@evil.example' where job_id is null"],
        "differs from what its last event",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_reset_row_is_caught() {
    caught(&["delete from resets"], "is gone, but event").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_row_added_outside_the_service_is_caught() {
    caught(&["update resets set id = id || 'f'"], "has no event").await;
}

/// Someone with write access rewrites the trail consistently (every hash
/// from the edit on, and the head): the chain alone cannot tell; the signed
/// checkpoint kept off the box can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consistent_rewrite_passes_the_chain_and_fails_the_off_box_checkpoint() {
    let app = trail_of(2).await;
    let (code, note) = audit(&app, &["checkpoint"]);
    assert_eq!(code, 0, "{note}");
    let off_box = app.dir().join("off-box-checkpoint.txt");
    std::fs::write(&off_box, &note).unwrap();
    let store = app.store().await;
    let mut events = store.events_after(0, 1000).await.unwrap();
    let mut prev = events[1].prev.clone();
    let mut statements = Vec::new();
    for event in events.iter_mut().skip(1) {
        if event.seq == 2 {
            event.data = json!({"rewritten": true});
        }
        let draft = guest_reset::audit::Draft {
            kind: event.kind.clone(),
            subject: event.subject.clone(),
            actor: event.actor.clone(),
            data: event.data.clone(),
        };
        let sealed = draft.seal(event.seq, event.at.clone(), prev.clone());
        statements.push(format!(
            "update audit_events set data = '{}', prev = '{}', hash = '{}' where seq = {}",
            guest_reset::audit::canonical_json(&sealed.data).replace('\'', "''"),
            sealed.prev,
            sealed.hash,
            sealed.seq
        ));
        prev = sealed.hash;
    }
    statements.push(format!("update audit_head set hash = '{prev}'"));
    statements.push("delete from audit_checkpoints".into());
    let sql: Vec<&str> = statements.iter().map(String::as_str).collect();
    tamper(&app, &sql).await;
    let (code, alone) = audit(&app, &["verify"]);
    eprintln!("consistent rewrite, chain alone: {}", alone.trim());
    assert_eq!(
        code, 0,
        "the chain alone cannot see this (docs/audit.md says so): {alone}"
    );
    let (code, out) = audit(&app, &["verify", "--checkpoint", off_box.to_str().unwrap()]);
    eprintln!(
        "consistent rewrite, with the off-box checkpoint: {}",
        out.trim()
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("has another hash than the one signed"),
        "{out}"
    );
}

/// Removing the newest events and moving the head back with them: only a
/// checkpoint signed before can tell.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncation_with_the_head_moved_back_is_caught_by_the_checkpoint() {
    let app = trail_of(2).await;
    let (code, note) = audit(&app, &["checkpoint"]);
    assert_eq!(code, 0, "{note}");
    let off_box = app.dir().join("off-box-checkpoint.txt");
    std::fs::write(&off_box, &note).unwrap();
    let n = head(&app).await;
    let keep = app
        .store()
        .await
        .events_after(n - 3, 1)
        .await
        .unwrap()
        .remove(0);
    tamper(
        &app,
        &[
            &format!("delete from audit_events where seq > {}", keep.seq),
            &format!(
                "update audit_head set seq = {}, hash = '{}'",
                keep.seq, keep.hash
            ),
            "delete from audit_checkpoints",
            "delete from resets where id not in (select subject from audit_events)",
        ],
    )
    .await;
    let (code, out) = audit(&app, &["verify", "--checkpoint", off_box.to_str().unwrap()]);
    eprintln!("truncated with the head moved back: {}", out.trim());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "it was signed at {n} events, the log ends at {}",
            keep.seq
        )),
        "{out}"
    );
}

/// A SIEM polling the export while resets are written: every page continues
/// the last, and together they are the whole chain, each link checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_pages_without_gaps_while_resets_are_written() {
    const RESETS: usize = 24;
    let app = TestApp::spawn_on(tenant_with_guests(RESETS), |c| {
        std::fs::write(&c.policy_file, POLICY).unwrap();
    })
    .await;
    let auditor = app.auditor_token();
    let writers: Vec<_> = (0..RESETS)
        .map(|i| {
            let (client, base, token) = (app.client.clone(), app.base.clone(), app.token());
            tokio::spawn(async move {
                let body = json!({"user": guest_id(i), "new_email": format!("guest-{i}@northwind.example"), "ticket": "INC-7", "reason": "export test"});
                client.post(format!("{base}/v1/resets")).bearer_auth(token).json(&body).send().await.unwrap().status()
            })
        })
        .collect();
    let (mut seen, mut after, mut pages) = (Vec::<Value>::new(), 0u64, 0);
    let mut finished = false;
    loop {
        let path = format!("/v1/audit/events?after={after}&limit=5");
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(&auditor)
            .header("accept", "application/x-ndjson")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/x-ndjson");
        let text = response.text().await.unwrap();
        let page: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        pages += 1;
        if let Some(last) = page.last() {
            after = last["seq"].as_u64().unwrap();
        }
        let empty = page.is_empty();
        seen.extend(page);
        if empty && finished {
            break;
        }
        finished = writers.iter().all(tokio::task::JoinHandle::is_finished);
    }
    for writer in writers {
        assert_eq!(writer.await.unwrap(), 201);
    }
    let mut prev = guest_reset::audit::GENESIS.to_owned();
    for (i, v) in seen.iter().enumerate() {
        let event: guest_reset::audit::Event = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(event.seq, i as u64 + 1, "a gap before {}", event.seq);
        assert_eq!(event.prev, prev, "event {} does not follow", event.seq);
        assert_eq!(guest_reset::audit::digest(&event), event.hash);
        prev = event.hash;
    }
    let succeeded = seen
        .iter()
        .filter(|e| e["kind"] == "reset.succeeded")
        .count();
    let last = seen
        .iter()
        .rev()
        .find(|e| e["kind"] == "reset.succeeded")
        .unwrap();
    assert!(
        !last["graph_request_ids"].as_array().unwrap().is_empty(),
        "{last}"
    );
    assert_eq!(
        last["graph_request_ids"],
        last["data"]["reset"]["graph_request_ids"]
    );
    eprintln!(
        "export: {} events in {pages} pages of at most 5 while {RESETS} resets ran; none missing, every link checked",
        seen.len()
    );
    assert_eq!(succeeded, RESETS);
    let json: Value = app
        .get_as(&auditor, "/v1/audit/events?after=2&limit=3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["events"].as_array().unwrap().len(), 3);
    assert_eq!(json["next_after"], 5);
    let helpdesk = app.get_as(&app.token(), "/v1/audit/events").await;
    common::expect_problem(helpdesk, 403, "permission-denied").await;
    let bad = app.get_as(&auditor, "/v1/audit/events?limit=0").await;
    let problem = common::expect_problem(bad, 400, "invalid-request").await;
    assert!(
        problem["detail"].as_str().unwrap().starts_with("limit"),
        "{problem}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkpoint_is_served_and_proves_the_trail_with_the_public_key() {
    let app = trail_of(1).await;
    let (code, signed) = audit(&app, &["checkpoint"]);
    assert_eq!(code, 0, "{signed}");
    let config = app.config.clone();
    let app = TestApp::restart(app, config).await;
    let response = app
        .get_as(&app.auditor_token(), "/v1/audit/checkpoint")
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    let served = response.text().await.unwrap();
    let key = std::fs::read_to_string(app.dir().join("audit-signing.key")).unwrap();
    let public = guest_reset::audit::Signer::parse(&key).unwrap().verifier();
    let checkpoint = public.open(&served).unwrap();
    assert!(
        checkpoint.size >= public.open(&signed).unwrap().size,
        "{served}"
    );
    assert!(!served.contains(key.trim()), "the private key never leaves");
    let file = app.dir().join("served.txt");
    std::fs::write(&file, &served).unwrap();
    let (code, out) = audit(
        &app,
        &[
            "verify",
            "--checkpoint",
            file.to_str().unwrap(),
            "--key",
            &public.to_string(),
        ],
    );
    eprintln!("served checkpoint:\n{served}verify: {}", out.trim());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("checkpoints verified"), "{out}");
    let helpdesk = app.get_as(&app.token(), "/v1/audit/checkpoint").await;
    common::expect_problem(helpdesk, 403, "permission-denied").await;
}
