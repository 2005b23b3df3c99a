//! Access tokens: short-lived JWTs signed by this server (HS256 by default, RS256/EdDSA from PEM
//! files) and, optionally, verified against the JWKS of an external identity provider.
//!
//! Verification is strict: the algorithm must be on the allow-list and match the key, a `kid`
//! must name a known key, and `exp`, `nbf`, `iat`, `iss`, `aud` and `sub` are all required.
//! Every failure is the same UNAUTHENTICATED error, so a client learns nothing about why.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::{Config, JwtAlgorithm};
use crate::error::AppError;

/// The claims of an access token (CONVENTIONS.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// The user's role when the token was issued (informational; the database decides).
    pub role: String,
    /// The user's organisation id, if any.
    pub org: Option<String>,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// Unique token id, for log correlation.
    pub jti: String,
    /// The session (refresh-token family) the token belongs to: a token of ours is valid only
    /// while its session is live, so logout and revocation end it at once. Tokens of an
    /// external identity provider have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// A verified token: its claims, and whether we signed it (then its session must be live) or
/// an external identity provider did.
#[derive(Clone)]
pub struct Verified {
    pub claims: Claims,
    pub ours: bool,
}

struct Verifier {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Signs and verifies access tokens.
pub struct TokenKeys {
    signing: EncodingKey,
    algorithm: Algorithm,
    kid: Option<String>,
    verifiers: Vec<Verifier>,
    issuer: String,
    audience: String,
    ttl_secs: i64,
    /// Tokens verified before, by their exact text (see [`VerifiedTokens`]).
    verified: VerifiedTokens,
}

/// Leeway on `exp` and `nbf`, in seconds (for clocks that differ a little between machines).
const LEEWAY: u64 = 5;

/// The tokens this node verified, by their exact text: a client sends the same access token
/// with every request until it expires, and checking its signature and decoding its claims
/// was a sixth of a `me` request's work.
///
/// Exact: everything verification looks at except the time — the text, the keys (loaded once
/// per process: the server's own and the JWKS file's) and the issuer and audience — is fixed,
/// so a token that verified once verifies again until `exp` passes; each use checks `exp` and
/// `nbf` against the current time with the same leeway as a full verification. Only successes
/// are kept. Nothing here needs to agree between nodes (a node that has not seen a token
/// verifies it). Revocation is not verification's business: the authenticating statement
/// checks the session on every request, cached or not. Bounded (least recently used out).
struct VerifiedTokens(std::sync::Mutex<lru::LruCache<Box<str>, Verified>>);

impl VerifiedTokens {
    /// Tokens kept at most. Each holds its text (ours are about 400 bytes) and its claims, so
    /// the cache holds at most about 2,048 × 2.5 KiB ≈ 5 MiB, filled only by tokens that
    /// verified.
    const ENTRIES: usize = 2048;
    /// Longer texts (an identity provider's large tokens) are verified every time.
    const MAX_TEXT: usize = 2048;

