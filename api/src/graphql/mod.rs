//! The GraphQL platform shared by all domains: schema assembly, ids, connections, loaders,
//! scalars, enums and the extensions that enforce the contract.

pub mod cache;
pub mod connection;
pub mod context;
pub mod enums;
pub mod extensions;
pub mod filter;
pub mod ids;
pub mod inputs;
pub mod loaders;
pub mod node;
pub mod planner;
pub mod scalars;
pub mod schema;
