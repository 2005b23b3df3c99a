//! The GraphQL endpoint. The handlers check what async-graphql leaves to the transport: body
//! size, content type, batch size, the per-request time limit, authentication and CSRF (GET runs
//! queries only), and answer every refusal in the GraphQL error format with its code.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::{BatchRequest, BatchResponse, Request, Variables};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use crate::auth::request::authenticate;
use crate::error::{AppError, code};
use crate::graphql::cache::ResponseCache;
use crate::graphql::context::RequestContext;
use crate::graphql::context::Splices;
use crate::graphql::extensions::HttpGet;
use crate::graphql::schema::PearlsSchema;
use crate::policy::Actor;
use crate::state::AppState;

/// A transport-level refusal, shaped like a GraphQL response.
fn refuse(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    if status == StatusCode::UNAUTHORIZED {
        res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
    }
    res.json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }))
}

/// A refusal before execution: authentication failed, or the database could not say who the
/// caller is. Status, headers and body from [`AppError::http_response`]; input and limit errors
/// stay 400 as the transport's own refusals.
fn refuse_app(err: AppError) -> HttpResponse {
    err.http_response()
}

/// The client's address for throttling. Behind a trusted proxy (`PEARLS_TRUST_FORWARDED_FOR`) it
/// is the right-most `X-Forwarded-For` entry: the one the proxy itself appended. Entries to its
/// left come from the client and could be anything, so they are never used. Only a valid IP
/// address is accepted; otherwise the socket peer is used.
fn client_address(req: &HttpRequest, state: &AppState) -> String {
    let peer = || {
        req.peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "unknown".into())
    };
    if !state.config.trust_forwarded_for {
        return peer();
    }
    req.headers()
        .get_all("x-forwarded-for")
        .last()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|hop| hop.trim().parse::<std::net::IpAddr>().ok())
        .map(|ip| ip.to_string())
        .unwrap_or_else(peer)
}

