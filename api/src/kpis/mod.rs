//! Programme KPIs for dashboards: the selection funnel, mentoring, plan actions, events and
//! participations, the catalogue — each computed in SQL (GROUP BY in the database), groupable by
//! edition, country, organisation and month or quarter where that makes sense, and each limited
//! to what the caller's KPIs cover (a mentor's mentees, a municipality's own applications).

pub mod graphql;
pub mod rollup;
pub mod sql;
