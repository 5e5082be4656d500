//! Client authentication with a certificate: the `client_assertion` JWT (graph.md §6.4).
//!
//! Codes, in check order (error `invalid_client`, HTTP 401, as for a bad secret):
//! - 50027 InvalidJwtToken: not a JWT, `alg` other than PS256/RS256, no thumbprint in
//!   the header ("Invalid JWT token. No certificate thumbprint specified in token
//!   header.", observed: AzureAD/microsoft-authentication-library-for-dotnet#124), no
//!   `exp` or `jti`, and a replayed `jti` (Entra's answer to a replay is undocumented;
//!   50027 is the documented catch-all for an improper JWT, reference-error-codes.md).
//! - 700027: no registered certificate has the thumbprint ("The key was not found",
//!   observed: AzureAD/microsoft-authentication-library-for-js#8339,
//!   keycloak/keycloak#19425), the certificate has expired (reason text ours), or the
//!   signature does not verify ("Client assertion failed signature validation.",
//!   reference-error-codes.md).
//! - 700021: `iss` is not the client id; 700023: `aud` is not this token endpoint
//!   (Azure SDK for Java, "Troubleshoot service principal authentication").
//! - 50048 SubjectMismatchesIssuer: `sub` differs from `iss` (reference-error-codes.md).
//! - 700024: outside `nbf`..`exp` (observed text: microsoft-authentication-library-for-
//!   dotnet#4951, Azure/login#180). Entra accepts an absent `nbf` (its message then says
//!   "valid from 1970-01-01"), so the emulator does too. Entra "doesn't place
//!   restrictions on the `exp` time currently" (certificate-credentials.md); the
//!   emulator is stricter and refuses an `exp` more than 10 minutes ahead, the limit the
//!   doc recommends, so a client that drifts from it is caught here.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::Deserialize;
use serde_json::Value;

use super::clock;
use super::errors::AadError;
use super::key_credentials::{KeyCredential, hex};
use super::seen_assertions::{LEEWAY_SECS, UsedAssertion};
use super::state::{App, State as Directory};

/// The only `client_assertion_type` for certificate (and federated) credentials.
pub(super) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The longest lifetime accepted: the doc's "5-10 minutes after nbf at most".
const MAX_LIFETIME_SECS: u64 = 600;
const DOC: &str = "Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .";

#[derive(Deserialize)]
struct Claims {
    aud: Option<Value>,
    iss: Option<String>,
    sub: Option<String>,
    jti: Option<String>,
    nbf: Option<u64>,
    exp: Option<u64>,
}

/// Verifies `jwt` as `app`'s client assertion for the token endpoint at `origin` (the
/// scheme and host the caller used).
pub(super) fn verify(
    directory: &Directory,
    app: &App,
    jwt: &str,
    origin: &str,
) -> Result<UsedAssertion, AadError> {
    let header = jsonwebtoken::decode_header(jwt)
        .map_err(|e| invalid_jwt(&format!("The client assertion is not a JWT: {e}.")))?;
    let alg = match header.alg {
        Algorithm::PS256 | Algorithm::RS256 => header.alg,
        other => {
            let message = format!("Algorithm '{other:?}' is not supported; use PS256 or RS256.");
            return Err(invalid_jwt(&message));
        }
    };
    let key = find_key(app, &header)?;
    let claims = check_signature(app, key, jwt, alg)?;
    check_issuer(&claims, &app.client_id)?;
    check_audience(directory, &claims, origin)?;
    let exp = check_lifetime(&claims)?;
    let jti = check_jti(directory, &claims, &app.client_id)?;
    Ok(UsedAssertion {
        client_id: app.client_id.clone(),
        jti,
        exp,
    })
}

/// By `x5t#S256` (SHA-256 of the certificate) or `x5t` (SHA-1), as Entra does.
fn find_key<'a>(app: &'a App, header: &Header) -> Result<&'a KeyCredential, AadError> {
    let sha256 = header.x5t_s256.as_deref().and_then(base64url);
    let sha1 = header.x5t.as_deref().and_then(base64url);
    let Some(shown) = sha256.as_ref().or(sha1.as_ref()).map(|t| hex(t)) else {
        return Err(invalid_jwt(
            "No certificate thumbprint specified in token header.",
        ));
    };
    let key = app
        .key_credentials
        .iter()
        .find(|k| (sha256.is_some() && k.sha256 == sha256) || sha1.as_ref() == Some(&k.sha1));
    let reason = match key {
        Some(key) if !key.is_expired() => return Ok(key),
        Some(_) => "The key used is expired.",
        None => "The key was not found.",
    };
    let message = format!(
        "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - {reason}, Thumbprint of key used by client: '{shown}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.]",
        app.client_id
    );
    Err(AadError::invalid_client(700027, message))
}

