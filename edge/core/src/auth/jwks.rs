//! Signing keys of Supabase Auth: a JWKS (`SUPABASE_JWKS`, or fetched from
//! `{SUPABASE_URL}/auth/v1/.well-known/jwks.json`) holding ES256 or RS256 public keys, and the
//! cache of a fetched one.
//!
//! Only asymmetric keys are taken from a JWKS. A JWKS may also hold the legacy HS256 secret as
//! an `oct` key (the local stack's does, for PostgREST); that one is skipped here: the legacy
//! secret is accepted only when configured on purpose, as `SUPABASE_JWT_SECRET`.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Verifier;
use serde_json::Value;
use sha2::Sha256;

/// How long a fetched JWKS is used before it is fetched again.
pub const JWKS_TTL_MS: f64 = 10.0 * 60.0 * 1000.0;

/// The least time between two fetches, whatever tokens arrive: a flood of tokens with made-up
/// key ids must not become a flood of requests to Supabase Auth.
pub const JWKS_MIN_REFETCH_MS: f64 = 30.0 * 1000.0;

/// The smallest RSA modulus accepted, in bits.
const MIN_RSA_BITS: usize = 2048;

/// The signature algorithms a key verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// ECDSA P-256 with SHA-256 (Supabase's current default).
    Es256,
    /// RSA PKCS#1 v1.5 with SHA-256.
    Rs256,
    /// HMAC SHA-256 with the legacy JWT secret.
    Hs256,
}

impl Alg {
    /// The JOSE name, e.g. `ES256`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
            Self::Hs256 => "HS256",
        }
    }

    /// The algorithm of a JOSE `alg` value, if it is one we accept.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "ES256" => Some(Self::Es256),
            "RS256" => Some(Self::Rs256),
            "HS256" => Some(Self::Hs256),
            _ => None,
        }
    }
}

/// One public key.
#[derive(Clone)]
pub enum PublicKey {
    /// A P-256 key (verifies ES256).
    Es256(p256::ecdsa::VerifyingKey),
    /// An RSA key (verifies RS256).
    Rs256(Box<rsa::pkcs1v15::VerifyingKey<Sha256>>),
}

impl PublicKey {
    /// The algorithm this key verifies.
    pub fn alg(&self) -> Alg {
        match self {
            Self::Es256(_) => Alg::Es256,
            Self::Rs256(_) => Alg::Rs256,
        }
    }

    /// Whether `signature` (JWS encoding) signs `message` with this key.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Es256(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok()),
            Self::Rs256(key) => rsa::pkcs1v15::Signature::try_from(signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok()),
        }
    }
}

/// A key and its id.
#[derive(Clone)]
pub struct SigningKey {
    /// The JWK `kid`, matched against the token header's `kid`.
    pub kid: Option<String>,
    /// The key.
    pub key: PublicKey,
}

/// The asymmetric keys of a JWKS.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Vec<SigningKey>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<String> = self
            .keys
            .iter()
            .map(|k| format!("{}:{}", k.key.alg().name(), k.kid.as_deref().unwrap_or("-")))
            .collect();
        write!(f, "KeySet{kids:?}")
    }
}

impl KeySet {
    /// Parses a JWKS (`{"keys":[...]}`, or a bare array of JWKs). EC P-256 and RSA signing keys
    /// are kept; `oct` and other key types are skipped. A malformed EC or RSA key is an error
    /// naming it: a project whose key cannot be read should find out at start-up.
    pub fn from_jwks_json(text: &str) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("is not valid JSON ({e})"))?;
        let entries = match &value {
            Value::Array(entries) => entries,
            Value::Object(object) => match object.get("keys") {
                Some(Value::Array(entries)) => entries,
                _ => return Err("is not a JWKS: expected {\"keys\": [...]}".into()),
            },
            _ => return Err("is not a JWKS: expected {\"keys\": [...]}".into()),
        };
        let mut keys = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            if let Some(key) = parse_jwk(entry).map_err(|e| format!("key {}: {e}", index + 1))? {
                keys.push(key);
            }
        }
        Ok(Self { keys })
    }

    /// A set of the given keys.
    pub fn from_keys(keys: Vec<SigningKey>) -> Self {
        Self { keys }
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys that may have signed a token with `alg` and `kid`: the keys with that id or
    /// without an id; for a token without `kid`, every key of the algorithm.
    pub fn candidates<'a>(
        &'a self,
        alg: Alg,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = &'a PublicKey> + 'a {
        self.keys
            .iter()
            .filter(move |k| {
                k.key.alg() == alg && (kid.is_none() || k.kid.is_none() || k.kid.as_deref() == kid)
            })
            .map(|k| &k.key)
    }
}

