//! Signing in to the console without a browser: the same redirects a
//! browser follows (console → emulator's sign-in page → console), with the
//! cookies carried by hand, so tests can look at every answer.

use regex::Regex;

use super::TestApp;

/// A client that follows no redirects (each step is checked).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of `name` among the answer's `Set-Cookie` headers.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn cookie_value(header: &str) -> String {
    let first = header.split(';').next().unwrap();
    first.split_once('=').unwrap().1.to_owned()
}

pub fn location(response: &reqwest::Response) -> String {
    let value = response.headers().get("location").expect("a Location");
    value.to_str().unwrap().to_owned()
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The sign-in under way: the `gr_login` cookie and the emulator's answer
/// to picking `person` (a 302 back to the console's callback).
pub async fn pick(app: &TestApp, person: &str) -> (String, String) {
    let http = client();
    let start = http
        .get(format!("{}/console/auth/start", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 303);
    let login = cookie_value(&set_cookie(&start, "gr_login").expect("a gr_login cookie"));
    let page = http
        .get(location(&start))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = Regex::new(r#"(?s)<form method="post" action="([^"]+)">(.*?)</form>"#).unwrap();
    let field = Regex::new(r#"<input type="hidden" name="([^"]+)" value="([^"]*)">"#).unwrap();
    let button = Regex::new(
        r#"<button type="submit" name="user" value="([^"]+)">Sign in as ([^<]+)</button>"#,
    )
    .unwrap();
    let chosen = form
        .captures_iter(&page)
        .find(|f| f[2].contains(&format!("Sign in as {person}")));
    let chosen = chosen.unwrap_or_else(|| panic!("{person} is not on the sign-in page:\n{page}"));
    let mut fields: Vec<(String, String)> = field
        .captures_iter(&chosen[2])
        .map(|c| (c[1].to_owned(), unescape(&c[2])))
        .collect();
    let user = button.captures(&chosen[2]).unwrap();
    fields.push(("user".into(), unescape(&user[1])));
    let action = unescape(&chosen[1]);
    let action = if action.starts_with("http") {
        action
    } else {
        format!("{}{action}", app.graph_origin())
    };
    let picked = http.post(action).form(&fields).send().await.unwrap();
    assert_eq!(picked.status(), 302, "{}", picked.text().await.unwrap());
    (login, location(&picked))
}

/// A signed-in session: the `gr_session` cookie's value.
pub async fn sign_in(app: &TestApp, person: &str) -> String {
    let (login, callback) = pick(app, person).await;
    let back = client()
        .get(callback)
        .header("cookie", format!("gr_login={login}"))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303, "{}", back.text().await.unwrap());
    cookie_value(&set_cookie(&back, "gr_session").expect("a gr_session cookie"))
}