/// Authenticates and runs a batch within the time limit.
async fn run(
    req: &HttpRequest,
    state: &AppState,
    schema: &PearlsSchema,
    batch: BatchRequest,
    via_get: bool,
    media: Media,
) -> HttpResponse {
    let started = std::time::Instant::now();
    let names: Vec<Option<String>> = match &batch {
        BatchRequest::Single(r) => vec![r.operation_name.clone()],
        BatchRequest::Batch(rs) => rs.iter().map(|r| r.operation_name.clone()).collect(),
    };
    let refused = |code: &str| {
        state
            .metrics
            .operation(None, "unknown", started.elapsed(), std::iter::once(code));
    };
    if let BatchRequest::Batch(ops) = &batch {
        if ops.len() > state.config.max_batch {
            return refuse(
                StatusCode::BAD_REQUEST,
                code::QUERY_TOO_COMPLEX,
                &format!("at most {} operations per batch", state.config.max_batch),
            );
        }
        if ops.is_empty() {
            return refuse(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, "empty batch");
        }
    }
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let (actor, user, organisation, data_version) = match authenticate(state, authorization).await {
        Ok(a) => (a.actor, a.user, a.organisation, a.data_version),
        // A client whose access token expired must still be able to get a new one: an operation
        // that only signs in or refreshes runs anonymously despite the stale header.
        Err(AppError::Unauthenticated(_)) if only_signs_in(&batch) => {
            (Actor::Anonymous, None, None, None)
        }
        Err(e) => {
            refused(e.code());
            return refuse_app(e);
        }
    };
    let cache = match cache_lookup(state, &actor, &batch, data_version).await {
        Ok(Lookup::Hit(hit)) => {
            // A stored answer is cheap, not free: it costs the least an operation costs.
            if let Some(budgets) = &state.budgets
                && let Err(wait) = budgets.spend(&actor, 1)
            {
                refused(code::RATE_LIMITED);
                return refuse_app(AppError::rate_limited(wait));
            }
            let name = names.first().cloned().flatten();
            let name = name.as_deref().or(hit.operation.as_deref());
            state
                .metrics
                .operation(name, "query", started.elapsed(), std::iter::empty());
            return answer(hit.body, media);
        }
        Ok(Lookup::Miss(miss)) => Some(miss),
        Ok(Lookup::NotCacheable) => None,
        Err(e) => {
            refused(e.code());
            return refuse_app(e);
        }
    };
    let mut rc = RequestContext::new(actor, state.clone(), client_address(req, state));
    rc.splices = Splices::on();
    rc.user = user;
    rc.organisation = organisation;
    let rc = Arc::new(rc);
    let batch = match batch {
        BatchRequest::Single(r) => BatchRequest::Single(with_data(r, &rc, via_get)),
        BatchRequest::Batch(rs) => {
            BatchRequest::Batch(rs.into_iter().map(|r| with_data(r, &rc, via_get)).collect())
        }
    };
    let executed = within(state.config.request_timeout(), schema.execute_batch(batch)).await;
    let kind = rc.operation_kind.get().copied().unwrap_or("unknown");
    let responses: Vec<&async_graphql::Response> = match &executed {
        Ok(BatchResponse::Single(r)) => vec![r],
        Ok(BatchResponse::Batch(rs)) => rs.iter().collect(),
        Err(_) => Vec::new(),
    };
    let parsed = rc.operation_name.get().cloned();
    for (name, r) in names.iter().zip(responses) {
        let name = name.clone().or_else(|| parsed.clone());
        let codes = r
            .errors
            .iter()
            .filter_map(|e| match e.extensions.as_ref()?.get("code")? {
                async_graphql::Value::String(c) => Some(c.as_str()),
                _ => None,
            });
        state
            .metrics
            .operation(name.as_deref(), kind, started.elapsed(), codes);
    }
    if executed.is_err() {
        let name = names.first().cloned().flatten();
        state.metrics.operation(
            name.as_deref(),
            kind,
            started.elapsed(),
            std::iter::once(code::QUERY_TOO_COMPLEX),
        );
    }
    match executed {
        Ok(BatchResponse::Single(response))
            if cache.is_some()
                && response.errors.is_empty()
                && response.cache_control.value().is_none() =>
        {
            let Some(miss) = cache else {
                unreachable!("checked by the guard")
            };
            match serde_json::to_vec(&response) {
                Ok(body) => {
                    let body = web::Bytes::from(rc.splices.apply(body));
                    miss.cache.put(
                        miss.key,
                        miss.version,
                        &rc.cache_hints,
                        body.clone(),
                        rc.operation_name.get().map(String::as_str),
                    );
                    answer(body, media)
                }
                Err(_) => respond(BatchResponse::Single(response), media, &rc.splices),
            }
        }
        Ok(response) => respond(response, media, &rc.splices),
        // Stopped by the time limit: no data. `application/json` keeps its 200; under
        // `application/graphql-response+json` an answer without data is a 4xx, and a limit
        // exceeded is the client's request error as the other limits are (400).
        Err(_) => media.label(refuse(
            match media {
                Media::Json => StatusCode::OK,
                Media::GraphqlResponse => StatusCode::BAD_REQUEST,
            },
            code::QUERY_TOO_COMPLEX,
            &format!(
                "the request took longer than {} ms and was stopped",
                state.config.request_timeout_ms
            ),
        )),
    }
}

/// Runs `work` for at most `limit`: `Err` when the limit passed first. The deadline is checked
/// before each step of the work, not only while it waits (as `tokio::time::timeout` does,
/// which lets a step that becomes ready after the deadline finish): no step starts once the
/// time is up, so whether a request is stopped does not depend on how its waits happen to line
/// up — a limit of 0 stops every request before its first step.
async fn within<F: std::future::Future>(
    limit: std::time::Duration,
    work: F,
) -> Result<F::Output, ()> {
    use std::task::Poll;
    let deadline = tokio::time::Instant::now() + limit;
    let mut work = std::pin::pin!(work);
    let mut timer = std::pin::pin!(tokio::time::sleep_until(deadline));
    std::future::poll_fn(|cx| {
        if tokio::time::Instant::now() >= deadline {
            return Poll::Ready(Err(()));
        }
        if let Poll::Ready(done) = work.as_mut().poll(cx) {
            return Poll::Ready(Ok(done));
        }
        timer.as_mut().poll(cx).map(|()| Err(()))
    })
    .await
}

