//! An edition's history as a document (issue 16, item 1): the format ([`model`], JSON Schema in
//! `api/schemas/edition-history.schema.json`), its rules ([`check`]), the importer ([`import`]:
//! one transaction with its audit entry, idempotent; [`scoring`] for criteria, assessors and
//! assessments) and the exporter ([`export`]: canonical,
//! so a canonical document round-trips byte for byte). `pearls import edition FILE`,
//! `pearls export edition YEAR` and the coordinators' `importEditionHistory` mutation
//! ([`graphql`]) use them.

pub mod check;
pub mod export;
pub mod graphql;
pub mod import;
pub mod model;
pub mod scoring;

pub use export::export;
pub use import::{ImportReport, import, import_in};
pub use model::EditionHistory;
