//! The login throttle, kept in the database so that it holds across every API node behind the
//! load balancer: failures are rows, a window is a COUNT over them.
//!
//! Two concurrent attempts may both pass the check before either records its failure, so the
//! limit can be overshot by the number of in-flight attempts — bounded, and still slow, since
//! every failure takes at least the configured delay.

use chrono::{Duration, Utc};
use entity::login_failure;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Throttle key of an account (by normalised e-mail).
pub fn account_key(email: &str) -> String {
    format!("account:{email}")
}

/// Throttle key of a client address.
pub fn address_key(address: &str) -> String {
    format!("address:{address}")
}

/// Refuses with RATE_LIMITED when any key has reached its limit within the window.
pub async fn check(
    db: &impl ConnectionTrait,
    keys: &[(&str, u64)],
    window_secs: u64,
) -> AppResult<()> {
    let since = Utc::now() - Duration::seconds(window_secs as i64);
    for (key, limit) in keys {
        let failures = login_failure::Entity::find()
            .filter(login_failure::Column::ThrottleKey.eq(*key))
            .filter(login_failure::Column::FailedAt.gt(since))
            .count(db)
            .await?;
        if failures >= *limit {
            return Err(AppError::RateLimited {
                message: "too many failed sign-in attempts; try again later".into(),
                retry_after_secs: window_secs,
            });
        }
    }
    Ok(())
}

/// Records one failure under each key and forgets failures older than the window.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    keys: &[&str],
    window_secs: u64,
) -> AppResult<()> {
    let now = Utc::now();
    let expired = now - Duration::seconds(window_secs as i64);
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::ThrottleKey.is_in(keys.iter().copied()))
        .filter(login_failure::Column::FailedAt.lt(expired))
        .exec(db)
        .await?;
    let rows = keys.iter().map(|k| login_failure::ActiveModel {
        id: Set(Uuid::now_v7()),
        throttle_key: Set((*k).to_owned()),
        failed_at: Set(now),
    });
    login_failure::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// Clears an account's failures after a successful sign-in.
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> AppResult<()> {
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::ThrottleKey.eq(key))
        .exec(db)
        .await?;
    Ok(())
}
