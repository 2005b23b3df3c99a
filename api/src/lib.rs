//! The BSR Cultural Pearls portal backend: an actix-web server with an async-graphql schema over
//! SeaORM entities. See README.md for the map of modules.

pub mod applications;
pub mod assessment;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod editions;
pub mod error;
pub mod events;
pub mod graphql;
pub mod history;
pub mod http;
pub mod integrations;
pub mod janitor;
pub mod kpis;
pub mod live;
pub mod mentoring;
pub mod metrics;
pub mod organisations;
pub mod peers;
pub mod plans;
pub mod policy;
pub mod practices;
pub mod project;
pub mod ratelimit;
pub mod reporting;
pub mod search;
pub mod seed;
pub mod startup;
pub mod state;
pub mod telemetry;
#[cfg(test)]
pub(crate) mod testing;
pub mod users;
pub mod vocabulary;
