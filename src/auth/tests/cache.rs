//! The key cache: lazy first fetch, rotation, the unknown-`kid` rate limit and
//! what happens when the IdP fails.

use std::collections::HashSet;

use serde_json::json;
use tokio::task::JoinSet;

use super::*;

fn verifier_with_interval(idp: &Idp, interval: Duration) -> Verifier {
    let oidc = OidcSettings {
        refresh_interval: interval,
        ..oidc_settings(idp)
    };
    Verifier::new(settings(Some(oidc)), http())
}

#[tokio::test]
async fn construction_does_no_io() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier(&idp);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!((idp.all_hits(), verifier.key_fetches()), (0, 0));
}

/// A new `kid` before the interval is over is refused without a fetch; after
/// it, exactly one refetch makes it work, and later tokens need none.
#[tokio::test]
async fn rotated_key_works_after_exactly_one_refetch() {
    // Everything slow (key generation, signing) happens before the clock matters.
    let rotated_jwks = json!({"keys": [RSA.jwk("rsa-1"), RSA_NEXT.jwk("rsa-2")]});
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-2"});
    let rotated = sign(
        &header,
        &good_claims(),
        &RSA_NEXT.encoding,
        Algorithm::RS256,
    );
    let old = rs256("rsa-1", &good_claims());
    let idp = Idp::start(json!({"keys": [RSA.jwk("rsa-1")]})).await;
    let verifier = verifier_with_interval(&idp, Duration::from_secs(2));
    verifier.verify(&old).await.expect("old key");
    idp.set_jwks(rotated_jwks);
    assert_eq!(
        refused(verifier.verify(&rotated).await),
        "unknown signing key"
    );
    assert_eq!(verifier.key_fetches(), 1, "no refetch inside the interval");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    verifier
        .verify(&rotated)
        .await
        .expect("new key after the refetch");
    verifier
        .verify(&rotated)
        .await
        .expect("and again, from the cache");
    verifier.verify(&old).await.expect("old key still listed");
    assert_eq!((verifier.key_fetches(), idp.jwks_hits()), (2, 2));
}

/// 1,000 concurrent tokens with random `kid`s on a cold cache: one fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_kids_cause_at_most_one_fetch_per_interval() {
    // Signed first, so that all 1,000 arrive well within the 10 s interval.
    let tokens: Vec<String> = (0..1000)
        .map(|_| rs256(&uuid::Uuid::new_v4().to_string(), &good_claims()))
        .collect();
    let idp = Idp::start(default_jwks()).await;
    let verifier = Arc::new(verifier(&idp));
    let mut tasks = JoinSet::new();
    for token in tokens {
        let verifier = Arc::clone(&verifier);
        tasks.spawn(async move { verifier.verify(&token).await });
    }
    let mut reasons = HashSet::new();
    while let Some(result) = tasks.join_next().await {
        reasons.insert(refused(result.expect("task completes")));
    }
    assert_eq!(reasons, HashSet::from(["unknown signing key".to_owned()]));
    assert_eq!((verifier.key_fetches(), idp.jwks_hits()), (1, 1));
    verifier
        .verify(&rs256("rsa-1", &good_claims()))
        .await
        .expect("good token from the cache");
    assert_eq!(idp.jwks_hits(), 1);
}

#[tokio::test]
async fn failed_fetch_keeps_the_last_good_set() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier_with_interval(&idp, Duration::ZERO);
    verifier
        .verify(&rs256("rsa-1", &good_claims()))
        .await
        .expect("first fetch");
    idp.fail(true);
    assert_eq!(
        refused(verifier.verify(&rs256("rotated", &good_claims())).await),
        "unknown signing key"
    );
    assert_eq!(
        verifier.key_fetches(),
        2,
        "the unknown kid did cause a (failed) fetch"
    );
    verifier
        .verify(&rs256("rsa-1", &good_claims()))
        .await
        .expect("still the old set");
    verifier
        .verify(&es256("ec-1", &good_claims()))
        .await
        .expect("still the old set");
    assert_eq!(
        verifier.refresh_keys().await,
        Ok(2),
        "readiness: the cached set is usable"
    );
}

/// A failed first fetch gives KeysUnavailable, and counts toward the interval.
#[tokio::test]
async fn failed_first_fetch_is_keys_unavailable_and_rate_limited() {
    let idp = Idp::start(default_jwks()).await;
    idp.fail(true);
    let verifier = verifier(&idp);
    for _ in 0..3 {
        match verifier.verify(&rs256("rsa-1", &good_claims())).await {
            Err(AuthError::KeysUnavailable(why)) => assert!(why.contains("500"), "{why}"),
            other => panic!("expected KeysUnavailable, got {other:?}"),
        }
    }
    assert_eq!((verifier.key_fetches(), idp.jwks_hits()), (1, 1));
    assert!(matches!(
        verifier.refresh_keys().await,
        Err(AuthError::KeysUnavailable(_))
    ));
    assert_eq!(idp.jwks_hits(), 1, "refresh_keys honours the interval too");
}