    fn new() -> Self {
        Self(std::sync::Mutex::new(lru::LruCache::new(
            std::num::NonZeroUsize::new(Self::ENTRIES).expect("non-zero"),
        )))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, lru::LruCache<Box<str>, Verified>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A kept token, if it is still within its time at `now` (seconds since the epoch).
    fn get(&self, token: &str, now: u64) -> Option<Verified> {
        let mut kept = self.lock();
        let v = kept.get(token)?;
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let leeway = LEEWAY as i64;
        if v.claims.exp < now.saturating_sub(leeway) || v.claims.nbf > now.saturating_add(leeway) {
            kept.pop(token);
            return None;
        }
        Some(v.clone())
    }

    fn put(&self, token: &str, verified: &Verified) {
        if token.len() <= Self::MAX_TEXT {
            self.lock().put(token.into(), verified.clone());
        }
    }
}

/// Allowed algorithms for keys we did not sign with ourselves (JWKS entries).
const JWKS_ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::EdDSA, Algorithm::ES256];

fn read(path: &std::path::Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

impl TokenKeys {
    /// Loads the keys the configuration names. In development without a secret a random one is
    /// generated (tokens then die with the process), with a warning.
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let (signing, own_key, algorithm) = match config.jwt_algorithm {
            JwtAlgorithm::Hs256 => {
                let secret = match config
                    .jwt_secret
                    .as_ref()
                    .map(secrecy::ExposeSecret::expose_secret)
                    .filter(|s| !s.is_empty())
                {
                    Some(s) => {
                        if s.len() < 32 {
                            tracing::warn!(
                                "PEARLS_JWT_SECRET is shorter than 32 bytes: acceptable in development only"
                            );
                        }
                        s.as_bytes().to_vec()
                    }
                    None => {
                        tracing::warn!(
                            "PEARLS_JWT_SECRET is not set: using a random secret; sessions end when the process stops"
                        );
                        crate::auth::random_bytes(32)
                    }
                };
                (
                    EncodingKey::from_secret(&secret),
                    DecodingKey::from_secret(&secret),
                    Algorithm::HS256,
                )
            }
            JwtAlgorithm::Rs256 | JwtAlgorithm::EdDsa => {
                let private = config
                    .jwt_private_key_file
                    .as_ref()
                    .ok_or("PEARLS_JWT_PRIVATE_KEY_FILE is required for RS256 and EdDSA")?;
                let public = config
                    .jwt_public_key_file
                    .as_ref()
                    .ok_or("PEARLS_JWT_PUBLIC_KEY_FILE is required for RS256 and EdDSA")?;
                let (private, public) = (read(private)?, read(public)?);
                if config.jwt_algorithm == JwtAlgorithm::Rs256 {
                    (
                        EncodingKey::from_rsa_pem(&private).map_err(|e| format!("RSA key: {e}"))?,
                        DecodingKey::from_rsa_pem(&public).map_err(|e| format!("RSA key: {e}"))?,
                        Algorithm::RS256,
                    )
                } else {
                    (
                        EncodingKey::from_ed_pem(&private)
                            .map_err(|e| format!("Ed25519 key: {e}"))?,
                        DecodingKey::from_ed_pem(&public)
                            .map_err(|e| format!("Ed25519 key: {e}"))?,
                        Algorithm::EdDSA,
                    )
                }
            }
        };
        let mut verifiers = vec![Verifier {
            kid: config.jwt_kid.clone(),
            algorithm,
            key: own_key,
        }];
        if let Some(path) = &config.jwks_file {
            let set: JwkSet = serde_json::from_slice(&read(path)?)
                .map_err(|e| format!("invalid JWKS in {}: {e}", path.display()))?;
            for jwk in &set.keys {
                let kid = jwk
                    .common
                    .key_id
                    .clone()
                    .ok_or("every JWKS key needs a kid")?;
                let algorithm = match jwk.common.key_algorithm {
                    Some(a) => Algorithm::from_str_checked(&a.to_string())?,
                    None => return Err(format!("JWKS key {kid} has no alg")),
                };
                if !JWKS_ALGORITHMS.contains(&algorithm) {
                    return Err(format!(
                        "JWKS key {kid}: algorithm {algorithm:?} is not allowed"
                    ));
                }
                let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("JWKS key {kid}: {e}"))?;
                verifiers.push(Verifier {
                    kid: Some(kid),
                    algorithm,
                    key,
                });
            }
        }
        Ok(Self {
            signing,
            algorithm,
            kid: config.jwt_kid.clone(),
            verifiers,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            ttl_secs: config.access_token_ttl_secs as i64,
            verified: VerifiedTokens::new(),
        })
    }

