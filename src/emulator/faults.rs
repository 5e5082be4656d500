//! The seam for fault injection on Graph routes. It sits after the envelope (so injected
//! errors still carry request ids) and before bearer validation (as a gateway-level
//! throttle or outage would). A later change will add 429 with Retry-After, 5xx, latency,
//! dropped connections and replication lag here; today it passes every request through.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

pub(super) async fn inject(request: Request, next: Next) -> Response {
    next.run(request).await
}
