//! The server's clock for expiry decisions (integration tokens, refresh tokens): the system
//! clock, which tests may move forward to see a token expire without waiting for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

/// The time now, plus an offset that is zero outside tests. Cheap to clone; clones share it.
#[derive(Clone, Default, Debug)]
pub struct Clock(Arc<AtomicI64>);

impl Clock {
    /// The current time as the server decides expiry by.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.0.load(Ordering::Relaxed))
    }

    /// Moves this clock forward (tests: a token's lifetime passes at once).
    pub fn advance(&self, by: chrono::Duration) {
        self.0.fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_runs_ahead_for_every_clone() {
        let clock = Clock::default();
        let shared = clock.clone();
        let before = clock.now();
        shared.advance(chrono::Duration::hours(2));
        assert!(clock.now() - before >= chrono::Duration::hours(2));
    }
}
