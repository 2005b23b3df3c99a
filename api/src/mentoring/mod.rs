//! Mentoring: national (and twin) mentors assigned to applications.

pub mod types;
