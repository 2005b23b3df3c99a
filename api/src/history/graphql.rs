//! `importEditionHistory`: the coordinators' way to load an edition's history, the same
//! document and importer as `pearls import edition FILE`.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};

use super::model::EditionHistory;
use crate::editions::types::Edition;
use crate::graphql::context::req;
use crate::graphql::scalars::JsonValue;
use crate::policy::rules;

/// An edition's history to load.
#[derive(InputObject)]
pub struct ImportEditionHistoryInput {
    /// The document (format `bsr-cultural-pearls/edition-history`, version 1; JSON Schema in
    /// the repository at `api/schemas/edition-history.schema.json`), as a JSON object.
    pub document: JsonValue,
}

/// What an import did.
#[derive(SimpleObject)]
pub struct ImportEditionHistoryPayload {
    /// The edition the history belongs to.
    pub edition: Edition,
    /// False when the edition already held exactly this history: nothing was written.
    pub changed: bool,
    /// SHA-256 (hex) of the document's canonical text, as the audit entry keeps it.
    pub document_sha256: String,
    /// Applications in the document.
    pub applications: i32,
    /// Municipalities the import registered (the others were found by name and country).
    pub organisations_created: i32,
}

/// Loading history.
#[derive(Default)]
pub struct HistoryMutation;

#[Object]
impl HistoryMutation {
    /// Loads an edition's history — phases and award policy, municipalities, applications with
    /// every decision on its real (effective) date, frozen CuReAP versions and awards — in one
    /// transaction with an `edition.import` audit entry holding the document's SHA-256
    /// (coordinators). No phase is checked against today's date, but the lifecycle, the award
    /// policy, one application per municipality and complete frozen plans are. Importing the
    /// same history again writes nothing (`changed: false`); a document breaking a rule, or
    /// differing from an existing edition, is refused whole with CONFLICT and
    /// `extensions.reasons` listing every problem.
    async fn import_edition_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: ImportEditionHistoryInput,
    ) -> Result<Option<ImportEditionHistoryPayload>> {
        let rc = req(ctx);
        rules::import_edition_history(&rc.actor)?;
        let doc = EditionHistory::from_value(input.document.0)?;
        let report = super::import(rc.db(), &rc.actor, doc).await?;
        Ok(Some(ImportEditionHistoryPayload {
            edition: report.edition.into(),
            changed: report.changed,
            document_sha256: report.sha256,
            applications: report.applications as i32,
            organisations_created: report.organisations_created as i32,
        }))
    }
}
