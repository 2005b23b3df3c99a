//! Programme events — kick-offs, trainings, webinars, forums, conferences, meetings, study
//! visits, ceremonies, peer-learning meetings — with registration under capacity and deadline,
//! a waiting list that promotes in order, attendance, and iCalendar export.

pub mod calendar;
pub mod graphql;
pub mod service;
pub mod types;
