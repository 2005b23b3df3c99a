//! CuReAP plans: written by the lead municipality while its application is in CuReAP
//! development, commented by mentors, partners and coordinators, frozen into a numbered version
//! when submitted; and the title-year progress on their actions.

pub mod graphql;
pub mod service;
pub mod types;
