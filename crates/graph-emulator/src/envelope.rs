//! What every Graph response carries regardless of route: `request-id`,
//! `client-request-id`, `x-ms-ags-diagnostic`, Graph's OData content type, and error bodies
//! whose `innerError` names the same ids as the headers.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::errors::GraphError;

/// The content type Graph sends with JSON (OData minimal metadata, streaming).
pub(super) const GRAPH_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// A fixed diagnostic blob in Graph's format; clients are told to log it, never parse it.
const AGS_DIAGNOSTIC: &str = r#"{"ServerInfo":{"DataCenter":"West Europe","Slice":"E","Ring":"5","ScaleUnit":"000","RoleInstance":"AM2PEPF0000A1B2"}}"#;

const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");
const AGS_DIAGNOSTIC_HEADER: HeaderName = HeaderName::from_static("x-ms-ags-diagnostic");

/// Middleware in front of every Graph route (and the Graph fallbacks).
pub(super) async fn graph_envelope(request: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    // Graph echoes the caller's id, or reuses its own request-id when none was sent.
    let client_request_id = request
        .headers()
        .get(&CLIENT_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| request_id.clone(), str::to_owned);
    let mut response = next.run(request).await;
    if let Some(error) = response.extensions_mut().remove::<GraphError>() {
        let body = axum::Json(error.body(&request_id, &client_request_id));
        let (mut parts, _) = response.into_parts();
        parts.headers.remove(header::CONTENT_LENGTH);
        response = (parts, body).into_response();
        set_json_content_type(response.headers_mut());
    }
    let headers = response.headers_mut();
    insert(headers, REQUEST_ID, &request_id);
    insert(headers, CLIENT_REQUEST_ID, &client_request_id);
    headers.insert(
        AGS_DIAGNOSTIC_HEADER,
        HeaderValue::from_static(AGS_DIAGNOSTIC),
    );
    response
}

fn insert(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn set_json_content_type(headers: &mut HeaderMap) {
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(GRAPH_JSON));
}

/// A successful Graph JSON response.
pub(super) fn graph_json(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    set_json_content_type(response.headers_mut());
    response
}

/// Fallback for paths Graph does not serve. Graph itself answers 400 for an unknown
/// segment under a version root; the emulator answers 404 (as its contract asks) with
/// Graph's message for that case, the documented neighbour.
pub(super) async fn unknown_segment(uri: Uri) -> GraphError {
    let segment = first_unknown_segment(uri.path());
    let message = format!("Resource not found for the segment '{segment}'.");
    GraphError::new(StatusCode::NOT_FOUND, "BadRequest", message)
}

/// Graph's answer to a method a resource does not support (microsoft-graph-docs #119).
pub(super) async fn method_not_allowed() -> GraphError {
    let message = "Specified HTTP method is not allowed for the request target.";
    GraphError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Request_BadRequest",
        message,
    )
}

/// Walks the path the way Graph's URI parser would and returns the first segment that is
/// not part of a route the emulator serves.
fn first_unknown_segment(path: &str) -> String {
    let mut segments = path.split('/').filter(|s| !s.is_empty()).peekable();
    if segments.peek() == Some(&"v1.0") {
        segments.next();
    }
    let mut after_collection = false;
    for segment in segments {
        let known = match segment {
            "users" | "groups" => {
                after_collection = true;
                continue;
            }
            "invitations" | "transitiveMemberOf" | "sponsors" | "transitiveMembers" => true,
            _ if after_collection => {
                after_collection = false;
                continue; // a user or group key: any value is syntactically a key
            }
            _ => false,
        };
        if !known {
            return segment.to_owned();
        }
    }
    path.rsplit('/').next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::first_unknown_segment;

    #[test]
    fn unknown_segment_is_the_first_unrouted_one() {
        assert_eq!(first_unknown_segment("/v1.0/groups"), "groups");
        assert_eq!(first_unknown_segment("/v1.0/users/abc/manager"), "manager");
        assert_eq!(first_unknown_segment("/v1.0/invitations/123/x"), "123");
        assert_eq!(first_unknown_segment("/beta/users"), "beta");
    }
}
