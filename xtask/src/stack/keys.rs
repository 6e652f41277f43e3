//! The stack's signing keys and tokens, made the way a current Supabase project has them:
//! an ES256 key pair that signs every JWT, published in a JWKS together with the legacy HS256
//! secret, so that PostgREST accepts both kinds of token.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Result, XtaskError};

/// The demo user's id (stable, so screenshots and URLs stay the same between runs).
pub const DEMO_USER_ID: &str = "5a1e0000-0000-4000-8000-00000000d3e0";
/// The demo user's e-mail.
pub const DEMO_USER_EMAIL: &str = "admin@vantage.local";

const TEN_YEARS: u64 = 10 * 365 * 24 * 3600;
const THIRTY_DAYS: u64 = 30 * 24 * 3600;

/// The private material of one stack, persisted in its folder (mode 0600).
#[derive(Serialize, Deserialize)]
pub struct StackKeys {
    /// Key id of the ES256 key, in JWT headers and the JWKS.
    kid: String,
    /// The ES256 private key, PKCS#8 DER, base64.
    es256_pkcs8: String,
    /// The legacy HS256 secret.
    hs256_secret: String,
    /// The writer token ETL jobs send to the edge (`vst_` + 32 random bytes, hex); the edge
    /// server only gets its SHA-256. Empty in key files written before the edge existed.
    #[serde(default)]
    writer_token: String,
    /// The publishable API key (`sb_publishable_` + random), for browsers: the gateway turns
    /// it into the `anon` role. Empty in key files written before the gateway existed.
    #[serde(default)]
    publishable_key: String,
    /// The secret API key (`sb_secret_` + random), for servers: the gateway turns it into the
    /// `service_role` role.
    #[serde(default)]
    secret_key: String,
    /// The `anon` role's API-key JWT: the legacy anon key, and what the gateway sends for the
    /// publishable key. Signed once, so every reader sees the same string.
    #[serde(default)]
    anon_key: String,
    /// The `service_role` role's API-key JWT: the legacy service-role key, and what the
    /// gateway sends for the secret key.
    #[serde(default)]
    service_role_key: String,
}

impl StackKeys {
    /// Fresh keys for a new stack.
    pub fn generate() -> Result<Self> {
        let secret = p256::SecretKey::random(&mut OsRng);
        let der = secret
            .to_pkcs8_der()
            .map_err(|e| XtaskError::Key(e.to_string()))?;
        let mut keys = Self {
            kid: random_hex(8),
            es256_pkcs8: STANDARD.encode(der.as_bytes()),
            hs256_secret: random_hex(32),
            writer_token: format!("vst_{}", random_hex(32)),
            publishable_key: format!("sb_publishable_{}", random_hex(16)),
            secret_key: format!("sb_secret_{}", random_hex(24)),
            anon_key: String::new(),
            service_role_key: String::new(),
        };
        keys.anon_key = keys.sign_es256(&api_key_claims("anon"))?;
        keys.service_role_key = keys.sign_es256(&api_key_claims("service_role"))?;
        Ok(keys)
    }

