//! The webhook sources file: a good one loads with its secrets from the
//! variables it names; each kind of mistake is named at start-up.

use super::tests::{load, minimal};
use super::*;
use crate::webhook::Scheme;
use secrecy::ExposeSecret;

const GOOD: &str = r#"
[[source]]
name = "jira"
scheme = "standard-webhooks"
secret_vars = ["JIRA_SECRET", "JIRA_SECRET_NEXT"]
roles = ["GuestReset.Helpdesk"]
fields = { user = "/issue/fields/guest", new_email = "/issue/fields/new_email", ticket = "/issue/key" }
callback = { url = "https://jira.example/hooks/result", secret_var = "JIRA_CALLBACK_SECRET" }

[[source]]
name = "servicenow"
scheme = "bearer-jwt"
apps = ["3f0c1a52-0000-4000-8000-000000000001"]
fields = { user = "/guest" }
"#;

fn with_file(text: &str, extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("webhooks.toml");
    std::fs::write(&path, text).unwrap();
    let mut env = minimal();
    env.insert(format!("{PREFIX}WEBHOOKS_FILE"), path.display().to_string());
    for (k, v) in extra {
        env.insert(format!("{PREFIX}{k}"), (*v).to_owned());
    }
    load(&env)
}

const WHSEC: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

#[test]
fn a_sources_file_loads_with_secrets_from_the_named_variables() {
    let env = [
        ("JIRA_SECRET", WHSEC),
        ("JIRA_SECRET_NEXT", WHSEC),
        ("JIRA_CALLBACK_SECRET", WHSEC),
    ];
    let config = with_file(GOOD, &env).expect("valid");
    let [jira, servicenow] = &config.webhooks.sources[..] else {
        panic!("two sources")
    };
    assert_eq!(
        (jira.scheme, jira.secrets.len()),
        (Scheme::StandardWebhooks, 2)
    );
    assert_eq!(jira.secrets[0].expose_secret(), WHSEC);
    assert_eq!(jira.subject, "jira");
    assert_eq!(jira.tolerance_secs, 300);
    assert_eq!(
        jira.callback.as_ref().unwrap().url.as_str(),
        "https://jira.example/hooks/result"
    );
    assert_eq!(servicenow.scheme, Scheme::BearerJwt);
    assert!(servicenow.secrets.is_empty());
    assert_eq!(config.webhooks.workers, 4);
}

#[test]
fn each_mistake_in_a_sources_file_is_named() {
    let cases = [
        (GOOD, vec![], "JIRA_SECRET"),
        (
            GOOD,
            vec![
                ("JIRA_SECRET", "not-base64!"),
                ("JIRA_SECRET_NEXT", WHSEC),
                ("JIRA_CALLBACK_SECRET", WHSEC),
            ],
            "JIRA_SECRET",
        ),
        (
            "[[source]]\nname = \"x\"\nscheme = \"zendesk\"\nsecret_vars = [\"S\"]\nfields = { user = \"guest\" }",
            vec![("S", "s")],
            "not a JSON Pointer",
        ),
        (
            "[[source]]\nname = \"x\"\nscheme = \"bearer-jwt\"\nfields = { user = \"/g\" }",
            vec![],
            "needs `apps`",
        ),
        (
            "[[source]]\nname = \"X Y\"\nscheme = \"zendesk\"\nsecret_vars = [\"S\"]\nfields = { user = \"/g\" }",
            vec![("S", "s")],
            "lower-case",
        ),
        (
            "[[source]]\nname = \"x\"\nscheme = \"md5\"\nfields = { user = \"/g\" }",
            vec![],
            "md5",
        ),
        (
            "[[source]]\nname = \"x\"\nscheme = \"zendesk\"\nsecret_vars = [\"S\"]\nfields = { user = \"/g\" }\ncallback = { url = \"http://tickets.example/cb\", secret_var = \"C\" }",
            vec![("S", "s"), ("C", WHSEC)],
            "must be https",
        ),
        (
            "[[source]]\nname = \"x\"\nscheme = \"zendesk\"\nsecret_vars = [\"S\"]\ntenant = \"contoso\"\nfields = { user = \"/g\", tenant = \"/t\" }",
            vec![("S", "s")],
            "set either `tenant` (fixed) or `fields.tenant`",
        ),
    ];
    for (text, env, wanted) in cases {
        let err = with_file(text, &env).expect_err(wanted);
        assert!(err.to_string().contains(wanted), "{wanted}: {err}");
    }
}
