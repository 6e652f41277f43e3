//! Who is calling: ETL jobs with a writer token, people with a Supabase user JWT, Prometheus
//! with a writer token or a metrics token (accepted on `metrics` only).
//!
//! Every check here runs before any call to PostgREST. The only upstream call authentication
//! can make is a JWKS fetch from Supabase Auth, for a well-formed ES256/RS256 token whose key
//! is not cached, at most once per [`jwks::JWKS_MIN_REFETCH_MS`].

pub mod jwks;
pub mod user_jwt;
pub mod writer_token;

use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;

use crate::clock::{Clock, unix_seconds};
use crate::error::EdgeError;
use crate::log::Trace;
use crate::upstream::{Upstream, UpstreamErrorKind};
use jwks::{Alg, JwksCache, KeySet};
use user_jwt::{JwtError, UnverifiedToken, UserClaims};
use writer_token::TokenHashes;

/// Where the user-token keys come from.
#[derive(Debug)]
pub enum JwksSource {
    /// Given in the configuration (`SUPABASE_JWKS`).
    Static(Arc<KeySet>),
    /// Fetched from Supabase Auth and cached.
    Fetched(JwksCache),
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// An ETL job holding a writer token.
    Writer,
    /// A signed-in user.
    User(UserClaims),
    /// A scraper holding a metrics token (`VANTAGE_METRICS_TOKEN_SHA256`).
    Metrics,
}

/// What a route accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// Writer tokens only (start, complete, fail, progress, sweep).
    Writer,
    /// User JWTs only (abort).
    User,
    /// Either (health).
    WriterOrUser,
    /// A writer token or a metrics token (metrics).
    WriterOrMetrics,
}

/// The credentials checker.
#[derive(Debug)]
pub struct Authenticator {
    writer_tokens: TokenHashes,
    metrics_tokens: Option<TokenHashes>,
    jwks: JwksSource,
    legacy_secret: Option<Vec<u8>>,
}

impl Authenticator {
    /// A checker for these writer tokens, optional metrics tokens, user-token keys and optional
    /// legacy HS256 secret.
    pub fn new(
        writer_tokens: TokenHashes,
        metrics_tokens: Option<TokenHashes>,
        jwks: JwksSource,
        legacy_secret: Option<Vec<u8>>,
    ) -> Self {
        Self {
            writer_tokens,
            metrics_tokens,
            jwks,
            legacy_secret,
        }
    }

    /// Checks the request's bearer token against what the route accepts.
    pub(crate) async fn authenticate(
        &self,
        headers: &HeaderMap,
        accepts: Accepts,
        upstream: &impl Upstream,
        clock: &impl Clock,
        trace: &mut Trace,
    ) -> Result<Caller, EdgeError> {
        let token = bearer_token(headers)?;
        let is_writer = self.writer_tokens.accepts(token);
        match accepts {
            Accepts::Writer | Accepts::WriterOrUser | Accepts::WriterOrMetrics if is_writer => {
                Ok(Caller::Writer)
            }
            Accepts::Writer => Err(EdgeError::Unauthorized(
                "the bearer token is not a valid writer token".into(),
            )),
            Accepts::WriterOrMetrics => {
                // Checked the same way whether metrics tokens are configured or not.
                let is_metrics = self
                    .metrics_tokens
                    .as_ref()
                    .is_some_and(|tokens| tokens.accepts(token));
                if is_metrics {
                    Ok(Caller::Metrics)
                } else {
                    Err(EdgeError::Unauthorized(
                        "the bearer token is neither a metrics token nor a writer token".into(),
                    ))
                }
            }
            Accepts::User if is_writer => Err(EdgeError::Forbidden(
                "writer tokens cannot abort runs; sign in as a sync admin".into(),
            )),
            Accepts::User | Accepts::WriterOrUser => self
                .verify_user(token, upstream, clock, trace)
                .await
                .map(Caller::User),
        }
    }

