//! Loading the configuration from a map instead of the process environment.

use super::*;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::time::Duration;

pub(super) fn minimal() -> HashMap<String, String> {
    [
        ("POLICY_FILE", "policy.toml"),
        ("AUTH_ISSUER", "https://issuer.example"),
        ("AUTH_AUDIENCE", "api://guest-reset"),
        ("AUTH_HS256_SECRET", "0123456789abcdef0123456789abcdef"),
        ("AUTH_HS256_ISSUER", "https://hs256.example"),
        ("GRAPH_TENANT_ID", "t"),
        ("GRAPH_CLIENT_ID", "c"),
        ("GRAPH_CLIENT_SECRET", "s"),
    ]
    .into_iter()
    .map(|(k, v)| (format!("{PREFIX}{k}"), v.to_owned()))
    .collect()
}

pub(super) fn load(env: &HashMap<String, String>) -> Result<Config, ConfigError> {
    Config::from_lookup(|k| env.get(k).cloned())
}

#[test]
fn minimal_environment_loads_with_defaults() {
    let config = load(&minimal()).expect("valid");
    assert_eq!(config.listen.port(), 8080);
    assert_eq!(config.graph.graph_url, "https://graph.microsoft.com");
    assert!(config.reset.send_invitation_message);
}

#[test]
fn every_missing_variable_is_named() {
    let err = load(&HashMap::new()).unwrap_err();
    let names: Vec<_> = err.0.iter().map(|i| i.variable.as_str()).collect();
    for wanted in [
        "POLICY_FILE",
        "AUTH_ISSUER",
        "GRAPH_CLIENT_SECRET",
        "AUTH_AUDIENCE",
    ] {
        assert!(
            names.contains(&format!("{PREFIX}{wanted}").as_str()),
            "{wanted} missing from {names:?}"
        );
    }
}

#[test]
fn short_hmac_secret_and_bad_url_are_refused() {
    let mut env = minimal();
    env.insert(format!("{PREFIX}AUTH_HS256_SECRET"), "short".into());
    env.insert(format!("{PREFIX}GRAPH_URL"), "graph.microsoft.com".into());
    let err = load(&env).unwrap_err().to_string();
    assert!(
        err.contains("AUTH_HS256_SECRET: must be at least 32 bytes"),
        "{err}"
    );
    assert!(err.contains("GRAPH_URL"), "{err}");
}

#[test]
fn secret_comes_from_file_and_never_from_both() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    std::fs::write(&path, "from-file\n").unwrap();
    let mut env = minimal();
    env.remove(&format!("{PREFIX}GRAPH_CLIENT_SECRET"));
    env.insert(
        format!("{PREFIX}GRAPH_CLIENT_SECRET_FILE"),
        path.display().to_string(),
    );
    let config = load(&env).expect("valid");
    assert_eq!(config.graph.client_secret.expose_secret(), "from-file");
    assert!(
        !format!("{config:?}").contains("from-file"),
        "Debug leaks the secret"
    );
    env.insert(format!("{PREFIX}GRAPH_CLIENT_SECRET"), "x".into());
    assert!(load(&env).unwrap_err().to_string().contains("not both"));
}

#[test]
fn auth_issuers_algorithms_and_tenants() {
    let mut env = minimal();
    env.insert(
        format!("{PREFIX}AUTH_ISSUER"),
        "https://login.microsoftonline.com/{tenantid}/v2.0, https://sts.windows.net/{tenantid}/"
            .into(),
    );
    env.insert(
        format!("{PREFIX}AUTH_AUDIENCE"),
        "api://guest-reset, 6f1c2c41-0000-4000-8000-000000000001".into(),
    );
    env.insert(
        format!("{PREFIX}AUTH_TENANT_IDS"),
        "abd52d7b-5a6e-4d73-ab8b-f23b4a22e7c2".into(),
    );
    let config = load(&env).expect("valid");
    let oidc = config.auth.oidc.expect("oidc");
    assert_eq!(oidc.issuers.len(), 2);
    assert_eq!(
        oidc.algorithms,
        [
            jsonwebtoken::Algorithm::RS256,
            jsonwebtoken::Algorithm::ES256
        ]
    );
    assert_eq!(oidc.refresh_interval, Duration::from_secs(10));
    assert_eq!(config.auth.audiences.len(), 2);

    let cases = [
        ("AUTH_ALGORITHMS", "RS256,HS256", "AUTH_ALGORITHMS"),
        ("AUTH_ALGORITHMS", "none", "AUTH_ALGORITHMS"),
        ("AUTH_TENANT_IDS", "", "AUTH_TENANT_IDS"),
        (
            "AUTH_HS256_ISSUER",
            "https://sts.windows.net/{tenantid}/",
            "AUTH_HS256_ISSUER",
        ),
    ];
    for (var, value, named) in cases {
        let mut bad = env.clone();
        bad.insert(format!("{PREFIX}{var}"), value.into());
        if var == "AUTH_HS256_ISSUER" {
            bad.insert(format!("{PREFIX}AUTH_ISSUER"), value.into());
        }
        let err = load(&bad).unwrap_err().to_string();
        assert!(
            err.contains(&format!("{PREFIX}{named}")),
            "{var}={value}: {err}"
        );
    }
}

