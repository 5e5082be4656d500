use super::*;
use crate::record::{Requester, Target};

fn record(id: &str, subject: &str) -> ResetRecord {
    ResetRecord {
        job: None,
        approval: None,
        tenant: "default".into(),
        tenant_id: Some("t".into()),
        id: id.to_owned(),
        status: Status::Pending,
        dry_run: false,
        user: Some("adele.vance@fabrikam.example".into()),
        problem: None,
        target: Target::default(),
        new_email: Some("adele@northwind.example".into()),
        other_mails_added: false,
        send_invitation_message: Some(true),
        redirect_url: None,
        invitation: None,
        graph_request_ids: vec![],
        requested_by: Requester {
            agent: None,
            issuer: Some("https://idp.example/".into()),
            subject: subject.to_owned(),
            object_id: None,
            tenant_id: None,
            app: None,
            name: None,
        },
        ticket: Some("INC-1".into()),
        reason: None,
        override_cooldown: false,
        policy: None,
        request_id: None,
        invite_attempted_at: None,
        evidence: None,
        settle_after: None,
        retry_of: None,
        created_at: crate::record::now_rfc3339(),
        completed_at: None,
    }
}

/// Where the store tests run: a fresh SQLite file, or, when
/// `GUEST_RESET_TEST_DATABASE_URL` names a PostgreSQL server (.ci/postgres-tests),
/// a fresh database on it: one set of tests for both backends.
pub(crate) struct Place {
    _dir: tempfile::TempDir,
    pub database: Database,
}

pub(crate) async fn place() -> Place {
    let dir = tempfile::tempdir().unwrap();
    let database = match std::env::var("GUEST_RESET_TEST_DATABASE_URL") {
        Ok(server) => Database::Postgres(fresh_postgres(&server).await.into()),
        Err(_) => Database::Sqlite(dir.path().join("sub/audit.db")),
    };
    Place {
        _dir: dir,
        database,
    }
}

