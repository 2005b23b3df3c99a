//! Applications for the title: creation, editing of drafts and the lifecycle transitions.

pub mod graphql;
pub mod lifecycle;
pub mod service;
pub mod types;
