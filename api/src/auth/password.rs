//! Argon2id password hashing. Verification always does the full work, also for unknown accounts
//! (against a dummy hash), so the duration of a failed login says nothing about the account.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{AppError, AppResult};

/// Shortest password accepted when a user is created.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (argon2 hashes anything, but a megabyte "password" is an attack).
pub const MAX_PASSWORD_BYTES: usize = 256;

/// Hashes and verifies passwords with fixed argon2id parameters.
///
/// Each hash holds its memory cost (19 MiB by default) while it runs, so concurrent hashes are
/// bounded by a semaphore (one per CPU): a flood of logins queues instead of exhausting memory.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    dummy_hash: String,
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Passwords {
    /// Argon2id with the given memory (KiB) and iteration costs, parallelism 1.
    pub fn new(memory_kib: u32, iterations: u32) -> Result<Self, String> {
        let params = Params::new(memory_kib, iterations, 1, None).map_err(|e| e.to_string())?;
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut me = Self {
            params,
            dummy_hash: String::new(),
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(cpus)),
        };
        me.dummy_hash = me
            .hash_blocking("dummy password for timing")
            .map_err(|e| format!("{e:?}"))?;
        Ok(me)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_blocking(&self, password: &str) -> AppResult<String> {
        let salt_bytes = crate::auth::random_bytes(16);
        let salt = SaltString::encode_b64(&salt_bytes)
            .map_err(|e| AppError::internal(format!("salt: {e}")))?;
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(format!("hashing: {e}")))
    }

    /// Checks the length rules and hashes a new password (off the async threads).
    pub async fn hash(&self, password: &str) -> AppResult<String> {
        validate_new_password(password)?;
        let me = self.clone();
        let password = password.to_owned();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::internal(format!("hash permits: {e}")))?;
        tokio::task::spawn_blocking(move || me.hash_blocking(&password))
            .await
            .map_err(|e| AppError::internal(format!("hash task: {e}")))?
    }

    /// True when `password` matches `hash`; with no hash (unknown account) it verifies against
    /// the dummy hash and returns false, taking the same time.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        let (known, hash) = match hash {
            Some(h) => (true, h.to_owned()),
            None => (false, self.dummy_hash.clone()),
        };
        let argon2 = self.argon2();
        let password = password.to_owned();
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        let matched = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| argon2.verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        known && matched
    }
}

/// The rules a new password must meet.
pub fn validate_new_password(password: &str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::bad_input(
            "password",
            format!("the password must have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::bad_input(
            "password",
            format!("the password must have at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}
