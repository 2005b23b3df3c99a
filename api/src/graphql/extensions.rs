//! The one async-graphql extension that makes the server behave as the GraphQL spec and our
//! contract say ([`Contract`]). It is one extension, not one per concern, because async-graphql
//! wraps every resolved field in every registered extension's `resolve` hook (a boxed future
//! each, overridden or not): five extensions cost a dashboard page ~1,600 hook calls.
//!
//! - *Handling Field Errors*: async-graphql 7.0 lets a field error propagate to the root,
//!   nulling all `data`. The extension catches the error at the failing field: a nullable field
//!   becomes `null` with its error recorded, a non-null field passes the error up to its parent —
//!   which, when nullable, is caught there. Siblings keep their data and keys stay in query order
//!   (7.0 builds objects in selection order). Every error gets one of the contract's
//!   `extensions.code` values and anything unexpected is masked.
//! - The integration-token gate: integration tokens resolve only the root fields their scopes
//!   name.
//! - Parsed documents: the parsed form of operation texts seen before is reused, and so is
//!   validation's verdict on a document with the same variables.
//! - The alias limit: documents with more aliased fields than configured are refused.
//! - Transport rules: GET runs queries only, the WebSocket subscriptions only.
//! - Trusted documents: in trusted-documents mode only allow-listed operations run.
//! - Text inputs: NUL characters and over-long values are refused before execution, by the one
//!   rule of [`super::inputs`].

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
    NextRequest, NextResolve, NextValidation, ResolveInfo,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{
    Request, Response, ServerError, ServerResult, ValidationResult, Value, Variables,
};

use crate::error::code;

/// The limits an operation must keep (all configurable, CONVENTIONS.md).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Aliased fields in one document.
    pub aliases: usize,
    /// Nesting depth of the selection.
    pub depth: usize,
    /// Complexity (each field 1; page sizes multiply).
    pub complexity: usize,
    /// Whether an operation that only introspects (`__schema`, `__type`) is exempt from the
    /// depth limit — where introspection is enabled at all (development): the standard
    /// introspection query of GraphiQL, graphql-codegen and `gql` nests 15 levels.
    pub introspection_exempt: bool,
}

/// The automatic persisted queries' texts by hash, shared by every request of a node.
type PersistedQueries = Arc<Mutex<lru::LruCache<String, Arc<str>>>>;

/// Factory of the contract's extension; one instance per request holds that request's caught
/// field errors, the parsed-document cache and the persisted queries are shared by all.
pub struct Contract {
    limits: Limits,
    trusted: Option<Arc<HashMap<String, String>>>,
    documents: Arc<Mutex<DocumentCache>>,
    persisted: Option<PersistedQueries>,
}

impl Contract {
    /// `trusted`: the allow-listed operations by the hex SHA-256 of their text, in
    /// trusted-documents mode.
    pub fn new(limits: Limits, trusted: Option<HashMap<String, String>>) -> Self {
        Self {
            limits,
            trusted: trusted.map(Arc::new),
            documents: Arc::new(Mutex::new(DocumentCache::new())),
            persisted: None,
        }
    }

    /// Automatic persisted queries (Apollo's protocol) with at most `entries` texts kept per
    /// node. Without this, or in trusted-documents mode, a hash the server does not know is
    /// `PERSISTED_QUERY_NOT_SUPPORTED`.
    pub fn with_persisted_queries(mut self, entries: usize) -> Self {
        self.persisted =
            NonZeroUsize::new(entries).map(|n| Arc::new(Mutex::new(lru::LruCache::new(n))));
        self
    }
}

impl ExtensionFactory for Contract {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ContractExt {
            caught: Mutex::new(Vec::new()),
            limits: self.limits,
            introspection_only: std::sync::atomic::AtomicBool::new(false),
            trusted: self.trusted.clone(),
            documents: self.documents.clone(),
            persisted: self.persisted.clone(),
            span: std::sync::OnceLock::new(),
            operation_name: std::sync::OnceLock::new(),
            validation: Mutex::new(None),
        })
    }
}

