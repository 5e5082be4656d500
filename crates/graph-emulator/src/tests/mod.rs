//! End-to-end tests: each spawns an emulator on 127.0.0.1:0 and drives it over HTTP with
//! plain `reqwest`, never through the project's Graph client.

mod advanced_query;
mod api_token;
mod assertions;
mod batch;
mod batch_dependencies;
mod cloud;
mod cloud_control;
mod envelope;
mod fault_corruption;
mod fault_plans;
mod fault_refusals;
mod group_members;
mod invitations;
mod limits;
mod membership;
mod oidc;
mod search;
mod seed;
mod sign_in;
mod sign_in_errors;
mod sign_in_seed;
mod sign_in_tokens;
mod sponsors;
mod tailspin_seed;
/// Also used by the unit tests of `key_credentials`.
pub(super) mod test_keys;
mod token;
mod user_update;
mod users;
mod write_limit;

use reqwest::header::HeaderMap;
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::Value;

use super::{Emulator, Fault, FaultPlan, FaultRoute, FaultRule, demo};

pub(super) const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

pub(super) struct Harness {
    pub(super) emulator: Emulator,
    pub(super) base: String,
    pub(super) http: Client,
}

pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Value,
}

impl Reply {
    /// `error.code` of a Graph error body.
    pub(super) fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    pub(super) fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }

    pub(super) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl Harness {
    pub(super) async fn start() -> Harness {
        Harness::over(Emulator::demo()).await
    }

    pub(super) async fn over(emulator: Emulator) -> Harness {
        let addr = emulator.spawn("127.0.0.1:0").await.expect("emulator binds");
        // No proxy: a proxy from the environment must not intercept loopback traffic.
        let http = Client::builder().no_proxy().build().expect("client builds");
        Harness {
            emulator,
            base: format!("http://{addr}"),
            http,
        }
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(super) fn token_request(&self, tenant: &str, form: &[(&str, &str)]) -> RequestBuilder {
        let url = self.url(&format!("/{tenant}/oauth2/v2.0/token"));
        self.http.post(url).form(form)
    }

    /// A Graph token for an app, asserting the grant succeeds.
    pub(super) async fn token_for(&self, client_id: &str, secret: &str) -> String {
        self.token_for_scope(client_id, secret, GRAPH_SCOPE).await
    }

    /// A token for an app and scope, asserting the grant succeeds.
    pub(super) async fn token_for_scope(
        &self,
        client_id: &str,
        secret: &str,
        scope: &str,
    ) -> String {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", scope),
        ];
        let reply = send(self.token_request(demo::TENANT_ID, &form)).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "token for {client_id}: {}",
            reply.body
        );
        reply.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// A token for the demo service app (User.ReadWrite.All + User.Read.All).
    pub(super) async fn token(&self) -> String {
        self.token_for(demo::CLIENT_ID, demo::CLIENT_SECRET).await
    }

    /// A token for the demo service app after granting it exactly `roles`.
    pub(super) async fn token_with_roles(&self, roles: &[&str]) -> String {
        self.emulator.set_app_roles(demo::CLIENT_ID, roles);
        self.token().await
    }

    /// An unauthenticated GET, as metadata clients send it.
    pub(super) async fn get_anonymous(&self, path: &str) -> Reply {
        send(self.http.get(self.url(path))).await
    }

    pub(super) async fn get(&self, token: &str, path: &str) -> Reply {
        send(self.http.get(self.url(path)).bearer_auth(token)).await
    }

    pub(super) async fn patch(&self, token: &str, path: &str, body: Value) -> Reply {
        send(
            self.http
                .patch(self.url(path))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    pub(super) async fn invite(&self, token: &str, body: Value) -> Reply {
        let request = self
            .http
            .post(self.url("/v1.0/invitations"))
            .bearer_auth(token)
            .json(&body);
        send(request).await
    }
}

pub(super) async fn send(request: RequestBuilder) -> Reply {
    let response = request.send().await.expect("request reaches the emulator");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body reads");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("JSON body")
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// `(@odata.type, id)` of each item of a collection answer.
pub(super) fn typed_ids(reply: &Reply) -> Vec<(String, String)> {
    let values = reply.body["value"].as_array().cloned().unwrap_or_default();
    let text = |item: &Value, key: &str| item[key].as_str().unwrap_or_default().to_owned();
    let pair = |item: &Value| (text(item, "@odata.type"), text(item, "id"));
    values.iter().map(pair).collect()
}

/// A reset request body for `user_id` with `email`, as the service would send it.
pub(super) fn reset_body(user_id: &str, email: &str) -> Value {
    serde_json::json!({
        "invitedUserEmailAddress": email,
        "inviteRedirectUrl": "https://myapps.microsoft.com",
        "sendInvitationMessage": false,
        "resetRedemption": true,
        "invitedUser": { "id": user_id },
    })
}

/// A plan with one rule that always fires.
pub(super) fn always(route: FaultRoute, fault: Fault) -> FaultPlan {
    let rule = FaultRule {
        route,
        fault,
        probability: 1.0,
        limit: None,
        skip: 0,
    };
    FaultPlan {
        seed: 1,
        rules: vec![rule],
    }
}

/// The Graph routes faults can target, each as the service would call it (the PATCH
/// adds Adele's new address; the POST resets her with her current one).
pub(super) const GRAPH_ROUTES: [FaultRoute; 5] = [
    FaultRoute::GetUser,
    FaultRoute::ListUsers,
    FaultRoute::MemberOf,
    FaultRoute::PatchUser,
    FaultRoute::Invitations,
];

impl Harness {
    pub(super) fn graph_request(&self, token: &str, route: FaultRoute) -> RequestBuilder {
        let user = self.url(&format!("/v1.0/users/{}", demo::ADELE_ID));
        let request = match route {
            FaultRoute::ListUsers => self.http.get(self.url("/v1.0/users")),
            FaultRoute::MemberOf => self.http.get(format!("{user}/transitiveMemberOf")),
            FaultRoute::PatchUser => (self.http.patch(user))
                .json(&serde_json::json!({ "otherMails": [demo::ADELE_NEW_MAIL] })),
            FaultRoute::Invitations => (self.http.post(self.url("/v1.0/invitations")))
                .json(&reset_body(demo::ADELE_ID, demo::ADELE_MAIL)),
            _ => self.http.get(user),
        };
        request.bearer_auth(token)
    }

    /// Adele's `otherMails`, to see whether a PATCH was applied.
    pub(super) fn adele_other_mails(&self) -> Value {
        let user = self.emulator.user(demo::ADELE_ID).unwrap_or_default();
        user["otherMails"].clone()
    }
}

/// A response whose body may not be JSON, or a transport error.
pub(super) struct Raw {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) bytes: Vec<u8>,
}

pub(super) async fn send_raw(request: RequestBuilder) -> Result<Raw, reqwest::Error> {
    let response = request.send().await?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await?.to_vec();
    Ok(Raw {
        status,
        headers,
        bytes,
    })
}