    /// Issues an access token for a user's session; returns it with its expiry.
    pub fn issue(
        &self,
        user_id: Uuid,
        role: &str,
        organisation_id: Option<Uuid>,
        session: Uuid,
    ) -> Result<(String, DateTime<Utc>), AppError> {
        let now = Utc::now();
        let exp = now + chrono::Duration::seconds(self.ttl_secs);
        let claims = Claims {
            sub: user_id.to_string(),
            role: role.to_owned(),
            org: organisation_id.map(|o| o.to_string()),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: exp.timestamp(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: Uuid::now_v7().to_string(),
            sid: Some(session.to_string()),
        };
        let mut header = Header::new(self.algorithm);
        header.kid = self.kid.clone();
        let token = jsonwebtoken::encode(&header, &claims, &self.signing)
            .map_err(|e| AppError::internal(format!("signing a token: {e}")))?;
        Ok((token, exp))
    }

    /// Verifies a bearer token and returns its claims, or UNAUTHENTICATED.
    pub fn verify(&self, token: &str) -> Result<Verified, AppError> {
        self.verify_at(token, jsonwebtoken::get_current_timestamp())
    }

    /// [`Self::verify`] at `now` (seconds since the epoch): a token verified before is
    /// answered from [`VerifiedTokens`] while its time holds.
    fn verify_at(&self, token: &str, now: u64) -> Result<Verified, AppError> {
        if let Some(known) = self.verified.get(token, now) {
            return Ok(known);
        }
        let verified = self.verify_fully(token)?;
        self.verified.put(token, &verified);
        Ok(verified)
    }

    /// The signature, the algorithm and every claim, by the library.
    fn verify_fully(&self, token: &str) -> Result<Verified, AppError> {
        let reject = |why: &str| {
            tracing::debug!(reason = why, "access token refused");
            AppError::Unauthenticated("invalid or expired access token".into())
        };
        let header = jsonwebtoken::decode_header(token).map_err(|_| reject("header"))?;
        let (index, verifier) = self
            .verifiers
            .iter()
            .enumerate()
            .find(|(_, v)| v.kid == header.kid && v.algorithm == header.alg)
            .ok_or_else(|| reject("unknown kid or algorithm"))?;
        let mut validation = Validation::new(verifier.algorithm);
        validation.algorithms = vec![verifier.algorithm];
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY;
        let data = jsonwebtoken::decode::<Claims>(token, &verifier.key, &validation)
            .map_err(|_| reject("signature or claims"))?;
        // The first verifier is our own key; the others come from the JWKS.
        let ours = index == 0;
        if ours && data.claims.sid.is_none() {
            return Err(reject("no session"));
        }
        Ok(Verified {
            claims: data.claims,
            ours,
        })
    }

    /// The algorithms this server accepts, for diagnostics.
    pub fn accepted_algorithms(&self) -> HashSet<String> {
        self.verifiers
            .iter()
            .map(|v| format!("{:?}", v.algorithm))
            .collect()
    }
}

trait FromStrChecked: Sized {
    fn from_str_checked(s: &str) -> Result<Self, String>;
}

impl FromStrChecked for Algorithm {
    fn from_str_checked(s: &str) -> Result<Self, String> {
        s.parse::<Algorithm>()
            .map_err(|_| format!("unknown algorithm {s}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ttl: u64) -> TokenKeys {
        let mut config = Config::from_env_for_tests();
        config.jwt_secret = Some(String::from("a-test-secret-a-test-secret-a-test-secret").into());
        config.access_token_ttl_secs = ttl;
        TokenKeys::from_config(&config).expect("keys")
    }

    /// A token verified once answers from the cache with the same claims while its time
    /// holds — and is refused once `exp` (plus the leeway) has passed, as the library refuses
    /// it; a token that fails verification is never kept.
    #[test]
    fn verified_tokens_are_reused_only_within_their_time() {
        let keys = keys(60);
        let (token, exp) = keys
            .issue(Uuid::now_v7(), "PARTNER", None, Uuid::now_v7())
            .expect("issue");
        let now = jsonwebtoken::get_current_timestamp();
        let first = keys.verify_at(&token, now).expect("valid");
        assert_eq!(keys.verified.lock().len(), 1);
        let again = keys.verify_at(&token, now).expect("still valid");
        assert_eq!(again.claims.jti, first.claims.jti);
        assert_eq!(again.claims.sid, first.claims.sid);
        assert!(again.ours);
        // The kept verdict holds within the token's time and the leeway, as the library's
        // check does; past `exp` (or before `nbf`) it is dropped, and the token goes through
        // full verification again (which refuses it once it has expired by the real clock).
        let exp = exp.timestamp() as u64;
        assert!(
            keys.verified.get(&token, exp + LEEWAY).is_some(),
            "within the leeway"
        );
        assert!(
            keys.verified.get(&token, exp + LEEWAY + 1).is_none(),
            "expired"
        );
        assert_eq!(keys.verified.lock().len(), 0, "an expired token is dropped");
        keys.verify_at(&token, now)
            .expect("verified and kept again");
        assert!(
            keys.verified.get(&token, now - LEEWAY - 2).is_none(),
            "not yet valid"
        );
        assert_eq!(keys.verified.lock().len(), 0);

        // A token changed by one character is another text: verified, refused, not kept.
        let mut forged = token.clone();
        let last = forged.pop().expect("non-empty");
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert!(keys.verify_at(&forged, now).is_err());
        assert!(keys.verify_at(&forged, now).is_err());
        assert!(keys.verified.lock().peek(forged.as_str()).is_none());
        // Another server's keys (another secret) do not know this node's kept tokens.
        let mut other = Config::from_env_for_tests();
        other.jwt_secret =
            Some(String::from("another-secret-another-secret-another-secret").into());
        let other = TokenKeys::from_config(&other).expect("keys");
        assert!(other.verify_at(&token, now).is_err());
    }
}