    async fn verify_user(
        &self,
        token: &str,
        upstream: &impl Upstream,
        clock: &impl Clock,
        trace: &mut Trace,
    ) -> Result<UserClaims, EdgeError> {
        let unauthorized = |e: JwtError| EdgeError::Unauthorized(e.to_string());
        let unverified = UnverifiedToken::decode(token).map_err(unauthorized)?;
        let verified = if unverified.alg() == Alg::Hs256 {
            let secret = self
                .legacy_secret
                .as_deref()
                .ok_or_else(|| unauthorized(JwtError::NoLegacySecret))?;
            unverified.verify_with_secret(secret)
        } else {
            match &self.jwks {
                JwksSource::Static(keys) => unverified.verify_with_keys(keys),
                JwksSource::Fetched(cache) => {
                    let now_ms = clock.now_unix_ms();
                    let keys = match cache.fresh(now_ms) {
                        Some(keys) => keys,
                        None => self.refetch(cache, upstream, now_ms, trace).await?,
                    };
                    let kid_known = keys
                        .candidates(unverified.alg(), unverified.kid())
                        .next()
                        .is_some();
                    if kid_known {
                        unverified.verify_with_keys(&keys)
                    } else {
                        // Keys rotate: a token may name a key published after our fetch.
                        let keys = self.refetch(cache, upstream, now_ms, trace).await?;
                        unverified.verify_with_keys(&keys)
                    }
                }
            }
        }
        .map_err(unauthorized)?;
        verified.claims(unix_seconds(clock)).map_err(unauthorized)
    }

    /// Fetches the JWKS if the rate limit allows, else returns what is cached.
    async fn refetch(
        &self,
        cache: &JwksCache,
        upstream: &impl Upstream,
        now_ms: f64,
        trace: &mut Trace,
    ) -> Result<Arc<KeySet>, EdgeError> {
        let cached = cache.any();
        if !cache.try_begin_fetch(now_ms) {
            return Ok(cached.unwrap_or_default());
        }
        let request = http::Request::get(cache.url())
            .header(http::header::ACCEPT, "application/json")
            .body(Bytes::new())
            .map_err(|e| EdgeError::internal(format!("building the JWKS request: {e}")))?;
        trace.upstream_calls += 1;
        let failed = |detail: String| match &cached {
            // Stale keys beat no keys while Supabase Auth is unreachable.
            Some(keys) => Ok(Arc::clone(keys)),
            None => Err(EdgeError::UpstreamUnavailable { detail }),
        };
        match upstream.send(request).await {
            Ok(response) if response.status().is_success() => {
                let text = String::from_utf8_lossy(response.body());
                match KeySet::from_jwks_json(&text) {
                    Ok(keys) => Ok(cache.store(keys, now_ms)),
                    Err(e) => {
                        trace.note(format!("the JWKS at {} {e}", cache.url()));
                        failed(format!("the JWKS at {} {e}", cache.url()))
                    }
                }
            }
            Ok(response) => failed(format!(
                "fetching the JWKS at {}: HTTP {}",
                cache.url(),
                response.status().as_u16()
            )),
            Err(e) => {
                let kind = match e.kind {
                    UpstreamErrorKind::Timeout => "timed out",
                    _ => "failed",
                };
                failed(format!(
                    "fetching the JWKS at {} {kind}: {}",
                    cache.url(),
                    e.message
                ))
            }
        }
    }
}

/// The token of `Authorization: Bearer <token>`; 401 when missing or of another scheme.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, EdgeError> {
    let value = headers
        .get(http::header::AUTHORIZATION)
        .ok_or_else(|| EdgeError::Unauthorized("missing Authorization: Bearer <token>".into()))?;
    let value = value.to_str().map_err(|_| {
        EdgeError::Unauthorized("the Authorization header is not plain text".into())
    })?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(|| {
        EdgeError::Unauthorized("the Authorization header must be Bearer <token>".into())
    })?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(EdgeError::Unauthorized(
            "the Authorization header must be Bearer <token>".into(),
        ));
    }
    Ok(token)
}
