//! Periodic housekeeping of rows that only ever count within a window: login failures older
//! than the throttle window, and live events older than the replay window. Each node runs it
//! (deleting what another node already deleted is a no-op), so nothing depends on a particular
//! node being up; it stops when the server shuts down.

use std::time::Duration;

use crate::error::AppResult;
use crate::state::AppState;

/// What one sweep removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub login_failures: u64,
    pub live_events: u64,
}

/// One sweep.
pub async fn sweep_once(state: &AppState) -> AppResult<Swept> {
    if let Some(budgets) = &state.budgets {
        budgets.forget_idle();
    }
    Ok(Swept {
        login_failures: crate::auth::throttle::sweep(&state.db, state.config.login_window_secs)
            .await?,
        live_events: crate::live::sweep(&state.db).await?,
    })
}

/// Sweeps every `every` until the server shuts down. A failed sweep (the database away) is
/// logged and tried again at the next tick.
pub fn spawn(state: AppState, every: Duration) {
    let mut shutdown = state.shutdown.subscribe();
    tokio::spawn(async move {
        // The first sweep one interval after the start, not at once: a node that starts does
        // not add a burst of deletes to its first requests.
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => match sweep_once(&state).await {
                    Ok(swept) if swept != Swept::default() => {
                        tracing::info!(?swept, "janitor swept expired rows");
                    }
                    Ok(_) => {}
                    Err(e) => e.log(),
                },
                _ = shutdown.changed() => return,
            }
        }
    });
}
