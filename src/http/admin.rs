//! `GET /v1/whoami` (any authenticated caller) and
//! `POST /v1/admin/policy/reload` (permission `admin`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tracing::instrument;

use super::AppState;
use super::auth::Caller;
use super::problem::Problem;
use crate::auth::Identity;
use crate::policy::{Effect, Permission, PolicyError};
use crate::problem::ProblemType;

#[derive(Serialize)]
struct WhoAmI<'a> {
    identity: &'a Identity,
    permissions: Vec<&'static str>,
    /// For each permission held, the configured tenants where it holds.
    tenants: BTreeMap<&'static str, Vec<String>>,
    policy_version: String,
    /// The rules whose caller selector covers this caller.
    rules: Vec<RuleView>,
}

#[derive(Serialize)]
struct RuleView {
    name: String,
    effect: Effect,
    description: Option<String>,
}

#[instrument(skip_all)]
pub async fn whoami(State(state): State<AppState>, caller: Caller) -> Response {
    let policy = state.resets.policy();
    let rules = policy
        .rules_for(&caller.identity.policy_caller())
        .map(|r| RuleView {
            name: r.name.clone(),
            effect: r.effect,
            description: r.description.clone(),
        })
        .collect();
    let tenants = tenants_by_permission(&state, &caller);
    Json(WhoAmI {
        identity: &caller.identity,
        permissions: caller.permissions.iter().map(|p| p.as_str()).collect(),
        tenants,
        policy_version: policy.version.clone(),
        rules,
    })
    .into_response()
}

/// For each permission the caller holds, the configured tenants where the
/// grants give it.
fn tenants_by_permission(state: &AppState, caller: &Caller) -> BTreeMap<&'static str, Vec<String>> {
    let held = caller.permissions.iter();
    held.map(|p| {
        (
            p.as_str(),
            state.resets.tenants_granting(&caller.identity, *p),
        )
    })
    .collect()
}

#[instrument(skip_all)]
pub async fn reload_policy(State(state): State<AppState>, caller: Caller) -> Response {
    if let Err(p) = caller.require(Permission::Admin) {
        return p.into_response();
    }
    tracing::info!(by = %caller.identity.subject, "policy reload requested");
    match state.resets.reload_policy_as(Some(&caller.identity)).await {
        Ok(reloaded) => Json(reloaded).into_response(),
        Err(e) => {
            let detail = match &e {
                PolicyError::Read { .. } => {
                    "The policy file could not be read; the policy in force stays.".to_owned()
                }
                PolicyError::Invalid { .. } => format!("{e}. The policy in force stays."),
            };
            Problem::new(ProblemType::PolicyInvalid, detail)
                .with("policy_version", state.resets.policy().version.clone())
                .into_response()
        }
    }
}
