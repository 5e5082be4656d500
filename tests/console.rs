//! The operator console in a real headless Chromium (Debian's chromium and
//! chromedriver, over WebDriver): people sign in at the emulator's Entra
//! sign-in page, then use the console as themselves. Screenshots of every
//! page land in target/console-screenshots/. Each scenario ends by reading
//! the browser's console: no Content-Security-Policy violation, no error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::browser::Browser;
use common::{TestApp, tenant};
use serde_json::{Value, json};

/// Sign in as `person` (the button's name on the emulator's page).
async fn sign_in(browser: &Browser, app: &TestApp, person: &str, shot: Option<&str>) {
    browser.goto(&format!("{}/console/", app.base)).await;
    browser
        .click_text("a", "Sign in with Microsoft Entra ID")
        .await;
    browser
        .find_by_text("button", &format!("Sign in as {person}"))
        .await;
    if let Some(name) = shot {
        browser.screenshot(name).await;
    }
    browser
        .click_text("button", &format!("Sign in as {person}"))
        .await;
    browser
        .wait_for_text("header", &format!("Signed in as {person}"), 10)
        .await;
}

/// No CSP violation and no script error since the last look; with
/// `refusals`, the 4xx answers the scenario provoked are the only network
/// errors allowed.
async fn console_is_clean(browser: &Browser, refusals: bool) {
    let log = browser.console_log().await;
    let expected =
        |l: &str| refusals && l.starts_with("SEVERE network") && l.contains("status of 4");
    let bad: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("Content Security Policy") || l.starts_with("SEVERE"))
        .filter(|l| !expected(l))
        .collect();
    assert!(bad.is_empty(), "browser console: {bad:#?}");
}

/// Every visible control has a label; nothing is kept from the keyboard;
/// at 200% zoom (half the width) nothing scrolls sideways.
async fn accessible(browser: &Browser) {
    let unlabelled = browser
        .script(
            "return [...document.querySelectorAll('input:not([type=hidden]),select,textarea')]\
             .filter(e => e.labels.length === 0).map(e => e.outerHTML)\
             .concat([...document.querySelectorAll('button,a')].filter(e => !e.textContent.trim()).map(e => e.outerHTML))\
             .concat([...document.querySelectorAll('[tabindex]')].filter(e => e.tabIndex < 0).map(e => e.outerHTML));",
            json!([]),
        )
        .await;
    assert_eq!(
        unlabelled,
        json!([]),
        "controls without a label, or out of keyboard reach"
    );
    browser.set_window(640, 1000).await;
    let overflow = browser
        .script(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            json!([]),
        )
        .await;
    browser.set_window(1280, 1000).await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "scrolls sideways at 200% zoom by {overflow}px"
    );
}

