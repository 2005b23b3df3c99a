//! async-graphql extensions that make the server behave as the GraphQL spec and our contract say.
//!
//! - [`FieldErrors`]: *Handling Field Errors*. async-graphql 7.0 lets a field error propagate to
//!   the root, nulling all `data`. This extension catches the error at the failing field: a
//!   nullable field becomes `null` with its error recorded, a non-null field passes the error up
//!   to its parent — which, when nullable, is caught there. Siblings keep their data and keys stay
//!   in query order (7.0 builds objects in selection order). It also gives every error one of the
//!   contract's `extensions.code` values and masks anything unexpected.
//! - [`AliasLimit`]: refuses documents with more aliased fields than configured.
//! - [`TrustedDocuments`]: in trusted-documents mode only allow-listed operations run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
    NextRequest, NextResolve, ResolveInfo,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Request, Response, ServerError, ServerResult, Value, Variables};

use crate::error::code;

/// Factory of [`FieldErrors`] (one instance per request, holding that request's caught errors).
pub struct FieldErrors;

impl ExtensionFactory for FieldErrors {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FieldErrorsExt {
            caught: Mutex::new(Vec::new()),
        })
    }
}

struct FieldErrorsExt {
    caught: Mutex<Vec<ServerError>>,
}

impl FieldErrorsExt {
    fn record(&self, e: ServerError) {
        self.caught
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }
}

/// Extension key of the marker that carries a recorded non-null failure up to its nullable
/// ancestor; markers never reach the client.
const PROPAGATED: &str = "__propagated";

fn is_propagation(e: &ServerError) -> bool {
    e.extensions
        .as_ref()
        .and_then(|x| x.get(PROPAGATED))
        .is_some()
}

fn has_code(e: &ServerError) -> bool {
    e.extensions.as_ref().and_then(|x| x.get("code")).is_some()
}

fn set_code(e: &mut ServerError, code: &str) {
    e.extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
}

/// Gives an error without a code the right one. Errors our code raised always carry a code;
/// the ones that do not come from the library (parsing, validation, limits, input coercion) or
/// from a bug — the latter are logged and reach the client as a bare INTERNAL_SERVER_ERROR.
fn normalise(mut e: ServerError) -> ServerError {
    if has_code(&e) {
        return e;
    }
    let m = e.message.as_str();
    if m.contains("too complex") || m.contains("nested too deep") || m.contains("too many") {
        set_code(&mut e, code::QUERY_TOO_COMPLEX);
    } else if e.path.is_empty()
        || m.starts_with("Failed to parse")
        || m.starts_with("Expected input type")
        || m.starts_with("Invalid value")
        || m.contains("Variable")
    {
        set_code(&mut e, code::BAD_USER_INPUT);
    } else {
        tracing::error!(error = %e.message, path = ?e.path, "unexpected error in a resolver");
        e.message = "internal server error".into();
        e.source = None;
        set_code(&mut e, code::INTERNAL_SERVER_ERROR);
    }
    e
}

#[async_graphql::async_trait::async_trait]
impl Extension for FieldErrorsExt {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        response.errors = std::mem::take(&mut response.errors)
            .into_iter()
            .map(normalise)
            .collect();
        response
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let caught = std::mem::take(&mut *self.caught.lock().unwrap_or_else(|p| p.into_inner()));
        // A marker that reached the root (every ancestor non-null) has nulled `data`; its error
        // is among the recorded ones.
        response.errors.retain(|e| !is_propagation(e));
        let mut errors = caught;
        errors.append(&mut response.errors);
        response.errors = errors;
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let nullable = !info.return_type.ends_with('!');
        match next.run(ctx, info).await {
            Err(e) if is_propagation(&e) && nullable => Ok(Some(Value::Null)),
            Err(e) if is_propagation(&e) => Err(e),
            Err(e) if nullable => {
                self.record(e);
                Ok(Some(Value::Null))
            }
            Err(e) => {
                // A non-null field failed: record the error now, with its exact path (7.0 rewrites
                // the paths of errors passing through list items), and send a marker up to null
                // the nearest nullable ancestor.
                let pos = e.locations.first().copied();
                self.record(e);
                let mut marker = ServerError::new("propagated field error", pos);
                marker
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set(PROPAGATED, true);
                Err(marker)
            }
            ok => ok,
        }
    }
}

/// Integration tokens resolve only the root fields their scopes name
/// ([`crate::policy::rules::integration_may_read`]); any other root field is FORBIDDEN before
/// its resolver runs. Below an allowed root, the row scopes apply as for everyone.
pub struct IntegrationGate;

