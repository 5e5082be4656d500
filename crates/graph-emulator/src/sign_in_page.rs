//! The authorization endpoint's HTML: the emulator's sign-in page and Entra's error page.
//!
//! The sign-in page stands in for Entra's credential prompt: the emulator holds no
//! passwords, so choosing a person is signing in as them. Each person is a form of its
//! own that posts the authorize request back with the choice. No script, no external
//! asset, every control labelled (a button by its text), every value escaped.
//!
//! The error page is what Entra shows instead of redirecting when it cannot trust the
//! redirect URI: "Sorry, but we're having trouble signing you in.", the AADSTS code and
//! message, and the request's ids (as seen in reports of AADSTS50011, e.g.
//! unoplatform/uno.todo#180).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::clock;
use super::errors::AadError;

/// One person the page offers.
pub(super) struct Person {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) mail: String,
    /// Their app roles on the API the client asked for.
    pub(super) roles: Vec<String>,
}

/// What the sign-in page shows and carries.
pub(super) struct Page<'a> {
    pub(super) tenant_name: &'a str,
    pub(super) client_name: &'a str,
    pub(super) api_name: &'a str,
    /// Where the forms post: the authorize endpoint's path.
    pub(super) action: String,
    /// The authorize request's parameters, carried as hidden fields.
    pub(super) params: Vec<(&'a str, &'a str)>,
    pub(super) people: Vec<Person>,
}

pub(super) fn sign_in(page: &Page<'_>) -> Response {
    let title = format!("Sign in to {} (Graph emulator)", page.tenant_name);
    let people: String = page
        .people
        .iter()
        .map(|person| form(page, person))
        .collect();
    let body = format!(
        "<h1>{}</h1>\n<p>{} asks you to sign in. This emulator keeps no passwords: choose a member of the directory to sign in as them.</p>\n<ul>\n{people}</ul>\n",
        escape(&title),
        escape(page.client_name),
    );
    html(StatusCode::OK, &title, &body)
}

fn form(page: &Page<'_>, person: &Person) -> String {
    let hidden: String = (page.params.iter())
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                escape(name),
                escape(value)
            )
        })
        .collect();
    let roles = if person.roles.is_empty() {
        format!("No roles on {}", page.api_name)
    } else {
        format!("Roles on {}: {}", page.api_name, person.roles.join(", "))
    };
    format!(
        "<li>\n<form method=\"post\" action=\"{}\">\n{hidden}<p>{}<br>{}<br>{}</p>\n<button type=\"submit\" name=\"user\" value=\"{}\">Sign in as {}</button>\n</form>\n</li>\n",
        escape(&page.action),
        escape(&person.name),
        escape(&person.mail),
        escape(&roles),
        escape(&person.id),
        escape(&person.name),
    )
}

/// Entra's error page (400), for the errors it does not redirect.
pub(super) fn error_page(error: &AadError, correlation_id: &str) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let message = format!("AADSTS{}: {}", error.code, error.message);
    let body = format!(
        "<h1>Sign in</h1>\n<p>Sorry, but we’re having trouble signing you in.</p>\n<p>{}</p>\n<dl>\n<dt>Request Id</dt><dd>{request_id}</dd>\n<dt>Correlation Id</dt><dd>{}</dd>\n<dt>Timestamp</dt><dd>{}</dd>\n</dl>\n",
        escape(&message),
        escape(correlation_id),
        clock::graph_date_time(),
    );
    html(StatusCode::BAD_REQUEST, "Sign in to your account", &body)
}

/// A whole page. The policy allows nothing to load or run but the empty `data:` icon
/// (which spares the browser a favicon request, and its console a 404), and no other
/// site to frame the page; it sets no `form-action`, which browsers also apply to the
/// redirect after a post, and the redirect leaves for the client's own origin.
fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<link rel=\"icon\" href=\"data:,\">\n<title>{}</title>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape(title)
    );
    let mut response = (status, page).into_response();
    let headers = response.headers_mut();
    let set = |value: &'static str| HeaderValue::from_static(value);
    headers.insert(header::CONTENT_TYPE, set("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, set("no-store, no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        set("default-src 'none'; img-src data:; frame-ancestors 'none'; base-uri 'none'"),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, set("nosniff"));
    headers.insert(header::REFERRER_POLICY, set("no-referrer"));
    response
}

/// Text for an HTML element or a quoted attribute.
pub(super) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(
            escape(r#"<a href="x">O'Connor & co</a>"#),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Connor &amp; co&lt;/a&gt;"
        );
    }
}
