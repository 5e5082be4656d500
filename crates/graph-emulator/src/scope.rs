//! The `scope` of a client-credentials request: `<resource>/.default` items that must all
//! name one resource, either Microsoft Graph or one of the tenant's own APIs.

use axum::http::StatusCode;

use super::errors::AadError;
use super::state::{App, State as Directory};
use super::{GRAPH_APP_ID, GRAPH_AUDIENCE};

/// What a token is requested for.
pub(super) enum Resource<'a> {
    Graph,
    /// An API of the tenant.
    Api(&'a App),
}

impl Resource<'_> {
    fn same_as(&self, other: &Resource<'_>) -> bool {
        match (self, other) {
            (Resource::Graph, Resource::Graph) => true,
            (Resource::Api(a), Resource::Api(b)) => a.client_id == b.client_id,
            _ => false,
        }
    }
}

/// The one resource `scope` names. Besides Graph's URI and app id, the emulator's own
/// address (as the caller reached it) counts as Graph, because clients derive the scope
/// from their configured Graph base URL.
pub(super) fn requested_resource<'a>(
    scope: &str,
    host: Option<&str>,
    directory: &'a Directory,
) -> Result<Resource<'a>, AadError> {
    let mut found: Option<Resource> = None;
    for item in scope.split_whitespace() {
        let name = item
            .strip_suffix("/.default")
            .ok_or_else(|| invalid_scope(scope))?;
        let resource = classify(name, host, directory).ok_or_else(|| not_found(name, directory))?;
        if found.as_ref().is_some_and(|f| !f.same_as(&resource)) {
            return Err(more_than_one_resource(scope));
        }
        found = Some(resource);
    }
    found.ok_or_else(|| invalid_scope(scope))
}

fn classify<'a>(name: &str, host: Option<&str>, directory: &'a Directory) -> Option<Resource<'a>> {
    let own = host.map(|h| format!("http://{h}"));
    let graph = [Some(GRAPH_AUDIENCE), Some(GRAPH_APP_ID), own.as_deref()];
    if graph
        .into_iter()
        .flatten()
        .any(|r| r.eq_ignore_ascii_case(name))
    {
        return Some(Resource::Graph);
    }
    directory.api(name).map(Resource::Api)
}

fn invalid_scope(scope: &str) -> AadError {
    let message = format!(
        "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
    );
    AadError::new(StatusCode::BAD_REQUEST, "invalid_scope", 70011, message)
}

/// Observed answers carry AADSTS28000 with this text; Entra's error-code table lists the
/// same condition as 700022, so the code is UNVERIFIED either way.
fn more_than_one_resource(scope: &str) -> AadError {
    let message = format!(
        "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."
    );
    AadError::new(StatusCode::BAD_REQUEST, "invalid_scope", 28000, message)
}

fn not_found(resource: &str, directory: &Directory) -> AadError {
    let tenant = directory
        .tenant
        .display_name
        .as_deref()
        .unwrap_or(&directory.tenant.domain);
    let message = format!(
        "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
    );
    AadError::new(StatusCode::BAD_REQUEST, "invalid_resource", 500011, message)
}
