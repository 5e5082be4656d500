//! A real headless Chromium driven over WebDriver (W3C, through Debian's
//! chromedriver), with nothing but reqwest: start the driver on a free
//! port, open a session with a fresh profile, click, type, read, take
//! screenshots, read the browser's console log.
//!
//! Without chromedriver the browser tests skip with a message, unless
//! `GUEST_RESET_REQUIRE_BROWSER=1` (set by .ci/run), where they fail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const DRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Where screenshots go: `target/console-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A browser, or `None` (with a note) when this machine has none and
    /// the run does not require one.
    pub async fn start() -> Option<Browser> {
        if !Path::new(DRIVER).exists() || !Path::new(CHROMIUM).exists() {
            let required = std::env::var("GUEST_RESET_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "GUEST_RESET_REQUIRE_BROWSER=1 but {DRIVER} or {CHROMIUM} is missing (apt-get install chromium chromium-driver)"
            );
            eprintln!(
                "SKIPPED: no {DRIVER} / {CHROMIUM}; install Debian's chromium and chromium-driver to run the browser tests"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(DRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        wait_for_driver(&http, &base).await;
        let profile = tempfile::tempdir().unwrap();
        let session = open_session(&http, &base, profile.path()).await;
        Some(Browser {
            driver,
            base,
            session,
            http,
            _profile: profile,
        })
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        if let Some(error) = answer["value"]["error"].as_str() {
            panic!("WebDriver {path}: {error}: {}", answer["value"]["message"]);
        }
        answer["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn url(&self) -> String {
        self.command(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The first element matching the CSS selector, waiting up to 10 s.
    pub async fn find(&self, css: &str) -> String {
        for _ in 0..100 {
            if let Some(id) = self.try_find(css).await {
                return id;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no element {css:?} on {}\n{}",
            self.url().await,
            self.text("body").await
        );
    }

    pub async fn try_find(&self, css: &str) -> Option<String> {
        let url = format!("{}/session/{}/element", self.base, self.session);
        let body = json!({ "using": "css selector", "value": css });
        let answer: Value = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        answer["value"][ELEMENT].as_str().map(str::to_owned)
    }

    /// The button or link whose text contains `label` (XPath), waiting.
    pub async fn find_by_text(&self, tag: &str, label: &str) -> String {
        let xpath = format!("//{tag}[contains(normalize-space(.), '{label}')]");
        for _ in 0..100 {
            let url = format!("{}/session/{}/element", self.base, self.session);
            let body = json!({ "using": "xpath", "value": xpath });
            let answer: Value = self
                .http
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(id) = answer["value"][ELEMENT].as_str() {
                return id.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no {tag} with text {label:?} on {}\n{}",
            self.url().await,
            self.text("body").await
        );
    }

    pub async fn click(&self, element: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Click the `tag` whose text has `label`; found again if the page
    /// replaced it between finding and clicking (a stale element).
    pub async fn click_text(&self, tag: &str, label: &str) {
        for _ in 0..5 {
            let element = self.find_by_text(tag, label).await;
            let url = format!(
                "{}/session/{}/element/{element}/click",
                self.base, self.session
            );
            let answer: Value = self
                .http
                .post(url)
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            match answer["value"]["error"].as_str() {
                None => return,
                Some("stale element reference") => continue,
                Some(error) => panic!(
                    "WebDriver click on {label:?}: {error}: {}",
                    answer["value"]["message"]
                ),
            }
        }
        panic!("{label:?} kept going stale");
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/clear"),
            Some(json!({})),
        )
        .await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let Some(element) = self.try_find(css).await else {
            return String::new();
        };
        // The page may change between finding and reading (a form just
        // submitted): a stale element reads as no text, and waiting goes on.
        let url = format!(
            "{}/session/{}/element/{element}/text",
            self.base, self.session
        );
        let answer: Option<Value> = match self.http.get(url).send().await {
            Ok(response) => response.json().await.ok(),
            Err(_) => None,
        };
        let value = answer.map(|a| a["value"].clone()).unwrap_or_default();
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Wait up to `secs` until the page's text contains `needle`.
    pub async fn wait_for_text(&self, css: &str, needle: &str, secs: u64) -> String {
        let mut last = String::new();
        for _ in 0..secs * 10 {
            last = self.text(css).await;
            if last.contains(needle) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{css:?} never showed {needle:?} on {}; last: {last}",
            self.url().await
        );
    }

    pub async fn script(&self, script: &str, args: Value) -> Value {
        let body = json!({ "script": script, "args": args });
        self.command(reqwest::Method::POST, "/execute/sync", Some(body))
            .await
    }

    /// Save a PNG of the viewport as `target/console-screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let data = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// The browser console's entries since the last call (chromedriver's
    /// log endpoint): CSP violations show up here as errors.
    pub async fn console_log(&self) -> Vec<String> {
        let value = self
            .command(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({ "type": "browser" })),
            )
            .await;
        let entries = value.as_array().cloned().unwrap_or_default();
        entries
            .iter()
            .map(|e| {
                let field = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
                format!(
                    "{} {} {}",
                    field("level"),
                    field("source"),
                    field("message")
                )
            })
            .collect()
    }

    /// Press a key (WebDriver's code points: Tab is U+E004, Enter U+E007).
    pub async fn press(&self, key: char) {
        let actions = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
            { "type": "keyDown", "value": key.to_string() },
            { "type": "keyUp", "value": key.to_string() },
        ]}]});
        self.command(reqwest::Method::POST, "/actions", Some(actions))
            .await;
    }

    /// Tab from where focus is (the top of a page just loaded) until the
    /// focused element's text is `label`; how many presses it took.
    pub async fn tab_to(&self, label: &str) -> usize {
        for presses in 1..=60 {
            self.press('\u{E004}').await;
            let focused = self
                .script(
                    "return document.activeElement.textContent.trim();",
                    json!([]),
                )
                .await;
            if focused.as_str() == Some(label) {
                return presses;
            }
        }
        panic!(
            "{label:?} is not reachable with Tab on {}",
            self.url().await
        );
    }

    pub async fn set_window(&self, width: u32, height: u32) {
        let rect = json!({ "width": width, "height": height });
        self.command(reqwest::Method::POST, "/window/rect", Some(rect))
            .await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

async fn wait_for_driver(http: &reqwest::Client, base: &str) {
    for _ in 0..100 {
        let ready = http.get(format!("{base}/status")).send().await;
        if let Ok(r) = ready
            && let Ok(v) = r.json::<Value>().await
            && v["value"]["ready"] == true
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

async fn open_session(http: &reqwest::Client, base: &str, profile: &Path) -> String {
    let args = [
        "--headless=new".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--window-size=1280,1000".to_owned(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let capabilities = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        "goog:loggingPrefs": { "browser": "ALL" },
    }}});
    let answer: Value = http
        .post(format!("{base}/session"))
        .json(&capabilities)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = answer["value"]["sessionId"].as_str();
    id.unwrap_or_else(|| panic!("no WebDriver session: {answer}"))
        .to_owned()
}
