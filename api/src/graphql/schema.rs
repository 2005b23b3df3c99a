//! Assembles the schema: the root `Query`/`Mutation` are merged from the domains' roots, and the
//! limits and extensions of the contract are applied from configuration.

use std::collections::HashMap;

use async_graphql::{MergedObject, Schema, SchemaBuilder};

use crate::applications::graphql::{ApplicationMutation, ApplicationQuery};
use crate::applications::pearls::PearlQuery;
use crate::assessment::graphql::{AssessmentMutation, AssessmentQuery};
use crate::audit::graphql::AuditQuery;
use crate::auth::graphql::AuthMutation;
use crate::config::Config;
use crate::editions::graphql::{EditionMutation, EditionQuery};
use crate::events::graphql::{EventMutation, EventQuery};
use crate::graphql::extensions::{Contract, Limits};
use crate::graphql::node::NodeQuery;
use crate::history::graphql::HistoryMutation;
use crate::integrations::graphql::{IntegrationMutation, IntegrationQuery};
use crate::kpis::graphql::KpiQuery;
use crate::live::graphql::Subscription;
use crate::mentoring::graphql::MentoringMutation;
use crate::organisations::graphql::{OrganisationMutation, OrganisationQuery};
use crate::peers::graphql::{PeerMutation, PeerQuery};
use crate::plans::graphql::PlanMutation;
use crate::practices::graphql::{PracticeMutation, PracticeQuery};
use crate::project::graphql::{ProjectMutation, ProjectQuery};
use crate::reporting::graphql::{ReportingMutation, ReportingQuery};
use crate::users::graphql::{UserMutation, UserQuery};
use crate::vocabulary::graphql::{VocabularyMutation, VocabularyQuery};

/// Everything that can be read.
///
/// Text inputs, everywhere (arguments, input fields, list items, inline or as variables): a
/// value holding a NUL character, or longer than the bound of its kind, is refused with
/// BAD_USER_INPUT and `extensions.field` naming it. Bounds in characters: `ID` 128; search
/// texts and filter values (`search` arguments, fields of `…Filter` inputs) 200; e-mail 254;
/// passwords 256; the text forms of `Date`, `DateTime`, `Decimal` and `CountryCode` 64; any
/// other text 100,000. A field may set a tighter bound of its own (its description says so).
#[derive(MergedObject, Default)]
pub struct Query(
    NodeQuery,
    UserQuery,
    OrganisationQuery,
    EditionQuery,
    ApplicationQuery,
    AuditQuery,
    PearlQuery,
    AssessmentQuery,
    VocabularyQuery,
    PracticeQuery,
    EventQuery,
    PeerQuery,
    IntegrationQuery,
    ReportingQuery,
    ProjectQuery,
    KpiQuery,
);

/// Everything that can be changed.
#[derive(MergedObject, Default)]
pub struct Mutation(
    AuthMutation,
    UserMutation,
    OrganisationMutation,
    EditionMutation,
    HistoryMutation,
    ApplicationMutation,
    MentoringMutation,
    PlanMutation,
    AssessmentMutation,
    VocabularyMutation,
    PracticeMutation,
    EventMutation,
    PeerMutation,
    IntegrationMutation,
    ReportingMutation,
    ProjectMutation,
);

/// The portal's schema type.
pub type PearlsSchema = Schema<Query, Mutation, Subscription>;

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription)
}

/// Reads a trusted-documents file: a JSON object mapping sha256 hex to operation text (the format
/// persisted-query manifests of common clients use). The hashes are checked.
pub fn load_trusted_documents(path: &std::path::Path) -> Result<HashMap<String, String>, String> {
    let raw = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let map: HashMap<String, String> = serde_json::from_slice(&raw)
        .map_err(|e| format!("{} is not a JSON object of strings: {e}", path.display()))?;
    for (hash, text) in &map {
        if crate::auth::sha256_hex(text.as_bytes()) != hash.to_lowercase() {
            return Err(format!(
                "trusted document {hash} does not match the sha256 of its text"
            ));
        }
    }
    Ok(map
        .into_iter()
        .map(|(k, v)| (k.to_lowercase(), v))
        .collect())
}

/// Builds the served schema with the configured limits and extensions.
pub fn build(config: &Config) -> Result<PearlsSchema, String> {
    let trusted = match &config.trusted_documents {
        Some(path) => Some(load_trusted_documents(path)?),
        None => None,
    };
    // One extension in all: it wraps every resolved field (graphql/extensions.rs), and it
    // resolves persisted queries and trusted documents too.
    // Depth and complexity are checked by the extension on the figures the library's
    // validation computes (so their errors get their code without reading message text, and
    // introspection can be exempt from the depth limit in development).
    let limits = Limits {
        aliases: config.max_aliases,
        depth: config.max_depth,
        complexity: config.max_complexity,
        introspection_exempt: !config.is_production(),
    };
    let mut b = builder()
        .extension(Contract::new(limits, trusted).with_persisted_queries(config.apq_cache_size))
        .limit_recursive_depth(64)
        .limit_directives(20);
    if config.is_production() {
        b = b.disable_introspection().disable_suggestions();
    }
    Ok(b.finish())
}

/// The SDL `schema.graphql` must equal (the schema does not depend on configuration).
pub fn sdl() -> String {
    builder()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
