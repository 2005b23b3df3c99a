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
    /// Planned answers written as JSON text, for the HTTP layer to splice into the body.
    pub splices: Splices,
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
            splices: Splices::default(),
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

/// Planned answers (`graphql/planner`) written as JSON text by the planner, put into the
/// response body as they are instead of being built into a response value and serialised
/// again. The response holds a marker string where each one goes — `pearls-splice:` with a
/// random per-request nonce and a number, so no stored text can be taken for one — and the
/// HTTP layer replaces each marker, quotes included, with its text after serialising. Off
/// (`default`) wherever no HTTP layer splices (a schema executed directly, as unit tests do;
/// the WebSocket runs subscriptions only, which the planner does not answer): the planner then
/// parses its text into the response value.
#[derive(Default)]
pub struct Splices {
    /// The marker prefix (`"pearls-splice:NONCE:` with the opening quote) when splicing.
    prefix: Option<String>,
    texts: std::sync::Mutex<Vec<Vec<u8>>>,
}

impl Splices {
    /// Splicing on, with a fresh nonce.
    pub fn on() -> Self {
        Self {
            prefix: Some(format!(
                "\"pearls-splice:{}:",
                uuid::Uuid::now_v7().simple()
            )),
            texts: Default::default(),
        }
    }

    /// Keeps `text` (one JSON value) and answers the marker to put in its place, or gives the
    /// text back when splicing is off.
    pub fn put(&self, text: Vec<u8>) -> Result<String, Vec<u8>> {
        let Some(prefix) = &self.prefix else {
            return Err(text);
        };
        let mut texts = self.texts.lock().unwrap_or_else(|p| p.into_inner());
        texts.push(text);
        Ok(format!("{}{}", &prefix[1..], texts.len() - 1))
    }

    /// `body` (a serialised response) with each marker replaced by its text.
    pub fn apply(&self, body: Vec<u8>) -> Vec<u8> {
        let texts = self.texts.lock().unwrap_or_else(|p| p.into_inner());
        let Some(prefix) = self.prefix.as_deref().filter(|_| !texts.is_empty()) else {
            return body;
        };
        let extra: usize = texts.iter().map(Vec::len).sum();
        let mut out = Vec::with_capacity(body.len() + extra);
        let mut rest = &body[..];
        while let Some(at) = memchr::memmem::find(rest, prefix.as_bytes()) {
            let after = &rest[at + prefix.len()..];
            let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
            let index = std::str::from_utf8(&after[..digits])
                .ok()
                .and_then(|d| d.parse::<usize>().ok());
            match (index.and_then(|i| texts.get(i)), after.get(digits)) {
                (Some(text), Some(b'"')) => {
                    out.extend_from_slice(&rest[..at]);
                    out.extend_from_slice(text);
                    rest = &after[digits + 1..];
                }
                // Not one of ours (cannot happen: the nonce is this request's): kept as is.
                _ => {
                    out.extend_from_slice(&rest[..at + prefix.len()]);
                    rest = after;
                }
            }
        }
        out.extend_from_slice(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Splices;

    #[test]
    fn markers_are_replaced_by_their_texts_and_nothing_else() {
        let s = Splices::on();
        let a = s.put(br#"{"x":[1,2]}"#.to_vec()).unwrap();
        let b = s.put(b"null".to_vec()).unwrap();
        let body = serde_json::to_vec(&serde_json::json!({
            "data": { "a": a, "b": b, "c": "pearls-splice:someone-else:0" } }))
        .unwrap();
        assert_eq!(
            String::from_utf8(s.apply(body)).unwrap(),
            r#"{"data":{"a":{"x":[1,2]},"b":null,"c":"pearls-splice:someone-else:0"}}"#
        );
        let off = Splices::default();
        assert_eq!(off.put(b"1".to_vec()), Err(b"1".to_vec()));
        assert_eq!(off.apply(b"{}".to_vec()), b"{}".to_vec());
    }
}
