//! A person's sign-in through the authorization endpoint (code + PKCE, OpenID Connect):
//! the page, the redirect with the code, and the tokens the code redeems for.

use std::collections::HashMap;

use reqwest::{Client, StatusCode, Url};

use super::super::demo;
use super::{Harness, Raw, Reply, send, send_raw};

/// RFC 7636 appendix B.
pub(super) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(super) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The console's registered URI with a port: loopback ports do not count.
pub(super) const CALLBACK: &str = "http://localhost:8123/console/auth/callback";
pub(super) const STATE: &str = "state-<&\"'>";
pub(super) const NONCE: &str = "nonce-42";

/// A browser that shows redirects instead of following them.
pub(super) fn browser() -> Client {
    let policy = reqwest::redirect::Policy::none();
    let built = Client::builder().no_proxy().redirect(policy).build();
    built.expect("client builds")
}

/// The console's authorize request, answered at `redirect_uri`.
pub(super) fn request(redirect_uri: &str) -> Vec<(&'static str, String)> {
    let scope = format!("{} openid profile", demo::CONSOLE_SCOPE);
    [
        ("client_id", demo::CONSOLE_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", redirect_uri),
        ("scope", &scope),
        ("state", STATE),
        ("nonce", NONCE),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("response_mode", "query"),
    ]
    .map(|(name, value)| (name, value.to_owned()))
    .to_vec()
}

pub(super) fn authorize_url(harness: &Harness) -> String {
    harness.url(&format!("/{}/oauth2/v2.0/authorize", demo::TENANT_ID))
}

pub(super) async fn show(harness: &Harness, params: &[(&str, String)]) -> Raw {
    let request = browser().get(authorize_url(harness)).query(params);
    send_raw(request).await.expect("authorize answers")
}

/// The page's post: the request, and the person chosen.
pub(super) async fn choose(harness: &Harness, params: &[(&str, String)], user_id: &str) -> Raw {
    let mut form = params.to_vec();
    form.push(("user", user_id.to_owned()));
    let request = browser().post(authorize_url(harness)).form(&form);
    send_raw(request).await.expect("authorize answers")
}

/// The redirect's target without its query, and the query's parameters.
pub(super) fn redirected(raw: &Raw) -> (String, HashMap<String, String>) {
    let location = raw.headers.get("location").and_then(|v| v.to_str().ok());
    let url = Url::parse(location.unwrap_or_default()).expect("an absolute Location");
    let params = url.query_pairs().into_owned().collect();
    let mut base = url;
    base.set_query(None);
    (base.to_string(), params)
}

/// A code for `user_id`, signed in at `redirect_uri`.
pub(super) async fn code_for(harness: &Harness, user_id: &str, redirect_uri: &str) -> String {
    let answer = choose(harness, &request(redirect_uri), user_id).await;
    assert_eq!(
        answer.status,
        StatusCode::FOUND,
        "{}",
        String::from_utf8_lossy(&answer.bytes)
    );
    redirected(&answer).1.remove("code").expect("a code")
}

/// Redeems a code as the console.
pub(super) async fn redeem(
    harness: &Harness,
    code: &str,
    verifier: Option<&str>,
    redirect_uri: &str,
) -> Reply {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", demo::CONSOLE_CLIENT_ID),
        ("client_secret", demo::CONSOLE_CLIENT_SECRET),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    form.extend(verifier.map(|v| ("code_verifier", v)));
    send(harness.token_request(demo::TENANT_ID, &form)).await
}

/// What the page must show: members with their roles, the request carried, escaped.
const SHOWN: [&str; 8] = [
    "<button type=\"submit\" name=\"user\" value=\"983786c2-190d-4093-9472-5af19f8d5916\">Sign in as Miriam Graham</button>",
    demo::MIRIAM_MAIL,
    "Roles on guest-reset API (demo): GuestReset.Helpdesk",
    "Sign in as Megan Bowen",
    "No roles on guest-reset API (demo)",
    "Sign in as Nestor Wilke",
    "<input type=\"hidden\" name=\"code_challenge\" value=\"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\">",
    "<input type=\"hidden\" name=\"state\" value=\"state-&lt;&amp;&quot;&#39;&gt;\">",
];

#[tokio::test]
async fn the_page_lists_members_with_their_roles_as_accessible_forms() {
    let harness = Harness::start().await;

    let page = show(&harness, &request(CALLBACK)).await;

    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&page.bytes).into_owned();
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    let title = "<title>Sign in to Contoso (Graph emulator)</title>";
    assert!(html.contains(title), "{html}");
    for shown in SHOWN {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    assert!(!html.contains("Adele Vance"), "guests are not offered");
    assert!(
        !html.contains("<script") && !html.contains("src="),
        "no script, no assets"
    );
    let forms = html.matches("<form method=\"post\"").count();
    assert_eq!(forms, 5, "one form per member");
    let content_type = page
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    assert_eq!(content_type, Some("text/html; charset=utf-8"));
}

#[tokio::test]
async fn choosing_a_person_redirects_with_a_code_the_state_and_a_session_state() {
    let harness = Harness::start().await;

    let answer = choose(&harness, &request(CALLBACK), demo::MIRIAM_ID).await;

    assert_eq!(answer.status, StatusCode::FOUND);
    let (target, params) = redirected(&answer);
    assert_eq!(target, CALLBACK, "the port the request sent");
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
    let session_state = params
        .get("session_state")
        .map(|s| uuid::Uuid::parse_str(s).is_ok());
    assert_eq!(session_state, Some(true));
    let code = params.get("code").cloned().unwrap_or_default();
    assert!(code.len() >= 43, "{code}");
    let cache = answer
        .headers
        .get("cache-control")
        .and_then(|v| v.to_str().ok());
    assert_eq!(cache, Some("no-store, no-cache"));
}
