//! Tokens and the credentials the tests send: the stack's own keys (current and legacy), legacy
//! HS256 tokens minted with its secret, and the invalid tokens an attacker would try.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::error::Result;
use crate::stack::Stack;

/// A secret that is not the stack's: tokens signed with it must be refused.
pub const WRONG_SECRET: &str = "not-the-stack-secret-not-the-stack-secret-0123456789";

/// The `sub` of the legacy HS256 `authenticated` tokens minted here.
pub const LEGACY_USER_ID: &str = "00000000-0000-4000-8000-00000000beef";

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// An API key one character off: a real key's shape and prefix, not the key.
pub fn one_off(key: &str) -> String {
    let mut key = key.to_owned();
    let last = if key.ends_with('0') { '1' } else { '0' };
    key.pop();
    key.push(last);
    key
}

/// Claims like Supabase's for `role`, expiring `expires_in` seconds from now (negative: already
/// expired). `authenticated` tokens also carry the user's `sub` and `aud`.
pub fn claims(role: &str, expires_in: i64) -> Value {
    let now = unix_now();
    let exp = now.saturating_add(expires_in);
    let mut claims = json!({
        "iss": "supabase",
        "ref": "local",
        "role": role,
        "iat": now.min(exp.saturating_sub(60)),
        "exp": exp,
    });
    if role == "authenticated" {
        claims["aud"] = json!("authenticated");
        claims["sub"] = json!(LEGACY_USER_ID);
    }
    claims
}

/// A legacy HS256 token for `role`, signed with `secret`, expiring in `expires_in` seconds.
pub fn legacy_token(secret: &str, role: &str, expires_in: i64) -> Result<String> {
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(role, expires_in),
        &EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

/// An unsigned token (`"alg": "none"`, empty signature) claiming `role`.
pub fn alg_none_token(role: &str, expires_in: i64) -> Result<String> {
    let header = serde_json::to_vec(&json!({ "alg": "none", "typ": "JWT" }))?;
    let payload = serde_json::to_vec(&claims(role, expires_in))?;
    Ok(format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    ))
}

/// Who a request claims to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// No `apikey`, no `Authorization`.
    None,
    /// The public key (publishable, or the legacy anon key), as supabase-js sends it before
    /// sign-in.
    Anon,
    /// The demo user's ES256 session token (the current Supabase way).
    Authenticated,
    /// An `authenticated` token signed HS256 with the legacy secret.
    AuthenticatedLegacy,
    /// A `service_role` token signed with the real legacy secret that expired an hour ago:
    /// only the expiry stands between it and a write.
    Expired,
    /// An `authenticated` token signed HS256 with a wrong secret.
    WrongSecret,
    /// A `service_role` token with `"alg": "none"` and no signature.
    AlgNone,
    /// A `service_role` token signed HS256 with a wrong secret.
    ForgedServiceRole,
    /// The secret key (or the legacy service-role key), as a server (the edge function) sends
    /// it.
    ServiceRole,
}

impl CredentialKind {
    /// Every credential that must not be able to write.
    pub const CANNOT_WRITE: [Self; 8] = [
        Self::None,
        Self::Anon,
        Self::Authenticated,
        Self::AuthenticatedLegacy,
        Self::Expired,
        Self::WrongSecret,
        Self::AlgNone,
        Self::ForgedServiceRole,
    ];

    /// Every credential that must not see any row.
    pub const CANNOT_READ: [Self; 6] = [
        Self::None,
        Self::Anon,
        Self::Expired,
        Self::WrongSecret,
        Self::AlgNone,
        Self::ForgedServiceRole,
    ];

    /// A short name for test output.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Anon => "anon",
            Self::Authenticated => "authenticated",
            Self::AuthenticatedLegacy => "authenticated_legacy",
            Self::Expired => "expired",
            Self::WrongSecret => "wrong_secret",
            Self::AlgNone => "alg_none",
            Self::ForgedServiceRole => "forged_service_role",
            Self::ServiceRole => "service_role",
        }
    }

    /// Whether the bearer token is invalid (PostgREST may answer these with 400 as well).
    pub fn is_invalid_token(self) -> bool {
        matches!(
            self,
            Self::Expired | Self::WrongSecret | Self::AlgNone | Self::ForgedServiceRole
        )
    }
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which of the project's API keys a credential is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeys {
    /// The publishable and secret keys (`sb_publishable_…`, `sb_secret_…`), as current
    /// Supabase projects hand them out. Only the gateway knows them: send these through
    /// [`crate::Rest::new`].
    Current,
    /// The legacy anon and service-role JWTs, which PostgREST verifies itself: what
    /// self-hosters without a gateway use, through [`crate::Rest::direct`] (the gateway passes
    /// them on as they are, too).
    Legacy,
}

/// The two headers supabase-js sends: `apikey` (the project key) and the bearer token (the
/// session's token, else the project key itself).
///
/// A client holding a bad token still has the public key, so the invalid kinds send the
/// publishable (or legacy anon) key as `apikey` and the bad token as bearer.
#[derive(Clone)]
pub struct Credential {
    kind: CredentialKind,
    keys: ApiKeys,
    apikey: Option<String>,
    bearer: Option<String>,
}

