//! The tenants file: own apps and the shared multi-tenant app, secrets from
//! the variables it names, national-cloud URLs; each mistake named at
//! start-up. Without the file nothing changes: one tenant, `default`.

use super::tests::{load, minimal};
use super::*;
use secrecy::ExposeSecret;

const GOOD: &str = r#"
[shared_app]
client_id = "94a4b756-3601-47b7-9c4d-5e19738c4145"
client_secret_var = "SHARED_APP_SECRET"

[[tenant]]
name = "contoso"
tenant_id = "ABD52D7B-5A6E-4D73-AB8B-F23B4A22E7C2"
app = "shared"

[[tenant]]
name = "gov"
tenant_id = "gov.onmicrosoft.us"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret_var = "GOV_GRAPH_SECRET"
authority_url = "https://login.microsoftonline.us/"
graph_url = "https://graph.microsoft.us"
max_concurrency = 4
"#;

/// The minimal environment without GRAPH_* credentials, plus the file.
fn with_file(text: &str, extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenants.toml");
    std::fs::write(&path, text).unwrap();
    let mut env = minimal();
    for gone in ["GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET"] {
        env.remove(&format!("{PREFIX}{gone}"));
    }
    env.insert(format!("{PREFIX}TENANTS_FILE"), path.display().to_string());
    for (k, v) in extra {
        env.insert(format!("{PREFIX}{k}"), (*v).to_owned());
    }
    load(&env)
}

const SECRETS: [(&str, &str); 2] = [
    ("SHARED_APP_SECRET", "shared-s"),
    ("GOV_GRAPH_SECRET", "gov-s"),
];

#[test]
fn without_the_file_there_is_one_tenant_named_default() {
    let config = load(&minimal()).unwrap();
    assert!(config.tenants.is_empty());
    let tenants = config.tenant_configs();
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0].name, DEFAULT_TENANT);
    assert_eq!(tenants[0].graph.tenant_id, "t");
    assert!(!tenants[0].shared_app);
}

#[test]
fn a_tenants_file_loads_own_and_shared_apps() {
    let config = with_file(GOOD, &SECRETS).unwrap();
    let [contoso, gov] = &config.tenant_configs()[..] else {
        panic!("two tenants")
    };
    assert_eq!(contoso.name, "contoso");
    assert_eq!(
        contoso.graph.tenant_id,
        "abd52d7b-5a6e-4d73-ab8b-f23b4a22e7c2"
    );
    assert!(contoso.shared_app);
    assert_eq!(contoso.graph.client_secret.expose_secret(), "shared-s");
    assert_eq!(contoso.graph.graph_url, "https://graph.microsoft.com");
    assert!(!gov.shared_app);
    assert_eq!(gov.graph.client_id, "11111111-2222-3333-4444-555555555555");
    assert_eq!(gov.graph.client_secret.expose_secret(), "gov-s");
    assert_eq!(gov.graph.authority_url, "https://login.microsoftonline.us");
    assert_eq!(gov.graph.graph_url, "https://graph.microsoft.us");
    assert_eq!(gov.graph.retry.max_concurrency, 4);
    // The GRAPH_* timeouts and retries are every tenant's defaults.
    assert_eq!(contoso.graph.timeout, config.graph.timeout);
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("shared-s") && !shown.contains("gov-s"),
        "{shown}"
    );
}

#[test]
fn a_missing_secret_variable_is_named() {
    let err = with_file(GOOD, &SECRETS[..1]).unwrap_err().to_string();
    assert!(
        err.contains("GUEST_RESET_GOV_GRAPH_SECRET: is required"),
        "{err}"
    );
}

#[test]
fn each_mistake_in_the_file_is_named() {
    let shared = "[shared_app]\nclient_id = \"c\"\nclient_secret_var = \"SHARED_APP_SECRET\"\n";
    let cases = [
        (
            "[[tenant]]\nname = \"Big Co\"\ntenant_id = \"t\"\napp = \"shared\"\n",
            "name must be",
        ),
        (
            "[[tenant]]\nname = \"a\"\ntenant_id = \"common\"\napp = \"shared\"\n",
            "names no tenant",
        ),
        (
            "[[tenant]]\nname = \"a\"\ntenant_id = \"t\"\n",
            "client_id is required",
        ),
        (
            "[[tenant]]\nname = \"a\"\ntenant_id = \"t\"\napp = \"mine\"\n",
            "the only value is",
        ),
        (
            "[[tenant]]\nname = \"a\"\ntenant_id = \"t\"\napp = \"shared\"\nclient_id = \"x\"\n",
            "takes no credential",
        ),
        (
            "[[tenant]]\nname = \"a\"\ntenant_id = \"t\"\nclient_id = \"x\"\n",
            "set either client_secret_var",
        ),
        (
            "[[tenant]]\nname = \"a\"\ntenant_id = \"t\"\napp = \"shared\"\ngraph_url = \"graph\"\n",
            "graph_url \"graph\" is not",
        ),
        (
            "[[tenant]]\nname = \"a\"\ntenant_id = \"t\"\napp = \"shared\"\n[[tenant]]\nname = \"b\"\ntenant_id = \"T\"\napp = \"shared\"\n",
            "also tenant \"a\"'s",
        ),
        (
            "[[tenant]]\nname = \"a\"\ntenant_id = \"t\"\napp = \"shared\"\nsecret = \"x\"\n",
            "unknown field",
        ),
        (
            "[[tenant]]\nname = \"a\"\ntenant_id = \"t\"\napp = \"shared\"\nkey_file = \"k\"\n",
            "takes no credential",
        ),
        ("", "no [[tenant]]"),
    ];
    for (tenants, want) in cases {
        let err = with_file(&format!("{shared}{tenants}"), &SECRETS)
            .unwrap_err()
            .to_string();
        assert!(err.contains("GUEST_RESET_TENANTS_FILE"), "{want}: {err}");
        assert!(err.contains(want), "{want}: {err}");
    }
    let empty = "[shared_app]\nclient_id = \" \"\nclient_secret_var = \"SHARED_APP_SECRET\"\n\
                 [[tenant]]\nname = \"a\"\ntenant_id = \"t\"\napp = \"shared\"\n";
    let err = with_file(empty, &SECRETS).unwrap_err().to_string();
    assert!(err.contains("[shared_app] client_id is empty"), "{err}");
    let err = with_file(
        "[[tenant]]\nname = \"a\"\ntenant_id = \"t\"\napp = \"shared\"\n",
        &[],
    )
    .unwrap_err();
    assert!(err.to_string().contains("no [shared_app]"), "{err}");
}