/// What the response cache says about a request before it runs.
enum Lookup {
    /// A valid stored answer.
    Hit(crate::graphql::cache::Hit),
    /// Cacheable, not stored (or stale): store the answer under this key at this version.
    Miss(Miss),
    /// A batch, a sign-in, or the cache is off.
    NotCacheable,
}

struct Miss {
    cache: Arc<ResponseCache>,
    key: Box<str>,
    version: i64,
}

/// Looks a single operation up in the node's response cache (`graphql/cache.rs`). The data
/// version comes from the authenticating statement; an anonymous request reads it with a
/// statement of its own (a sign-in does not: it is never cached).
async fn cache_lookup(
    state: &AppState,
    actor: &Actor,
    batch: &BatchRequest,
    data_version: Option<i64>,
) -> Result<Lookup, AppError> {
    let (Some(cache), BatchRequest::Single(r)) = (&state.response_cache, batch) else {
        return Ok(Lookup::NotCacheable);
    };
    let version = match data_version {
        Some(v) => v,
        None if only_signs_in(batch) => return Ok(Lookup::NotCacheable),
        None => crate::db::data_version(&state.db).await?,
    };
    let variables = serde_json::to_string(&r.variables).unwrap_or_default();
    let extensions = serde_json::to_string(
        &r.extensions
            .iter()
            .collect::<std::collections::BTreeMap<_, _>>(),
    )
    .unwrap_or_default();
    let key = ResponseCache::key(
        &crate::policy::response_scope(actor),
        r.operation_name.as_deref(),
        &r.query,
        &variables,
        &extensions,
    );
    Ok(match cache.get(&key, version, state.clock.now()) {
        Some(body) => Lookup::Hit(body),
        None => Lookup::Miss(Miss {
            cache: cache.clone(),
            key,
            version,
        }),
    })
}

/// A 200 answer from an already serialised GraphQL response (one without errors).
fn answer(body: web::Bytes, media: Media) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, media.content_type()))
        .body(body)
}

/// The media type of the answers, negotiated from `Accept` (GraphQL over HTTP):
/// - `application/json`, the default and what older clients expect: GraphQL errors are a 200
///   (but a request the database could not serve is a 503);
/// - `application/graphql-response+json`, when the client accepts it: a request that fails
///   before execution (it does not parse or validate, it is refused, a limit) is a 4xx and its
///   body has no `data` entry, so the status alone tells a client whether anything ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    Json,
    GraphqlResponse,
}

impl Media {
    const GRAPHQL_RESPONSE: &'static str = "application/graphql-response+json";

    /// `application/graphql-response+json` when `Accept` names it (without `q=0`).
    pub fn accepted(req: &HttpRequest) -> Self {
        let accepts = req
            .headers()
            .get_all(header::ACCEPT)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|range| {
                let mut parts = range.split(';').map(str::trim);
                let ty = parts.next().unwrap_or_default();
                ty.eq_ignore_ascii_case(Self::GRAPHQL_RESPONSE)
                    && !parts.any(|p| {
                        p.strip_prefix("q=")
                            .and_then(|q| q.parse::<f32>().ok())
                            .is_some_and(|q| q <= 0.0)
                    })
            });
        if accepts {
            Media::GraphqlResponse
        } else {
            Media::Json
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Media::Json => "application/json",
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }

    /// Gives a JSON answer this media type (transport refusals are built as `application/json`).
    fn label(self, mut res: HttpResponse) -> HttpResponse {
        if self == Media::GraphqlResponse {
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(self.content_type()),
            );
        }
        res
    }
}

/// A response that failed before execution: no data, and errors without a path.
fn request_failed(r: &async_graphql::Response) -> bool {
    r.data == async_graphql::Value::Null
        && !r.errors.is_empty()
        && r.errors.iter().all(|e| e.path.is_empty())
}

