//! Mentoring: national (and twin) mentors assigned to applications, and their sessions.

pub mod graphql;
pub mod service;
pub mod types;
