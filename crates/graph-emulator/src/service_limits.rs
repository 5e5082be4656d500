//! The documented service limits, checked at the gateway ahead of the fault plan (a
//! request a limit refuses takes no draw from the plan's random stream):
//! - the invitation manager's: any operation on `/invitations`, per tenant for all apps,
//!   counting every request, even one without a valid token (`throttle.rs`);
//! - the directory's write quota per application+tenant pair, counting the writes of
//!   callers whose token validates, since the quota belongs to the token's application
//!   (`write_limit.rs`).
//!
//! Inside `$batch` each item passes here on its own: "Requests in a batch are evaluated
//! individually against the applicable throttling limits" (json-batching.md, "Batch size
//! limitations"; throttling.md, "Throttling and batching").

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;

use super::throttle::retry_after_seconds;
use super::{Emulator, FaultRoute, bearer};

/// The request log's `injected` marker for a request the invitation limit refused.
const INVITATION_LIMITED: &str = "invitation_rate_limit";
/// The request log's `injected` marker for a write the write quota refused.
const WRITE_LIMITED: &str = "write_rate_limit";

const LIMIT_PERCENTAGE: HeaderName = HeaderName::from_static("x-ms-throttle-limit-percentage");
const THROTTLE_SCOPE: HeaderName = HeaderName::from_static("x-ms-throttle-scope");
const THROTTLE_INFORMATION: HeaderName = HeaderName::from_static("x-ms-throttle-information");

/// What the limits decide about a request.
pub(super) enum Gate {
    /// Let through; the answer must then carry this `x-ms-throttle-limit-percentage`.
    Pass(Option<HeaderValue>),
    /// Refused: the documented 429 (rendered by the fault layer, in the route's shape).
    Refuse(Throttled),
}

/// A request a limit refused.
pub(super) struct Throttled {
    /// Whole seconds, rounded up (the form Graph sends, throttling.md).
    pub(super) retry_after: String,
    /// The request log's `injected` marker.
    pub(super) marker: &'static str,
    /// Headers beyond `Retry-After`.
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
}

/// Adds `x-ms-throttle-limit-percentage` when the caller is past 80% of its quota.
pub(super) fn stamp(usage: Option<HeaderValue>, mut response: Response) -> Response {
    if let Some(value) = usage {
        response.headers_mut().insert(LIMIT_PERCENTAGE, value);
    }
    response
}

/// Lets a request on `route` through, or answers the documented 429.
pub(super) fn admit(emulator: &Emulator, route: FaultRoute, headers: &HeaderMap) -> Gate {
    match route {
        FaultRoute::Invitations => match emulator.take_invitation_token() {
            Ok(()) => Gate::Pass(None),
            Err(wait) => Gate::Refuse(throttled(wait, INVITATION_LIMITED)),
        },
        FaultRoute::PatchUser => admit_write(emulator, headers),
        _ => Gate::Pass(None),
    }
}

fn admit_write(emulator: &Emulator, headers: &HeaderMap) -> Gate {
    // No valid token, no application to charge: the request goes on to its 401.
    let Ok(caller) = bearer::validate(emulator, headers) else {
        return Gate::Pass(None);
    };
    match emulator.take_write_token(&caller.app_id) {
        // The value "ranges from 0.8 to 1.8" (throttling-limits.md); its exact format is
        // not documented, two decimals are shown here.
        Ok(usage) => Gate::Pass(usage.and_then(|u| value(&format!("{u:.2}")))),
        Err(wait) => {
            let mut refused = throttled(wait, WRITE_LIMITED);
            let scope = write_scope(&caller.app_id, &emulator.tenant_id());
            refused
                .headers
                .extend(value(&scope).map(|v| (THROTTLE_SCOPE, v)));
            let reason = HeaderValue::from_static("WriteLimitExceeded");
            refused.headers.push((THROTTLE_INFORMATION, reason));
            Gate::Refuse(refused)
        }
    }
}

/// The throttled-response header "`<Scope>/<Limit>/<ApplicationId>/<TenantId>`", e.g.
/// `Tenant_Application/ReadWrite/…` (throttling-limits.md, "Throttled responses
/// requests"): the pair's scope and its write limit.
fn write_scope(app_id: &str, tenant_id: &str) -> String {
    format!("Tenant_Application/Write/{app_id}/{tenant_id}")
}

fn throttled(wait: Duration, marker: &'static str) -> Throttled {
    let retry_after = retry_after_seconds(wait);
    let headers = Vec::new();
    Throttled {
        retry_after,
        marker,
        headers,
    }
}

fn value(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text).ok()
}