/// The status of a request error under `application/graphql-response+json`.
fn request_error_status(r: &async_graphql::Response) -> StatusCode {
    let code = r
        .errors
        .first()
        .and_then(|e| e.extensions.as_ref())
        .and_then(|x| x.get("code"));
    match code {
        Some(async_graphql::Value::String(c)) if c == code::UNAUTHENTICATED => {
            StatusCode::UNAUTHORIZED
        }
        Some(async_graphql::Value::String(c)) if c == code::FORBIDDEN => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Root fields that need no access token.
const SIGN_IN_FIELDS: [&str; 3] = ["login", "refreshSession", "__typename"];

/// Whether every operation of the batch is a mutation selecting only sign-in fields.
fn only_signs_in(batch: &BatchRequest) -> bool {
    use async_graphql::parser::types::{OperationType, Selection};
    let one = |r: &Request| {
        let Ok(doc) = async_graphql::parser::parse_query(&r.query) else {
            return false;
        };
        let op = match &r.operation_name {
            Some(name) => doc
                .operations
                .iter()
                .find(|(n, _)| n.map(|n| n.as_str()) == Some(name.as_str())),
            None => doc.operations.iter().next(),
        };
        op.is_some_and(|(_, op)| {
            op.node.ty == OperationType::Mutation
                && op
                    .node
                    .selection_set
                    .node
                    .items
                    .iter()
                    .all(|s| match &s.node {
                        Selection::Field(f) => SIGN_IN_FIELDS.contains(&f.node.name.node.as_str()),
                        _ => false,
                    })
        })
    };
    match batch {
        BatchRequest::Single(r) => one(r),
        BatchRequest::Batch(rs) => rs.iter().all(one),
    }
}

fn with_data(r: Request, rc: &Arc<RequestContext>, via_get: bool) -> Request {
    let r = r.data(rc.clone());
    if via_get { r.data(HttpGet) } else { r }
}

/// The HTTP answer of an executed request. When the database could not serve it (an error
/// coded UNAVAILABLE), the status is 503 with `Retry-After`, so load balancers and client retry
/// policies see a retryable failure; the body is the GraphQL response all the same.
fn respond(response: BatchResponse, media: Media, splices: &Splices) -> HttpResponse {
    let unavailable = retry_after(&response, code::UNAVAILABLE, false);
    // A spent budget refuses the whole request (a sign-in throttled is a field of a 200).
    let limited = retry_after(&response, code::RATE_LIMITED, true).filter(|_| match &response {
        // In a batch the others may have run (mutations too): 429 only if none did.
        BatchResponse::Batch(rs) => rs.iter().all(request_failed),
        BatchResponse::Single(_) => true,
    });
    let failed = match &response {
        BatchResponse::Single(r) if media == Media::GraphqlResponse && request_failed(r) => {
            Some(request_error_status(r))
        }
        _ => None,
    };
    let mut res = match (unavailable, limited, failed) {
        (Some(_), _, _) => HttpResponse::ServiceUnavailable(),
        (None, Some(_), _) => HttpResponse::TooManyRequests(),
        (None, None, Some(status)) => HttpResponse::build(status),
        (None, None, None) => HttpResponse::Ok(),
    };
    if let Some(secs) = unavailable.or(limited) {
        res.insert_header((header::RETRY_AFTER, secs.to_string()));
    } else if let Some(cc) = response.cache_control().value() {
        res.insert_header((header::CACHE_CONTROL, cc));
    }
    res.insert_header((header::CONTENT_TYPE, media.content_type()));
    match (failed, &response) {
        // Nothing ran: the specification's request error has no `data` entry at all.
        (Some(_), BatchResponse::Single(r)) => res.json(json!({ "errors": r.errors })),
        // The planner's answers go into the body as the text it wrote.
        _ => match serde_json::to_vec(&response) {
            Ok(body) => res.body(splices.apply(body)),
            Err(_) => refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL_SERVER_ERROR,
                "the response could not be written",
            ),
        },
    }
}

/// The longest `retryAfterSeconds` among the response's errors coded `code` (only those of
/// the request itself, without a path, when `request_only`), if it has any.
fn retry_after(response: &BatchResponse, code: &str, request_only: bool) -> Option<u64> {
    let one = |r: &async_graphql::Response| {
        r.errors
            .iter()
            .filter(|e| {
                e.extensions.as_ref().and_then(|x| x.get("code"))
                    == Some(&async_graphql::Value::from(code))
                    && (!request_only || e.path.is_empty())
            })
            .map(|e| {
                match e
                    .extensions
                    .as_ref()
                    .and_then(|x| x.get("retryAfterSeconds"))
                {
                    Some(async_graphql::Value::Number(n)) => n.as_u64().unwrap_or(1),
                    _ => 1,
                }
            })
            .max()
    };
    match response {
        BatchResponse::Single(r) => one(r),
        BatchResponse::Batch(rs) => rs.iter().filter_map(one).max(),
    }
}

/// `POST /graphql` with a JSON body (one operation or a batch array).
pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    schema: web::Data<PearlsSchema>,
) -> HttpResponse {
    let media = Media::accepted(&req);
    media.label(post_body(&req, payload, &state, &schema, media).await)
}

