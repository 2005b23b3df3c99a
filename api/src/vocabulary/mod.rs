//! Managed vocabularies — themes, methods, cultural tools — edited by the coordinator, so that
//! practices, plan actions, filters and KPIs group by the same terms. A term is renamed in
//! place (references keep their id) and retired rather than deleted (old references stay valid,
//! new ones are refused).

pub mod graphql;
pub mod service;
pub mod types;
