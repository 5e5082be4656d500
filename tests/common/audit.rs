//! The audit trail from the outside: `guest-reset audit …`, the binary, on
//! an instance's database and signing key.

use super::TestApp;

/// `guest-reset audit <args>`: (exit code, standard output then error).
pub fn cli(app: &TestApp, args: &[&str]) -> (i32, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_guest-reset"))
        .arg("audit")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GUEST_RESET_DATABASE_URL", app.database_url())
        .env(
            "GUEST_RESET_AUDIT_SIGNING_KEY_FILE",
            app.dir().join("audit-signing.key"),
        )
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (
        output.status.code().unwrap_or(-1),
        format!("{stdout}{stderr}"),
    )
}

/// Run SQL straight against the instance's database, as an insider with
/// write access would.
pub async fn tamper(app: &TestApp, statements: &[&str]) {
    sqlx::any::install_default_drivers();
    let url = match app.on_postgres() {
        true => app.database_url(),
        false => format!("{}?mode=rw", app.database_url()),
    };
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    for sql in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}