#[tokio::test]
async fn the_helpdesk_finds_adele_sees_the_plan_resets_her_and_finds_the_row_in_the_audit_log() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    browser.goto(&format!("{}/console/", app.base)).await;
    browser
        .find_by_text("a", "Sign in with Microsoft Entra ID")
        .await;
    browser.screenshot("01-sign-in").await;
    sign_in(&browser, &app, "Miriam Graham", Some("02-entra-sign-in")).await;
    accessible(&browser).await;
    browser.type_into("#search", "adele").await;
    browser.click_text("button", "Find").await;
    browser.wait_for_text("main", "within your rules", 10).await;
    browser.screenshot("03-find-a-guest").await;
    browser.click_text("a", "Adele Vance").await;
    browser.wait_for_text("main", "Megan Bowen", 10).await;
    accessible(&browser).await;
    browser.screenshot("04-guest").await;
    // Every control on the way is reachable from the top of the page by Tab.
    let from_top = browser.tab_to("Plan the reset").await;
    browser.set_window(640, 1000).await;
    browser.screenshot("04b-guest-at-200-percent").await;
    browser.set_window(1280, 1000).await;
    browser
        .type_into("#new_email", tenant::ADELE_NEW_MAIL)
        .await;
    browser.type_into("#ticket", "INC-2001").await;
    browser.type_into("#reason", "moved to Northwind").await;
    // By keyboard: Tab to the button, Enter submits.
    let presses = browser.tab_to("Plan the reset").await;
    browser.press('\u{E007}').await;
    let plan = browser.wait_for_text("main", "Graph writes", 10).await;
    assert!(
        plan.contains("POST /v1.0/invitations") || plan.contains("/invitations"),
        "{plan}"
    );
    assert!(app.graph_writes().is_empty(), "a plan writes nothing");
    browser.screenshot("05-plan").await;
    browser.click_text("button", "Confirm the reset").await;
    browser
        .wait_for_text("#reset-status", "succeeded", 15)
        .await;
    browser.screenshot("06-outcome").await;
    let writes = app.graph_writes();
    assert_eq!(
        writes.iter().filter(|w| w.contains("/invitations")).count(),
        1,
        "{writes:?}"
    );
    browser.click_text("a", "Audit log").await;
    let log = browser.wait_for_text("main", "INC-2001", 10).await;
    assert!(log.contains("succeeded"), "{log}");
    assert!(
        log.contains("Miriam Graham"),
        "the audit names the person: {log}"
    );
    browser.screenshot("07-audit-log").await;
    let csv = browser
        .script(
            "return fetch(document.querySelector('a[download]').href).then(r => r.text());",
            json!([]),
        )
        .await;
    let csv = csv.as_str().unwrap();
    assert!(csv.starts_with("id,created_at,status"), "{csv}");
    assert!(
        csv.contains(",INC-2001,") && csv.contains(",succeeded,"),
        "{csv}"
    );
    browser.click_text("a", "Who am I").await;
    browser
        .wait_for_text("#permissions", "resets:create", 10)
        .await;
    browser.screenshot("08-who-am-i").await;
    console_is_clean(&browser, false).await;
    eprintln!(
        "console: Miriam found Adele, reached \"Plan the reset\" in {from_top} Tab presses from the top (then {presses} from the reason, and Enter), saw the plan, \
         reset her (succeeded, 1 invitation), found INC-2001 in the audit log and its CSV"
    );
}

