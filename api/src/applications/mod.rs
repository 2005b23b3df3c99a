//! Applications for the title: creation, editing of drafts and the lifecycle transitions.

pub mod awards;
pub mod graphql;
pub mod lifecycle;
pub mod pearls;
pub mod service;
pub mod types;