/// A new, empty database on the server at `server`; its URL.
pub(crate) async fn fresh_postgres(server: &str) -> String {
    use sqlx::Connection;
    let name = format!("store_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(server).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(&name);
    url.to_string()
}

async fn open() -> (Place, Store) {
    let place = place().await;
    let store = Store::connect(&place.database).await.unwrap();
    (place, store)
}

#[tokio::test]
async fn insert_update_get_round_trip() {
    let (_dir, store) = open().await;
    let mut r = record("0001", "alice");
    store.insert(&r).await.unwrap();
    assert_eq!(
        store.get("0001").await.unwrap().unwrap().status,
        Status::Pending
    );
    r.graph_request_ids = vec!["g1".into(), "g2".into()];
    r.policy = Some(PolicyRecordFixture::allowed());
    finalise(&mut r, Status::Succeeded, None);
    assert!(store.update_from(&r, Status::Pending).await.unwrap());
    assert_eq!(store.get("0001").await.unwrap().unwrap(), r);
    assert!(store.get("nope").await.unwrap().is_none());
}

#[tokio::test]
async fn a_row_moves_only_from_the_state_its_writer_saw() {
    let (_dir, store) = open().await;
    let mut r = record("0002", "alice");
    store.insert(&r).await.unwrap();
    finalise(&mut r, Status::Unknown, None);
    assert!(store.update_from(&r, Status::Pending).await.unwrap());
    // A second writer that also saw it pending loses.
    let mut late = r.clone();
    finalise(&mut late, Status::Failed, None);
    assert!(!store.update_from(&late, Status::Pending).await.unwrap());
    assert_eq!(
        store.get("0002").await.unwrap().unwrap().status,
        Status::Unknown
    );
    // A row that does not exist is not created by a move.
    let ghost = record("0003", "alice");
    assert!(!store.update_from(&ghost, Status::Pending).await.unwrap());
    assert!(store.get("0003").await.unwrap().is_none());
}

struct PolicyRecordFixture;
impl PolicyRecordFixture {
    fn allowed() -> crate::record::PolicyRecord {
        crate::record::PolicyRecord {
            allowed: true,
            rule: Some("helpdesk".into()),
            reasons: vec!["domain ok".into()],
            version: Some("sha256:0011223344556677".into()),
        }
    }
}

#[tokio::test]
async fn list_filters_and_paginates_newest_first() {
    let (_dir, store) = open().await;
    for (id, who) in [
        ("01", "alice"),
        ("02", "bob"),
        ("03", "alice"),
        ("04", "alice"),
    ] {
        store.insert(&record(id, who)).await.unwrap();
    }
    let page = |before: Option<&str>| ListFilter {
        requested_by: Some("alice".into()),
        before_id: before.map(str::to_owned),
        limit: 2,
        ..ListFilter::default()
    };
    let first: Vec<_> = store
        .list(&page(None))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(first, ["04", "03"]);
    let second: Vec<_> = store
        .list(&page(Some("03")))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(second, ["01"]);
    let by_user = ListFilter {
        user: Some("ADELE@northwind.example".into()),
        limit: 10,
        ..ListFilter::default()
    };
    assert_eq!(store.list(&by_user).await.unwrap().len(), 4);
}

#[tokio::test]
async fn database_uses_wal_and_full_sync() {
    let (_dir, store) = open().await;
    if store.backend() != Backend::Sqlite {
        return; // SQLite's own durability settings
    }
    let mode: String = sqlx::query_scalar("pragma journal_mode")
        .fetch_one(&store.writer)
        .await
        .unwrap();
    let sync: i64 = sqlx::query_scalar("pragma synchronous")
        .fetch_one(&store.writer)
        .await
        .unwrap();
    assert_eq!((mode.as_str(), sync), ("wal", 2));
}

#[tokio::test]
async fn rows_whose_lease_ran_out_are_found_and_renewal_keeps_them() {
    let (_dir, store) = open().await;
    let store = store.with_lease_ttl(std::time::Duration::from_secs(1));
    let mut done = record("01", "a");
    finalise(&mut done, Status::Failed, None);
    store.insert(&done).await.unwrap();
    store.insert(&record("02", "a")).await.unwrap();
    let in_2s = crate::record::format_timestamp(
        time::OffsetDateTime::now_utc() + time::Duration::seconds(2),
    );
    let now = crate::record::now_rfc3339();
    let ids = |rows: Vec<ResetRecord>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert!(store.lease_expired(&now, 10).await.unwrap().is_empty());
    assert_eq!(ids(store.lease_expired(&in_2s, 10).await.unwrap()), ["02"]);
    // Another process's store: on SQLite (a restart) it voids the lease at
    // once; on PostgreSQL (another replica) the lease runs its course.
    let other = Store::connect(&_dir.database).await.unwrap();
    match store.backend() {
        Backend::Sqlite => {
            assert_eq!(other.void_foreign_leases().await.unwrap(), 1);
            assert_eq!(ids(store.lease_expired(&now, 10).await.unwrap()), ["02"]);
        }
        Backend::Postgres => assert_eq!(other.void_foreign_leases().await.unwrap(), 0),
    }
    // An owner still alive renews its own rows (and only those).
    assert_eq!(store.renew_row_leases().await.unwrap(), 1);
    assert_eq!(other.renew_row_leases().await.unwrap(), 0);
    assert!(store.lease_expired(&now, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_job_lease_is_held_by_one_owner_and_its_epoch_fences_writes() {
    let (place, a) = open().await;
    let b = Store::connect(&place.database).await.unwrap();
    let ttl = std::time::Duration::from_millis(300);
    let first = a.hold_job("reconcile", ttl).await.unwrap().unwrap();
    assert!(b.hold_job("reconcile", ttl).await.unwrap().is_none());
    assert_eq!(
        a.hold_job("reconcile", ttl).await.unwrap(),
        Some(first.clone())
    );
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let second = b.hold_job("reconcile", ttl).await.unwrap().unwrap();
    assert_eq!(second.epoch, first.epoch + 1);
    let mut r = record("03", "a");
    a.insert(&r).await.unwrap();
    finalise(&mut r, Status::Failed, None);
    assert!(
        !a.update_fenced(&r, Status::Pending, &first).await.unwrap(),
        "old epoch"
    );
    assert!(b.update_fenced(&r, Status::Pending, &second).await.unwrap());
}

/// Both backends' migrations describe the same tables and columns, with the
/// same kind of type (text or integer). Compared when the store tests run on
/// PostgreSQL (.ci/postgres-tests); on SQLite alone there is nothing to compare.
#[tokio::test]
async fn both_schemas_describe_the_same_tables_and_columns() {
    let (_place, store) = open().await;
    if store.backend() != Backend::Postgres {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(&dir.path().join("schema.db")).await.unwrap();
    let lite: Vec<(String, String, String)> = sqlx::query_as(
        "select m.name, p.name, lower(p.type) from sqlite_master m, pragma_table_info(m.name) p \
         where m.type = 'table' and m.name not like '\\_%' escape '\\' and m.name not like 'sqlite%' \
         order by 1, 2",
    )
    .fetch_all(&sqlite.reader)
    .await
    .unwrap();
    let pg: Vec<(String, String, String)> = sqlx::query_as(
        "select table_name::text, column_name::text, \
         case when data_type = 'bigint' then 'integer' else data_type::text end \
         from information_schema.columns where table_schema = 'public' \
         and table_name not like '\\_%' order by 1, 2",
    )
    .fetch_all(&store.reader)
    .await
    .unwrap();
    assert!(lite.len() > 60, "{} columns", lite.len());
    assert_eq!(lite, pg);
}

#[tokio::test]
async fn two_stores_on_one_database_never_grant_more_than_a_budgets_share() {
    let place = place().await;
    let a = Store::connect(&place.database).await.unwrap();
    let b = Store::connect(&place.database).await.unwrap();
    let window = std::time::Duration::from_secs(60);
    let takes = (0..30).map(|n| {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        async move { store.take_budget("invitations/t", 10, window, true).await }
    });
    let results: Vec<_> = futures_util::future::join_all(takes)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(results.iter().filter(|r| r.is_none()).count(), 10);
    assert!(
        results
            .iter()
            .flatten()
            .all(|w| !w.is_zero() && *w <= window),
        "{results:?}"
    );
    let other = a.take_budget("user_writes/t/app", 10, window, true).await;
    assert!(other.unwrap().is_none(), "each budget counts apart");
}

#[tokio::test]
async fn a_cool_down_holds_bulk_back_on_every_store_but_not_single_resets() {
    let place = place().await;
    let a = Store::connect(&place.database).await.unwrap();
    let b = Store::connect(&place.database).await.unwrap();
    let (hold, window) = (
        std::time::Duration::from_secs(30),
        std::time::Duration::from_secs(60),
    );
    a.cool_budget("invitations/t", hold).await.unwrap();
    let wait = b.take_budget("invitations/t", 10, window, true).await;
    let wait = wait.unwrap().expect("bulk waits");
    assert!(wait > hold / 2 && wait <= hold, "{wait:?}");
    let single = b.take_budget("invitations/t", 10, window, false).await;
    assert!(single.unwrap().is_none(), "a single reset goes ahead");
}

/// Both backends hash an event as the documented encoding says (PostgreSQL
/// finishes the hash in SQL), non-ASCII and escapes included, and chain it.
#[tokio::test]
async fn appended_events_hash_as_documented_and_chain_on_both_backends() {
    let (_place, store) = open().await;
    let draft = |i: u32| crate::audit::Draft {
        kind: "test.event".into(),
        subject: format!("s{i}"),
        actor: serde_json::json!({"type": "service", "replica": "Zoë"}),
        data: serde_json::json!({"name": "Zoë \"q\"\n\u{2603}\u{1}", "n": i}),
    };
    let a = store.append_event(draft(1)).await.unwrap();
    let b = store.append_event(draft(2)).await.unwrap();
    assert_eq!(b.seq, a.seq + 1);
    assert_eq!(b.prev, a.hash);
    for event in [&a, &b] {
        assert_eq!(crate::audit::digest(event), event.hash);
    }
    let stored = store.events_after(a.seq - 1, 10).await.unwrap();
    assert_eq!(stored, vec![a, b.clone()]);
    assert_eq!(store.audit_head().await.unwrap(), (b.seq, b.hash));
}

/// A database written before the chain: its rows are adopted once, at the
/// first start with the chain, and then verify; a second start adopts none.
#[tokio::test]
async fn rows_from_before_the_chain_are_adopted_once_and_verify() {
    let (_place, store) = open().await;
    store.insert(&record("r-old-1", "agent")).await.unwrap();
    store.insert(&record("r-old-2", "agent")).await.unwrap();
    // As an earlier version left it: rows, no events, the head at genesis.
    let genesis = crate::audit::GENESIS;
    for sql in [
        "delete from audit_events".to_owned(),
        format!("update audit_head set seq = 0, hash = '{genesis}', prev = '{genesis}'"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&store.writer)
            .await
            .unwrap();
    }
    assert_eq!(store.adopt_unchained().await.unwrap(), 2);
    assert_eq!(store.adopt_unchained().await.unwrap(), 0, "only once");
    let events = store.events_after(0, 10).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["reset.adopted", "reset.adopted"]);
    let options = crate::reset::verify_trail::VerifyOptions::default();
    let report = crate::reset::verify_trail::verify(&store, &options)
        .await
        .unwrap();
    assert_eq!(
        (report.last, report.rows, report.rows_not_covered),
        (2, 2, 0)
    );
}

#[tokio::test]
async fn console_sign_ins_are_read_once_sessions_until_they_expire() {
    use super::SessionKind;
    let (_dir, store) = open().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    store
        .put_console_session(
            "login-1",
            SessionKind::Login,
            "{\"state\":1}",
            now + 600,
            now,
        )
        .await
        .unwrap();
    // A sign-in is not a session, and is read only once.
    assert_eq!(store.console_session("login-1", now).await.unwrap(), None);
    let taken = store.take_console_login("login-1", now).await.unwrap();
    assert_eq!(taken.as_deref(), Some("{\"state\":1}"));
    assert_eq!(
        store.take_console_login("login-1", now).await.unwrap(),
        None
    );
    store
        .put_console_session("s-1", SessionKind::Session, "{}", now + 60, now)
        .await
        .unwrap();
    assert_eq!(
        store.console_session("s-1", now).await.unwrap().as_deref(),
        Some("{}")
    );
    // A session is not a sign-in; past its expiry it is gone.
    assert_eq!(store.take_console_login("s-1", now).await.unwrap(), None);
    assert_eq!(store.console_session("s-1", now + 61).await.unwrap(), None);
    // Writing a new row removes the expired ones.
    store
        .put_console_session("s-2", SessionKind::Session, "{}", now + 3600, now + 120)
        .await
        .unwrap();
    assert_eq!(
        store.console_session("s-1", now).await.unwrap(),
        None,
        "pruned"
    );
    store.end_console_session("s-2").await.unwrap();
    assert_eq!(store.console_session("s-2", now).await.unwrap(), None);
}