async fn post_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    state: &AppState,
    schema: &PearlsSchema,
    media: Media,
) -> HttpResponse {
    let json_body = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("application/json")
                || ct.starts_with("application/graphql-response+json")
        })
        .unwrap_or(false);
    if !json_body {
        // Form posts and `text/plain` are what cross-site requests can send without a preflight.
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::BAD_USER_INPUT,
            "send GraphQL requests as application/json",
        );
    }
    let limit = state.config.max_body_bytes;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return refuse(
                StatusCode::BAD_REQUEST,
                code::BAD_USER_INPUT,
                "could not read the request body",
            );
        };
        if body.len() + chunk.len() > limit {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                code::QUERY_TOO_COMPLEX,
                &format!("the request body exceeds {limit} bytes"),
            );
        }
        body.extend_from_slice(&chunk);
    }
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                code::BAD_USER_INPUT,
                &format!("the body is not a GraphQL request: {e}"),
            );
        }
    };
    run(req, state, schema, batch, false, media).await
}

/// Query-string form of a GET request.
#[derive(Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// `GET /graphql`: queries only; without a query, GraphiQL (development only).
pub async fn get(
    req: HttpRequest,
    params: web::Query<GetParams>,
    state: web::Data<AppState>,
    schema: web::Data<PearlsSchema>,
) -> HttpResponse {
    let media = Media::accepted(&req);
    let params = params.into_inner();
    if params.query.is_none() && params.extensions.is_none() && !state.config.is_production() {
        return HttpResponse::Ok()
            .content_type(ContentType::html())
            .body(super::graphiql::PAGE);
    }
    media.label(get_query(&req, params, &state, &schema, media).await)
}

async fn get_query(
    req: &HttpRequest,
    params: GetParams,
    state: &AppState,
    schema: &PearlsSchema,
    media: Media,
) -> HttpResponse {
    if params.query.is_none() && params.extensions.is_none() {
        return refuse(
            StatusCode::BAD_REQUEST,
            code::BAD_USER_INPUT,
            "missing query",
        );
    }
    let mut request = Request::new(params.query.unwrap_or_default());
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        match serde_json::from_str::<serde_json::Value>(&vars) {
            Ok(v) => request = request.variables(Variables::from_json(v)),
            Err(_) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    code::BAD_USER_INPUT,
                    "variables must be JSON",
                );
            }
        }
    }
    if let Some(ext) = params.extensions {
        match serde_json::from_str(&ext) {
            Ok(e) => request.extensions = e,
            Err(_) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    code::BAD_USER_INPUT,
                    "extensions must be JSON",
                );
            }
        }
    }
    run(
        req,
        state,
        schema,
        BatchRequest::Single(request),
        true,
        media,
    )
    .await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::within;

    /// The limit is checked before each step: no time at all stops even work that is ready at
    /// once; work that finishes in time is answered; work that waits past the limit is stopped.
    #[tokio::test]
    async fn work_is_stopped_once_its_time_is_up() {
        assert_eq!(within(Duration::ZERO, async { 1 }).await, Err(()));
        assert_eq!(within(Duration::from_secs(60), async { 1 }).await, Ok(1));
        let late = within(Duration::from_millis(5), async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            1
        });
        assert_eq!(late.await, Err(()));
    }
}