struct ContractExt {
    caught: Mutex<Vec<ServerError>>,
    limits: Limits,
    /// Set when the parsed document only introspects (see [`Limits::introspection_exempt`]).
    introspection_only: std::sync::atomic::AtomicBool,
    trusted: Option<Arc<HashMap<String, String>>>,
    documents: Arc<Mutex<DocumentCache>>,
    persisted: Option<PersistedQueries>,
    /// The operation's trace span, opened by `request` (disabled unless traces are on:
    /// `telemetry.rs`).
    span: std::sync::OnceLock<tracing::Span>,
    /// The operation the request names, kept for the span while traces are on.
    operation_name: std::sync::OnceLock<String>,
    /// Set by `parse_query` for a cached document: validation's known verdict, or where to
    /// keep it.
    validation: Mutex<Option<Validation>>,
}

/// What `parse_query` found out for `validation` about a cached document.
enum Validation {
    /// Validated before with equal variables.
    Known(ValidationResult),
    /// Not yet: keep the result under these variables.
    Remember(Arc<CachedDocument>, Variables),
}

impl ContractExt {
    /// The operation's span when traces are being recorded.
    fn traced(&self) -> Option<&tracing::Span> {
        self.span.get().filter(|s| !s.is_disabled())
    }

    /// Names the operation's span after the parsed document: `query Dashboard`, with the
    /// semantic-convention attributes and the hash of the text (never the text: it may carry
    /// literals).
    fn describe_span(&self, query: &str, doc: &ExecutableDocument) {
        let Some(span) = self.traced() else {
            return;
        };
        let requested = self.operation_name.get().map(String::as_str);
        let op = match &doc.operations {
            DocumentOperations::Single(op) => Some((requested, op.node.ty)),
            DocumentOperations::Multiple(ops) => match requested {
                Some(name) => ops.get(name).map(|op| (Some(name), op.node.ty)),
                None if ops.len() == 1 => ops
                    .iter()
                    .next()
                    .map(|(name, op)| (Some(name.as_str()), op.node.ty)),
                None => None,
            },
        };
        if let Some((name, ty)) = op {
            let ty = match ty {
                OperationType::Query => "query",
                OperationType::Mutation => "mutation",
                OperationType::Subscription => "subscription",
            };
            span.record("graphql.operation.type", ty);
            if let Some(name) = name {
                span.record("graphql.operation.name", name);
            }
            // The span has started (it is entered): its name changes on the exported span
            // itself, as `otel.name` no longer would.
            use opentelemetry::trace::TraceContextExt;
            use tracing_opentelemetry::OpenTelemetrySpanExt;
            span.context().span().update_name(match name {
                Some(name) => format!("{ty} {name}"),
                None => ty.to_owned(),
            });
        }
        if !query.is_empty() {
            span.record(
                "graphql.document.hash",
                crate::auth::sha256_hex(query.as_bytes()),
            );
        }
    }

    fn record(&self, e: ServerError) {
        self.caught
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }

