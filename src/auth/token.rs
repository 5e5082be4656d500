//! Reading a token: what may be looked at before the signature is checked
//! (only to choose the route and the key), and the claims afterwards.
//! Every refusal is a fixed phrase: nothing from the token is echoed back.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Header;
use jsonwebtoken::errors::{Error, ErrorKind};
use serde::Deserialize;
use serde_json::Value;

use super::keys::KeyRef;
use super::{AuthError, Identity};

/// Longest token accepted, like the Authorization header it arrives in.
pub(super) const MAX_TOKEN: usize = 8 * 1024;
/// Entra's `kid`/`x5t` are 27–43 characters; a longer one is an attack.
const MAX_KEY_NAME: usize = 256;

fn invalid(why: &str) -> AuthError {
    AuthError::Invalid(why.to_owned())
}

/// The parts of a not yet verified token that choose how it is verified.
pub(super) struct Unverified {
    pub(super) header: Header,
    pub(super) issuer: String,
}

impl Unverified {
    pub(super) fn parse(token: &str) -> Result<Unverified, AuthError> {
        if token.len() > MAX_TOKEN || !token.is_ascii() {
            return Err(AuthError::Malformed);
        }
        let parts: Vec<&str> = token.split('.').collect();
        let [header, payload, _signature] = parts.as_slice() else {
            return Err(invalid("not a signed JWT"));
        };
        let header = parse_header(header)?;
        let issuer = peek_issuer(payload)?;
        Ok(Unverified { header, issuer })
    }

    /// `kid`, else `x5t`. Either is hostile input: it is only compared with
    /// the names in the key set, and capped so it cannot bloat logs or errors.
    pub(super) fn key_ref(&self) -> Result<KeyRef, AuthError> {
        let named = match (&self.header.kid, &self.header.x5t) {
            (Some(kid), _) => KeyRef::Kid(kid.clone()),
            (None, Some(x5t)) => KeyRef::X5t(x5t.clone()),
            (None, None) => return Err(invalid("the token names no signing key (kid or x5t)")),
        };
        let (KeyRef::Kid(name) | KeyRef::X5t(name)) = &named;
        if name.is_empty() || name.len() > MAX_KEY_NAME || name.chars().any(char::is_control) {
            return Err(invalid("the key id is empty, too long or not printable"));
        }
        Ok(named)
    }
}

fn decode_json(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn parse_header(part: &str) -> Result<Header, AuthError> {
    let raw = decode_json(part)
        .filter(Value::is_object)
        .ok_or_else(|| invalid("malformed token header"))?;
    // Named outright: `none` in any casing is an attack, not an unknown algorithm.
    if raw["alg"]
        .as_str()
        .is_some_and(|a| a.eq_ignore_ascii_case("none"))
    {
        return Err(invalid("alg none is not accepted"));
    }
    // RFC 7515 §4.1.11: critical extensions must be understood; none are here.
    if raw.get("crit").is_some() {
        return Err(invalid("critical header parameters are not supported"));
    }
    let header: Header = serde_json::from_value(raw)
        .map_err(|_| invalid("unsupported algorithm or malformed header"))?;
    check_typ(header.typ.as_deref())?;
    Ok(header)
}

/// RFC 8725 §3.11: an ID token or another JWT type must not pass as an access token.
fn check_typ(typ: Option<&str>) -> Result<(), AuthError> {
    match typ {
        None => Ok(()),
        Some(t) if t.eq_ignore_ascii_case("JWT") || t.eq_ignore_ascii_case("at+jwt") => Ok(()),
        Some(_) => Err(invalid("typ is not an access token type")),
    }
}

/// `iss` picks the route only; it is validated again with the signature.
fn peek_issuer(part: &str) -> Result<String, AuthError> {
    let claims = decode_json(part)
        .filter(Value::is_object)
        .ok_or_else(|| invalid("malformed token payload"))?;
    match claims.get("iss") {
        Some(Value::String(iss)) => Ok(iss.clone()),
        Some(_) => Err(invalid("claim iss has the wrong type")),
        None => Err(invalid("required claim iss missing")),
    }
}

/// The claims read from a verified token. Spec claims default to empty so
/// that jsonwebtoken's own check reports which one is missing.
#[derive(Deserialize)]
pub(super) struct Claims {
    #[serde(default)]
    iss: String,
    #[serde(default)]
    sub: String,
    oid: Option<String>,
    tid: Option<String>,
    azp: Option<String>,
    appid: Option<String>,
    name: Option<String>,
    preferred_username: Option<String>,
    upn: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    scp: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
}

impl Claims {
    /// `tid` must be configured when `allowed` is non-empty, and must be the
    /// tenant the issuer was expanded for (`bound`) when it came from a template.
    pub(super) fn check_tenant(
        &self,
        allowed: &[String],
        bound: Option<&str>,
    ) -> Result<(), AuthError> {
        if allowed.is_empty() && bound.is_none() {
            return Ok(());
        }
        let Some(tid) = self.tid.as_deref() else {
            return Err(invalid("required claim tid missing"));
        };
        let listed = allowed.is_empty() || allowed.iter().any(|t| t.eq_ignore_ascii_case(tid));
        let matches_issuer = bound.is_none_or(|t| t.eq_ignore_ascii_case(tid));
        if !listed || !matches_issuer {
            return Err(invalid("tenant not accepted"));
        }
        Ok(())
    }

    pub(super) fn into_identity(self) -> Result<Identity, AuthError> {
        // RFC 8725 §3.8: the subject must be usable, not just present.
        if self.sub.trim().is_empty() {
            return Err(invalid("claim sub is empty"));
        }
        Ok(Identity {
            issuer: self.iss,
            subject: self.sub,
            object_id: self.oid,
            tenant_id: self.tid,
            app_id: self.azp.or(self.appid),
            username: self.preferred_username.clone().or(self.upn.clone()),
            name: self.name.or(self.preferred_username).or(self.upn),
            roles: self.roles,
            scopes: self.scp.as_deref().map(split_scopes).unwrap_or_default(),
            groups: self.groups,
        })
    }
}

fn split_scopes(scp: &str) -> Vec<String> {
    scp.split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A jsonwebtoken failure in words safe to show the caller. Claim names come
/// from our own required list, so they are safe to repeat.
pub(super) fn refusal(e: &Error) -> AuthError {
    let why = match e.kind() {
        ErrorKind::InvalidSignature => "signature does not verify".to_owned(),
        ErrorKind::ExpiredSignature => "token expired".to_owned(),
        ErrorKind::ImmatureSignature => "token not valid yet (nbf)".to_owned(),
        ErrorKind::InvalidIssuer => "issuer not trusted".to_owned(),
        ErrorKind::InvalidAudience => "audience not accepted".to_owned(),
        ErrorKind::MissingRequiredClaim(c) => format!("required claim {c} missing"),
        ErrorKind::InvalidClaimFormat(c) => format!("claim {c} has the wrong type"),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            "algorithm not allowed".to_owned()
        }
        ErrorKind::InvalidKeyFormat | ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidEcdsaKey => {
            "the signing key cannot verify this token".to_owned()
        }
        ErrorKind::Json(_) => "malformed claims".to_owned(),
        _ => "malformed token".to_owned(),
    };
    AuthError::Invalid(why)
}
