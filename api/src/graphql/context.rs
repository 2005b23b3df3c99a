//! Per-request GraphQL context: who is asking, the shared state, and the request's DataLoaders.

use async_graphql::Context;
use async_graphql::dataloader::DataLoader;
use sea_orm::DatabaseConnection;

use crate::graphql::loaders::Loaders;
use crate::policy::Actor;
use crate::state::AppState;

/// Everything a resolver needs, put into each request's data by the HTTP layer.
pub struct RequestContext {
    pub actor: Actor,
    pub state: AppState,
    /// Batches and caches loads for this request only, through the actor's scopes.
    pub loaders: DataLoader<Loaders>,
    /// The client's address (for the login throttle).
    pub client_address: String,
    /// When the caller's access token expires; a subscription ends then (the client reconnects
    /// with a fresh token).
    pub token_expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The session of the caller's access token (a subscription ends when it is ended).
    pub session: Option<uuid::Uuid>,
    /// The signed-in user as authentication read them for this request (so `me` costs no
    /// second read).
    pub user: Option<entity::user::Model>,
    /// That user's organisation as authentication read it (so `me { organisation }` costs no
    /// second read either). Every signed-in user may read every organisation.
    pub organisation: Option<entity::organisation::Model>,
    /// Whether, and until when, this request's answer may be cached (`graphql/cache.rs`).
    pub cache_hints: crate::graphql::cache::CacheHints,
    /// The type of the parsed operation (`query`, `mutation`, `subscription`; `mixed` for a
    /// document with several types), for `/metrics`.
    pub operation_kind: std::sync::OnceLock<&'static str>,
    /// The name of the document's one operation, when it has one named operation (a request
    /// naming its operation in `operationName` is labelled by that), for `/metrics`.
    pub operation_name: std::sync::OnceLock<String>,
}

impl RequestContext {
    pub fn new(actor: Actor, state: AppState, client_address: String) -> Self {
        let loaders = DataLoader::new(
            Loaders {
                db: state.db.clone(),
                actor: actor.clone(),
            },
            // A batch's statements belong to the operation that asked for it (its trace span).
            |batch| tokio::spawn(tracing::Instrument::in_current_span(batch)),
        );
        Self {
            actor,
            state,
            loaders,
            client_address,
            token_expires_at: None,
            session: None,
            user: None,
            organisation: None,
            cache_hints: Default::default(),
            operation_kind: Default::default(),
            operation_name: Default::default(),
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }
}

/// Shorthand for resolvers: `let rc = req(ctx);`. The HTTP layer always puts an
/// `Arc<RequestContext>` into the request data (shared by the operations of a batch).
pub fn req<'a>(ctx: &Context<'a>) -> &'a RequestContext {
    ctx.data_unchecked::<std::sync::Arc<RequestContext>>()
}
