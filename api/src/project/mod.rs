//! The project's own facts, as the Interreg monitoring systems (keep.eu, Jems) record a project
//! and its partners: kept by the coordinator, carried by the keep.eu export
//! (`reporting/keep.rs`).

pub mod graphql;
pub mod service;