    fn documents(&self) -> std::sync::MutexGuard<'_, DocumentCache> {
        self.documents.lock().unwrap_or_else(|p| p.into_inner())
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

/// An error of the request itself, before execution (parsing, validation, a limit): the
/// hooks that see them give them their code, so no message text is read — except for the two
/// limits the library checks while parsing and reports without a code (recursion depth,
/// directives per field).
fn request_error(mut e: ServerError) -> ServerError {
    if !has_code(&e) {
        let limit = e.message.starts_with("The recursion depth of the query")
            || e.message.starts_with("The number of directives");
        set_code(
            &mut e,
            if limit {
                code::QUERY_TOO_COMPLEX
            } else {
                code::BAD_USER_INPUT
            },
        );
    }
    e
}

/// A QUERY_TOO_COMPLEX refusal.
fn too_complex(message: String) -> ServerError {
    let mut e = ServerError::new(message, None);
    set_code(&mut e, code::QUERY_TOO_COMPLEX);
    e
}

/// Gives an error of execution without a code the right one. Errors our code raised always
/// carry a code; without one they come from the library's coercion of argument values (which
/// reports no code, so its messages are the only sign) or from a bug — the latter are logged
/// and reach the client as a bare INTERNAL_SERVER_ERROR.
fn normalise(mut e: ServerError) -> ServerError {
    if has_code(&e) {
        return e;
    }
    let m = e.message.as_str();
    if e.path.is_empty()
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
impl Extension for ContractExt {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        use tracing::Instrument;
        let span = tracing::info_span!(
            target: crate::telemetry::TRACE_TARGET,
            "graphql.operation",
            otel.name = "GraphQL Operation",
            graphql.operation.name = tracing::field::Empty,
            graphql.operation.type = tracing::field::Empty,
            graphql.document.hash = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        let _ = self.span.set(span.clone());
        let mut response = next.run(ctx).instrument(span).await;
        response.errors = std::mem::take(&mut response.errors)
            .into_iter()
            .map(normalise)
            .collect();
        if let Some(span) = self.traced()
            && let Some(first) = response.errors.first()
        {
            span.record("otel.status_code", "ERROR");
            if let Some(Value::String(c)) = first.extensions.as_ref().and_then(|e| e.get("code")) {
                span.record("error.type", c.as_str());
            }
        }
        response
    }

    /// Persisted documents, before anything is parsed. A request names one by
    /// `extensions.persistedQuery.sha256Hash` (Apollo's automatic persisted queries, version 1).
    /// - Trusted-documents mode ([`Contract::new`]): only the allow-listed operations run, named
    ///   by hash or sent as their exact text; anything else is FORBIDDEN, and a hash outside the
    ///   list is `PERSISTED_QUERY_NOT_SUPPORTED` (registering new ones is not possible here).
    /// - Otherwise ([`Contract::with_persisted_queries`]): a hash alone runs the text stored
    ///   under it or answers `PERSISTED_QUERY_NOT_FOUND` (message `PersistedQueryNotFound`, which
    ///   Apollo clients answer by sending the text along); a hash with its text stores the text
    ///   when the hash matches it (BAD_USER_INPUT when not). Texts are kept per node, least
    ///   recently used first out: a node that does not know a hash says so and is sent the text.
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if self.traced().is_some()
            && let Some(name) = &request.operation_name
        {
            let _ = self.operation_name.set(name.clone());
        }
        let named = match request.extensions.remove("persistedQuery") {
            None => None,
            Some(Value::Object(o)) => match o.get("sha256Hash") {
                Some(Value::String(s)) if o.get("version") == Some(&Value::from(1)) => {
                    Some(s.to_ascii_lowercase())
                }
                _ => {
                    return Err(coded(
                        "persistedQuery needs version 1 and a sha256Hash",
                        code::BAD_USER_INPUT,
                    ));
                }
            },
            Some(_) => {
                return Err(coded(
                    "persistedQuery must be an object",
                    code::BAD_USER_INPUT,
                ));
            }
        };
        if let Some(trusted) = &self.trusted {
            let hash = match &named {
                Some(h) => h.clone(),
                None if request.query.is_empty() => {
                    return Err(forbidden("only trusted documents run on this server"));
                }
                None => crate::auth::sha256_hex(request.query.as_bytes()),
            };
            return match trusted.get(&hash) {
                Some(text) => {
                    request.query = text.clone();
                    next.run(ctx, request).await
                }
                None if named.is_some() && request.query.is_empty() => Err(coded(
                    "PersistedQueryNotSupported: only trusted documents run on this server",
                    code::PERSISTED_QUERY_NOT_SUPPORTED,
                )),
                None => Err(forbidden("this operation is not in the trusted documents")),
            };
        }
        let Some(hash) = named else {
            return next.run(ctx, request).await;
        };
        let Some(store) = &self.persisted else {
            return Err(coded(
                "PersistedQueryNotSupported",
                code::PERSISTED_QUERY_NOT_SUPPORTED,
            ));
        };
        {
            let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
            if request.query.is_empty() {
                match store.get(&hash) {
                    Some(text) => request.query = text.to_string(),
                    None => {
                        return Err(coded(
                            "PersistedQueryNotFound",
                            code::PERSISTED_QUERY_NOT_FOUND,
                        ));
                    }
                }
            } else if crate::auth::sha256_hex(request.query.as_bytes()) == hash {
                // Bounded in bytes as the document cache is: a longer text runs but is not
                // kept (its hash alone then answers PERSISTED_QUERY_NOT_FOUND), so at most
                // entries × 16 KiB are held however the store is fed.
                if request.query.len() <= DocumentCache::MAX_TEXT {
                    store.put(hash, Arc::from(request.query.as_str()));
                }
            } else {
                return Err(coded(
                    "the sha256Hash of persistedQuery is not the hash of the query",
                    code::BAD_USER_INPUT,
                ));
            }
        }
        next.run(ctx, request).await
    }

    /// Cached or parsed, every document then passes the alias limit and the transport rules.
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // An automatic persisted query arrives already parsed with an empty text: never cached.
        let cached = if query.is_empty() {
            None
        } else {
            // Only the `Arc` is taken under the lock every request shares; the copy is made after.
            self.documents().get(query)
        };
        let (doc, entry) = match cached {
            Some(entry) => (entry.doc.clone(), Some(entry)),
            None => {
                let doc = next
                    .run(ctx, query, variables)
                    .await
                    .map_err(request_error)?;
                let entry = if query.is_empty() {
                    None
                } else {
                    self.documents().put(query, &doc)
                };
                (doc, entry)
            }
        };
        if let Some(entry) = entry {
            *self.validation.lock().unwrap_or_else(|p| p.into_inner()) =
                match entry.validated(variables) {
                    Some(known) => Some(Validation::Known(known)),
                    None if CachedDocument::keeps(variables) => {
                        Some(Validation::Remember(entry, variables.clone()))
                    }
                    None => None,
                };
        }
        let n = aliases_in(&doc);
        if n > self.limits.aliases {
            return Err(too_complex(format!(
                "the operation uses {n} aliases; at most {} are allowed (too many aliases)",
                self.limits.aliases
            )));
        }
        self.describe_span(query, &doc);
        transport_rules(ctx, &doc)?;
        super::inputs::check(&ctx.schema_env.registry, &doc, variables)?;
        if let Some(rc) = ctx.data_opt::<std::sync::Arc<super::context::RequestContext>>() {
            rc.cache_hints.set_queries_only(
                doc.operations
                    .iter()
                    .all(|(_, op)| op.node.ty == OperationType::Query),
            );
            let kind = |ty: OperationType| match ty {
                OperationType::Query => "query",
                OperationType::Mutation => "mutation",
                OperationType::Subscription => "subscription",
            };
            let mut kinds = doc.operations.iter().map(|(_, op)| kind(op.node.ty));
            let first = kinds.next().unwrap_or("query");
            let _ = rc.operation_kind.set(if kinds.all(|k| k == first) {
                first
            } else {
                "mixed"
            });
            if let DocumentOperations::Multiple(ops) = &doc.operations
                && ops.len() == 1
                && let Some(name) = ops.keys().next()
            {
                let _ = rc.operation_name.set(name.to_string());
            }
        }
        self.introspection_only.store(
            self.limits.introspection_exempt && introspects_only(&doc),
            std::sync::atomic::Ordering::Relaxed,
        );
        Ok(doc)
    }

