//! A stateful Microsoft Graph emulator: the token authority
//! (`POST /{tenant}/oauth2/v2.0/token`) and the Graph endpoints guest-reset uses
//! (users, `$filter` and `$search` with advanced queries, PATCH, transitiveMemberOf,
//! sponsors, group transitiveMembers, invitations, JSON batching), on one router and port.
//! The same authority is also the OpenID Connect issuer of v2.0 access tokens for the
//! tenant's own APIs (discovery document, JWK set, key rotation), so guest-reset's own
//! token validation can run against it, and it signs people in: the authorization
//! endpoint's code flow with PKCE (`authorize.rs`, `code_grant.rs`) gives a web app ID
//! tokens and delegated API tokens carrying the person's app roles. One [`Emulator`] is
//! one tenant; a [`Cloud`] hosts several on one router, as Entra and Graph do.
//!
//! It can also be a deterministic adversary (`adversary.rs`, `faults.rs`): seeded fault
//! plans (429, 5xx, latency, stalls, broken bodies, dropped connections), the invitation
//! and directory-write limits and replication lag, with a record of the resets it really
//! applied.
//!
//! It follows the documented behaviour in the team's Graph facts (`graph.md`, compiled from Microsoft's documentation) (shapes, codes, headers) and
//! deliberately shares no types with the project's Graph client, so a wrong JSON shape
//! cannot hide in both. Where the docs are silent, the comment at the rule says which
//! documented neighbour was picked.

mod advanced_query;
mod adversary;
mod api_token;
mod app_seed;
mod assertion;
mod auth_codes;
mod authority;
mod authorize;
mod authorize_checks;
mod batch;
mod batch_request;
mod bearer;
mod client_auth;
mod clock;
mod cloud;
mod code_grant;
mod control;
mod delegated_scope;
pub mod demo;
mod directory_object;
mod dispatch;
mod envelope;
mod errors;
mod fault_plan;
mod faults;
mod filter;
mod form;
mod group_members;
mod guests;
mod invitation_request;
mod invitations;
mod key_credentials;
mod keys;
mod membership;
mod oidc;
mod pkce;
mod query;
mod recording;
mod redirect_uri;
mod replication;
mod routes;
mod schema;
mod scope;
mod search;
mod search_lexer;
mod search_terms;
mod seed;
mod seen_assertions;
mod service_limits;
mod sign_in_page;
mod sponsors;
mod sponsorship;
mod state;
mod tenant;
mod throttle;
mod token;
mod token_headers;
mod user_roles;
mod user_token;
mod user_update;
mod users;
mod write_limit;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::Context as _;
use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;

pub use adversary::{
    AppliedReset, CLOCK_OFFSET_VAR, FAULTS_VAR, INVITATION_RATE_VAR, OverrideError,
    REPLICATION_LAG_VAR, WRITE_RATE_VAR,
};
pub use app_seed::{AppRoleSeed, AppSeed, PermissionScopeSeed};
pub use cloud::Cloud;
pub use fault_plan::{Fault, FaultPlan, FaultPlanError, FaultRoute, FaultRule};
pub use key_credentials::KeyCredentialSeed;
pub use keys::KeyError;
pub use recording::RecordedRequest;
pub use seed::{DirectoryRoleSeed, GroupSeed, Seed, TenantSeed};

use keys::SigningKeys;
use state::State;

/// The audience of Graph access tokens, and one accepted scope resource.
const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
/// Microsoft Graph's well-known application id, also accepted as scope resource.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The emulator: a directory in memory behind the emulated HTTP surface. Cloning shares
/// the same directory, so tests can inspect what the served router changed.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// HS256 key for the Graph access tokens this emulator issues; random per instance,
    /// so a token from one emulator never validates at another.
    signing_key: Vec<u8>,
    /// RSA keys for API access tokens, published as JWKs. A lock of its own: key
    /// generation is slow and must not hold up Graph requests. When both locks are
    /// needed, the directory lock is taken first.
    signing_keys: Mutex<SigningKeys>,
}

impl Emulator {
    /// The built-in demo tenant (Contoso; see [`demo`] for its well-known ids).
    pub fn demo() -> Emulator {
        Emulator::from_seed(Seed::demo())
    }

