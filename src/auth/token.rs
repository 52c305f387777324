//! Short-lived access JWTs (HS256) and opaque, rotating refresh tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What an access token says: who, which sign-in, until when.
#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    /// User id.
    pub sub: String,
    /// Session (sign-in) id; revoking the session ends the token.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    pub typ: String,
}

/// Signing and verification keys derived from `auth.jwt_secret`.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        TokenKeys { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret) }
    }

    /// Signs an access token for `user_id` in session `session_id`.
    pub fn issue(&self, user_id: &str, session_id: &str, now: i64, ttl_secs: i64) -> Result<String, String> {
        self.issue_kind("access", user_id, session_id, now, ttl_secs)
    }

    /// Checks signature, algorithm and type; expiry is checked against `now` by the caller's clock.
    pub fn verify(&self, token: &str, now: i64) -> Option<AccessClaims> {
        self.verify_kind("access", token, now)
    }

    /// Signs a token of `kind` (`access` for the API, `console` for the console's cookie):
    /// a token of one kind is never accepted as the other.
    pub fn issue_kind(
        &self,
        kind: &str,
        user_id: &str,
        session_id: &str,
        now: i64,
        ttl_secs: i64,
    ) -> Result<String, String> {
        let claims = AccessClaims {
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            iat: now,
            exp: now + ttl_secs,
            typ: kind.into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| format!("token signing failed: {e}"))
    }

    /// Checks a token of `kind`: signature, algorithm, type, and expiry against `now`.
    pub fn verify_kind(&self, kind: &str, token: &str, now: i64) -> Option<AccessClaims> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is judged against the injected clock below, not the system time.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "sub"].iter().map(|s| s.to_string()).collect();
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation).ok()?.claims;
        (claims.typ == kind && claims.exp > now).then_some(claims)
    }
}

/// A new refresh token: the value handed to the client and the digest stored.
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let digest = digest(&token);
    (token, digest)
}

/// SHA-256 of a refresh token, hex; the only form kept in the database.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
        let t = keys.issue("u1", "s1", 1_000, 900).unwrap();
        let c = keys.verify(&t, 1_100).unwrap();
        assert_eq!((c.sub.as_str(), c.sid.as_str()), ("u1", "s1"));
        assert!(keys.verify(&t, 1_900).is_none());
    }

    #[test]
    fn another_key_or_a_changed_token_fails() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
        let other = TokenKeys::new(b"fedcba9876543210fedcba9876543210");
        let t = keys.issue("u1", "s1", 1_000, 900).unwrap();
        assert!(other.verify(&t, 1_100).is_none());
        let mut tampered = t.clone();
        tampered.insert(t.len() - 3, 'x');
        assert!(keys.verify(&tampered, 1_100).is_none());
    }

    #[test]
    fn refresh_tokens_are_random_and_stored_as_digests() {
        let (a, da) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(da, digest(&a));
        assert_eq!(da.len(), 64);
    }
}
