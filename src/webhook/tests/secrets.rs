//! Start-up secret checks, the bearer-jwt scheme, and the outbound signer's refusals.

use super::*;

fn check(scheme: Scheme, text: &str) -> Result<(), VerifyError> {
    check_secret(scheme, &secret(text))
}

#[test]
fn standard_webhooks_secrets_must_be_base64_of_24_to_64_bytes() {
    let good = [
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        "C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        &format!("whsec_{}==", "A".repeat(86)),
    ];
    for text in good {
        assert_eq!(check(Scheme::StandardWebhooks, text), Ok(()), "{text}");
    }
    let bad = [
        "",
        "whsec_",
        "whsec_AAAAAAAAAAAAAAAAAAAAAA==",
        &format!("whsec_{}=", "A".repeat(87)),
        "whsec_not base64!",
        "It's a Secret to Everybody",
        "whsk_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD\n",
    ];
    for text in bad {
        let result = check(Scheme::StandardWebhooks, text);
        assert!(
            matches!(result, Err(VerifyError::BadSecret(_))),
            "{text:?}: {result:?}"
        );
    }
}

#[test]
fn other_hmac_secrets_must_be_non_empty_without_surrounding_whitespace() {
    for scheme in [Scheme::HubSignature256, Scheme::Zendesk] {
        assert_eq!(check(scheme, "It's a Secret to Everybody"), Ok(()));
        for text in ["", "secret\n", " secret"] {
            let result = check(scheme, text);
            assert!(
                matches!(result, Err(VerifyError::BadSecret(_))),
                "{text:?}: {result:?}"
            );
        }
    }
}

#[test]
fn secret_errors_never_quote_the_secret() {
    let text = "whsec_SECRET-MATERIAL";
    let message = check(Scheme::StandardWebhooks, text)
        .expect_err("refused")
        .to_string();
    assert!(!message.contains("SECRET-MATERIAL"), "{message}");
}

#[test]
fn an_empty_secret_list_or_one_bad_secret_is_a_configuration_error() {
    let map = HeaderMap::new();
    let result = verify(Scheme::Zendesk, &[], &map, b"", 0, TOLERANCE);
    assert!(
        matches!(result, Err(VerifyError::BadSecret(_))),
        "{result:?}"
    );
    let secrets = [secret("It's a Secret to Everybody"), secret("")];
    let result = verify(Scheme::HubSignature256, &secrets, &map, b"", 0, TOLERANCE);
    assert!(
        matches!(result, Err(VerifyError::BadSecret(_))),
        "{result:?}"
    );
}

#[test]
fn bearer_jwt_is_not_a_signature_scheme() {
    let expected = Err(VerifyError::NotASignatureScheme("bearer-jwt"));
    let secrets = [secret("anything")];
    let result = verify(
        Scheme::BearerJwt,
        &secrets,
        &HeaderMap::new(),
        b"",
        0,
        TOLERANCE,
    );
    assert_eq!(result, expected);
    assert_eq!(
        check(Scheme::BearerJwt, "anything"),
        Err(VerifyError::NotASignatureScheme("bearer-jwt"))
    );
}

#[test]
fn sign_standard_refuses_what_verify_would_refuse() {
    let key = secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
    for id in ["", "msg.1"] {
        let result = sign_standard(&key, id, 1649367553, b"{}");
        assert!(
            matches!(result, Err(VerifyError::Malformed("webhook-id", _))),
            "{id:?}"
        );
    }
    let result = sign_standard(&key, "msg_1", -1, b"{}");
    assert!(matches!(
        result,
        Err(VerifyError::Malformed("webhook-timestamp", _))
    ));
    let result = sign_standard(&secret("short"), "msg_1", 1649367553, b"{}");
    assert!(matches!(result, Err(VerifyError::BadSecret(_))));
}

#[test]
fn sign_standard_round_trips_through_verify() {
    let key = secret("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    let signature = sign_standard(&key, "msg_2", 1_700_000_000, b"{}").expect("signed");
    let map = headers(&[
        ("webhook-id", "msg_2"),
        ("webhook-timestamp", "1700000000"),
        ("webhook-signature", &signature),
    ]);
    let verified = verify(
        Scheme::StandardWebhooks,
        &[key],
        &map,
        b"{}",
        1_700_000_000,
        TOLERANCE,
    );
    assert_eq!(verified.map(|v| v.delivery_id), Ok("msg_2".to_owned()));
}

#[test]
fn scheme_names_match_the_configuration_spelling() {
    let schemes = [
        Scheme::StandardWebhooks,
        Scheme::HubSignature256,
        Scheme::Zendesk,
        Scheme::BearerJwt,
    ];
    for scheme in schemes {
        let parsed: Scheme =
            serde_json::from_value(serde_json::json!(scheme.as_str())).expect("a known name");
        assert_eq!(parsed, scheme);
    }
}