impl ExtensionFactory for IntegrationGate {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(IntegrationGateExt)
    }
}

struct IntegrationGateExt;

#[async_graphql::async_trait::async_trait]
impl Extension for IntegrationGateExt {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_none()
            && let Some(rc) = ctx.data_opt::<Arc<crate::graphql::context::RequestContext>>()
            && let crate::policy::Actor::Integration(i) = &rc.actor
            && !crate::policy::rules::integration_may_read(i, info.parent_type, info.name)
        {
            let mut e = ServerError::new(
                "this integration token's scopes do not cover this field",
                None,
            );
            set_code(&mut e, code::FORBIDDEN);
            e.path = vec![async_graphql::PathSegment::Field(info.name.to_owned())];
            return Err(e);
        }
        next.run(ctx, info).await
    }
}

/// Refuses documents with more than `max` aliased fields (a cheap amplification vector).
pub struct AliasLimit(pub usize);

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimitExt(self.0))
    }
}

struct AliasLimitExt(usize);

/// Counts the aliased fields an operation would resolve, fragment spreads included (a fragment
/// spread under three aliased parents counts three times). Each fragment is counted once and
/// memoised, so a "fragment bomb" cannot make the counting itself expensive; a spread that
/// refers back to a fragment being counted (a cycle, refused later by validation) counts 0.
struct AliasCounter<'a> {
    doc: &'a ExecutableDocument,
    memo: HashMap<&'a str, usize>,
    visiting: Vec<&'a str>,
}

impl<'a> AliasCounter<'a> {
    fn set(&mut self, set: &'a SelectionSet) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => usize::from(f.node.alias.is_some())
                    .saturating_add(self.set(&f.node.selection_set.node)),
                Selection::InlineFragment(i) => self.set(&i.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str())
                }
            })
            .fold(0usize, usize::saturating_add)
    }

    fn fragment(&mut self, name: &'a str) -> usize {
        if let Some(n) = self.memo.get(name) {
            return *n;
        }
        if self.visiting.contains(&name) {
            return 0;
        }
        let Some((key, fragment)) = self.doc.fragments.get_key_value(name) else {
            return 0;
        };
        self.visiting.push(key.as_str());
        let n = self.set(&fragment.node.selection_set.node);
        self.visiting.pop();
        self.memo.insert(key.as_str(), n);
        n
    }
}

fn aliases_in(doc: &ExecutableDocument) -> usize {
    let mut counter = AliasCounter {
        doc,
        memo: HashMap::new(),
        visiting: Vec::new(),
    };
    doc.operations
        .iter()
        .map(|(_, op)| counter.set(&op.node.selection_set.node))
        .max()
        .unwrap_or(0)
}

#[async_graphql::async_trait::async_trait]
impl Extension for AliasLimitExt {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let n = aliases_in(&doc);
        if n > self.0 {
            let mut e = ServerError::new(
                format!(
                    "the operation uses {n} aliases; at most {} are allowed (too many aliases)",
                    self.0
                ),
                None,
            );
            set_code(&mut e, code::QUERY_TOO_COMPLEX);
            return Err(e);
        }
        Ok(doc)
    }
}

/// Marker put into the data of requests that arrived by HTTP GET.
pub struct HttpGet;

/// Marker put into the session data of a `/graphql/ws` connection.
pub struct WebSocketSession;

/// Which operations each transport carries, checked after persisted queries are resolved (so a
/// hash-only request of a stored operation is checked too):
/// - GET runs queries only: a GET must be safe to follow from a link or an `<img>`, which is what
///   CSRF abuses;
/// - `/graphql/ws` runs subscriptions only: queries and mutations go by POST, where each request
///   is authenticated afresh and runs under the request time limit (a long-lived socket would
///   keep a revoked or expired token's access alive).
pub struct TransportRules;

impl ExtensionFactory for TransportRules {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(TransportRulesExt)
    }
}

struct TransportRulesExt;

#[async_graphql::async_trait::async_trait]
impl Extension for TransportRulesExt {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let only = |ty: OperationType| doc.operations.iter().all(|(_, op)| op.node.ty == ty);
        let refusal = if ctx.data_opt::<HttpGet>().is_some() && !only(OperationType::Query) {
            Some("mutations must be sent with POST")
        } else if ctx.data_opt::<WebSocketSession>().is_some() && !only(OperationType::Subscription)
        {
            Some(
                "the WebSocket carries subscriptions; send queries and mutations with POST /graphql",
            )
        } else {
            None
        };
        if let Some(message) = refusal {
            let mut e = ServerError::new(message, None);
            set_code(&mut e, code::BAD_USER_INPUT);
            return Err(e);
        }
        Ok(doc)
    }
}