impl fmt::Debug for Credential {
    // Tokens stay out of test output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credential({}, {:?} keys)", self.kind, self.keys)
    }
}

impl Credential {
    /// The credential of `kind` for `stack`, made of the current keys (publishable, secret):
    /// for PostgREST through the gateway.
    pub fn new(kind: CredentialKind, stack: &Stack) -> Result<Self> {
        Self::with_keys(kind, stack, ApiKeys::Current)
    }

    /// The credential of `kind` for `stack`, made of the legacy JWT keys: for PostgREST
    /// reached directly.
    pub fn legacy(kind: CredentialKind, stack: &Stack) -> Result<Self> {
        Self::with_keys(kind, stack, ApiKeys::Legacy)
    }

    /// No `apikey`, no `Authorization` (headers of a test's own choosing go on the request).
    pub fn none() -> Self {
        Self {
            kind: CredentialKind::None,
            keys: ApiKeys::Current,
            apikey: None,
            bearer: None,
        }
    }

    /// The credential of `kind` for `stack`, made of `keys`.
    pub fn with_keys(kind: CredentialKind, stack: &Stack, keys: ApiKeys) -> Result<Self> {
        let (public_key, service_key) = match keys {
            ApiKeys::Current => (stack.publishable_key()?, stack.secret_key()?),
            ApiKeys::Legacy => (stack.anon_key(), stack.service_role_key()),
        };
        let public = || Some(public_key.to_owned());
        let (apikey, bearer) = match kind {
            CredentialKind::None => (None, None),
            CredentialKind::Anon => (public(), public()),
            CredentialKind::Authenticated => (public(), Some(stack.authenticated_jwt().to_owned())),
            CredentialKind::AuthenticatedLegacy => (
                public(),
                Some(legacy_token(stack.jwt_secret(), "authenticated", 3600)?),
            ),
            CredentialKind::Expired => (
                public(),
                Some(legacy_token(stack.jwt_secret(), "service_role", -3600)?),
            ),
            CredentialKind::WrongSecret => (
                public(),
                Some(legacy_token(WRONG_SECRET, "authenticated", 3600)?),
            ),
            CredentialKind::AlgNone => (public(), Some(alg_none_token("service_role", 3600)?)),
            CredentialKind::ForgedServiceRole => (
                public(),
                Some(legacy_token(WRONG_SECRET, "service_role", 3600)?),
            ),
            CredentialKind::ServiceRole => {
                let key = Some(service_key.to_owned());
                (key.clone(), key)
            }
        };
        Ok(Self {
            kind,
            keys,
            apikey,
            bearer,
        })
    }

    /// Which credential this is.
    pub fn kind(&self) -> CredentialKind {
        self.kind
    }

    /// Which keys it is made of.
    pub fn keys(&self) -> ApiKeys {
        self.keys
    }

    /// The `apikey` header's value, if sent.
    pub fn apikey(&self) -> Option<&str> {
        self.apikey.as_deref()
    }

    /// The token sent as `Authorization: Bearer`, if any.
    pub fn bearer(&self) -> Option<&str> {
        self.bearer.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation};

    use super::*;

    const SECRET: &str = "a-test-secret-a-test-secret-a-test-secret";

    fn validation() -> Validation {
        let mut v = Validation::new(Algorithm::HS256);
        v.validate_aud = false;
        v
    }

    #[test]
    fn legacy_token_verifies_with_its_secret_and_carries_the_role() -> Result<()> {
        let token = legacy_token(SECRET, "service_role", 60)?;
        let data = jsonwebtoken::decode::<Value>(
            &token,
            &DecodingKey::from_secret(SECRET.as_bytes()),
            &validation(),
        )?;
        assert_eq!(data.claims["role"], "service_role");
        assert!(data.claims["exp"].as_i64() > Some(unix_now()));
        Ok(())
    }

    #[test]
    fn legacy_token_with_a_negative_offset_is_expired() -> Result<()> {
        let token = legacy_token(SECRET, "authenticated", -3600)?;
        let result = jsonwebtoken::decode::<Value>(
            &token,
            &DecodingKey::from_secret(SECRET.as_bytes()),
            &validation(),
        );
        assert!(result.is_err(), "an expired token decoded: {result:?}");
        Ok(())
    }

    #[test]
    fn wrong_secret_tokens_do_not_verify_with_the_right_one() -> Result<()> {
        let token = legacy_token(WRONG_SECRET, "service_role", 60)?;
        let result = jsonwebtoken::decode::<Value>(
            &token,
            &DecodingKey::from_secret(SECRET.as_bytes()),
            &validation(),
        );
        assert!(result.is_err(), "decoded with the wrong secret: {result:?}");
        Ok(())
    }

    #[test]
    fn alg_none_token_has_no_signature() -> Result<()> {
        let token = alg_none_token("service_role", 60)?;
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        assert_eq!(parts[2], "", "signature must be empty");
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(parts[0]) else {
            panic!("the header is not base64url: {token}");
        };
        let header: Value = serde_json::from_slice(&bytes)?;
        assert_eq!(header["alg"], "none");
        Ok(())
    }
}
