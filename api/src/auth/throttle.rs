//! The login throttle, kept in the database so that it holds across every API node behind the
//! load balancer: attempts are rows, a window is a COUNT over them.
//!
//! An attempt is recorded *before* the password is checked, and the count that decides includes
//! it; so N concurrent guesses cannot all slip under the limit (each sees the others' rows). A
//! refused attempt removes its own rows again (it guessed nothing); a successful sign-in removes
//! the account's rows and its own address row; a failed one leaves its rows as the failures.
//! Keys are SHA-256 digests, so any e-mail or address fits the column and none is stored in clear.

use chrono::{Duration, Utc};
use entity::login_failure;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

use super::sha256_hex;
use crate::error::{AppError, AppResult};

/// Throttle key of an account (by normalised e-mail).
pub fn account_key(email: &str) -> String {
    format!("account:{}", sha256_hex(email.as_bytes()))
}

/// Throttle key of a client address.
pub fn address_key(address: &str) -> String {
    format!("address:{}", sha256_hex(address.as_bytes()))
}

/// One recorded attempt: the rows to remove if it succeeds.
pub struct Attempt {
    rows: Vec<Uuid>,
}

fn limited(window_secs: u64) -> AppError {
    AppError::RateLimited {
        message: "too many failed sign-in attempts; try again later".into(),
        retry_after_secs: window_secs,
    }
}

/// Records an attempt under each key, then refuses with RATE_LIMITED (removing the attempt)
/// when any key has more attempts than its limit within the window.
pub async fn attempt(
    db: &impl ConnectionTrait,
    keys: &[(&str, u64)],
    window_secs: u64,
) -> AppResult<Attempt> {
    let now = Utc::now();
    let since = now - Duration::seconds(window_secs as i64);
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::ThrottleKey.is_in(keys.iter().map(|(k, _)| *k)))
        .filter(login_failure::Column::FailedAt.lt(since))
        .exec(db)
        .await?;
    let rows: Vec<Uuid> = keys.iter().map(|_| Uuid::now_v7()).collect();
    login_failure::Entity::insert_many(keys.iter().zip(&rows).map(|((k, _), id)| {
        login_failure::ActiveModel {
            id: Set(*id),
            throttle_key: Set((*k).to_owned()),
            failed_at: Set(now),
        }
    }))
    .exec(db)
    .await?;
    for (key, limit) in keys {
        let attempts = login_failure::Entity::find()
            .filter(login_failure::Column::ThrottleKey.eq(*key))
            .filter(login_failure::Column::FailedAt.gte(since))
            .count(db)
            .await?;
        if attempts > *limit {
            forget(db, &rows).await?;
            return Err(limited(window_secs));
        }
    }
    Ok(Attempt { rows })
}

/// Deletes every failure older than the window, whatever its key: an attempt only ever counts
/// the window, and keys that are never tried again (credential stuffing with random e-mails)
/// would otherwise stay forever. Run by the janitor.
pub async fn sweep(db: &impl ConnectionTrait, window_secs: u64) -> AppResult<u64> {
    let since = Utc::now() - Duration::seconds(window_secs.min(i64::MAX as u64 / 1000) as i64);
    Ok(login_failure::Entity::delete_many()
        .filter(login_failure::Column::FailedAt.lt(since))
        .exec(db)
        .await?
        .rows_affected)
}

async fn forget(db: &impl ConnectionTrait, rows: &[Uuid]) -> AppResult<()> {
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::Id.is_in(rows.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// A successful sign-in: the account's failures are forgiven and the attempt does not count.
pub async fn succeeded(
    db: &impl ConnectionTrait,
    account_key: &str,
    attempt: Attempt,
) -> AppResult<()> {
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::ThrottleKey.eq(account_key))
        .exec(db)
        .await?;
    forget(db, &attempt.rows).await
}