#[test]
fn an_issuer_or_a_secret_is_required() {
    let mut env = minimal();
    env.remove(&format!("{PREFIX}AUTH_ISSUER"));
    env.remove(&format!("{PREFIX}AUTH_HS256_SECRET"));
    let err = load(&env).unwrap_err().to_string();
    assert!(err.contains("AUTH_ISSUER: set AUTH_ISSUER"), "{err}");
    let mut hs_only = minimal();
    hs_only.remove(&format!("{PREFIX}AUTH_ISSUER"));
    let config = load(&hs_only).expect("HS256 alone is enough");
    assert!(config.auth.oidc.is_none() && config.auth.hs256.is_some());
    hs_only.remove(&format!("{PREFIX}AUTH_HS256_ISSUER"));
    assert!(
        load(&hs_only)
            .unwrap_err()
            .to_string()
            .contains("AUTH_HS256_ISSUER")
    );
}

#[test]
fn graph_retry_settings_have_defaults_and_variables() {
    let defaults = load(&minimal()).expect("valid").graph;
    assert_eq!(defaults.retry, crate::graph::RetrySettings::default());
    assert_eq!(defaults.timeout, Duration::from_secs(10));
    assert!(defaults.certificate.is_none());
    let mut env = minimal();
    for (k, v) in [
        ("GRAPH_MAX_ATTEMPTS", "2"),
        ("GRAPH_DEADLINE_SECS", "9"),
        ("GRAPH_MAX_RETRY_AFTER_SECS", "7"),
        ("GRAPH_MAX_CONCURRENCY", "3"),
    ] {
        env.insert(format!("{PREFIX}{k}"), v.into());
    }
    let retry = load(&env).expect("valid").graph.retry;
    assert_eq!(retry.max_attempts, 2);
    assert_eq!(retry.deadline, Duration::from_secs(9));
    assert_eq!(retry.max_retry_after, Duration::from_secs(7));
    assert_eq!(retry.max_concurrency, 3);
    env.insert(format!("{PREFIX}GRAPH_MAX_ATTEMPTS"), "0".into());
    let err = load(&env).unwrap_err().to_string();
    assert!(
        err.contains("GRAPH_MAX_ATTEMPTS: must be at least 1"),
        "{err}"
    );
}

/// A PKCS#8 RSA key PEM and a PEM "certificate" (any DER will do) in `dir`.
fn key_and_cert(dir: &std::path::Path) -> (String, String) {
    use aws_lc_rs::encoding::AsDer;
    use base64::Engine;
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let b64 = |der: &[u8]| base64::engine::general_purpose::STANDARD.encode(der);
    let key = dir.join("key.pem");
    let pkcs8 = b64(pair.as_der().unwrap().as_ref());
    std::fs::write(
        &key,
        format!("-----BEGIN PRIVATE KEY-----\n{pkcs8}\n-----END PRIVATE KEY-----\n"),
    )
    .unwrap();
    let cert = dir.join("cert.pem");
    std::fs::write(
        &cert,
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            b64(b"der")
        ),
    )
    .unwrap();
    (cert.display().to_string(), key.display().to_string())
}

#[test]
fn certificate_credentials_replace_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = key_and_cert(dir.path());
    let mut env = minimal();
    env.remove(&format!("{PREFIX}GRAPH_CLIENT_SECRET"));
    env.insert(format!("{PREFIX}GRAPH_CLIENT_CERTIFICATE_FILE"), cert);
    env.insert(format!("{PREFIX}GRAPH_CLIENT_KEY_FILE"), key);
    env.insert(format!("{PREFIX}GRAPH_ASSERTION_ALG"), "rs256".into());
    let graph = load(&env).expect("valid").graph;
    let certificate = graph.certificate.expect("certificate");
    assert_eq!(certificate.certificate_der, b"der");
    assert_eq!(certificate.algorithm, crate::graph::AssertionAlg::Rs256);
    env.insert(format!("{PREFIX}GRAPH_CLIENT_SECRET"), "s".into());
    let err = load(&env).unwrap_err().to_string();
    assert!(err.contains("GRAPH_CLIENT_SECRET: set either"), "{err}");
}

