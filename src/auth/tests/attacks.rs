//! RFC 8725 attacks (security.md §1.2): each forged token must be refused.

use serde_json::json;

use super::*;

fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

#[tokio::test]
async fn alg_none_in_any_casing_refused() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier(&idp);
    let real_signature = rs256("rsa-1", &good_claims())
        .rsplit('.')
        .next()
        .unwrap()
        .to_owned();
    let mut hs_claims = good_claims();
    hs_claims["iss"] = json!(HS256_ISSUER);
    for alg in ["none", "None", "NONE", "nOnE"] {
        for claims in [good_claims(), hs_claims.clone()] {
            let header = json!({"alg": alg, "typ": "JWT", "kid": "rsa-1"});
            let stripped = unsigned(&header, &claims);
            let with_signature = format!("{stripped}{real_signature}");
            for token in [stripped, with_signature] {
                assert_eq!(
                    refused(verifier.verify(&token).await),
                    "alg none is not accepted"
                );
            }
        }
    }
    assert_eq!(idp.all_hits(), 0, "refused before any key lookup");
}

/// RS256→HS256 key confusion: an HMAC over the token keyed with the public key
/// in every shape an attacker can find it, even if HS256 were configured for OIDC.
#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_refused() {
    let idp = Idp::start(default_jwks()).await;
    let mut oidc = oidc_settings(&idp);
    oidc.algorithms.push(Algorithm::HS256);
    let verifier = Verifier::new(settings(Some(oidc)), http());
    let n_b64 = b64(&RSA.n);
    let secrets: [&[u8]; 4] = [
        RSA.spki_pem.as_bytes(),
        RSA.pkcs1_pem.as_bytes(),
        &RSA.n,
        n_b64.as_bytes(),
    ];
    for secret in secrets {
        let key = EncodingKey::from_secret(secret);
        let header = json!({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"});
        let token = sign(&header, &good_claims(), &key, Algorithm::HS256);
        assert_eq!(
            refused(verifier.verify(&token).await),
            "algorithm HS256 not allowed for this issuer"
        );
    }
}

#[tokio::test]
async fn tampered_payload_refused() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier(&idp);
    let token = rs256("rsa-1", &good_claims());
    verifier
        .verify(&token)
        .await
        .expect("the original is accepted");
    let parts: Vec<&str> = token.split('.').collect();
    let payload = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
    let at = payload.windows(9).position(|w| w == b"subject-1").unwrap() + 8;
    let mut tampered = payload.clone();
    tampered[at] = b'2';
    let forged = format!("{}.{}.{}", parts[0], b64(&tampered), parts[2]);
    assert_eq!(
        refused(verifier.verify(&forged).await),
        "signature does not verify"
    );
}

#[tokio::test]
async fn non_access_token_typ_refused() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier(&idp);
    for typ in ["id_token", "JWT+foo", "JWS", "application/jwt+foo", ""] {
        let header = json!({"alg": "RS256", "typ": typ, "kid": "rsa-1"});
        let token = sign(&header, &good_claims(), &RSA.encoding, Algorithm::RS256);
        assert_eq!(
            refused(verifier.verify(&token).await),
            "typ is not an access token type",
            "typ {typ:?}"
        );
    }
}

