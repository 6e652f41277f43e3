//! Tokens are signed here with the `jsonwebtoken` crate (an independent implementation) and
//! verified with this module.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey;
use rand_core::OsRng;
use serde_json::{Value, json};

use super::*;
use crate::auth::jwks::{KeySet, PublicKey, SigningKey};

const NOW: i64 = 1_800_000_000;
const SECRET: &str = "legacy-secret-legacy-secret-legacy-secret";
/// A 2048-bit RSA key made for these tests only (`openssl genrsa 2048`).
const RSA_PEM: &str = include_str!("testdata/rs256_test_key.pem");
/// Its modulus, base64url.
const RSA_N: &str = "6roOV7kwHjwqZoQBOWVmruWWn7BwX28BV6g4krGOcoQI7aOi1RHC7eV5sqY2zYyMLNg0rlvGoMDVOgelEVp2ptSPtL3qEThuR1UfsSHC5zvPSLu4hKOL38SQGkc4ueChKEFm5uVZzFxFy7hFZd5tLToJWtyEbMlJgHPKGthfE34jEm6tGGJLY7X70k5r_68lYnaDYHAH3L8OMafNHJl4lnTJPaR1aKIh_UkbM9PU-xqy6fyy7X9Ir-GttchZGL4QwadQgNzVeEIvNLbUTzqX1WTKdNA-oWpkrPiV1j8exDtQg5Jr4-G-r41YA_YAgII96Hm81FXGwGka1OJiEjXxCw";

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// An ES256 key pair: the signing key for `jsonwebtoken` and its JWK.
pub(crate) struct EcKey {
    pub kid: String,
    pub der: Vec<u8>,
    pub jwk: Value,
}

impl EcKey {
    pub fn generate(kid: &str) -> Result<Self, Box<dyn std::error::Error>> {
        let secret = p256::SecretKey::random(&mut OsRng);
        let mut jwk: Value = serde_json::from_str(&secret.public_key().to_jwk_string())?;
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!("ES256");
        Ok(Self {
            kid: kid.to_owned(),
            der: secret.to_pkcs8_der()?.as_bytes().to_vec(),
            jwk,
        })
    }

    pub fn sign(&self, claims: &Value) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&self.der))
    }
}

pub(crate) fn user_claims(exp: i64, admin: bool) -> Value {
    json!({
        "aud": "authenticated", "sub": "user-1", "role": "authenticated",
        "email": "ops@example.com", "exp": exp, "iat": exp - 3600,
        "app_metadata": { "provider": "email", "vantage_sync_admin": admin },
    })
}

fn hs256(claims: &Value, secret: &str) -> Result<String, jsonwebtoken::errors::Error> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}

fn keys_of(jwks: &Value) -> Result<KeySet, String> {
    KeySet::from_jwks_json(&jwks.to_string())
}

fn verify(token: &str, keys: &KeySet) -> Result<UserClaims, JwtError> {
    UnverifiedToken::decode(token)?
        .verify_with_keys(keys)?
        .claims(NOW)
}

#[test]
fn es256_tokens_verify_with_their_jwk() -> TestResult {
    let key = EcKey::generate("k1")?;
    let keys = keys_of(&json!({ "keys": [key.jwk] }))?;
    let claims = verify(&key.sign(&user_claims(NOW + 60, true))?, &keys)?;
    assert_eq!(
        claims,
        UserClaims {
            sub: "user-1".into(),
            email: Some("ops@example.com".into()),
            is_sync_admin: true
        }
    );
    assert_eq!(claims.display_name(), "ops@example.com");
    let plain = verify(&key.sign(&user_claims(NOW + 60, false))?, &keys)?;
    assert!(!plain.is_sync_admin);
    Ok(())
}