fn check_signature(
    app: &App,
    key: &KeyCredential,
    jwt: &str,
    alg: Algorithm,
) -> Result<Claims, AadError> {
    let failed = || {
        let message = format!(
            "Client assertion failed signature validation. Thumbprint of key used by client: '{}', app Id '{}'.",
            key.hex_sha1(),
            app.client_id
        );
        AadError::invalid_client(700027, message)
    };
    let public = DecodingKey::from_rsa_pem(key.public_key_pem.as_bytes()).map_err(|_| failed())?;
    // Only the signature here: each claim has its own documented code, checked below.
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    match jsonwebtoken::decode::<Claims>(jwt, &public, &validation) {
        Ok(data) => Ok(data.claims),
        Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => Err(failed()),
        Err(e) => Err(invalid_jwt(&format!(
            "The client assertion cannot be read: {e}."
        ))),
    }
}

fn check_issuer(claims: &Claims, client_id: &str) -> Result<(), AadError> {
    let iss = claims.iss.as_deref().unwrap_or_default();
    if !iss.eq_ignore_ascii_case(client_id) {
        let message = format!(
            "Client assertion application identifier doesn't match 'client_id' parameter. {DOC}"
        );
        return Err(AadError::invalid_client(700021, message));
    }
    if !claims
        .sub
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case(iss))
    {
        let message = "Subject mismatches Issuer claim in the client assertion.".to_owned();
        return Err(AadError::invalid_client(50048, message));
    }
    Ok(())
}

/// `aud` must be this endpoint as the client reached it: `{origin}/{tenant}/oauth2/v2.0/token`
/// with the tenant's id or domain. The production URL
/// (`https://login.microsoftonline.com/...`) is refused: a client pointed at the emulator
/// that still names it has hard-coded the authority, which breaks in national clouds.
fn check_audience(directory: &Directory, claims: &Claims, origin: &str) -> Result<(), AadError> {
    let names_us = |aud: &str| {
        aud.strip_prefix(origin)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|rest| rest.strip_suffix("/oauth2/v2.0/token"))
            .is_some_and(|tenant| directory.is_tenant(tenant))
    };
    let matches = match &claims.aud {
        Some(Value::String(aud)) => names_us(aud),
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(names_us),
        _ => false,
    };
    if matches {
        return Ok(());
    }
    let message = format!("Client assertion audience claim does not match Realm issuer. {DOC}");
    Err(AadError::invalid_client(700023, message))
}

/// Returns `exp`. An absent `nbf` counts as the epoch, as in Entra's own messages.
fn check_lifetime(claims: &Claims) -> Result<u64, AadError> {
    let Some(exp) = claims.exp else {
        return Err(invalid_jwt("The client assertion has no 'exp' claim."));
    };
    let nbf = claims.nbf.unwrap_or_default();
    let now = clock::unix_seconds();
    let expired = exp.saturating_add(LEEWAY_SECS) < now;
    let not_yet = nbf > now.saturating_add(LEEWAY_SECS);
    let too_long = exp > now.saturating_add(MAX_LIFETIME_SECS + LEEWAY_SECS);
    if !(expired || not_yet || too_long) {
        return Ok(exp);
    }
    let message = format!(
        "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. {DOC}",
        clock::aad_instant(now),
        clock::aad_instant(nbf),
        clock::aad_instant(exp),
    );
    Err(AadError::invalid_client(700024, message))
}

fn check_jti(directory: &Directory, claims: &Claims, client_id: &str) -> Result<String, AadError> {
    let jti = claims.jti.as_deref().unwrap_or_default();
    if jti.is_empty() {
        return Err(invalid_jwt("The client assertion has no 'jti' claim."));
    }
    if directory.seen_assertions.contains(client_id, jti) {
        let message = format!("The client assertion with jti '{jti}' was already used.");
        return Err(invalid_jwt(&message));
    }
    Ok(jti.to_owned())
}

fn invalid_jwt(reason: &str) -> AadError {
    AadError::invalid_client(50027, format!("Invalid JWT token. {reason}"))
}

fn base64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}