fn parse_jwk(jwk: &Value) -> Result<Option<SigningKey>, String> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    let kid = text("kid").map(str::to_owned);
    if text("use").is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    let named = |problem: &str| match &kid {
        Some(kid) => format!("(kid {kid}) {problem}"),
        None => problem.to_owned(),
    };
    let key = match text("kty") {
        Some("EC") => {
            if text("crv") != Some("P-256") || text("alg").is_some_and(|a| a != "ES256") {
                return Ok(None);
            }
            let x = decode_field(jwk, "x").map_err(|e| named(&e))?;
            let y = decode_field(jwk, "y").map_err(|e| named(&e))?;
            if x.len() != 32 || y.len() != 32 {
                return Err(named("is not a P-256 point (x and y must be 32 bytes)"));
            }
            let point = p256::EncodedPoint::from_affine_coordinates(
                x.as_slice().into(),
                y.as_slice().into(),
                false,
            );
            let key = p256::ecdsa::VerifyingKey::from_encoded_point(&point)
                .map_err(|_| named("is not a point on P-256"))?;
            PublicKey::Es256(key)
        }
        Some("RSA") => {
            if text("alg").is_some_and(|a| a != "RS256") {
                return Ok(None);
            }
            let n = rsa::BigUint::from_bytes_be(&decode_field(jwk, "n").map_err(|e| named(&e))?);
            let e = rsa::BigUint::from_bytes_be(&decode_field(jwk, "e").map_err(|e| named(&e))?);
            if n.bits() < MIN_RSA_BITS {
                return Err(named("is an RSA key shorter than 2048 bits"));
            }
            let key = rsa::RsaPublicKey::new(n, e)
                .map_err(|e| named(&format!("is not a valid RSA key ({e})")))?;
            PublicKey::Rs256(Box::new(rsa::pkcs1v15::VerifyingKey::new(key)))
        }
        // `oct` (the legacy secret) and anything else: not taken from a JWKS.
        _ => return Ok(None),
    };
    Ok(Some(SigningKey { kid, key }))
}

fn decode_field(jwk: &Value, name: &str) -> Result<Vec<u8>, String> {
    let text = jwk
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("has no \"{name}\""))?;
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| format!("has a \"{name}\" that is not base64url"))
}

/// A JWKS fetched from Supabase Auth, kept for [`JWKS_TTL_MS`], refetched when a token names
/// an unknown key, and never fetched more often than every [`JWKS_MIN_REFETCH_MS`].
#[derive(Debug)]
pub struct JwksCache {
    url: String,
    state: Mutex<CacheState>,
}

#[derive(Debug, Default)]
struct CacheState {
    keys: Option<Arc<KeySet>>,
    fetched_at_ms: f64,
    last_attempt_ms: Option<f64>,
}

