//! What `guest-reset doctor` needs beyond the service's own calls: the
//! application permissions the Graph token carries, and the smallest reads
//! that exercise the service's read calls. Nothing here writes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::ExposeSecret;
use serde::Deserialize;
use tracing::instrument;

use super::users::read;
use super::{Call, GraphClient, GraphError, json};

/// What an app-only Graph access token says about its holder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TokenGrants {
    /// Application permissions (app roles) admin-consented for the app.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Delegated scopes, space-separated; app-only tokens carry none.
    #[serde(default)]
    pub scp: Option<String>,
    /// The app (client) id in v1.0 tokens (what Graph gets)...
    #[serde(default)]
    pub appid: Option<String>,
    /// ...and in v2.0 ones.
    #[serde(default)]
    pub azp: Option<String>,
    /// The tenant the token was issued in.
    #[serde(default)]
    pub tid: Option<String>,
}

impl TokenGrants {
    pub fn app_id(&self) -> Option<&str> {
        self.appid.as_deref().or(self.azp.as_deref())
    }

    pub fn has_any(&self, roles: &[&str]) -> bool {
        self.roles.iter().any(|r| roles.contains(&r.as_str()))
    }
}

#[derive(Deserialize)]
struct Page {
    value: Vec<Id>,
}

#[derive(Deserialize)]
struct Id {
    id: String,
}

impl GraphClient {
    /// The claims of the current Graph token (fetched if none is cached).
    /// Decoded, not verified: the token came straight from the token endpoint
    /// over TLS, and only Graph itself holds what it takes to verify it.
    #[instrument(skip_all)]
    pub async fn granted_roles(&self) -> Result<TokenGrants, GraphError> {
        let token = self.tokens.token(&self.http).await?;
        decode_claims(token.expose_secret())
    }

    /// The id of one user (`$top=1`), to aim the other probes at; `None` in
    /// an empty directory.
    #[instrument(skip_all)]
    pub async fn any_user_id(&self) -> Result<Call<Option<String>>, GraphError> {
        let mut url = self.url(&["users"]);
        url.query_pairs_mut()
            .append_pair("$top", "1")
            .append_pair("$select", "id,userType");
        let call = self.send(read(url, "user list"), json::<Page>).await?;
        Ok(Call {
            value: call.value.value.into_iter().next().map(|u| u.id),
            request_id: call.request_id,
        })
    }

    /// The first page (one object) of the user's `transitiveMemberOf`: the
    /// same permission check as [`GraphClient::memberships`], one request.
    #[instrument(skip_all)]
    pub async fn first_membership(&self, user_id: &str) -> Result<Call<()>, GraphError> {
        let mut url = self.url(&["users", user_id, "transitiveMemberOf"]);
        url.query_pairs_mut()
            .append_pair("$top", "1")
            .append_pair("$select", "id");
        self.send(read(url, "memberships"), json::<Page>)
            .await
            .map(|call| Call {
                value: (),
                request_id: call.request_id,
            })
    }
}

/// The payload of a JWT as [`TokenGrants`]. The error never carries the
/// token, not even a part of it.
fn decode_claims(token: &str) -> Result<TokenGrants, GraphError> {
    let unreadable = || GraphError::Decode("the access token is not a readable JWT".into());
    let payload = token.split('.').nth(1).ok_or_else(unreadable)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| unreadable())?;
    serde_json::from_slice(&bytes).map_err(|_| unreadable())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &serde_json::Value) -> String {
        let part = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.sig",
            part(&serde_json::json!({"alg": "RS256"})),
            part(claims)
        )
    }

    #[test]
    fn roles_and_ids_are_read_from_the_payload() {
        let token = jwt(&serde_json::json!({
            "roles": ["User.Read.All"], "appid": "app", "tid": "tenant", "aud": "x"
        }));
        let grants = decode_claims(&token).unwrap();
        assert_eq!(grants.roles, ["User.Read.All"]);
        assert_eq!(grants.app_id(), Some("app"));
        assert_eq!(grants.tid.as_deref(), Some("tenant"));
        assert!(grants.has_any(&["User.ReadWrite.All", "User.Read.All"]));
        assert!(!grants.has_any(&["User.ReadWrite.All"]));
    }

    #[test]
    fn a_token_without_roles_grants_nothing_and_v2_azp_is_the_app() {
        let grants = decode_claims(&jwt(&serde_json::json!({"azp": "app"}))).unwrap();
        assert!(grants.roles.is_empty());
        assert_eq!(grants.app_id(), Some("app"));
    }

    #[test]
    fn an_opaque_token_is_a_decode_error_that_does_not_echo_it() {
        let err = decode_claims("opaque-secret-token").unwrap_err();
        assert!(!err.to_string().contains("opaque-secret-token"));
    }
}