    /// The demo tenant plus `n` accepted Fabrikam guests shaped like Adele:
    /// `guest-<i>@fabrikam.example`, object id [`demo::guest_id`] (load
    /// tests and benchmarks need many distinct guests).
    pub fn demo_with_guests(n: usize) -> Emulator {
        let mut seed: Value =
            serde_json::from_str(include_str!("demo_tenant.json")).unwrap_or_default();
        if let Some(users) = seed["users"].as_array_mut() {
            let adele = users.first().cloned().unwrap_or_default();
            users.extend((0..n).map(|i| demo::extra_guest(&adele, i)));
        }
        serde_json::from_value(seed).map_or_else(|_| Emulator::demo(), Emulator::from_seed)
    }

    /// An emulator over `seed`, used as given; [`Emulator::from_seed_file`] validates.
    pub fn from_seed(seed: Seed) -> Emulator {
        let signing_key = (0..4)
            .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
            .collect();
        let inner = Inner {
            state: Mutex::new(State::from_seed(seed)),
            signing_key,
            signing_keys: Mutex::new(SigningKeys::default()),
        };
        Emulator {
            inner: Arc::new(inner),
        }
    }

    /// The Graph access tokens issued so far (the first 1000), e.g. to prove
    /// that none of them reached a log.
    pub fn issued_access_tokens(&self) -> Vec<String> {
        self.lock().issued_graph_tokens.clone()
    }

    /// Loads and validates a JSON seed; errors name the file and the problem.
    pub fn from_seed_file(path: &Path) -> anyhow::Result<Emulator> {
        let shown = path.display();
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading seed file {shown}"))?;
        let seed: Seed =
            serde_json::from_str(&text).with_context(|| format!("parsing seed file {shown}"))?;
        seed.validate()
            .map_err(|problem| anyhow::anyhow!("invalid seed file {shown}: {problem}"))?;
        Ok(Emulator::from_seed(seed))
    }

    /// Everything the emulator serves: Graph routes (behind the envelope, fault
    /// injection, service limits and bearer validation, `$batch` among them), the token
    /// endpoint (behind fault injection), and the `/_emulator` control surface, all
    /// behind the request log (see `routes.rs`).
    pub fn router(&self) -> Router {
        routes::all(self, axum::routing::post(batch::post_batch))
    }

    /// Binds `addr` (e.g. "127.0.0.1:0"), serves on the current tokio runtime in the
    /// background, and returns the bound address.
    pub async fn spawn(&self, addr: &str) -> std::io::Result<SocketAddr> {
        serve_in_background(self.router(), addr).await
    }

    /// Every request received (control surface excluded), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock()
            .requests
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// The user's full current state, every stored property, by id or UPN.
    pub fn user(&self, id_or_upn: &str) -> Option<Value> {
        self.lock().user(id_or_upn).cloned().map(Value::Object)
    }

    /// Invitation emails "sent" (invitations with `sendInvitationMessage: true`).
    pub fn outbox(&self) -> Vec<Value> {
        self.lock().outbox.clone()
    }

    /// The directory lock. A panic while holding it cannot leave the plain data
    /// half-updated in a way later requests must not see, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn signing_key(&self) -> &[u8] {
        &self.inner.signing_key
    }

    /// The API signing keys; poisoning is ignored as for the directory lock.
    fn signing_keys(&self) -> MutexGuard<'_, SigningKeys> {
        self.inner
            .signing_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn log_request(&self, entry: RecordedRequest) -> u64 {
        let mut state = self.lock();
        let seq = state.next_request_seq;
        state.next_request_seq += 1;
        state.requests.push((seq, entry));
        seq
    }

    fn set_request_outcome(&self, seq: u64, status: u16, injected: Option<&str>) {
        let mut state = self.lock();
        if let Some((_, entry)) = state.requests.iter_mut().rev().find(|(s, _)| *s == seq) {
            entry.status = status;
            entry.injected = injected.map(str::to_owned);
        }
    }
}

/// Binds `addr`, serves `router` in the background, returns the bound address
/// (one tenant's router, or a cloud's).
async fn serve_in_background(router: Router, addr: &str) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::warn!(%error, "graph emulator stopped serving");
        }
    });
    Ok(bound)
}

/// Serves the emulator on `listener` until `shutdown` completes (the CLI's
/// `guest-reset emulator` subcommand).
pub async fn run_standalone(
    emulator: Emulator,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, emulator.router())
        .with_graceful_shutdown(shutdown)
        .await
}
