//! Redirect URIs as Entra restricts and matches them (reply-url.md, "Redirect URI (reply
//! URL) restrictions and limitations"):
//! - `https`, or `http` "*only* for *localhost* URIs"; at most 256 characters; none of
//!   the special characters `! $ ' ( ) , ;`;
//! - a request's `redirect_uri` "must exactly match one of the redirect URIs you
//!   registered" (v2-oauth2-auth-code-flow.md), paths being case-sensitive;
//! - except on loopback hosts: "the port component … is ignored for the purposes of
//!   matching a redirect URI" (section "Localhost exceptions"), for `localhost` and
//!   `127.0.0.1`. "The IPv6 loopback address (`[::1]`) is not currently supported", so it
//!   gets no exception here.

use super::form::form_encode;

/// Hosts whose port Entra ignores.
const LOOPBACK_HOSTS: &[&str] = &["localhost", "127.0.0.1"];
const MAX_LENGTH: usize = 256;
const REFUSED_CHARACTERS: &[char] = &['!', '$', '\'', '(', ')', ',', ';'];

/// Scheme, host, port and the rest (path and query) of an absolute URI.
struct Parts<'a> {
    scheme: &'a str,
    host: &'a str,
    rest: &'a str,
}

fn parts(uri: &str) -> Option<Parts<'_>> {
    let (scheme, after) = uri.split_once("://")?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    let host = match authority.strip_prefix('[') {
        // An IPv6 literal keeps its brackets; its port follows `]`.
        Some(literal) => authority.get(..literal.find(']')? + 2)?,
        None => authority.split(':').next()?,
    };
    (!host.is_empty()).then_some(Parts { scheme, host, rest })
}

fn is_loopback(parts: &Parts<'_>) -> bool {
    LOOPBACK_HOSTS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(parts.host))
}

/// Why a URI cannot be registered as a redirect URI, if it cannot.
pub(super) fn check_registered(uri: &str) -> Result<(), &'static str> {
    let parts = parts(uri).ok_or("is not an absolute URI")?;
    let https = parts.scheme.eq_ignore_ascii_case("https");
    let http = parts.scheme.eq_ignore_ascii_case("http");
    if !(https || (http && is_loopback(&parts))) {
        return Err("must use https (http only on localhost)");
    }
    if uri.len() > MAX_LENGTH || uri.contains(REFUSED_CHARACTERS) || uri.contains('#') {
        return Err("is too long or holds a character redirect URIs may not");
    }
    Ok(())
}

/// Whether `requested` matches the registered URI: exactly, or on a loopback host with
/// any port.
pub(super) fn matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Some(a), Some(b)) = (parts(registered), parts(requested)) else {
        return false;
    };
    is_loopback(&a)
        && a.scheme.eq_ignore_ascii_case(b.scheme)
        && a.host.eq_ignore_ascii_case(b.host)
        && a.rest == b.rest
}

/// `uri` with `params` added to its query, as the authorization endpoint answers. A URI
/// without a path gets `/` first: such URIs "are returned with a trailing slash".
pub(super) fn with_params(uri: &str, params: &[(&str, &str)]) -> String {
    let mut target = uri.to_owned();
    if parts(uri).is_some_and(|p| p.rest.is_empty()) {
        target.push('/');
    }
    let query: Vec<String> = (params.iter())
        .map(|(name, value)| format!("{}={}", form_encode(name), form_encode(value)))
        .collect();
    let separator = if target.contains('?') { '&' } else { '?' };
    format!("{target}{separator}{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_ports_are_ignored_and_everything_else_is_exact() {
        let registered = "http://localhost/console/auth/callback";
        for (requested, expected) in [
            ("http://localhost/console/auth/callback", true),
            ("http://localhost:8080/console/auth/callback", true),
            ("http://LOCALHOST:1/console/auth/callback", true),
            ("https://localhost:8080/console/auth/callback", false),
            ("http://localhost:8080/Console/auth/callback", false),
            ("http://localhost:8080/console/auth/callback/", false),
            ("http://127.0.0.1:8080/console/auth/callback", false),
        ] {
            assert_eq!(matches(registered, requested), expected, "{requested}");
        }
        assert!(matches("http://127.0.0.1/cb", "http://127.0.0.1:5000/cb"));
        assert!(
            !matches("http://[::1]/cb", "http://[::1]:5000/cb"),
            "no IPv6 exception"
        );
        assert!(!matches(
            "https://app.example/cb",
            "https://app.example:443/cb"
        ));
        assert!(matches("https://app.example/cb", "https://app.example/cb"));
    }

    #[test]
    fn only_https_or_loopback_http_can_be_registered() {
        assert!(check_registered("https://app.example/cb").is_ok());
        assert!(check_registered("http://localhost/cb").is_ok());
        assert!(check_registered("http://127.0.0.1:8080/cb").is_ok());
        for bad in [
            "http://app.example/cb",
            "localhost/cb",
            "https://app.example/(cb)",
            "https://a/b#c",
        ] {
            assert!(check_registered(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parameters_are_encoded_onto_the_query() {
        let params = [("code", "a+b/c"), ("state", "x y&z")];
        let cb = "http://localhost:9/cb";
        assert_eq!(
            with_params(cb, &params),
            "http://localhost:9/cb?code=a%2Bb%2Fc&state=x%20y%26z"
        );
        assert_eq!(
            with_params("https://app.example", &[("a", "1")]),
            "https://app.example/?a=1"
        );
        assert_eq!(
            with_params("https://app.example/cb?t=1", &[("a", "1")]),
            "https://app.example/cb?t=1&a=1"
        );
    }
}
