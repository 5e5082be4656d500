//! Authorization codes: what the sign-in page hands the client, and what the token
//! endpoint later redeems (v2-oauth2-auth-code-flow.md). "Authorization codes are short
//! lived. Typically, they expire after about 10 minutes"; a code is good for one
//! redemption (AADSTS54005 "OAuth2 Authorization code was already redeemed",
//! reference-error-codes.md). Codes are random and opaque; a code is bound to what the
//! sign-in asked for, so its redemption can be checked against it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::delegated_scope::Requested;
use super::pkce::Challenge;

/// "About 10 minutes".
const CODE_LIFETIME: Duration = Duration::from_secs(600);
/// Random bytes per code (64 base64url characters).
const CODE_BYTES: usize = 48;

/// What a code stands for.
#[derive(Clone, Debug)]
pub(super) struct Grant {
    pub(super) client_id: String,
    /// Exactly as the authorize request sent it (port included).
    pub(super) redirect_uri: String,
    pub(super) scope: Requested,
    pub(super) nonce: Option<String>,
    pub(super) challenge: Option<Challenge>,
    pub(super) user_id: String,
}

/// Why a code cannot be redeemed.
#[derive(Debug, PartialEq)]
pub(super) enum Refused {
    /// Never issued, or expired (and forgotten).
    UnknownOrExpired,
    AlreadyRedeemed,
}

struct Entry {
    grant: Grant,
    issued: Instant,
    redeemed: bool,
}

/// The codes issued and not yet expired.
pub(super) struct AuthCodes {
    codes: HashMap<String, Entry>,
    lifetime: Duration,
}

impl Default for AuthCodes {
    fn default() -> Self {
        AuthCodes {
            codes: HashMap::new(),
            lifetime: CODE_LIFETIME,
        }
    }
}

impl AuthCodes {
    /// A fresh code for `grant`; expired codes are forgotten on the way. None only when
    /// the system's random source fails.
    pub(super) fn issue(&mut self, grant: Grant) -> Option<String> {
        let lifetime = self.lifetime;
        self.codes
            .retain(|_, entry| entry.issued.elapsed() < lifetime);
        let mut bytes = [0_u8; CODE_BYTES];
        aws_lc_rs::rand::fill(&mut bytes).ok()?;
        let code = URL_SAFE_NO_PAD.encode(bytes);
        let entry = Entry {
            grant,
            issued: Instant::now(),
            redeemed: false,
        };
        self.codes.insert(code.clone(), entry);
        Some(code)
    }

    /// The grant behind a code that may still be redeemed.
    pub(super) fn grant(&self, code: &str) -> Result<&Grant, Refused> {
        let entry = self.codes.get(code).ok_or(Refused::UnknownOrExpired)?;
        if entry.redeemed {
            return Err(Refused::AlreadyRedeemed);
        }
        if entry.issued.elapsed() >= self.lifetime {
            return Err(Refused::UnknownOrExpired);
        }
        Ok(&entry.grant)
    }

    /// Spends a code: only a redemption that earned tokens does, so a refused request
    /// (wrong verifier, say) may be corrected and retried within the lifetime.
    pub(super) fn spend(&mut self, code: &str) {
        if let Some(entry) = self.codes.get_mut(code) {
            entry.redeemed = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        let scope = Requested {
            api_client_id: "api".to_owned(),
            resource: "api://x".to_owned(),
            values: vec!["access_as_user".to_owned()],
            oidc: vec!["openid".to_owned()],
        };
        Grant {
            client_id: "client".to_owned(),
            redirect_uri: "http://localhost/cb".to_owned(),
            scope,
            nonce: None,
            challenge: None,
            user_id: "user".to_owned(),
        }
    }

    #[test]
    fn a_code_is_random_opaque_and_redeemable_once() {
        let mut codes = AuthCodes::default();
        let code = codes.issue(grant()).expect("random bytes");
        let other = codes.issue(grant()).expect("random bytes");
        assert!(code.len() >= 43 && code != other, "{code}");
        assert!(
            code.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(
            codes.grant(&code).map(|g| g.user_id.clone()),
            Ok("user".to_owned())
        );
        codes.spend(&code);
        assert_eq!(codes.grant(&code).err(), Some(Refused::AlreadyRedeemed));
        assert_eq!(
            codes.grant("made-up").err(),
            Some(Refused::UnknownOrExpired)
        );
    }

    #[test]
    fn a_code_expires() {
        let mut codes = AuthCodes {
            lifetime: Duration::ZERO,
            ..AuthCodes::default()
        };
        let code = codes.issue(grant()).expect("random bytes");
        assert_eq!(codes.grant(&code).err(), Some(Refused::UnknownOrExpired));
    }
}