#[test]
fn many_es256_signatures_all_verify() -> TestResult {
    // ECDSA signatures are random: high and low S both occur and must both verify.
    let key = EcKey::generate("k1")?;
    let keys = keys_of(&json!({ "keys": [key.jwk] }))?;
    for i in 0..64 {
        let mut claims = user_claims(NOW + 60, false);
        claims["n"] = json!(i);
        verify(&key.sign(&claims)?, &keys)?;
    }
    Ok(())
}

#[test]
fn rs256_tokens_verify_with_their_jwk() -> TestResult {
    let keys =
        keys_of(&json!({ "keys": [{ "kty": "RSA", "kid": "r1", "n": RSA_N, "e": "AQAB" }] }))?;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("r1".into());
    let token = jsonwebtoken::encode(
        &header,
        &user_claims(NOW + 60, true),
        &EncodingKey::from_rsa_pem(RSA_PEM.as_bytes())?,
    )?;
    assert!(verify(&token, &keys)?.is_sync_admin);
    let tampered = tamper_payload(&token)?;
    assert_eq!(verify(&tampered, &keys), Err(JwtError::BadSignature));
    Ok(())
}

#[test]
fn hs256_tokens_verify_with_the_legacy_secret_only() -> TestResult {
    let token = hs256(&user_claims(NOW + 60, true), SECRET)?;
    let claims = UnverifiedToken::decode(&token)?
        .verify_with_secret(SECRET.as_bytes())?
        .claims(NOW)?;
    assert!(claims.is_sync_admin);
    let wrong = UnverifiedToken::decode(&token)?.verify_with_secret(b"another-secret");
    assert_eq!(wrong.map(|_| ()), Err(JwtError::BadSignature));
    // An HS256 token is never checked against the JWKS.
    assert_eq!(
        verify(&token, &KeySet::default()),
        Err(JwtError::NoLegacySecret)
    );
    Ok(())
}

#[test]
fn unknown_kids_and_foreign_keys_are_refused() -> TestResult {
    let ours = EcKey::generate("k1")?;
    let theirs = EcKey::generate("k1")?;
    let keys = keys_of(&json!({ "keys": [ours.jwk] }))?;
    assert_eq!(
        verify(&theirs.sign(&user_claims(NOW + 60, true))?, &keys),
        Err(JwtError::BadSignature),
        "same kid, another key"
    );
    let stranger = EcKey::generate("k9")?;
    assert_eq!(
        verify(&stranger.sign(&user_claims(NOW + 60, true))?, &keys),
        Err(JwtError::UnknownKey)
    );
    Ok(())
}

#[test]
fn algorithm_confusion_is_refused() -> TestResult {
    // An HS256 token "signed" with the public key's JSON as the secret, naming its kid.
    let key = EcKey::generate("k1")?;
    let keys = keys_of(&json!({ "keys": [key.jwk] }))?;
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    let forged = jsonwebtoken::encode(
        &header,
        &user_claims(NOW + 60, true),
        &EncodingKey::from_secret(key.jwk.to_string().as_bytes()),
    )?;
    assert_eq!(verify(&forged, &keys), Err(JwtError::NoLegacySecret));
    // And an ES256 header is never checked with the HMAC secret.
    let es = key.sign(&user_claims(NOW + 60, true))?;
    let result = UnverifiedToken::decode(&es)?.verify_with_secret(SECRET.as_bytes());
    assert_eq!(result.map(|_| ()), Err(JwtError::UnknownKey));
    Ok(())
}

#[test]
fn unsupported_algorithms_and_malformed_tokens_are_refused() {
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let claims = b64(&user_claims(NOW + 60, true));
    let none = format!("{}.{claims}.", b64(&json!({ "alg": "none" })));
    assert_eq!(
        UnverifiedToken::decode(&none).map(|_| ()),
        Err(JwtError::UnsupportedAlg("none".into()))
    );
    let hs512 = format!("{}.{claims}.c2ln", b64(&json!({ "alg": "HS512" })));
    assert!(matches!(
        UnverifiedToken::decode(&hs512),
        Err(JwtError::UnsupportedAlg(_))
    ));
    let crit = format!(
        "{}.{claims}.c2ln",
        b64(&json!({ "alg": "HS256", "crit": ["exp"] }))
    );
    let long = "a".repeat(MAX_TOKEN_BYTES + 1);
    for bad in [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!.??.**",
        crit.as_str(),
        long.as_str(),
    ] {
        assert_eq!(
            UnverifiedToken::decode(bad).map(|_| ()),
            Err(JwtError::Malformed),
            "{bad:.40}"
        );
    }
}

