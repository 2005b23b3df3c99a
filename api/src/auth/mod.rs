//! Sign-in: passwords, access tokens, rotating refresh tokens and the login throttle.
//!
//! `service` holds the flows (login, refresh, logout) without any GraphQL types, `graphql` the
//! resolvers that expose them, `request` the bearer-token extraction every request goes through.

pub mod graphql;
pub mod jwt;
pub mod password;
pub mod request;
pub mod service;
pub mod throttle;

use rand::Rng;
use sha2::{Digest, Sha256};

/// Cryptographically random bytes (ThreadRng is a CSPRNG seeded from the OS).
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    rand::rng().fill_bytes(&mut buf);
    buf
}

/// Hex SHA-256, used to store refresh tokens and match trusted documents.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
