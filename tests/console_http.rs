//! The console's sign-in and sessions over plain HTTP (no browser): what
//! every answer carries, what a replayed or forged sign-in gets, CSRF and
//! `Origin`, sign-out, and sessions that any replica can read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::console::{client, location, pick, set_cookie, sign_in};
use common::{TestApp, tenant};

async fn page(app: &TestApp, session: &str, path: &str) -> reqwest::Response {
    let cookie = format!("gr_session={session}");
    client()
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// The session's CSRF token, as its pages carry it.
async fn csrf_of(app: &TestApp, session: &str) -> String {
    let home = page(app, session, "/console/").await.text().await.unwrap();
    let field = regex::Regex::new(r#"name="csrf" value="([^"]+)""#).unwrap();
    field.captures(&home).unwrap()[1].to_owned()
}

#[tokio::test]
async fn pages_need_a_session_and_carry_the_security_headers() {
    let app = TestApp::spawn().await;
    let anonymous = client()
        .get(format!("{}/console/guests?search=adele", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(
        location(&anonymous),
        "/console/login?next=%2Fconsole%2Fguests%3Fsearch%3Dadele"
    );
    let session = sign_in(&app, "Miriam Graham").await;
    let found = page(&app, &session, "/console/guests?search=adele").await;
    assert_eq!(found.status(), 200);
    let headers = found.headers().clone();
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-store");
    let body = found.text().await.unwrap();
    assert!(
        body.contains("Adele Vance") && !body.contains("<script>"),
        "{body}"
    );
    // The API's own token is not needed, and none is handed out.
    assert!(!body.contains("eyJ"), "no token on the page");
}

#[tokio::test]
async fn the_sign_in_cookies_are_http_only_and_a_callback_works_once() {
    let app = TestApp::spawn().await;
    let (login, callback) = pick(&app, "Miriam Graham").await;
    let http = client();
    let back = http
        .get(&callback)
        .header("cookie", format!("gr_login={login}"))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303);
    assert_eq!(location(&back), "/console/");
    let cookie = set_cookie(&back, "gr_session").unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/console"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    // Loopback: plain http, so no Secure (a real deployment is https).
    assert!(!cookie.contains("Secure"), "{cookie}");
    // The same redirect again (a replay): the sign-in was used.
    let again = http
        .get(&callback)
        .header("cookie", format!("gr_login={login}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
    let text = again.text().await.unwrap();
    assert!(text.contains("expired or was used already"), "{text}");
}

#[tokio::test]
async fn a_callback_for_another_browsers_sign_in_or_a_changed_state_is_refused() {
    let app = TestApp::spawn().await;
    let (_, callback) = pick(&app, "Miriam Graham").await;
    let (other_login, _) = pick(&app, "Megan Bowen").await;
    // Miriam's code delivered to a browser that started another sign-in.
    let crossed = client()
        .get(&callback)
        .header("cookie", format!("gr_login={other_login}"))
        .send()
        .await
        .unwrap();
    assert_eq!(crossed.status(), 400);
    let text = crossed.text().await.unwrap();
    assert!(
        text.contains("does not belong to a sign-in started here"),
        "{text}"
    );
    let no_cookie = client().get(&callback).send().await.unwrap();
    assert_eq!(no_cookie.status(), 400);
    assert!(set_cookie(&no_cookie, "gr_session").is_none());
}

#[tokio::test]
async fn forms_need_the_csrf_token_and_the_consoles_own_origin() {
    let app = TestApp::spawn().await;
    let session = sign_in(&app, "Miriam Graham").await;
    let csrf = csrf_of(&app, &session).await;
    let plan = format!("{}/console/guests/{}/plan", app.base, tenant::ADELE_ID);
    let form = |token: &str| {
        vec![
            ("csrf", token.to_owned()),
            ("new_email", tenant::ADELE_NEW_MAIL.to_owned()),
            ("ticket", "INC-1".into()),
            ("reason", "moved on".into()),
        ]
    };
    let post = |token: String, origin: Option<&str>| {
        let mut request = client()
            .post(&plan)
            .header("cookie", format!("gr_session={session}"))
            .form(&form(&token));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    assert_eq!(post(String::new(), None).await.unwrap().status(), 403);
    assert_eq!(post("x".repeat(43), None).await.unwrap().status(), 403);
    assert_eq!(
        post(csrf.clone(), Some("https://evil.example"))
            .await
            .unwrap()
            .status(),
        403
    );
    let ok = post(csrf, Some(&app.base)).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("Confirm the reset"));
    assert!(app.graph_writes().is_empty(), "a plan writes nothing");
}

#[tokio::test]
async fn signing_out_ends_the_session_on_every_replica() {
    let app = TestApp::spawn().await;
    let other = app.replica().await;
    let session = sign_in(&app, "Miriam Graham").await;
    assert_eq!(
        page(&other, &session, "/console/me").await.status(),
        200,
        "the other replica knows the session"
    );
    let csrf = csrf_of(&app, &session).await;
    let out = client()
        .post(format!("{}/console/logout", app.base))
        .header("cookie", format!("gr_session={session}"))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert!(
        set_cookie(&out, "gr_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    for replica in [&app, &other] {
        let after = page(replica, &session, "/console/me").await;
        assert_eq!(after.status(), 303, "signed out everywhere");
    }
    // No token and no cookie value is kept: only its hash.
    let stored = app.database_text().await;
    assert!(
        !stored.contains(&session),
        "the session id is stored only hashed"
    );
    assert!(!stored.contains("eyJ"), "no token at rest");
}

#[tokio::test]
async fn bad_input_to_console_pages_is_a_clear_refusal_never_a_500() {
    let app = TestApp::spawn().await;
    let session = sign_in(&app, "Miriam Graham").await;
    let cookie = format!("gr_session={session}");
    for (path, status) in [
        ("/console/guests/%FF", 400),
        ("/console/guests/not-a-guid", 400),
        ("/console/resets/not-a-uuid", 404),
        ("/console/jobs/not-a-job", 404),
        ("/console/guests?search=", 400),
        ("/console/audit?since=yesterday", 400),
        ("/console/nothing-here", 404),
    ] {
        let answer = client()
            .get(format!("{}{path}", app.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), status, "{path}");
    }
    // Not a form at all: refused before anything reaches the API.
    let plan = format!("{}/console/guests/{}/plan", app.base, tenant::ADELE_ID);
    let json = client()
        .post(&plan)
        .header("cookie", &cookie)
        .json(&serde_json::json!({"csrf": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 400);
    let garbage = client()
        .post(&plan)
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("%%%=&&")
        .send()
        .await
        .unwrap();
    assert!(garbage.status().is_client_error(), "{}", garbage.status());
    assert!(app.audit_rows().await.is_empty());
}