#[test]
fn claims_are_checked_against_the_injected_now() -> TestResult {
    let check = |claims: &Value| -> Result<UserClaims, JwtError> {
        let token = hs256(claims, SECRET).map_err(|_| JwtError::Malformed)?;
        UnverifiedToken::decode(&token)?
            .verify_with_secret(SECRET.as_bytes())?
            .claims(NOW)
    };
    assert!(
        check(&user_claims(NOW - LEEWAY_SECS + 1, false)).is_ok(),
        "within the leeway"
    );
    assert_eq!(
        check(&user_claims(NOW - LEEWAY_SECS, false)),
        Err(JwtError::Expired)
    );
    assert_eq!(
        check(&user_claims(NOW - 3600, false)),
        Err(JwtError::Expired)
    );
    let mut claims = user_claims(NOW + 60, false);
    claims["nbf"] = json!(NOW + 120);
    assert_eq!(check(&claims), Err(JwtError::NotYetValid));
    let mut claims = user_claims(NOW + 60, false);
    claims.as_object_mut().map(|c| c.remove("exp"));
    assert_eq!(check(&claims), Err(JwtError::MissingClaim("exp")));
    let mut claims = user_claims(NOW + 60, false);
    claims["exp"] = json!("tomorrow");
    assert_eq!(check(&claims), Err(JwtError::MissingClaim("exp")));
    let mut claims = user_claims(NOW + 60, false);
    claims["aud"] = json!("service_role");
    assert_eq!(check(&claims), Err(JwtError::WrongAudience));
    claims["aud"] = json!(["other", "authenticated"]);
    assert!(check(&claims).is_ok());
    claims.as_object_mut().map(|c| c.remove("aud"));
    assert_eq!(check(&claims), Err(JwtError::WrongAudience));
    let mut claims = user_claims(NOW + 60, true);
    claims.as_object_mut().map(|c| c.remove("sub"));
    assert_eq!(check(&claims), Err(JwtError::MissingClaim("sub")));
    let mut claims = user_claims(NOW + 60, true);
    claims["app_metadata"]["vantage_sync_admin"] = json!("true");
    assert!(
        !check(&claims)?.is_sync_admin,
        "only the boolean true makes an admin"
    );
    claims["user_metadata"] = json!({ "vantage_sync_admin": true });
    claims["app_metadata"] = json!({});
    assert!(
        !check(&claims)?.is_sync_admin,
        "user_metadata is the user's to edit"
    );
    claims.as_object_mut().map(|c| c.remove("email"));
    assert_eq!(check(&claims)?.display_name(), "user-1");
    Ok(())
}

#[test]
fn a_keyset_built_by_hand_verifies_too() -> TestResult {
    let key = EcKey::generate("k1")?;
    let parsed = keys_of(&json!({ "keys": [key.jwk] }))?;
    let public = parsed
        .candidates(Alg::Es256, Some("k1"))
        .next()
        .cloned()
        .ok_or("no key")?;
    assert!(matches!(public, PublicKey::Es256(_)));
    let keys = KeySet::from_keys(vec![SigningKey {
        kid: None,
        key: public,
    }]);
    verify(&key.sign(&user_claims(NOW + 60, false))?, &keys)?;
    Ok(())
}

fn tamper_payload(token: &str) -> Result<String, Box<dyn std::error::Error>> {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1])?)?;
    claims["sub"] = json!("someone-else");
    Ok(format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    ))
}
