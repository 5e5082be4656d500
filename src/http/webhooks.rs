//! `POST /v1/webhooks/{source}`: a ticketing system's delivery, verified over
//! the raw body (signature schemes) or by its bearer token, mapped to a reset
//! request, and queued durably; the answer (202) comes before any Graph call.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use time::OffsetDateTime;
use tracing::instrument;

use super::auth::{Caller, unauthenticated};
use super::problem::Problem;
use super::{AppState, request_id};
use crate::auth::Identity;
use crate::config::{FieldMap, WebhookSource};
use crate::json_object;
use crate::policy::Permission;
use crate::problem::ProblemType;
use crate::record::WEBHOOK_ISSUER_PREFIX;
use crate::reset::{Context, ResetError, ResetRequest};
use crate::store::DeliveryClaim;
use crate::webhook::{Scheme, verify};

#[instrument(skip_all, fields(source = %name))]
pub async fn deliver(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(source) = state.webhooks.iter().find(|s| s.name == name).cloned() else {
        return Problem::new(ProblemType::NotFound, "No webhook source with this name.")
            .into_response();
    };
    let (identity, delivery_id) = match authenticate(&state, &source, &headers, &body).await {
        Ok(found) => found,
        Err(p) => {
            crate::metrics::webhook_delivery(&source.name, "refused");
            return p.into_response();
        }
    };
    let caller = match Caller::admit(&state, identity) {
        Ok(caller) => caller,
        Err(p) => return p.into_response(),
    };
    if let Err(p) = caller.require(Permission::ResetsCreate) {
        return p.into_response();
    }
    let mut identity = caller.identity;
    // Parsed once, after verification (which needs the raw bytes).
    let parsed = json_object::parse::<Value>(&body);
    let input = match &parsed {
        Ok(value) => to_request(&source, value, &mut identity),
        Err(e) => Err(super::resets::invalid_body(e.clone())),
    };
    let delivery = DeliveryClaim {
        source: source.name.clone(),
        delivery_id: delivery_id
            .unwrap_or_else(|| body_id(&source.fields, parsed.as_ref().ok(), &body)),
        received_at: crate::record::now_rfc3339(),
    };
    let ctx = Context {
        caller: &identity,
        may_receive_redeem_url: false,
        request_id: request_id::current(),
        key: None,
        retry_of: None,
    };
    let name = source.name.clone();
    let accepted = state
        .resets
        .accept(ctx, input, Some(source.name), Some(delivery));
    match accepted.await {
        Ok(accepted) => {
            let outcome = if accepted.replayed {
                "replayed"
            } else {
                "queued"
            };
            crate::metrics::webhook_delivery(&name, outcome);
            state.queue_wake.notify_one();
            super::resets::accepted_answer(&accepted)
        }
        Err(failure) => {
            crate::metrics::webhook_delivery(&name, "invalid");
            Problem::from(failure).into_response()
        }
    }
}

/// The identity the policy sees, and the delivery id when the scheme signs one.
async fn authenticate(
    state: &AppState,
    source: &WebhookSource,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Identity, Option<String>), Problem> {
    if source.scheme == Scheme::BearerJwt {
        let identity = state
            .auth
            .verify_header(headers.get(header::AUTHORIZATION))
            .await
            .map_err(|e| unauthenticated(&e))?;
        return match identity
            .app_id
            .as_ref()
            .is_some_and(|a| source.apps.contains(a))
        {
            true => Ok((identity, None)),
            false => Err(Problem::new(
                ProblemType::PermissionDenied,
                format!(
                    "This client may not deliver to the webhook source {:?}.",
                    source.name
                ),
            )),
        };
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let verified = verify(
        source.scheme,
        &source.secrets,
        headers,
        body,
        now,
        source.tolerance_secs,
    )
    .map_err(|e| {
        tracing::info!(reason = %e, "webhook delivery refused");
        Problem::new(
            ProblemType::WebhookSignatureInvalid,
            format!("The delivery was refused: {e}."),
        )
    })?;
    // Only Standard Webhooks signs its id; for the others the body is the id.
    let id = (source.scheme == Scheme::StandardWebhooks).then_some(verified.delivery_id);
    Ok((source_identity(source), id))
}

fn source_identity(source: &WebhookSource) -> Identity {
    Identity {
        issuer: format!("{WEBHOOK_ISSUER_PREFIX}{}", source.name),
        subject: source.subject.clone(),
        object_id: None,
        tenant_id: None,
        app_id: None,
        name: None,
        username: None,
        roles: source.roles.clone(),
        scopes: Vec::new(),
        groups: Vec::new(),
    }
}

/// The delivery id for schemes that sign none: the mapped id inside the
/// (authenticated) body, else the body's SHA-256.
fn body_id(fields: &FieldMap, value: Option<&Value>, body: &[u8]) -> String {
    let pointer = fields.delivery_id.as_deref();
    let mapped = value.zip(pointer).and_then(|(v, p)| text(v, p));
    mapped.unwrap_or_else(|| crate::webhook::sha256_id(&[body]))
}

/// The reset request the mapping finds in the body.
fn to_request(
    source: &WebhookSource,
    value: &Value,
    identity: &mut Identity,
) -> Result<ResetRequest, ResetError> {
    let fields = &source.fields;
    let get = |p: &Option<String>| p.as_deref().and_then(|p| text(value, p));
    let flag = |p: &Option<String>| {
        p.as_deref()
            .and_then(|p| value.pointer(p))
            .and_then(boolean)
    };
    let user = text(value, &fields.user).ok_or_else(|| ResetError::FieldMissing {
        field: "user",
        pointer: fields.user.clone(),
    })?;
    let new_email = get(&fields.new_email);
    if fields.new_email.is_some() && new_email.is_none() {
        let pointer = fields.new_email.clone().unwrap_or_default();
        return Err(ResetError::FieldMissing {
            field: "new_email",
            pointer,
        });
    }
    if let Some(requester) = get(&fields.requester) {
        identity.name = Some(requester);
    }
    // A source either fixes its tenant or reads it from the delivery.
    let tenant = source.tenant.clone().or_else(|| get(&fields.tenant));
    if let (None, Some(pointer)) = (&tenant, &fields.tenant) {
        return Err(ResetError::FieldMissing {
            field: "tenant",
            pointer: pointer.clone(),
        });
    }
    Ok(ResetRequest {
        user,
        tenant,
        on_behalf_of: None,
        new_email,
        redirect_url: get(&fields.redirect_url),
        send_invitation_message: flag(&fields.send_invitation_message),
        message: None,
        ticket: get(&fields.ticket),
        reason: get(&fields.reason),
        dry_run: flag(&fields.dry_run).unwrap_or(false),
        override_cooldown: false,
    })
}

/// A string, or a number as written (ticket ids are often numbers).
fn text(value: &Value, pointer: &str) -> Option<String> {
    match value.pointer(pointer)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}