impl JwksCache {
    /// An empty cache for the JWKS at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            state: Mutex::new(CacheState::default()),
        }
    }

    /// Where the JWKS is fetched from.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CacheState> {
        // The state is a plain value: a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached keys, if fetched less than [`JWKS_TTL_MS`] before `now_ms`.
    pub fn fresh(&self, now_ms: f64) -> Option<Arc<KeySet>> {
        let state = self.state();
        state
            .keys
            .clone()
            .filter(|_| now_ms - state.fetched_at_ms < JWKS_TTL_MS)
    }

    /// The cached keys, however old.
    pub fn any(&self) -> Option<Arc<KeySet>> {
        self.state().keys.clone()
    }

    /// Claims the right to fetch now: true (and the attempt is recorded) unless another fetch
    /// was attempted less than [`JWKS_MIN_REFETCH_MS`] ago.
    pub fn try_begin_fetch(&self, now_ms: f64) -> bool {
        let mut state = self.state();
        match state.last_attempt_ms {
            Some(last) if now_ms - last < JWKS_MIN_REFETCH_MS && now_ms >= last => false,
            _ => {
                state.last_attempt_ms = Some(now_ms);
                true
            }
        }
    }

    /// Stores freshly fetched keys.
    pub fn store(&self, keys: KeySet, now_ms: f64) -> Arc<KeySet> {
        let keys = Arc::new(keys);
        let mut state = self.state();
        state.keys = Some(Arc::clone(&keys));
        state.fetched_at_ms = now_ms;
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC_JWK: &str = r#"{"kty":"EC","crv":"P-256","kid":"k1","alg":"ES256","use":"sig",
        "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;

    #[test]
    fn keeps_ec_keys_and_skips_the_legacy_oct_key() -> Result<(), String> {
        let jwks = format!(r#"{{"keys":[{EC_JWK},{{"kty":"oct","alg":"HS256","k":"c2VjcmV0"}}]}}"#);
        let keys = KeySet::from_jwks_json(&jwks)?;
        assert_eq!(keys.len(), 1);
        assert_eq!(keys.candidates(Alg::Es256, Some("k1")).count(), 1);
        assert_eq!(keys.candidates(Alg::Es256, None).count(), 1);
        assert_eq!(keys.candidates(Alg::Es256, Some("k2")).count(), 0);
        assert_eq!(keys.candidates(Alg::Rs256, Some("k1")).count(), 0);
        assert_eq!(keys.candidates(Alg::Hs256, None).count(), 0);
        Ok(())
    }

    #[test]
    fn a_bare_array_is_a_jwks_too() -> Result<(), String> {
        assert_eq!(KeySet::from_jwks_json(&format!("[{EC_JWK}]"))?.len(), 1);
        Ok(())
    }

    #[test]
    fn broken_keys_are_named() {
        let broken = EC_JWK.replace("f83OJ3D2", "AAAAAAAA");
        let error = KeySet::from_jwks_json(&format!(r#"{{"keys":[{broken}]}}"#));
        assert!(
            matches!(&error, Err(m) if m.starts_with("key 1: (kid k1)")),
            "{error:?}"
        );
        for text in ["", "{}", "[1", r#"{"keys":3}"#, "7"] {
            assert!(KeySet::from_jwks_json(text).is_err(), "{text}");
        }
    }

    #[test]
    fn short_rsa_keys_are_refused() {
        let jwk = r#"{"keys":[{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"}]}"#;
        let error = KeySet::from_jwks_json(jwk);
        assert!(
            matches!(&error, Err(m) if m.contains("shorter than 2048")),
            "{error:?}"
        );
    }

    #[test]
    fn cache_expires_and_rate_limits_fetches() {
        let cache = JwksCache::new("https://x/auth/v1/.well-known/jwks.json");
        assert!(cache.fresh(0.0).is_none());
        assert!(cache.try_begin_fetch(1_000.0));
        assert!(
            !cache.try_begin_fetch(2_000.0),
            "a second fetch within 30 s"
        );
        cache.store(KeySet::default(), 1_000.0);
        assert!(cache.fresh(1_000.0 + JWKS_TTL_MS - 1.0).is_some());
        assert!(cache.fresh(1_000.0 + JWKS_TTL_MS).is_none());
        assert!(cache.any().is_some());
        assert!(cache.try_begin_fetch(1_000.0 + JWKS_MIN_REFETCH_MS));
    }
}
