//! The two paths: a reset through the service, and the same Graph calls the
//! service makes for it (GET user, GET transitiveMemberOf, POST invitations)
//! sent straight to the emulator with a token from its token endpoint.

use guest_reset::emulator::{Emulator, demo as tenant_ids};
use serde_json::{Value, json};

/// Guests in the bench tenant; request `i` resets guest `i % GUESTS`.
pub const GUESTS: usize = 4000;

/// The demo tenant plus [`GUESTS`] guests.
pub fn tenant() -> Emulator {
    Emulator::demo_with_guests(GUESTS)
}

fn id(i: usize) -> String {
    tenant_ids::guest_id(i % GUESTS)
}

fn mail(i: usize) -> String {
    tenant_ids::guest_mail(i % GUESTS)
}

pub struct Direct {
    http: reqwest::Client,
    graph: String,
    token: String,
}

impl Direct {
    pub async fn connect(graph: &str) -> anyhow::Result<Direct> {
        let http = reqwest::Client::new();
        let url = format!("{graph}/{}/oauth2/v2.0/token", tenant_ids::TENANT_ID);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", tenant_ids::CLIENT_ID),
            ("client_secret", tenant_ids::CLIENT_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ];
        let answer: Value = http
            .post(url)
            .form(&form)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = answer["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok(Direct {
            http,
            graph: format!("{graph}/v1.0"),
            token,
        })
    }

    pub async fn reset(&self, i: usize) -> bool {
        let (g, id) = (&self.graph, id(i));
        let user = self.http.get(format!(
            "{g}/users/{id}?$select=id,userType,mail,otherMails,userPrincipalName,externalUserState"
        ));
        let roles = self
            .http
            .get(format!("{g}/users/{id}/transitiveMemberOf?$select=id"));
        let body = json!({ "invitedUserEmailAddress": mail(i), "inviteRedirectUrl": "https://myapps.microsoft.com",
            "sendInvitationMessage": true, "resetRedemption": true, "invitedUser": { "id": id } });
        let invite = self.http.post(format!("{g}/invitations")).json(&body);
        for request in [user, roles, invite] {
            match request.bearer_auth(&self.token).send().await {
                Ok(r) if r.status().is_success() => drop(r.bytes().await),
                _ => return false,
            }
        }
        true
    }
}

/// The service, one instance or several replicas: request `i` goes to
/// replica `i % n`.
pub struct Service {
    http: reqwest::Client,
    bases: Vec<String>,
    token: String,
}

impl Service {
    pub fn new(bases: &[String]) -> anyhow::Result<Service> {
        let token = guest_reset::demo::mint_token_with_roles(3600, &["GuestReset.Helpdesk"])?;
        Ok(Service {
            http: reqwest::Client::new(),
            bases: bases.to_vec(),
            token,
        })
    }

    /// (commits, writes) of the audit store's group commit so far (zero on
    /// PostgreSQL, which has none). The metrics are the process's, and every
    /// replica here runs in this one process: the first answers for all.
    pub async fn commits(&self) -> (f64, f64) {
        let url = format!("{}/metrics", self.bases[0]);
        let text = match self.http.get(url).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
                .unwrap_or(0.0)
        };
        (
            value("guest_reset_store_commits_total"),
            value("guest_reset_store_batched_writes_total"),
        )
    }

    pub async fn reset(&self, i: usize) -> bool {
        let body = json!({ "user": id(i), "new_email": mail(i), "ticket": format!("BENCH-{i}"), "reason": "load benchmark" });
        let base = &self.bases[i % self.bases.len()];
        let sent = self
            .http
            .post(format!("{base}/v1/resets"))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await;
        match sent {
            Ok(r) => r.status().as_u16() == 201 && r.bytes().await.is_ok(),
            Err(_) => false,
        }
    }
}