    /// The library's validation (every error is BAD_USER_INPUT) — or its verdict on the same
    /// text with equal variables, kept with the parsed document — then the depth and
    /// complexity limits on the figures it computed.
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let known = self
            .validation
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let result = match known {
            Some(Validation::Known(result)) => result,
            remember => {
                let result = next
                    .run(ctx)
                    .await
                    .map_err(|errors| errors.into_iter().map(request_error).collect::<Vec<_>>())?;
                if let Some(Validation::Remember(entry, variables)) = remember {
                    entry.remember(variables, result);
                }
                result
            }
        };
        let exempt = self
            .introspection_only
            .load(std::sync::atomic::Ordering::Relaxed);
        if result.depth > self.limits.depth && !exempt {
            return Err(vec![too_complex(format!(
                "the operation is nested too deep: {} levels, at most {}",
                result.depth, self.limits.depth
            ))]);
        }
        if result.complexity > self.limits.complexity {
            return Err(vec![too_complex(format!(
                "the operation is too complex: {}, at most {}",
                result.complexity, self.limits.complexity
            ))]);
        }
        // The caller's budget is charged by what the operation may cost, before it runs.
        if let Some(rc) = ctx.data_opt::<std::sync::Arc<super::context::RequestContext>>()
            && let Some(budgets) = &rc.state.budgets
        {
            let cost = crate::ratelimit::Budgets::cost(result.complexity);
            if let Err(wait) = budgets.spend(&rc.actor, cost) {
                let e = async_graphql::Error::from(crate::error::AppError::rate_limited(wait));
                return Err(vec![e.into_server_error(Default::default())]);
            }
        }
        Ok(result)
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
        let result = match integration_refusal(ctx, &info) {
            Some(refusal) => Err(refusal),
            None => next.run(ctx, info).await,
        };
        match result {
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
fn integration_refusal(ctx: &ExtensionContext<'_>, info: &ResolveInfo<'_>) -> Option<ServerError> {
    if info.path_node.parent.is_none()
        && let Some(rc) = ctx.data_opt::<Arc<crate::graphql::context::RequestContext>>()
        && let crate::policy::Actor::Integration(i) = &rc.actor
        && !crate::policy::rules::integration_may_read(i, info.parent_type, info.name)
    {
        let mut e = forbidden("this integration token's scopes do not cover this field");
        e.path = vec![async_graphql::PathSegment::Field(info.name.to_owned())];
        return Some(e);
    }
    None
}

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

/// Whether every operation of the document selects only introspection fields at its root
/// (`__schema`, `__type`, `__typename`), through fragments too.
fn introspects_only(doc: &ExecutableDocument) -> bool {
    fn root(doc: &ExecutableDocument, set: &SelectionSet, seen: &mut Vec<String>) -> bool {
        set.items.iter().all(|s| match &s.node {
            Selection::Field(f) => f.node.name.node.starts_with("__"),
            Selection::InlineFragment(i) => root(doc, &i.node.selection_set.node, seen),
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.to_string();
                if seen.contains(&name) {
                    return true;
                }
                seen.push(name.clone());
                doc.fragments
                    .get(name.as_str())
                    .is_some_and(|f| root(doc, &f.node.selection_set.node, seen))
            }
        })
    }
    let mut seen = Vec::new();
    doc.operations.iter().next().is_some()
        && doc
            .operations
            .iter()
            .all(|(_, op)| root(doc, &op.node.selection_set.node, &mut seen))
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

/// The parsed form of operation texts seen before, shared by all requests of this process.
///
/// A frontend sends the same few documents over and over (a dashboard polls one text with new
/// variables). Parsing depends on the text alone, so a cached document is exactly what parsing
/// would return, and nothing here needs to agree between nodes. The checks that follow parsing
/// run on every request, cached or not. Bounded in entries and in text bytes, and texts longer
/// than [`DocumentCache::MAX_TEXT`] are never kept, so a client sending many different documents
/// only evicts entries (least recently used first) and pays what parsing always cost.
struct DocumentCache {
    docs: lru::LruCache<String, Arc<CachedDocument>>,
    text_bytes: usize,
}

/// A parsed document, and validation's verdicts on it.
///
/// Validation depends on the schema (fixed for the process), the document and the variables'
/// values (argument types are checked against them, and a page size given by a variable
/// multiplies the complexity) — nothing else: not the caller, not the data. So a document that
/// passed with equal variables passes again with the same depth and complexity; the limits, the
/// caller's budget and everything after validation still run on every request. Only passes are
/// kept (a refusal is computed afresh, with its messages), for at most
/// [`CachedDocument::VERDICTS`] variable sets per document, each small
/// ([`CachedDocument::keeps`]).
struct CachedDocument {
    doc: ExecutableDocument,
    validated: Mutex<std::collections::VecDeque<(Variables, ValidationResult)>>,
}

impl CachedDocument {
    /// Variable sets kept per document (a dashboard polls with a few).
    const VERDICTS: usize = 8;
    /// Bytes of text (strings, names) a kept variable set holds at most.
    const VARIABLE_BYTES: usize = 1024;

    fn new(doc: ExecutableDocument) -> Self {
        Self {
            doc,
            validated: Mutex::new(std::collections::VecDeque::new()),
        }
    }

    fn verdicts(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::VecDeque<(Variables, ValidationResult)>> {
        self.validated.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn validated(&self, variables: &Variables) -> Option<ValidationResult> {
        self.verdicts()
            .iter()
            .find(|(v, _)| v == variables)
            .map(|(_, result)| *result)
    }

    fn remember(&self, variables: Variables, result: ValidationResult) {
        let mut verdicts = self.verdicts();
        if verdicts.iter().any(|(v, _)| *v == variables) {
            return;
        }
        if verdicts.len() >= Self::VERDICTS {
            verdicts.pop_back();
        }
        verdicts.push_front((variables, result));
    }

    /// Whether a variable set is small enough to keep (a large input is validated each time).
    fn keeps(variables: &Variables) -> bool {
        /// Takes `n` bytes from the budget, if they are left.
        fn take(budget: &mut usize, n: usize) -> bool {
            budget.checked_sub(n).map(|rest| *budget = rest).is_some()
        }
        fn weigh(value: &async_graphql::Value, budget: &mut usize) -> bool {
            use async_graphql::Value as V;
            let bytes = match value {
                V::String(s) => s.len(),
                V::Enum(n) => n.len(),
                V::Binary(b) => b.len(),
                _ => 8,
            };
            take(budget, bytes)
                && match value {
                    V::List(items) => items.iter().all(|v| weigh(v, budget)),
                    V::Object(fields) => fields
                        .iter()
                        .all(|(k, v)| take(budget, k.len()) && weigh(v, budget)),
                    _ => true,
                }
        }
        let mut budget = Self::VARIABLE_BYTES;
        variables
            .iter()
            .all(|(k, v)| take(&mut budget, k.len()) && weigh(v, &mut budget))
    }
}

impl DocumentCache {
    /// Documents kept at most.
    const ENTRIES: usize = 256;
    /// Sum of the kept documents' text lengths at most (their parsed form is about ten times
    /// larger, so a few MiB in all).
    const TEXT_BUDGET: usize = 512 * 1024;
    /// Longer texts are parsed every time.
    const MAX_TEXT: usize = 16 * 1024;

    fn new() -> Self {
        Self {
            docs: lru::LruCache::new(NonZeroUsize::new(Self::ENTRIES).expect("non-zero")),
            text_bytes: 0,
        }
    }

    fn get(&mut self, text: &str) -> Option<Arc<CachedDocument>> {
        self.docs.get(text).cloned()
    }

    /// Keeps a parsed text (unless too long) and answers its entry.
    fn put(&mut self, text: &str, doc: &ExecutableDocument) -> Option<Arc<CachedDocument>> {
        if text.len() > Self::MAX_TEXT {
            return None;
        }
        if let Some(entry) = self.docs.get(text) {
            return Some(entry.clone());
        }
        while self.text_bytes + text.len() > Self::TEXT_BUDGET || self.docs.len() >= Self::ENTRIES {
            match self.docs.pop_lru() {
                Some((old, _)) => self.text_bytes -= old.len(),
                None => break,
            }
        }
        self.text_bytes += text.len();
        let entry = Arc::new(CachedDocument::new(doc.clone()));
        self.docs.put(text.to_owned(), entry.clone());
        Some(entry)
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
fn transport_rules(ctx: &ExtensionContext<'_>, doc: &ExecutableDocument) -> ServerResult<()> {
    let only = |ty: OperationType| doc.operations.iter().all(|(_, op)| op.node.ty == ty);
    let refusal = if ctx.data_opt::<HttpGet>().is_some() && !only(OperationType::Query) {
        Some("mutations must be sent with POST")
    } else if ctx.data_opt::<WebSocketSession>().is_some() && !only(OperationType::Subscription) {
        Some("the WebSocket carries subscriptions; send queries and mutations with POST /graphql")
    } else {
        None
    };
    if let Some(message) = refusal {
        let mut e = ServerError::new(message, None);
        set_code(&mut e, code::BAD_USER_INPUT);
        return Err(e);
    }
    Ok(())
}

/// A FORBIDDEN error.
fn forbidden(message: &str) -> ServerError {
    coded(message, code::FORBIDDEN)
}

fn coded(message: &str, code: &str) -> ServerError {
    let mut e = ServerError::new(message, None);
    set_code(&mut e, code);
    e
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
        /// A page whose size multiplies the complexity, as `first:` does in the schema.
        #[graphql(complexity = "n.max(0) as usize * child_complexity")]
        async fn many(&self, n: i32) -> Vec<Child> {
            (0..n.clamp(0, 3)).map(|_| Child).collect()
        }
    }

    fn limits(aliases: usize) -> Limits {
        Limits {
            aliases,
            depth: 12,
            complexity: 1000,
            introspection_exempt: true,
        }
    }

    fn schema() -> Schema<Root, EmptyMutation, EmptySubscription> {
        Schema::build(Root, EmptyMutation, EmptySubscription)
            .extension(Contract::new(limits(3), None))
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

    /// What [`Contract`] is built on: in async-graphql 7.0 an object whose field fails — even
    /// a nullable field — fails as a whole (the library bails out of the container at the
    /// first error), so its nearest nullable ancestor is nulled with all its other fields;
    /// the extension catches errors at the failing field instead. async-graphql 7.1 changed
    /// exactly this ("Don't bail early on first error when resolving containers", upstream
    /// pull request #1746) and builds objects in completion order; the pin in Cargo.toml
    /// (`>=7.0.17, <7.1`) is for that. If this test fails after an upgrade, the library keeps
    /// partial results itself: re-check `resolve` (the per-field catching may become
    /// unnecessary) and the key-order test in `tests/platform.rs` before widening the pin.
    #[tokio::test]
    async fn the_library_alone_nulls_a_whole_object_for_one_failing_field() {
        let bare = Schema::build(Root, EmptyMutation, EmptySubscription).finish();
        let res = bare.execute("{ first { ok maybe } second }").await;
        assert_eq!(res.errors.len(), 1);
        assert_eq!(
            res.data.into_json().expect("json"),
            serde_json::json!({ "first": null, "second": 2 }),
            "async-graphql's error propagation changed: see this test's comment"
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

    #[tokio::test]
    async fn parsed_documents_answer_as_parsing_does_and_stay_bounded() {
        let contract = Contract::new(limits(3), None);
        let documents = contract.documents.clone();
        let cached = Schema::build(Root, EmptyMutation, EmptySubscription)
            .extension(contract)
            .finish();
        for q in [
            "{ first { ok maybe } second }",
            "{ first { ok maybe } second }",
            "{ a: first { ok } b: first { ok } c: first { ok } d: second }",
            "{ a: first { ok } b: first { ok } c: first { ok } d: second }",
            "{ first { nope } }",
            "{ first { nope } }",
        ] {
            let fresh = Schema::build(Root, EmptyMutation, EmptySubscription)
                .extension(Contract::new(limits(3), None))
                .finish()
                .execute(q)
                .await;
            let again = cached.execute(q).await;
            assert_eq!(
                serde_json::to_value(&again).expect("json"),
                serde_json::to_value(&fresh).expect("json"),
                "{q}"
            );
        }
        // Kept: the three texts that parse. The alias limit still refuses the second on every
        // request, cached or not, and validation still refuses the third.
        assert_eq!(documents.lock().expect("lock").docs.len(), 3);
        // An already parsed request (an automatic persisted query) has no text: not cached.
        let mut request = Request::new("");
        request.set_parsed_query(async_graphql::parser::parse_query("{ second }").expect("ok"));
        assert!(cached.execute(request).await.errors.is_empty());
        assert!(documents.lock().expect("lock").get("").is_none());

        // Bounded by entries and by text bytes; long texts are never kept.
        let doc = async_graphql::parser::parse_query("{ second }").expect("parses");
        let mut c = DocumentCache::new();
        for i in 0..DocumentCache::ENTRIES + 10 {
            c.put(&format!("{{ second }} # {i}"), &doc);
        }
        assert_eq!(c.docs.len(), DocumentCache::ENTRIES);
        assert!(c.get("{ second } # 0").is_none(), "the oldest was evicted");
        assert!(
            c.get(&format!("{{ second }} # {}", DocumentCache::ENTRIES + 9))
                .is_some()
        );
        let long = "x".repeat(DocumentCache::MAX_TEXT + 1);
        c.put(&long, &doc);
        assert!(c.get(&long).is_none());
        let big = DocumentCache::MAX_TEXT - 100;
        for i in 0..DocumentCache::TEXT_BUDGET / big + 5 {
            c.put(&format!("{i:0>big$}"), &doc);
        }
        assert!(c.text_bytes <= DocumentCache::TEXT_BUDGET);
        assert_eq!(
            c.text_bytes,
            c.docs.iter().map(|(k, _)| k.len()).sum::<usize>()
        );
    }

    /// Validation's verdict is reused only for the same text with equal variables: a page
    /// size given by a variable changes the complexity, so the same document is let through
    /// with one value and refused by the complexity limit with another, on every request,
    /// whatever was kept before (the limit is checked on the kept figures each time); a
    /// document validation refuses keeps no verdict.
    #[tokio::test]
    async fn validation_verdicts_are_kept_per_document_and_variables() {
        let contract = Contract::new(limits(3), None);
        let documents = contract.documents.clone();
        let schema = Schema::build(Root, EmptyMutation, EmptySubscription)
            .extension(contract)
            .finish();
        let q = "query($n: Int!) { many(n: $n) { ok } }";
        let run = |n: i64| {
            let schema = schema.clone();
            async move {
                let vars = Variables::from_json(serde_json::json!({ "n": n }));
                schema.execute(Request::new(q).variables(vars)).await
            }
        };
        let verdicts = || {
            documents
                .lock()
                .expect("lock")
                .get(q)
                .map(|d| d.verdicts().len())
                .unwrap_or_default()
        };
        for round in 0..3 {
            let ok = run(2).await;
            assert!(ok.errors.is_empty(), "{:?}", ok.errors);
            assert_eq!(
                ok.data.into_json().expect("json"),
                serde_json::json!({ "many": [{ "ok": 1 }, { "ok": 1 }] })
            );
            assert_eq!(
                verdicts(),
                if round == 0 { 1 } else { 2 },
                "n = 2 kept once"
            );
            // Complexity 5,000 > 1,000: refused although the text's verdict for n = 2 is kept.
            let refused = run(5000).await;
            assert_eq!(refused.errors.len(), 1, "{:?}", refused.errors);
            assert!(
                refused.errors[0].message.contains("too complex"),
                "{:?}",
                refused.errors
            );
            assert_eq!(verdicts(), 2, "n = 2 and n = 5000 (complexity 5,000)");
        }
        // Validation refuses a field the type lacks, every time, and keeps nothing for it.
        let bad = "{ first { nope } }";
        for _ in 0..2 {
            let res = schema.execute(bad).await;
            assert_eq!(res.errors.len(), 1, "{:?}", res.errors);
        }
        assert!(
            documents
                .lock()
                .expect("lock")
                .get(bad)
                .is_none_or(|d| d.verdicts().is_empty())
        );
        // Another passing value gets its own verdict; at most VERDICTS are kept per document.
        for n in 0..20 {
            assert!(run(n).await.errors.is_empty());
        }
        assert_eq!(verdicts(), CachedDocument::VERDICTS);
        // A large variable set is validated every time and never kept.
        let mut big = Variables::default();
        big.insert(async_graphql::Name::new("n"), Value::from(1));
        big.insert(async_graphql::Name::new("x"), Value::from("y".repeat(2000)));
        assert!(!CachedDocument::keeps(&big));
        assert!(CachedDocument::keeps(&Variables::from_json(
            serde_json::json!({ "n": 1, "s": "short", "l": [1, 2, { "k": "v" }] })
        )));
    }
}