    /// Reads keys saved by [`StackKeys::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(XtaskError::io("reading", path))?;
        serde_json::from_str(&text).map_err(|e| XtaskError::Unreadable {
            path: path.to_path_buf(),
            what: "a stack's key file",
            reason: format!("{e}; run `cargo xtask down`, then start the stack again"),
        })
    }

    /// Writes the keys, readable by the owner only.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text =
            serde_json::to_string_pretty(self).map_err(|e| XtaskError::Key(e.to_string()))?;
        Ok(vantage_dev_files::write_private_file(path, &text)?)
    }

    /// The legacy HS256 JWT secret.
    pub fn legacy_secret(&self) -> &str {
        &self.hs256_secret
    }

    /// The stack's writer token.
    pub fn writer_token(&self) -> &str {
        &self.writer_token
    }

    /// The publishable API key (browsers).
    pub fn publishable_key(&self) -> &str {
        &self.publishable_key
    }

    /// The secret API key (servers only).
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// The `anon` role's API-key JWT (the legacy anon key).
    pub fn anon_key(&self) -> &str {
        &self.anon_key
    }

    /// The `service_role` role's API-key JWT (the legacy service-role key; server side only).
    pub fn service_role_key(&self) -> &str {
        &self.service_role_key
    }

    fn pkcs8(&self) -> Result<Vec<u8>> {
        STANDARD
            .decode(&self.es256_pkcs8)
            .map_err(|e| XtaskError::Key(e.to_string()))
    }

    /// The JWKS that verifies both token kinds: the ES256 public key and the HS256 secret.
    /// PostgREST takes it as its `jwt-secret`; Supabase publishes the public half at
    /// `/auth/v1/.well-known/jwks.json`.
    pub fn jwks(&self) -> Result<Value> {
        let legacy = json!({
            "kty": "oct",
            "alg": "HS256",
            "k": URL_SAFE_NO_PAD.encode(self.hs256_secret.as_bytes()),
        });
        Ok(json!({ "keys": [self.public_jwk()?, legacy] }))
    }

    /// The JWKS anyone may read: the ES256 public key alone, as Supabase serves it at
    /// `/auth/v1/.well-known/jwks.json`. Never [`StackKeys::jwks`], which holds the secret.
    pub fn public_jwks(&self) -> Result<Value> {
        Ok(json!({ "keys": [self.public_jwk()?] }))
    }

    fn public_jwk(&self) -> Result<Value> {
        let secret = p256::SecretKey::from_pkcs8_der(&self.pkcs8()?)
            .map_err(|e| XtaskError::Key(e.to_string()))?;
        let mut public: Value = serde_json::from_str(&secret.public_key().to_jwk_string())
            .map_err(|e| XtaskError::Key(e.to_string()))?;
        public["kid"] = json!(self.kid);
        public["alg"] = json!("ES256");
        public["use"] = json!("sig");
        Ok(public)
    }

    /// Signs `claims` with the ES256 key (the current Supabase way).
    pub fn sign_es256(&self, claims: &Value) -> Result<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_ec_der(&self.pkcs8()?),
        )?)
    }
}

/// Claims of an API-key token for `role` (`anon` or `service_role`), valid for ten years like
/// the keys a Supabase project shows.
pub fn api_key_claims(role: &str) -> Value {
    let now = unix_now();
    json!({ "iss": "supabase", "ref": "local", "role": role, "iat": now, "exp": now + TEN_YEARS })
}

/// Claims of the signed-in demo user's session token (role `authenticated`), as Supabase Auth
/// issues them; `app_metadata.vantage_sync_admin` marks the user as a sync admin.
pub fn demo_user_claims(issuer: &str) -> Value {
    let now = unix_now();
    json!({
        "iss": issuer,
        "aud": "authenticated",
        "sub": DEMO_USER_ID,
        "role": "authenticated",
        "email": DEMO_USER_EMAIL,
        "aal": "aal1",
        "is_anonymous": false,
        "session_id": random_hex(16),
        "app_metadata": { "provider": "email", "providers": ["email"], "vantage_sync_admin": true },
        "user_metadata": {},
        "iat": now,
        "exp": now + THIRTY_DAYS,
    })
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `bytes` random bytes from the OS, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_jwks_holds_no_secret() -> Result<()> {
        let keys = StackKeys::generate()?;
        let public = serde_json::to_string(&keys.public_jwks()?)?;
        assert!(!public.contains("\"oct\""), "{public}");
        assert!(!public.contains("\"d\""), "{public}");
        assert!(!public.contains(&URL_SAFE_NO_PAD.encode(keys.legacy_secret().as_bytes())));
        assert!(serde_json::to_string(&keys.jwks()?)?.contains("\"oct\""));
        Ok(())
    }

    #[test]
    fn api_keys_have_supabase_prefixes_and_stay_the_same() -> Result<()> {
        let keys = StackKeys::generate()?;
        assert!(keys.publishable_key().starts_with("sb_publishable_"));
        assert!(keys.secret_key().starts_with("sb_secret_"));
        assert_eq!(keys.anon_key(), keys.anon_key());
        assert_eq!(keys.anon_key().split('.').count(), 3);
        Ok(())
    }
}
