//! Assessment: criteria per edition and stage, assessors assigned per edition and stage, their
//! scores and conflict-of-interest declarations, and the ranking with the award policy's
//! proposed winners. Scores are the coordinators' and their own assessors'; a municipality sees
//! its aggregated result only after the stage's decision.

pub mod graphql;
pub mod ranking;
pub mod service;
pub mod types;
