//! What the audit trail records besides a single reset's moves: a job's
//! life and its items, policy reloads, the start of a replica; checkpoints
//! POSTed off the box; pruning behind a checkpoint, after which the trail
//! still verifies from its oldest kept event.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::jobs::{bulk_token, domain_move_csv, submit};
use common::{TestApp, guest_id, tenant_with_guests};
use guest_reset::audit::{Event, Signer};
use serde_json::{Value, json};

async fn events(app: &TestApp) -> Vec<Event> {
    app.store().await.events_after(0, 1000).await.unwrap()
}

/// `guest-reset audit verify <args>` on the app's database and key.
fn verify(app: &TestApp, args: &[&str]) -> (i32, String) {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    common::audit::cli(app, &all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_life_and_policy_reloads_are_events_with_their_actor() {
    let app = TestApp::spawn_on(tenant_with_guests(30), |c| c.reset.job_workers = 1).await;
    let token = bulk_token(&app);
    let id = submit(&app, &token, "text/csv", domain_move_csv(0..30)).await;
    let cancel = app
        .client
        .post(format!("{}/v1/jobs/{id}/cancel", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 200);
    let admin = app.token_with(json!({"sub": "admin-1", "roles": ["GuestReset.Admin"]}));
    let reload = || {
        app.client
            .post(format!("{}/v1/admin/policy/reload", app.base))
            .bearer_auth(&admin)
            .send()
    };
    assert_eq!(reload().await.unwrap().status(), 200);
    std::fs::write(
        &app.config.policy_file,
        "[[rule]]\nname = 'broken'\ncolour = 'red'\n",
    )
    .unwrap();
    assert_eq!(reload().await.unwrap().status(), 422);

    let trail = events(&app).await;
    let of = |kind: &str| trail.iter().filter(|e| e.kind == kind).collect::<Vec<_>>();
    let created = of("job.created");
    assert_eq!(created.len(), 1);
    assert_eq!(
        (
            created[0].subject.as_str(),
            created[0].actor["subject"].as_str()
        ),
        (id.as_str(), Some("bulk-operator-1"))
    );
    assert_eq!(created[0].data["total"], 30);
    let cancelled = of("job.cancelled");
    assert_eq!(cancelled[0].actor["subject"], "bulk-operator-1");
    let items = cancelled[0].data["items_cancelled"].as_u64().unwrap();
    let item_events = of("reset.cancelled");
    assert_eq!(
        item_events.len() as u64,
        items,
        "each cancelled item is an event of its own"
    );
    assert!(
        item_events
            .iter()
            .all(|e| e.data["from"] == "queued" && e.actor["subject"] == "bulk-operator-1")
    );
    let received = of("reset.received")
        .into_iter()
        .filter(|e| e.data["reset"]["job"]["id"] == json!(id))
        .count();
    assert_eq!(
        received, 30,
        "every item was recorded when the job was written"
    );
    let reloaded = of("policy.reloaded");
    assert_eq!(reloaded[0].actor["subject"], "admin-1");
    assert!(
        reloaded[0].data["previous"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    let failed = of("policy.reload_failed");
    assert!(
        failed[0].data["error"].as_str().unwrap().contains("colour"),
        "{:?}",
        failed[0].data
    );
    let started = of("service.started");
    assert_eq!(started[0].data["tenants"][0]["name"], "default");
    eprintln!(
        "job {id}: {} item events received, job.cancelled with {items} queued items cancelled (one reset.cancelled each); policy.reloaded by {}, policy.reload_failed: {}",
        received, reloaded[0].actor["subject"], failed[0].data["error"]
    );
    let mut app = app;
    app.stop().await;
    let (code, out) = verify(&app, &[]);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_are_posted_off_the_box_and_verify() {
    let received: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let sink = Arc::clone(&received);
    let receiver = axum::Router::new().route(
        "/checkpoints",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let sink = Arc::clone(&sink);
            async move {
                let kind = headers["content-type"].to_str().unwrap().to_owned();
                sink.lock().unwrap().push((kind, body));
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/checkpoints", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let app = TestApp::spawn_on(tenant_with_guests(1), |c| {
        c.audit.every = Duration::from_millis(300);
        c.audit.publish_url = Some(url.parse().unwrap());
    })
    .await;
    let body = json!({"user": guest_id(0), "new_email": "guest-0@northwind.example"});
    assert_eq!(app.post_reset(body).await.status(), 201);
    let head = app.store().await.audit_head().await.unwrap().0;
    let key = std::fs::read_to_string(app.dir().join("audit-signing.key")).unwrap();
    let verifier = Signer::parse(&key).unwrap().verifier();
    let mut sizes = Vec::new();
    for _ in 0..100 {
        sizes = received
            .lock()
            .unwrap()
            .iter()
            .map(|(kind, note)| {
                assert_eq!(kind, "text/plain; charset=utf-8");
                verifier.open(note).unwrap().size
            })
            .collect();
        if sizes.last().is_some_and(|s| *s >= head) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "checkpoints POSTed at sizes {sizes:?} (head {head}), each verified with the public key"
    );
    assert!(sizes.last().is_some_and(|s| *s >= head), "{sizes:?}");
    assert!(
        sizes.windows(2).all(|w| w[0] < w[1]),
        "a checkpoint only when the head moved: {sizes:?}"
    );
    let file = app.dir().join("audit-checkpoint.txt");
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(verifier.open(&written).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_keeps_the_checkpointed_event_and_the_rest_still_verifies() {
    let mut app = TestApp::spawn_on(tenant_with_guests(3), |c| {
        c.audit.every = Duration::from_millis(300);
        c.audit.retention = Some(Duration::from_millis(1));
    })
    .await;
    for i in 0..3 {
        let body =
            json!({"user": guest_id(i), "new_email": format!("guest-{i}@northwind.example")});
        assert_eq!(app.post_reset(body).await.status(), 201);
    }
    let store = app.store().await;
    let mut pruned: Vec<Value> = Vec::new();
    for _ in 0..100 {
        let trail = store.events_after(0, 1000).await.unwrap();
        pruned = trail
            .iter()
            .filter(|e| e.kind == "audit.pruned")
            .map(|e| e.data.clone())
            .collect();
        if trail.first().is_some_and(|e| e.seq > 10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
    let oldest = store.oldest_event().await.unwrap().unwrap().0;
    let checkpoints: Vec<u64> = store
        .checkpoints()
        .await
        .unwrap()
        .iter()
        .map(|c| c.size)
        .collect();
    assert!(oldest > 10, "pruned up to {oldest}");
    assert!(
        checkpoints.contains(&oldest) || checkpoints.iter().any(|c| *c > oldest),
        "{checkpoints:?}"
    );
    let newest = store.checkpoints().await.unwrap().pop().unwrap();
    assert!(
        newest.size >= oldest,
        "the newest checkpoint is never pruned past"
    );
    let (code, out) = verify(
        &app,
        &[
            "--checkpoint",
            app.dir().join("audit-checkpoint.txt").to_str().unwrap(),
        ],
    );
    eprintln!(
        "pruned ({} audit.pruned events, oldest kept {oldest}): {}",
        pruned.len(),
        out.trim()
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("more without events to compare: pruned"),
        "{out}"
    );
}

/// After a key rotation the checkpoints the old key signed are no false
/// alarm; one that names the current key but does not verify is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_no_alarm_and_a_forged_stored_checkpoint_is() {
    let mut app = TestApp::spawn_on(tenant_with_guests(1), |_| {}).await;
    let body = json!({"user": guest_id(0), "new_email": "guest-0@northwind.example"});
    assert_eq!(app.post_reset(body).await.status(), 201);
    app.stop().await;
    let (code, _) = common::audit::cli(&app, &["checkpoint"]);
    assert_eq!(code, 0);
    let key = app.dir().join("audit-signing.key");
    std::fs::remove_file(&key).unwrap();
    let (code, out) = common::audit::cli(
        &app,
        &[
            "keygen",
            "--name",
            "rotated.example",
            "--out",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = verify(&app, &[]);
    eprintln!("after a rotation: {}", out.trim());
    assert_eq!(code, 0, "{out}");
    let store = app.store().await;
    let moved = guest_reset::audit::Draft {
        kind: "test.moved".into(),
        subject: String::new(),
        actor: json!({"type": "service"}),
        data: json!({}),
    };
    store.append_event(moved).await.unwrap();
    let (code, _) = common::audit::cli(&app, &["checkpoint"]);
    assert_eq!(code, 0, "the new key signs the moved head");
    let newest = store.checkpoints().await.unwrap().pop().unwrap();
    assert!(newest.note.contains("rotated.example"), "{}", newest.note);
    let forged = newest.note.replacen("time 2", "time 1", 1);
    let forged_sql = format!(
        "update audit_checkpoints set note = '{}' where size = {}",
        forged.replace('\'', "''"),
        newest.size
    );
    common::audit::tamper(&app, &[&forged_sql]).await;
    let (code, out) = verify(&app, &[]);
    eprintln!("a stored checkpoint edited: {}", out.trim());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the stored checkpoint does not verify"),
        "{out}"
    );
}
