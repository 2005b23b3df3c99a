//! Users of the portal and their administration by coordinators.

pub mod graphql;
pub mod service;
pub mod types;
