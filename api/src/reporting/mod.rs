//! Interreg reporting: periods, the work plan, indicators with their values (contributed by
//! partners, or derived from the portal's own data and never typed in), partner reports with
//! expenditure, and the period exports for the programme.

pub mod export;
pub mod figures;
pub mod graphql;
pub mod service;
pub mod types;
