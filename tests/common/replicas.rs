//! Two `guest-reset serve` processes on one PostgreSQL database, and what
//! the replica scenarios send them.

use std::time::Duration;

use guest_reset::emulator::{Emulator, Fault, FaultPlan, FaultRoute, FaultRule};
use serde_json::{Value, json};

use super::binary::{ISSUER, SECRET, Server, serve_logged};
use super::{guest_id, sign};

pub const POLICY: &str = "[[grant]]\ncaller = { subjects = ['portal', 'tickets'] }\npermissions = ['resets:create', 'resets:read:all']\n\
    [[rule]]\nname = 'all'\ntarget_domains = ['fabrikam.example']\nnew_email_domains = ['northwind.example']\n";
pub const WHSEC: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// A fresh database on the test server, or `None` (skipped) outside CI.
pub async fn database() -> Option<String> {
    let Ok(server) = std::env::var("GUEST_RESET_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("GUEST_RESET_REQUIRE_POSTGRES").is_none(),
            "GUEST_RESET_REQUIRE_POSTGRES is set but GUEST_RESET_TEST_DATABASE_URL is not"
        );
        eprintln!("skipped: no PostgreSQL (run .ci/postgres-tests)");
        return None;
    };
    Some(super::fresh_postgres(&server).await)
}

pub struct Pair {
    pub servers: Vec<Server>,
    pub bases: Vec<String>,
    pub emulator: Emulator,
    pub _dir: tempfile::TempDir,
}

/// Two replicas on `url`, with `policy`, against one emulator.
pub async fn pair(url: &str, emulator: Emulator, policy: &str) -> Pair {
    let graph = emulator.spawn("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.toml"), policy).unwrap();
    let hooks = dir.path().join("webhooks.toml");
    std::fs::write(
        &hooks,
        "[[source]]\nname = 'tickets'\nscheme = 'standard-webhooks'\nsecret_vars = ['HOOK_SECRET']\n\
         roles = ['GuestReset.Helpdesk']\nfields = { user = '/ticket/guest', new_email = '/ticket/new_email', ticket = '/ticket/key' }\n",
    )
    .unwrap();
    let hooks = hooks.display().to_string();
    let env = [
        ("GUEST_RESET_DATABASE_URL", url),
        ("GUEST_RESET_LEASE_SECS", "2"),
        ("GUEST_RESET_UNKNOWN_GRACE_SECS", "1"),
        ("GUEST_RESET_WEBHOOKS_FILE", hooks.as_str()),
        ("GUEST_RESET_HOOK_SECRET", WHSEC),
    ];
    let (mut servers, mut bases) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let (server, base, _) = serve_logged(dir.path(), graph, &env);
        servers.push(server);
        bases.push(base);
    }
    Pair {
        servers,
        bases,
        emulator,
        _dir: dir,
    }
}

pub fn token() -> String {
    let now = jsonwebtoken::get_current_timestamp();
    sign(
        &json!({ "iss": ISSUER, "aud": "api://guest-reset", "sub": "portal", "exp": now + 600 }),
        SECRET,
    )
}

pub fn reset(base: &str, i: usize, key: Option<&str>) -> reqwest::RequestBuilder {
    let body = json!({ "user": guest_id(i), "new_email": format!("guest-{i}@northwind.example") });
    let mut r = reqwest::Client::new()
        .post(format!("{base}/v1/resets"))
        .bearer_auth(token())
        .json(&body);
    if let Some(key) = key {
        r = r.header("idempotency-key", key);
    }
    r
}

pub async fn statuses(base: &str) -> Vec<String> {
    rows(base)
        .await
        .into_iter()
        .map(|(_, status)| status)
        .collect()
}

pub async fn both<F: Fn(&str) -> reqwest::RequestBuilder>(
    p: &Pair,
    make: F,
) -> Vec<reqwest::Response> {
    let (a, b) = (make(&p.bases[0]).send(), make(&p.bases[1]).send());
    let (a, b) = tokio::join!(a, b);
    vec![a.unwrap(), b.unwrap()]
}

pub async fn problem_type(r: reqwest::Response) -> String {
    let body: Value = r.json().await.unwrap();
    body["type"]
        .as_str()
        .unwrap_or_default()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned()
}

/// (guest id, status) of every reset, read through `base`.
pub async fn rows(base: &str) -> Vec<(String, String)> {
    let field = |i: &Value, k: &str| i[k].as_str().unwrap_or_default().to_owned();
    let items = super::binary::list(base, &token()).await;
    items
        .iter()
        .map(|i| (field(&i["target"], "id"), field(i, "status")))
        .collect()
}

pub fn slow_invitations(millis: u64) -> FaultPlan {
    FaultPlan {
        seed: 1,
        rules: vec![FaultRule {
            route: FaultRoute::Invitations,
            fault: Fault::Latency { millis },
            probability: 1.0,
            limit: None,
            skip: 0,
        }],
    }
}

pub async fn futures_join(
    requests: impl Iterator<
        Item = impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static,
    >,
) -> Vec<u16> {
    let handles: Vec<_> = requests.map(tokio::spawn).collect();
    let mut codes = Vec::new();
    for h in handles {
        codes.push(h.await.unwrap().unwrap().status().as_u16());
    }
    codes
}

/// Poll `check` for up to 30 s.
pub async fn wait<T, F, Fut>(check: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..300 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not reached within 30 s");
}

/// A person's own (delegated) token: `oid` and `scp`, with app `roles`.
pub fn person_token(name: &str, roles: &[&str]) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({ "iss": ISSUER, "aud": "api://guest-reset", "sub": name, "oid": format!("oid-{name}"),
        "scp": "access_as_user", "roles": roles, "exp": now + 600 });
    sign(&claims, SECRET)
}
