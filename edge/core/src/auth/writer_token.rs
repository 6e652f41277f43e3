//! Writer tokens: the bearer secrets ETL jobs hold (and metrics tokens, Prometheus's, kept the
//! same way). The function only knows their SHA-256 hashes (`VANTAGE_WRITER_TOKEN_SHA256`,
//! `VANTAGE_METRICS_TOKEN_SHA256`, several each for rotation) and compares in constant time.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

/// The configured hashes of one kind of token (writer or metrics).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHashes {
    hashes: Vec<[u8; 32]>,
}

impl fmt::Debug for TokenHashes {
    // Hashes are not secrets, but they do not belong in logs either.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHashes({} hashes)", self.hashes.len())
    }
}

impl TokenHashes {
    /// Parses a comma-separated list of SHA-256 hex digests (64 hex characters each; spaces
    /// around entries and upper case are fine). The error says which entry is wrong.
    pub fn from_hex_list(list: &str) -> Result<Self, String> {
        let mut hashes = Vec::new();
        for (index, entry) in list.split(',').map(str::trim).enumerate() {
            if entry.is_empty() {
                continue;
            }
            let hash = decode_hex32(entry).ok_or_else(|| {
                format!(
                    "entry {} is not a SHA-256 hex digest (64 hex characters); make one with: printf %s \"$TOKEN\" | sha256sum",
                    index + 1
                )
            })?;
            hashes.push(hash);
        }
        if hashes.is_empty() {
            return Err(
                "holds no hash; set it to the SHA-256 hex digest of each token, comma-separated"
                    .into(),
            );
        }
        Ok(Self { hashes })
    }

    /// How many tokens are accepted.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether no token is accepted (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Whether `token` is one of these tokens. Hashes first, then compares with every
    /// configured hash without stopping early, so the time taken says nothing about the token.
    pub fn accepts(&self, token: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = Choice::from(0);
        for hash in &self.hashes {
            found |= hash.ct_eq(&presented);
        }
        found.into()
    }
}

/// The SHA-256 of `token` as lowercase hex: what to put in `VANTAGE_WRITER_TOKEN_SHA256`.
pub fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn decode_hex32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "vst_0123456789abcdef";

    #[test]
    fn sha256_hex_matches_a_known_digest() {
        // printf %s abc | sha256sum
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn accepts_each_configured_token_and_nothing_else() -> Result<(), String> {
        let other = "vst_fedcba9876543210";
        let list = format!(
            " {} ,{}",
            sha256_hex(TOKEN),
            sha256_hex(other).to_uppercase()
        );
        let tokens = TokenHashes::from_hex_list(&list)?;
        assert_eq!(tokens.len(), 2);
        assert!(tokens.accepts(TOKEN));
        assert!(tokens.accepts(other));
        for wrong in ["", "vst_", "vst_0123456789abcdeF", &sha256_hex(TOKEN)] {
            assert!(!tokens.accepts(wrong), "{wrong}");
        }
        Ok(())
    }

    #[test]
    fn bad_lists_name_the_entry() {
        let error = TokenHashes::from_hex_list(&format!("{},xyz", sha256_hex(TOKEN)));
        assert!(
            matches!(&error, Err(m) if m.starts_with("entry 2 ")),
            "{error:?}"
        );
        assert!(TokenHashes::from_hex_list(" , ").is_err());
        let not_hex = "g".repeat(64);
        assert!(TokenHashes::from_hex_list(&not_hex).is_err());
    }

    #[test]
    fn debug_shows_only_the_count() -> Result<(), String> {
        let tokens = TokenHashes::from_hex_list(&sha256_hex(TOKEN))?;
        assert_eq!(format!("{tokens:?}"), "TokenHashes(1 hashes)");
        Ok(())
    }
}