#[tokio::test]
async fn her_sponsor_approves_a_pending_reset_and_it_succeeds() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let body = json!({ "user": tenant::ADELE_MAIL, "new_email": "adele@litware.example", "ticket": "INC-3001", "reason": "joined Litware" });
    let asked = app.post_reset(body).await;
    assert_eq!(asked.status(), 202);
    let record: Value = asked.json().await.unwrap();
    assert_eq!(record["status"], "awaiting_approval");
    sign_in(&browser, &app, "Megan Bowen", None).await;
    browser.click_text("a", "Approvals").await;
    browser.wait_for_text("main", "INC-3001", 10).await;
    accessible(&browser).await;
    browser.screenshot("09-approvals").await;
    let id = record["id"].as_str().unwrap();
    browser
        .type_into(&format!("#approve-{id}"), "checked with Adele by phone")
        .await;
    browser.click_text("button", "Approve").await;
    browser
        .wait_for_text("main", "approved by Megan Bowen", 10)
        .await;
    for _ in 0..50 {
        if app.reset_record(id).await["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    browser
        .goto(&format!("{}/console/resets/{id}", app.base))
        .await;
    browser
        .wait_for_text("#reset-status", "succeeded", 10)
        .await;
    browser.screenshot("10-approved-and-succeeded").await;
    console_is_clean(&browser, false).await;
    eprintln!("console: Megan approved reset {id} from her inbox; it succeeded");
}

#[tokio::test]
async fn a_csv_job_runs_to_100_percent() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    sign_in(&browser, &app, "Nestor Wilke", None).await;
    browser.click_text("a", "Jobs").await;
    let csv = "user,new_email,ticket,reason\n\
        adele.vance@fabrikam.example,adele.vance@fabrikam.net,CHG-4001,domain move\n\
        johanna.lorenz@fabrikam.example,johanna.lorenz@fabrikam.net,CHG-4001,domain move\n\
        liam.o'connor@fabrikam.example,liam.o'connor@fabrikam.net,CHG-4001,domain move\n";
    let file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    std::fs::write(file.path(), csv).unwrap();
    // The file picker fills the text area (console.js).
    browser
        .type_into("#csv-file", &file.path().display().to_string())
        .await;
    for _ in 0..50 {
        let filled = browser
            .script("return document.getElementById('csv').value;", json!([]))
            .await;
        if filled.as_str().unwrap().contains("CHG-4001") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let filled = browser
        .script("return document.getElementById('csv').value;", json!([]))
        .await;
    assert!(
        filled.as_str().unwrap().contains("CHG-4001"),
        "{filled} {:?}",
        browser.console_log().await
    );
    accessible(&browser).await;
    browser.screenshot("11-jobs").await;
    browser.click_text("button", "Check (dry run)").await;
    let report = browser
        .wait_for_text("#dry-run-summary", "would succeed", 20)
        .await;
    assert!(report.contains("3 item(s): 3 would succeed"), "{report}");
    browser.screenshot("12-job-dry-run").await;
    browser.click_text("button", "Start the job").await;
    let done = browser.wait_for_text("#job-status", "(100%)", 60).await;
    assert!(done.contains("3 of 3"), "{done}");
    browser.screenshot("13-job-done").await;
    let results = browser
        .script(
            "return fetch(document.querySelector('a[download]').href).then(r => r.text());",
            json!([]),
        )
        .await;
    let rows = results
        .as_str()
        .unwrap()
        .lines()
        .filter(|l| l.contains("succeeded"))
        .count();
    assert_eq!(rows, 3, "{results}");
    console_is_clean(&browser, false).await;
    eprintln!("console: Nestor's CSV job of 3 ran to {done}; its results CSV has 3 succeeded rows");
}

#[tokio::test]
async fn without_resets_create_there_is_no_reset_button_and_a_forged_form_is_refused() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    sign_in(&browser, &app, "Lidia Holloway", None).await;
    browser
        .goto(&format!("{}/console/guests/{}", app.base, tenant::ADELE_ID))
        .await;
    browser.wait_for_text("main", "Sponsors", 10).await;
    assert!(
        browser.try_find("#new_email").await.is_none(),
        "no reset form for an auditor"
    );
    browser.screenshot("14-auditor-guest").await;
    // Forge the form with the session's own CSRF token: the API refuses.
    let forged = browser
        .script(
            "const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];\
             const add = (n, v) => { const i = document.createElement('input'); i.type = 'hidden'; i.name = n; i.value = v; f.appendChild(i); };\
             add('csrf', document.querySelector('input[name=csrf]').value); add('new_email', arguments[1]);\
             add('ticket', 'INC-5001'); add('reason', 'forged by hand'); add('key', arguments[2]);\
             document.body.appendChild(f); f.submit(); return true;",
            json!([format!("/console/guests/{}/reset", tenant::ADELE_ID), tenant::ADELE_NEW_MAIL, uuid::Uuid::new_v4().to_string()]),
        )
        .await;
    assert_eq!(forged, json!(true));
    let refused = browser.wait_for_text("main", "resets:create", 10).await;
    assert!(
        refused.contains("refused") || refused.contains("permission"),
        "{refused}"
    );
    browser.screenshot("15-forged-form-refused").await;
    assert!(
        app.graph_writes().is_empty(),
        "nothing written: {:?}",
        app.graph_writes()
    );
    console_is_clean(&browser, true).await;
    eprintln!(
        "console: the auditor had no reset form; a forged one was refused by the API: {refused}"
    );
}

#[tokio::test]
async fn a_cross_site_post_without_the_csrf_token_is_refused() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    sign_in(&browser, &app, "Miriam Graham", None).await;
    // A page of another origin (the emulator's) posts to the console.
    browser
        .goto(&format!("{}/_emulator/tenants", app.graph_origin()))
        .await;
    let action = format!("{}/console/guests/{}/reset", app.base, tenant::ADELE_ID);
    browser
        .script(
            "const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];\
             const i = document.createElement('input'); i.name = 'new_email'; i.value = arguments[1]; f.appendChild(i);\
             document.body.appendChild(f); f.submit(); return true;",
            json!([action, "mallory@evil.example"]),
        )
        .await;
    let refused = browser
        .wait_for_text("main", "did not come from the console", 10)
        .await;
    browser.screenshot("16-cross-site-post-refused").await;
    console_is_clean(&browser, true).await;
    assert!(app.graph_writes().is_empty(), "nothing written");
    let rows = app.audit_rows().await;
    assert!(rows.is_empty(), "nothing recorded: {rows:?}");
    eprintln!("console: a cross-site POST was refused: {refused}");
}
