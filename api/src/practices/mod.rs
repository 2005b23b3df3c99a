//! The good-practice catalogue: practices written by partners, mentors and coordinators, reviewed
//! and published by the coordinator, searched by everyone (full text, ranked, with typed
//! filters), and cited by plan actions.

pub mod graphql;
pub mod service;
pub mod types;
