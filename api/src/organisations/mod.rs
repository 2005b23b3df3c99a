//! Organisations: the lead partner, partners, associated organisations and municipalities.

pub mod graphql;
pub mod service;
pub mod types;