#[tokio::test]
async fn no_usable_keys_is_keys_unavailable() {
    let unusable = json!({"keys": [
        {"kty": "oct", "k": "c2VjcmV0", "kid": "rsa-1"},
        {"kty": "RSA", "use": "enc", "kid": "rsa-1", "n": b64(&RSA.n), "e": b64(&RSA.e)},
        {"kty": "EC", "crv": "P-384", "kid": "ec-1", "x": "AA", "y": "AA"},
        {"kty": "RSA", "kid": "short", "n": b64(&RSA.n[..128]), "e": b64(&RSA.e)},
    ]});
    for jwks in [json!({"keys": []}), json!({}), unusable] {
        let idp = Idp::start(jwks).await;
        match verifier(&idp).verify(&rs256("rsa-1", &good_claims())).await {
            Err(AuthError::KeysUnavailable(why)) => assert!(why.contains("no usable key"), "{why}"),
            other => panic!("expected KeysUnavailable, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn odd_keys_do_not_hide_good_ones() {
    let idp = Idp::start(json!({"keys": [
        {"kty": "oct", "k": "c2VjcmV0", "kid": "oct"},
        {"kty": "OKP", "crv": "Ed25519", "x": "AA", "kid": "ed"},
        {"not": "a jwk"},
        {"kty": "RSA", "use": "sig", "alg": "RSA-OAEP", "kid": "x", "n": b64(&RSA.n), "e": b64(&RSA.e)},
        RSA.jwk("rsa-1"),
        EC.jwk("ec-1"),
    ]}))
    .await;
    let verifier = verifier(&idp);
    assert_eq!(verifier.refresh_keys().await, Ok(2));
    verifier
        .verify(&rs256("rsa-1", &good_claims()))
        .await
        .expect("accepted");
    assert_eq!(
        refused(verifier.verify(&rs256("oct", &good_claims())).await),
        "unknown signing key"
    );
}

#[tokio::test]
async fn oversized_key_set_refused() {
    let idp =
        Idp::start(json!({"keys": [RSA.jwk("rsa-1")], "pad": "x".repeat(2 * 1024 * 1024)})).await;
    match verifier(&idp).refresh_keys().await {
        Err(AuthError::KeysUnavailable(why)) => assert!(why.contains("more than"), "{why}"),
        other => panic!("expected KeysUnavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn refresh_keys_counts_usable_keys_once_per_interval() {
    let idp = Idp::start(default_jwks()).await;
    let verifier = verifier(&idp);
    assert_eq!(verifier.refresh_keys().await, Ok(2));
    assert_eq!(verifier.refresh_keys().await, Ok(2));
    assert_eq!((verifier.key_fetches(), idp.jwks_hits()), (1, 1));
    let hs256_only = Verifier::new(settings(None), http());
    assert_eq!(hs256_only.refresh_keys().await, Ok(0));
    assert_eq!(hs256_only.key_fetches(), 0);
}

/// Callers queued behind a fetch use its result instead of fetching again,
/// even with no interval at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_fetch() {
    let tokens: Vec<String> = (0..50).map(|_| rs256("rsa-1", &good_claims())).collect();
    let idp = Idp::start(default_jwks()).await;
    let verifier = Arc::new(verifier_with_interval(&idp, Duration::ZERO));
    let mut tasks = JoinSet::new();
    for token in tokens {
        let verifier = Arc::clone(&verifier);
        tasks.spawn(async move { verifier.verify(&token).await });
    }
    while let Some(result) = tasks.join_next().await {
        result.expect("task completes").expect("accepted");
    }
    assert_eq!((verifier.key_fetches(), idp.jwks_hits()), (1, 1));
}

/// A caller that gives up mid-fetch (request timeout, disconnect) does not
/// waste the fetch: it completes and fills the cache for the next caller.
#[tokio::test]
async fn abandoned_fetch_still_completes() {
    let token = rs256("rsa-1", &good_claims());
    let idp = Idp::start(default_jwks()).await;
    idp.delay(Duration::from_millis(300));
    let verifier = verifier(&idp);
    let gave_up = tokio::time::timeout(Duration::from_millis(50), verifier.verify(&token)).await;
    assert!(gave_up.is_err(), "the first caller timed out");
    verifier
        .verify(&token)
        .await
        .expect("the abandoned fetch filled the cache");
    assert_eq!((verifier.key_fetches(), idp.jwks_hits()), (1, 1));
}