/// Trusted-documents mode: the operations allowed, by the hex SHA-256 of their text. A request
/// names one by `extensions.persistedQuery.sha256Hash` (or sends its exact text); anything else is
/// refused with FORBIDDEN before it is parsed.
pub struct TrustedDocuments(pub Arc<HashMap<String, String>>);

impl ExtensionFactory for TrustedDocuments {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(TrustedDocumentsExt(self.0.clone()))
    }
}

struct TrustedDocumentsExt(Arc<HashMap<String, String>>);

fn forbidden(message: &str) -> ServerError {
    let mut e = ServerError::new(message, None);
    set_code(&mut e, code::FORBIDDEN);
    e
}

#[async_graphql::async_trait::async_trait]
impl Extension for TrustedDocumentsExt {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let named = request
            .extensions
            .get("persistedQuery")
            .and_then(|pq| match pq {
                Value::Object(o) => o.get("sha256Hash").cloned(),
                _ => None,
            })
            .and_then(|h| match h {
                Value::String(s) => Some(s),
                _ => None,
            });
        let hash = match named {
            Some(h) => h,
            None if request.query.is_empty() => {
                return Err(forbidden("only trusted documents run on this server"));
            }
            None => crate::auth::sha256_hex(request.query.as_bytes()),
        };
        match self.0.get(&hash) {
            Some(text) => {
                request.query = text.clone();
                request.extensions.remove("persistedQuery");
                next.run(ctx, request).await
            }
            None => Err(forbidden("this operation is not in the trusted documents")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    struct Root;

    struct Child;

    #[Object]
    impl Child {
        async fn ok(&self) -> i32 {
            1
        }
        async fn fails(&self) -> async_graphql::Result<i32> {
            Err(crate::error::AppError::forbidden("no").into())
        }
        async fn maybe(&self) -> async_graphql::Result<Option<i32>> {
            Err(crate::error::AppError::forbidden("no").into())
        }
    }

    #[Object]
    impl Root {
        async fn first(&self) -> Option<Child> {
            Some(Child)
        }
        async fn second(&self) -> i32 {
            2
        }
    }

    fn schema() -> Schema<Root, EmptyMutation, EmptySubscription> {
        Schema::build(Root, EmptyMutation, EmptySubscription)
            .extension(FieldErrors)
            .extension(AliasLimit(3))
            .finish()
    }

    #[tokio::test]
    async fn a_failing_field_nulls_itself_or_its_nearest_nullable_parent() {
        let res = schema()
            .execute("{ first { ok maybe } second }")
            .await
            .into_result()
            .expect_err("one error");
        assert_eq!(res.len(), 1);
        let res = schema().execute("{ first { ok maybe } second }").await;
        let data = res.data.into_json().expect("json");
        assert_eq!(
            data,
            serde_json::json!({ "first": { "ok": 1, "maybe": null }, "second": 2 })
        );
        // A non-null field fails: its nullable parent `first` is null, `second` keeps its data,
        // and the one error names the failing field's path.
        let res = schema().execute("{ first { ok fails } second }").await;
        assert_eq!(
            res.data.into_json().expect("json"),
            serde_json::json!({ "first": null, "second": 2 })
        );
        assert_eq!(res.errors.len(), 1);
        assert_eq!(
            serde_json::to_value(&res.errors[0].path).expect("path"),
            serde_json::json!(["first", "fails"])
        );
    }

    #[tokio::test]
    async fn aliases_in_fragments_count_once_per_use() {
        // Two aliases in the fragment, spread under two aliased parents: 2 + 2×2 = 6 > 3.
        let q = "{ a: first { ...F } b: first { ...F } } fragment F on Child { x: ok y: ok }";
        let res = schema().execute(q).await;
        assert_eq!(res.errors.len(), 1, "{:?}", res.errors);
        assert!(
            res.errors[0].message.contains("6 aliases"),
            "{:?}",
            res.errors
        );
        // A cycle does not hang the count (validation refuses it afterwards).
        let q = "{ first { ...F } } fragment F on Child { ok ...G } fragment G on Child { ...F }";
        let res = schema().execute(q).await;
        assert!(!res.errors.is_empty());
        // Within the limit.
        let res = schema().execute("{ a: first { ok } b: second }").await;
        assert!(res.errors.is_empty(), "{:?}", res.errors);
    }
}