#[tokio::test]
async fn crit_header_and_jwe_refused() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier(&idp);
    let header = json!({"alg": "RS256", "kid": "rsa-1", "crit": ["exp"], "exp": 1});
    let token = sign(&header, &good_claims(), &RSA.encoding, Algorithm::RS256);
    assert_eq!(
        refused(verifier.verify(&token).await),
        "critical header parameters are not supported"
    );
    let jwe = format!("{}.a.b.c.d", b64(br#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#));
    assert_eq!(refused(verifier.verify(&jwe).await), "not a signed JWT");
}

/// `jku`/`x5u` point at a loopback listener that serves the attacker's key set:
/// it is never asked, and a token signed with its key stays unknown.
#[tokio::test]
async fn jku_and_x5u_never_fetched() {
    let idp = Idp::start(default_jwks()).await;
    let listener = Idp::start(json!({"keys": [ATTACKER.jwk("attacker")]})).await;
    let verifier = verifier(&idp);
    let forged_header = json!({
        "alg": "RS256", "typ": "JWT", "kid": "attacker",
        "jku": listener.jwks_uri(), "x5u": format!("{}/cert.pem", listener.base),
    });
    let forged = sign(
        &forged_header,
        &good_claims(),
        &ATTACKER.encoding,
        Algorithm::RS256,
    );
    assert_eq!(
        refused(verifier.verify(&forged).await),
        "unknown signing key"
    );
    // A real token carrying the same headers is judged on its real key alone.
    let mut header = forged_header.clone();
    header["kid"] = json!("rsa-1");
    let real = sign(&header, &good_claims(), &RSA.encoding, Algorithm::RS256);
    verifier
        .verify(&real)
        .await
        .expect("headers ignored, real key used");
    assert_eq!(listener.all_hits(), 0, "the listener saw no request");
}

#[tokio::test]
async fn embedded_jwk_or_x5c_with_attacker_key_refused() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier(&idp);
    for kid in ["rsa-1", "attacker"] {
        let header = json!({
            "alg": "RS256", "typ": "JWT", "kid": kid,
            "jwk": ATTACKER.jwk(kid), "x5c": [STANDARD.encode(b"attacker certificate")],
        });
        let token = sign(
            &header,
            &good_claims(),
            &ATTACKER.encoding,
            Algorithm::RS256,
        );
        let why = refused(verifier.verify(&token).await);
        assert!(
            why == "signature does not verify" || why == "unknown signing key",
            "{kid}: {why}"
        );
    }
}

#[tokio::test]
async fn kid_injection_refused_without_echo() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier(&idp);
    let long = "A".repeat(5 * 1024);
    let cases = [
        ("../../dev/null", "unknown signing key"),
        ("' OR 1=1--", "unknown signing key"),
        ("http://169.254.169.254/latest", "unknown signing key"),
        (
            long.as_str(),
            "the key id is empty, too long or not printable",
        ),
        ("", "the key id is empty, too long or not printable"),
        ("rsa-1\n", "the key id is empty, too long or not printable"),
    ];
    for (kid, expected) in cases {
        let token = rs256(kid, &good_claims());
        assert!(
            token.len() < 8 * 1024,
            "the 5 KB kid still fits the token cap"
        );
        let why = refused(verifier.verify(&token).await);
        assert_eq!(why, expected, "kid {:.20?}", kid);
    }
    assert_eq!(
        idp.paths(),
        ["/keys"],
        "one key-set fetch, no kid in any path"
    );
}

/// The JWK says RS256; a PS256 token with that key is refused whether PS256
/// is pinned or not.
#[tokio::test]
async fn token_alg_must_equal_the_jwk_alg() {
    let mut jwk = RSA.jwk("rsa-rs256");
    jwk["alg"] = json!("RS256");
    let idp = Idp::start(json!({"keys": [jwk]})).await;
    let header = json!({"alg": "PS256", "typ": "JWT", "kid": "rsa-rs256"});
    let token = sign(&header, &good_claims(), &RSA.encoding, Algorithm::PS256);
    let verifier = verifier(&idp);
    assert_eq!(
        refused(verifier.verify(&token).await),
        "algorithm PS256 not allowed for this issuer"
    );
    let mut oidc = oidc_settings(&idp);
    oidc.algorithms = vec![Algorithm::RS256, Algorithm::PS256];
    let verifier = Verifier::new(settings(Some(oidc)), http());
    assert_eq!(
        refused(verifier.verify(&token).await),
        "the signing key does not allow PS256"
    );
    verifier
        .verify(&rs256("rsa-rs256", &good_claims()))
        .await
        .expect("RS256 with it is fine");
}

/// Without a JWK `alg`, the key type decides: an RSA signature on an EC key
/// id, or ES256 on an RSA key id, is refused before any crypto.
#[tokio::test]
async fn token_alg_must_fit_the_key_type() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier(&idp);
    assert_eq!(
        refused(verifier.verify(&rs256("ec-1", &good_claims())).await),
        "the signing key does not allow RS256"
    );
    assert_eq!(
        refused(verifier.verify(&es256("rsa-1", &good_claims())).await),
        "the signing key does not allow ES256"
    );
}

/// A JWK whose own `alg` is not pinned is dropped from the key set.
#[tokio::test]
async fn jwk_with_unpinned_alg_is_not_used() {
    let mut jwk = RSA.jwk("rsa-512");
    jwk["alg"] = json!("RS512");
    let idp = Idp::start(json!({"keys": [jwk, EC.jwk("ec-1")]})).await;
    let verifier = verifier(&idp);
    assert_eq!(
        refused(verifier.verify(&rs256("rsa-512", &good_claims())).await),
        "unknown signing key"
    );
}
