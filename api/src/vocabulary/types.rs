//! `VocabularyTerm`.

use async_graphql::{ID, SimpleObject};
use entity::vocabulary_term;

use crate::graphql::enums::TermKind;
use crate::graphql::ids;

/// A term of a managed vocabulary (a theme, a method or a cultural tool).
#[derive(SimpleObject, Clone)]
pub struct VocabularyTerm {
    /// Opaque global id.
    pub id: ID,
    /// The vocabulary.
    pub kind: TermKind,
    /// The term, e.g. "social cohesion".
    pub name: String,
    /// What it covers.
    pub description: String,
    /// Retired terms stay on what already uses them but cannot be chosen any more.
    pub retired: bool,
    /// Optimistic-concurrency version; pass it as `expectedVersion` when updating.
    pub version: i32,
}

impl From<vocabulary_term::Model> for VocabularyTerm {
    fn from(m: vocabulary_term::Model) -> Self {
        Self {
            id: ids::encode("VocabularyTerm", m.id),
            kind: m.kind.into(),
            name: m.name,
            description: m.description,
            retired: m.retired,
            version: m.version,
        }
    }
}
