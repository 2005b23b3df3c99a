//! The end-to-end suite, one binary: every test starts the real server on port 0 against a fresh
//! database of its own (see `common`). Each file below covers one area; run one with
//! `cargo test <file>::`, e.g. `cargo test access_table::`.

#[macro_use]
mod common;

mod access_table;
mod administration;
mod applications;
mod assessment;
mod auth;
mod backups;
mod cache;
mod catalogue;
mod events;
mod faults;
mod history;
mod inputs;
mod keep;
mod kpis;
mod performance;
mod planner;
mod plans;
mod platform;
mod readme;
mod reporting;
mod scenario;
mod seed;
mod shutdown;
mod subscriptions;
mod title_cycle;
