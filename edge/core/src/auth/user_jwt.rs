//! Supabase user JWTs: decoded, their signature verified with the project's asymmetric keys
//! (ES256/RS256) or the legacy HS256 secret, then their claims checked against an injected
//! "now".
//!
//! Why not the `jsonwebtoken` crate (the tests use it to sign): its `RustCrypto` backend pulls
//! `rand` with `getrandom`, which does not build for wasm32-unknown-unknown without JavaScript
//! glue, and it reads the system clock for `exp`. The cryptography here is `RustCrypto`'s
//! (`p256`, `rsa`, `hmac`); this module only splits the token, picks the key and checks claims.
//! A token type can only reach its claims through a verified signature.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::jwks::{Alg, KeySet};

/// Longer tokens are refused unread (Supabase's are about 1 KB).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Seconds of clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 30;

/// The audience of a signed-in user's token.
pub const AUDIENCE: &str = "authenticated";

/// Why a token was refused. `Display` is the message the caller gets with the 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts with a JSON header and payload.
    #[error("the bearer token is not a valid JWT")]
    Malformed,
    /// An algorithm we do not accept (`none`, `HS512`, ...).
    #[error("tokens signed with {0} are not accepted (only ES256, RS256 and HS256)")]
    UnsupportedAlg(String),
    /// No configured key has the token's `kid` (a refetch of the JWKS may help).
    #[error("the token was signed with a key this project does not have")]
    UnknownKey,
    /// An HS256 token, and no legacy secret is configured.
    #[error("tokens signed with the legacy JWT secret are not accepted here")]
    NoLegacySecret,
    /// The signature does not verify.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// Past `exp`.
    #[error("the token has expired; sign in again")]
    Expired,
    /// Before `nbf`.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// Not a signed-in user's token.
    #[error("the token is not a signed-in user's (its audience is not \"authenticated\")")]
    WrongAudience,
    /// A claim we need is missing or of the wrong type.
    #[error("the token has no valid \"{0}\" claim")]
    MissingClaim(&'static str),
}

/// A token split and decoded, its signature not yet checked.
#[derive(Debug)]
pub struct UnverifiedToken<'a> {
    alg: Alg,
    kid: Option<String>,
    signing_input: &'a [u8],
    signature: Vec<u8>,
    payload: Vec<u8>,
}

/// A token whose signature verified.
#[derive(Debug)]
pub struct VerifiedToken<'a>(UnverifiedToken<'a>);

/// What the function needs to know about a signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserClaims {
    /// The user id (`sub`).
    pub sub: String,
    /// The user's e-mail, when the token has one.
    pub email: Option<String>,
    /// `app_metadata.vantage_sync_admin == true`: may abort runs. `app_metadata` is writable
    /// only with the service role, never by the user.
    pub is_sync_admin: bool,
}

impl UserClaims {
    /// Who to record as having aborted a run: the e-mail, else the user id.
    pub fn display_name(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.sub)
    }
}

impl<'a> UnverifiedToken<'a> {
    /// Splits and decodes `token`; checks nothing but its shape and algorithm.
    pub fn decode(token: &'a str) -> Result<Self, JwtError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(JwtError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let header: Value =
            serde_json::from_slice(&b64(header)?).map_err(|_| JwtError::Malformed)?;
        let alg_name = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or(JwtError::Malformed)?;
        let alg =
            Alg::from_name(alg_name).ok_or_else(|| JwtError::UnsupportedAlg(short(alg_name)))?;
        // A critical extension we do not understand must not be ignored (RFC 7515 4.1.11).
        if header.get("crit").is_some() {
            return Err(JwtError::Malformed);
        }
        let kid = match header.get("kid") {
            None | Some(Value::Null) => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(JwtError::Malformed),
        };
        let signing_input_len = token.len() - signature.len() - 1;
        Ok(Self {
            alg,
            kid,
            signing_input: &token.as_bytes()[..signing_input_len],
            signature: b64(signature)?,
            payload: b64(payload)?,
        })
    }

    /// The header's algorithm.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The header's key id.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Verifies an ES256/RS256 token with the project's keys.
    pub fn verify_with_keys(self, keys: &KeySet) -> Result<VerifiedToken<'a>, JwtError> {
        if self.alg == Alg::Hs256 {
            return Err(JwtError::NoLegacySecret);
        }
        let verified = {
            let mut candidates = keys.candidates(self.alg, self.kid.as_deref()).peekable();
            if candidates.peek().is_none() {
                return Err(JwtError::UnknownKey);
            }
            candidates.any(|key| key.verifies(self.signing_input, &self.signature))
        };
        if verified {
            Ok(VerifiedToken(self))
        } else {
            Err(JwtError::BadSignature)
        }
    }

    /// Verifies an HS256 token with the legacy secret (its bytes as configured, like Supabase
    /// Auth uses it).
    pub fn verify_with_secret(self, secret: &[u8]) -> Result<VerifiedToken<'a>, JwtError> {
        if self.alg != Alg::Hs256 {
            return Err(JwtError::UnknownKey);
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| JwtError::BadSignature)?;
        mac.update(self.signing_input);
        // verify_slice compares in constant time.
        mac.verify_slice(&self.signature)
            .map_err(|_| JwtError::BadSignature)?;
        Ok(VerifiedToken(self))
    }
}

impl VerifiedToken<'_> {
    /// Checks `exp` (required), `nbf`, the audience and `sub` at `now_secs`, and returns what
    /// the function needs.
    pub fn claims(&self, now_secs: i64) -> Result<UserClaims, JwtError> {
        let claims: Value =
            serde_json::from_slice(&self.0.payload).map_err(|_| JwtError::Malformed)?;
        let exp = numeric_date(&claims, "exp")?.ok_or(JwtError::MissingClaim("exp"))?;
        if now_secs >= exp.saturating_add(LEEWAY_SECS) {
            return Err(JwtError::Expired);
        }
        if let Some(nbf) = numeric_date(&claims, "nbf")?
            && now_secs.saturating_add(LEEWAY_SECS) < nbf
        {
            return Err(JwtError::NotYetValid);
        }
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => aud == AUDIENCE,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(AUDIENCE)),
            _ => false,
        };
        if !audience_ok {
            return Err(JwtError::WrongAudience);
        }
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or(JwtError::MissingClaim("sub"))?;
        let email = claims
            .get("email")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
            .map(str::to_owned);
        let is_sync_admin = claims
            .pointer("/app_metadata/vantage_sync_admin")
            .and_then(Value::as_bool)
            == Some(true);
        Ok(UserClaims {
            sub: sub.to_owned(),
            email,
            is_sync_admin,
        })
    }
}

fn b64(part: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed)
}

/// A `NumericDate` claim in whole seconds; floats are floored.
fn numeric_date(claims: &Value, name: &'static str) -> Result<Option<i64>, JwtError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(Some(i)),
            // Saturating `as` is what an out-of-range date needs.
            #[allow(clippy::cast_possible_truncation)]
            (None, Some(f)) if f.is_finite() => Ok(Some(f.floor() as i64)),
            _ => Err(JwtError::MissingClaim(name)),
        },
        Some(_) => Err(JwtError::MissingClaim(name)),
    }
}

/// At most 20 characters of attacker-supplied text, for a message.
fn short(text: &str) -> String {
    text.chars().take(20).collect()
}

#[cfg(test)]
#[path = "user_jwt_tests.rs"]
mod tests;
