//! Graph's side of authentication: every Graph route requires a bearer token this
//! emulator issued (signature, lifetime, audience, issuer), and handlers authorise on the
//! application permissions (`roles`) it carries.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::errors::GraphError;
use super::token::{AccessClaims, issuer};
use super::{Emulator, GRAPH_AUDIENCE};

/// Reading users and `$filter` (user-get / user-list least-privilege tables).
pub(super) const READ_USERS: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
/// Updating any user property.
pub(super) const WRITE_USERS: &[&str] = &["User.ReadWrite.All", "Directory.ReadWrite.All"];
/// Least privilege for `mail` and `otherMails` only (graph.md §2.1).
pub(super) const WRITE_MAIL: &[&str] = &["User-Mail.ReadWrite.All"];
/// transitiveMemberOf of another user, strictly as documented: User.ReadWrite.All is not
/// in the list, so it does not suffice.
pub(super) const READ_MEMBERSHIP: &[&str] = &[
    "User.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Group.Read.All",
    "GroupMember.Read.All",
];
/// A user's sponsors, strictly as documented (user-list-sponsors-permissions.md:
/// application User.Read.All, higher User.ReadWrite.All; Directory.* is not listed).
pub(super) const READ_SPONSORS: &[&str] = &["User.Read.All", "User.ReadWrite.All"];
/// A group's transitive members, strictly as documented
/// (group-list-transitivemembers-permissions.md; User.* and Directory.ReadWrite.All are not
/// listed).
pub(super) const READ_GROUP_MEMBERS: &[&str] = &[
    "GroupMember.ReadBasic.All",
    "Directory.Read.All",
    "Group.Read.All",
    "Group.ReadBasic.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
];
/// Permissions that read a group's properties, so a group inside a directoryObject
/// collection comes back whole rather than limited to its type and id.
pub(super) const READ_GROUPS: &[&str] = &[
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Group.Read.All",
    "Group.ReadBasic.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "GroupMember.ReadBasic.All",
    "GroupMember.ReadWrite.All",
];
/// Creating invitations (graph.md §1.5).
pub(super) const INVITE: &[&str] = &[
    "User.Invite.All",
    "User.ReadWrite.All",
    "Directory.ReadWrite.All",
];
/// Resetting redemption: User.Invite.All is not enough (graph.md §1.5, PR #9248).
pub(super) const RESET_REDEMPTION: &[&str] = &["User.ReadWrite.All", "Directory.ReadWrite.All"];

/// Who is calling, from a validated token.
#[derive(Clone, Debug)]
pub(super) struct Caller {
    pub(super) roles: Vec<String>,
    /// App-only token (`idtyp` = app); the emulator issues no other kind today.
    pub(super) app_only: bool,
    /// The calling application's client id (`appid`): the key of its write quota.
    pub(super) app_id: String,
}

impl Caller {
    pub(super) fn may(&self, permissions: &[&str]) -> bool {
        self.roles
            .iter()
            .any(|role| permissions.contains(&role.as_str()))
    }

    /// 403 `Authorization_RequestDenied` unless the token holds one of `permissions`.
    pub(super) fn require(&self, permissions: &[&str]) -> Result<(), GraphError> {
        if self.may(permissions) {
            Ok(())
        } else {
            Err(GraphError::insufficient_privileges())
        }
    }
}

/// Middleware on Graph routes: rejects the request with 401 unless the token validates.
pub(super) async fn authenticate(
    State(emulator): State<Emulator>,
    mut request: Request,
    next: Next,
) -> Response {
    match validate(&emulator, request.headers()) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

pub(super) fn validate(emulator: &Emulator, headers: &HeaderMap) -> Result<Caller, GraphError> {
    let token =
        bearer_token(headers).ok_or_else(|| GraphError::invalid_token("Access token is empty."))?;
    let tenant_id = emulator.lock().tenant.id.clone();
    let mut validation = Validation::new(Algorithm::HS256);
    // No leeway: tests use lifetimes of a few seconds and expect expiry to bite on time.
    validation.leeway = 0;
    validation.validate_nbf = true;
    validation.set_audience(&[GRAPH_AUDIENCE]);
    validation.set_issuer(&[issuer(&tenant_id)]);
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss"]);
    let key = DecodingKey::from_secret(emulator.signing_key());
    let data = jsonwebtoken::decode::<AccessClaims>(token, &key, &validation)
        .map_err(|e| GraphError::invalid_token(rejection_message(e.kind())))?;
    let claims = data.claims;
    Ok(Caller {
        roles: claims.roles,
        app_only: claims.idtyp == "app",
        app_id: claims.appid,
    })
}

pub(super) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Graph's messages for each way a token fails (graph.md marks the wording UNVERIFIED;
/// these follow messages seen in issue threads).
fn rejection_message(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "Lifetime validation failed, the token is expired.",
        ErrorKind::ImmatureSignature => "Lifetime validation failed, the token is not yet valid.",
        ErrorKind::InvalidSignature => "Invalid signature.",
        ErrorKind::InvalidAudience => "Access token validation failure. Invalid audience.",
        ErrorKind::InvalidIssuer => "Access token validation failure. Invalid issuer.",
        _ => "CompactToken parsing failed with error code: 80049217",
    }
}
