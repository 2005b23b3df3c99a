//! Peer learning: pairs or groups of municipalities (Pearls and candidates) where some share and
//! others learn, facilitated by a mentor; created by the coordinator or by mentors.

pub mod graphql;
pub mod service;
pub mod types;