#[test]
fn half_a_certificate_or_a_bad_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = key_and_cert(dir.path());
    let mut env = minimal();
    env.remove(&format!("{PREFIX}GRAPH_CLIENT_SECRET"));
    env.insert(
        format!("{PREFIX}GRAPH_CLIENT_CERTIFICATE_FILE"),
        cert.clone(),
    );
    let err = load(&env).unwrap_err().to_string();
    assert!(err.contains("GRAPH_CLIENT_KEY_FILE: is required"), "{err}");
    env.insert(format!("{PREFIX}GRAPH_CLIENT_KEY_FILE"), cert);
    env.insert(format!("{PREFIX}GRAPH_ASSERTION_ALG"), "HS256".into());
    let err = load(&env).unwrap_err().to_string();
    assert!(
        err.contains("GRAPH_CLIENT_KEY_FILE: unusable RSA private key"),
        "{err}"
    );
    assert!(err.contains("GRAPH_ASSERTION_ALG"), "{err}");
}

#[test]
fn the_audit_key_is_read_from_a_file_and_a_bad_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = crate::audit::generate_key("audit.example").unwrap();
    let file = dir.path().join("audit.key");
    std::fs::write(&file, format!("{private}\n")).unwrap();
    let mut env = minimal();
    env.insert(
        format!("{PREFIX}AUDIT_SIGNING_KEY_FILE"),
        file.display().to_string(),
    );
    env.insert(format!("{PREFIX}AUDIT_RETENTION_DAYS"), "90".into());
    let audit = load(&env).expect("valid").audit;
    assert_eq!(audit.signer.unwrap().verifier().to_string(), public);
    assert_eq!(audit.origin, "audit.example/guest-reset");
    assert_eq!(audit.retention, Some(Duration::from_secs(90 * 86_400)));

    let mut env = minimal();
    env.insert(format!("{PREFIX}AUDIT_SIGNING_KEY"), public.clone());
    let err = load(&env).unwrap_err().to_string();
    assert!(
        err.contains("GUEST_RESET_AUDIT_SIGNING_KEY: the key is not a C2SP"),
        "{err}"
    );
    assert!(!err.contains(&public), "the value is never echoed: {err}");
}

#[test]
fn copies_and_retention_without_a_signing_key_are_refused() {
    let mut env = minimal();
    env.insert(
        format!("{PREFIX}AUDIT_CHECKPOINT_URL"),
        "https://audit.example/in".into(),
    );
    env.insert(format!("{PREFIX}AUDIT_RETENTION_DAYS"), "30".into());
    let err = load(&env).unwrap_err().to_string();
    assert!(
        err.contains("GUEST_RESET_AUDIT_CHECKPOINT_URL: needs GUEST_RESET_AUDIT_SIGNING_KEY_FILE"),
        "{err}"
    );
    assert!(
        err.contains("GUEST_RESET_AUDIT_RETENTION_DAYS: needs"),
        "{err}"
    );
}

#[test]
fn the_console_is_off_without_a_client_id_and_complete_with_one() {
    assert!(load(&minimal()).expect("valid").console.is_none());
    let mut env = minimal();
    env.insert(format!("{PREFIX}CONSOLE_CLIENT_ID"), "console-app".into());
    let err = load(&env).unwrap_err().to_string();
    assert!(err.contains("CONSOLE_CLIENT_SECRET: is required"), "{err}");
    assert!(err.contains("CONSOLE_SCOPE: is required"), "{err}");
    env.insert(format!("{PREFIX}CONSOLE_CLIENT_SECRET"), "s3cret".into());
    env.insert(
        format!("{PREFIX}CONSOLE_SCOPE"),
        "api://guest-reset/access_as_user".into(),
    );
    env.insert(
        format!("{PREFIX}CONSOLE_URL"),
        "https://reset.example/".into(),
    );
    let console = load(&env).expect("valid").console.expect("a console");
    assert_eq!(
        console.issuer, "https://issuer.example",
        "the API's issuer by default"
    );
    assert_eq!(console.public_url.as_deref(), Some("https://reset.example"));
    assert_eq!(console.session_hours, 8);
    assert!(
        !format!("{console:?}").contains("s3cret"),
        "the secret stays out of Debug"
    );
    env.insert(format!("{PREFIX}CONSOLE_URL"), "reset.example".into());
    let err = load(&env).unwrap_err().to_string();
    assert!(err.contains("CONSOLE_URL"), "{err}");
}

#[test]
fn a_console_needs_an_issuer_that_names_one_tenant() {
    let mut env = minimal();
    env.insert(
        format!("{PREFIX}AUTH_ISSUER"),
        "https://login.example/{tenantid}/v2.0".into(),
    );
    env.insert(format!("{PREFIX}AUTH_TENANT_IDS"), "t1".into());
    env.insert(format!("{PREFIX}CONSOLE_CLIENT_ID"), "console-app".into());
    env.insert(format!("{PREFIX}CONSOLE_CLIENT_SECRET"), "s".into());
    env.insert(format!("{PREFIX}CONSOLE_SCOPE"), "api://x/y".into());
    let err = load(&env).unwrap_err().to_string();
    assert!(err.contains("CONSOLE_ISSUER"), "{err}");
}
