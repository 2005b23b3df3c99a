//! Request budgets per principal: each signed-in user and each integration token may spend
//! `PEARLS_RATE_LIMIT_PER_MINUTE` cost units a minute on a node (a burst of the same size, then
//! refilled evenly: GCRA, the `governor` crate). An operation costs 1 + its complexity / 100,
//! so a runaway dashboard of heavy pages runs out long before one of light polls. Anonymous
//! callers have no budget of their own: they reach only sign-in and published content, and
//! the sign-in throttle covers the former.
//!
//! Per node by design: N nodes behind a load balancer allow up to N budgets. It protects a
//! node's capacity, which is what it is for; a fleet-wide quota belongs in the gateway.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::policy::Actor;

type Keyed = RateLimiter<String, HashMapStateStore<String>, DefaultClock>;

/// The node's budgets.
pub struct Budgets {
    limiter: Keyed,
    clock: DefaultClock,
    per_minute: NonZeroU32,
}

impl Budgets {
    /// `None` when the limit is off (0).
    pub fn new(per_minute: u32) -> Option<Self> {
        let per_minute = NonZeroU32::new(per_minute)?;
        Some(Self {
            limiter: RateLimiter::hashmap(Quota::per_minute(per_minute)),
            clock: DefaultClock::default(),
            per_minute,
        })
    }

    /// What an operation of this complexity costs.
    pub fn cost(complexity: usize) -> u32 {
        u32::try_from(1 + complexity / 100).unwrap_or(u32::MAX)
    }

    /// What a period export or a keep.eu document costs: it reads a whole period's work plan,
    /// reports and figures, as an operation of complexity 10,000 would.
    pub const EXPORT: u32 = 100;
    /// What a calendar file costs: a page of events, as a dashboard list does.
    pub const CALENDAR: u32 = 5;

    /// Charges a download (an export, a calendar) to the caller's budget before it is served:
    /// the same budget GraphQL operations spend, so an integration token cannot take a node's
    /// capacity by pulling files instead of querying.
    pub fn charge(
        budgets: Option<&Self>,
        actor: &Actor,
        cost: u32,
    ) -> Result<(), crate::error::AppError> {
        match budgets {
            Some(b) => b
                .spend(actor, cost)
                .map_err(crate::error::AppError::rate_limited),
            None => Ok(()),
        }
    }

    /// Spends `cost` from the caller's budget, or says after how long it would be there.
    pub fn spend(&self, actor: &Actor, cost: u32) -> Result<(), Duration> {
        let key = match actor {
            Actor::User(p) => format!("u:{}", p.user_id),
            Actor::Integration(i) => format!("t:{}", i.token_id),
            Actor::Anonymous => return Ok(()),
        };
        // An operation dearer than a whole budget is charged the whole budget.
        let n = NonZeroU32::new(cost.min(self.per_minute.get())).unwrap_or(NonZeroU32::MIN);
        match self.limiter.check_key_n(&key, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(self.clock.now())),
            Err(_) => Err(Duration::from_secs(60)),
        }
    }

    /// Forgets callers whose budgets are full again (the janitor calls this).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Integration, Principal};
    use uuid::Uuid;

    fn user(id: u128) -> Actor {
        Actor::User(Principal {
            user_id: Uuid::from_u128(id),
            role: entity::Role::Partner,
            organisation_id: None,
        })
    }

    #[test]
    fn each_principal_spends_its_own_budget() {
        let b = Budgets::new(10).unwrap();
        for _ in 0..5 {
            assert!(b.spend(&user(1), 2).is_ok());
        }
        let wait = b.spend(&user(1), 2).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(12),
            "{wait:?}"
        );
        assert!(
            b.spend(&user(2), 10).is_ok(),
            "another user has a budget of their own"
        );
        let token = Actor::Integration(Integration {
            token_id: Uuid::from_u128(9),
            kpi_read: true,
            reporting_read: false,
        });
        assert!(b.spend(&token, 10).is_ok());
        assert!(b.spend(&token, 1).is_err());
        assert!(b.spend(&Actor::Anonymous, 1_000).is_ok());
        assert!(Budgets::new(0).is_none(), "0 turns the limit off");
        assert_eq!(Budgets::cost(0), 1);
        assert_eq!(Budgets::cost(2_050), 21);
    }
}
