//! HTML for the console: escaping, the page frame, and the headers every
//! console answer carries. Pages are built as strings from escaped parts;
//! nothing from a request, a record or Graph reaches the page unescaped.

use std::fmt::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::policy::Permission;

/// No inline script or style, nothing from elsewhere, no framing: the
/// console's own CSS and JS only, forms post to the console only.
pub(super) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
    connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Text made safe for an element's content or a quoted attribute.
pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A value for a URL's query or path segment.
pub(super) fn url_part(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Who is signed in, for the page frame.
pub(super) struct Frame<'a> {
    pub name: &'a str,
    pub permissions: &'a std::collections::BTreeSet<Permission>,
    pub csrf: &'a str,
}

/// A whole page: the navigation offers only what the person may do.
pub(super) fn page(frame: Option<&Frame<'_>>, title: &str, body: &str) -> Response {
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · guest-reset</title><link rel=\"icon\" href=\"/console/assets/icon.svg\"><link rel=\"stylesheet\" href=\"/console/assets/console.css\">\
         <script src=\"/console/assets/console.js\" defer></script></head><body>\
         <a class=\"skip\" href=\"#main\">Skip to content</a><header><p class=\"brand\">guest-reset</p>",
        esc(title)
    );
    if let Some(frame) = frame {
        html.push_str(&nav(frame));
    }
    let _ = write!(
        html,
        "</header><main id=\"main\"><h1>{}</h1>{body}</main></body></html>",
        esc(title)
    );
    respond(StatusCode::OK, html)
}

fn nav(frame: &Frame<'_>) -> String {
    let has = |p| frame.permissions.contains(&p);
    let mut links = vec![
        ("/console/", "Find a guest"),
        ("/console/approvals", "Approvals"),
    ];
    if has(Permission::ResetsReadAll) || has(Permission::ResetsReadOwn) {
        links.push(("/console/audit", "Audit log"));
    }
    if has(Permission::JobsCreate) {
        links.push(("/console/jobs", "Jobs"));
    }
    links.push(("/console/me", "Who am I"));
    let items: String = links
        .iter()
        .map(|(href, text)| format!("<li><a href=\"{href}\">{text}</a></li>"))
        .collect();
    format!(
        "<nav aria-label=\"Console\"><ul>{items}</ul></nav><form class=\"signout\" method=\"post\" \
         action=\"/console/logout\"><span>Signed in as {}</span>{}<button type=\"submit\">Sign out</button></form>",
        esc(frame.name),
        csrf_field(frame.csrf)
    )
}

/// The hidden field every state-changing form carries.
pub(super) fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(token)
    )
}

/// A page with `status` (an error, a refusal) in the frame.
pub(super) fn with_status(status: StatusCode, mut response: Response) -> Response {
    *response.status_mut() = status;
    response
}

/// An HTML answer with the console's security headers.
pub(super) fn respond(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(headers);
    response
}

/// What every console answer carries: the CSP, no sniffing, no referrer to
/// other sites (guest ids are in URLs), and no caching of pages about people.
pub(super) fn secure(headers: &mut axum::http::HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

/// A 303 to `to` (after a form, or to sign in).
pub(super) fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    secure(response.headers_mut());
    response
}

/// A definition list of label/value pairs (values escaped here).
pub(super) fn facts(rows: &[(&str, String)]) -> String {
    let items: String = rows
        .iter()
        .map(|(k, v)| format!("<dt>{}</dt><dd>{}</dd>", esc(k), esc(v)))
        .collect();
    format!("<dl>{items}</dl>")
}

/// A note for the person (an error, a refusal), in a live region.
pub(super) fn notice(kind: &str, text: &str) -> String {
    format!(
        "<p class=\"notice {kind}\" role=\"status\">{}</p>",
        esc(text)
    )
}

/// The tenant a form is for: hidden when there is one choice, else a
/// labelled list of the tenants where the person holds the permission.
pub(super) fn tenant_field(id: &str, tenants: &[String], chosen: &str) -> String {
    if let [only] = tenants {
        return format!(
            "<input type=\"hidden\" name=\"tenant\" value=\"{}\">",
            esc(only)
        );
    }
    let options: String = tenants
        .iter()
        .map(|t| {
            let selected = if t.eq_ignore_ascii_case(chosen) {
                " selected"
            } else {
                ""
            };
            format!("<option value=\"{0}\"{selected}>{0}</option>", esc(t))
        })
        .collect();
    format!(
        "<label for=\"{id}\">Tenant</label><select id=\"{id}\" name=\"tenant\">{options}</select>"
    )
}
