//! Proof Key for Code Exchange (RFC 7636) as the authorization code flow uses it
//! (v2-oauth2-auth-code-flow.md): `code_challenge` is "required if
//! `code_challenge_method` is included"; the method "*SHOULD* be `S256`"; "if excluded,
//! `code_challenge` is assumed to be plaintext"; "the Microsoft identity platform
//! supports both `plain` and `S256`". At the token endpoint the `code_verifier` is
//! "required if PKCE was used in the authorization code grant request".

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::errors::AadError;

/// RFC 7636 §4.1-4.2: verifiers, and so plain challenges, are 43 to 128 characters; an
/// S256 challenge is 43.
const LENGTHS: std::ops::RangeInclusive<usize> = 43..=128;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Method {
    S256,
    Plain,
}

/// The challenge an authorize request sent.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Challenge {
    pub(super) value: String,
    pub(super) method: Method,
}

impl Challenge {
    /// The request's challenge, if it sent one.
    pub(super) fn from_request(
        challenge: Option<&str>,
        method: Option<&str>,
    ) -> Result<Option<Challenge>, AadError> {
        let Some(value) = challenge else {
            return match method {
                None => Ok(None),
                Some(_) => Err(AadError::missing_parameter("code_challenge")),
            };
        };
        let method = match method {
            None | Some("plain") => Method::Plain,
            Some("S256") => Method::S256,
            Some(other) => return Err(unsupported_method(other)),
        };
        if !LENGTHS.contains(&value.len()) {
            // AADSTS501491 "InvalidCodeChallengeMethodInvalidSize - Invalid size of
            // Code_Challenge parameter." (reference-error-codes.md).
            let message = "Invalid size of Code_Challenge parameter.".to_owned();
            return Err(AadError::invalid_request(501491, message));
        }
        Ok(Some(Challenge {
            value: value.to_owned(),
            method,
        }))
    }

    /// Whether `verifier` answers the challenge: BASE64URL(SHA256(verifier)) for S256,
    /// the verifier itself for plain.
    pub(super) fn verifies(&self, verifier: &str) -> bool {
        match self.method {
            Method::S256 => {
                URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes())) == self.value
            }
            Method::Plain => verifier == self.value,
        }
    }
}

/// Entra's code and wording for this are UNVERIFIED; 90023 is its generic InvalidRequest.
fn unsupported_method(method: &str) -> AadError {
    let message = format!(
        "The provided value for the input parameter 'code_challenge_method' is not valid: '{method}'. Expected 'S256' or 'plain'."
    );
    AadError::invalid_request(90023, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn s256_and_plain_verify_as_rfc_7636_says() {
        let s256 = Challenge::from_request(Some(CHALLENGE), Some("S256"))
            .ok()
            .flatten();
        assert!(s256.as_ref().is_some_and(|c| c.verifies(VERIFIER)));
        assert!(s256.is_some_and(|c| !c.verifies(CHALLENGE)));
        let plain = Challenge::from_request(Some(VERIFIER), None).ok().flatten();
        assert!(plain.is_some_and(|c| c.method == Method::Plain && c.verifies(VERIFIER)));
    }

    #[test]
    fn bad_challenges_are_invalid_requests() {
        for (challenge, method, code) in [
            (Some(CHALLENGE), Some("S512"), 90023),
            (None, Some("S256"), 900144),
            (None, Some("plain"), 900144),
            (Some("short"), Some("S256"), 501491),
        ] {
            let error = Challenge::from_request(challenge, method).err();
            assert_eq!(
                error.map(|e| (e.error, e.code)),
                Some(("invalid_request", code))
            );
        }
        assert_eq!(Challenge::from_request(None, None).ok(), Some(None));
    }
}
