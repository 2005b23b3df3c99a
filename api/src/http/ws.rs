//! `GET /graphql/ws`: GraphQL subscriptions over WebSocket with the `graphql-transport-ws`
//! protocol. The access token travels in the `connection_init` payload
//! (`{"authorization": "Bearer …"}`; `token` and `accessToken` are accepted too): browsers cannot
//! set headers on a WebSocket, and a token in the URL would end up in logs. A connection whose
//! init carries no valid person's token is closed with 4403 (integration tokens cannot
//! subscribe); the socket carries subscriptions only (queries and mutations go by POST), with
//! the same schema, limits and access policy as over HTTP.
//!
//! The socket never ends a subscription silently: when the token expires, the session ends,
//! the user's rights change, the database cannot be read or the server shuts down, it closes
//! with the code of [`crate::live::Close`], and the client reconnects with its last cursor.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::Data;
use async_graphql::http::{WebSocket, WebSocketProtocols as Protocols, WsMessage};
use futures_util::StreamExt;

use crate::auth::request::authenticate_token;
use crate::graphql::context::RequestContext;
use crate::graphql::extensions::WebSocketSession;
use crate::graphql::schema::PearlsSchema;
use crate::live::{Close, SocketControl};
use crate::state::AppState;

/// Longest message a client may send (a subscription document with variables).
const MAX_FRAME: usize = 64 * 1024;

/// How often an open socket checks, without events, that its user is still signed in with the
/// same rights (a deactivation or role change closes it within this time; an expired token
/// within a second).
const RECHECK_EVERY_SECS: u32 = 30;

fn token_of(payload: &serde_json::Value) -> Option<String> {
    let obj = payload.as_object()?;
    let raw = ["authorization", "Authorization", "token", "accessToken"]
        .iter()
        .find_map(|k| obj.get(*k))
        .and_then(|v| v.as_str())?;
    // The scheme is optional here: clients put the bare token in the payload too.
    let t = crate::auth::request::bearer(raw).unwrap_or(raw.trim());
    (!t.is_empty()).then(|| t.to_owned())
}

/// Counts a socket as open for `/metrics` while it lives.
struct OpenSocket(prometheus::IntGauge);

impl OpenSocket {
    fn enter(gauge: &prometheus::IntGauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Upgrades the request and serves the subscription protocol until either side closes.
pub async fn subscriptions(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    schema: web::Data<PearlsSchema>,
) -> actix_web::Result<HttpResponse> {
    let offered = req
        .headers()
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(protocol) = offered
        .split(',')
        .map(str::trim)
        .find(|p| p.eq_ignore_ascii_case("graphql-transport-ws"))
        .map(|_| Protocols::GraphQLWS)
    else {
        return Ok(
            HttpResponse::BadRequest().json(serde_json::json!({ "errors": [{
                "message": "use the graphql-transport-ws WebSocket subprotocol",
                "extensions": { "code": crate::error::code::BAD_USER_INPUT } }] })),
        );
    };
    let (mut response, mut session, messages) = actix_ws::handle(&req, body)?;
    response.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        header::HeaderValue::from_static(protocol.sec_websocket_protocol()),
    );
    let client_address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let state = state.get_ref().clone();
    let schema = schema.get_ref().clone();
    let (control, mut close_requests) = SocketControl::new();
    let mut shutdown = state.shutdown.subscribe();
    // The connection's context once `connection_init` signed it in.
    let signed_in: Arc<std::sync::Mutex<Option<Arc<RequestContext>>>> = Default::default();
    let init_signed_in = signed_in.clone();
    let open = OpenSocket::enter(&state.metrics.sockets);
    actix_web::rt::spawn(async move {
        let _open = open;
        let (closer, mut closed) = tokio::sync::oneshot::channel::<()>();
        let mut closer = Some(closer);
        let input = messages
            .max_frame_size(MAX_FRAME)
            .take_while(move |m| {
                let go = matches!(
                    m,
                    Ok(actix_ws::Message::Text(_))
                        | Ok(actix_ws::Message::Binary(_))
                        | Ok(actix_ws::Message::Ping(_))
                        | Ok(actix_ws::Message::Pong(_))
                );
                if !go && let Some(c) = closer.take() {
                    let _ = c.send(());
                }
                std::future::ready(go)
            })
            .filter_map(|m| {
                std::future::ready(match m {
                    Ok(actix_ws::Message::Text(t)) => Some(t.as_bytes().to_vec()),
                    Ok(actix_ws::Message::Binary(b)) => Some(b.to_vec()),
                    _ => None,
                })
            });
        let init_state = state.clone();
        // async-graphql closes a refused `connection_init` with 1002; the protocol says 4403.
        let refused = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let init_refused = refused.clone();
        let mut stream =
            WebSocket::new(schema, input, protocol).on_connection_init(move |payload| async move {
                let refuse = |message: String| {
                    init_refused.store(true, std::sync::atomic::Ordering::Relaxed);
                    async_graphql::Error::new(message)
                };
                let token = token_of(&payload).ok_or_else(|| {
                    refuse("send the access token in the connection_init payload".into())
                })?;
                let who = authenticate_token(&init_state, &token)
                    .await
                    .map_err(|e| refuse(e.public_message()))?;
                if !matches!(who.actor, crate::policy::Actor::User(_)) {
                    return Err(refuse(
                        "subscriptions are for signed-in people, not integration tokens".into(),
                    ));
                }
                let mut rc = RequestContext::new(who.actor, init_state, client_address);
                rc.token_expires_at = who.expires_at;
                rc.session = who.session;
                rc.user = who.user;
                let rc = Arc::new(rc);
                *init_signed_in.lock().unwrap_or_else(|p| p.into_inner()) = Some(rc.clone());
                let mut data = Data::default();
                data.insert(rc);
                data.insert(WebSocketSession);
                data.insert(control);
                Ok(data)
            });
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        let mut ticks: u32 = 0;
        let close = loop {
            tokio::select! {
                msg = stream.next() => match msg {
                    Some(WsMessage::Text(text)) => {
                        if session.text(text).await.is_err() {
                            return;
                        }
                    }
                    Some(WsMessage::Close(code, reason)) => {
                        let code = if refused.load(std::sync::atomic::Ordering::Relaxed) {
                            4403
                        } else {
                            code
                        };
                        let _ = session
                            .close(Some(actix_ws::CloseReason {
                                code: actix_ws::CloseCode::Other(code),
                                description: Some(reason),
                            }))
                            .await;
                        return;
                    }
                    None => break None,
                },
                Some(close) = close_requests.recv() => break Some(close),
                _ = shutdown.changed() => break Some(Close::GOING_AWAY),
                _ = tick.tick() => {
                    ticks = ticks.wrapping_add(1);
                    let rc = signed_in.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    if let Some(rc) = rc {
                        if rc.token_expires_at.is_some_and(|exp| exp <= chrono::Utc::now()) {
                            break Some(Close::SESSION_ENDED);
                        }
                        if ticks.is_multiple_of(RECHECK_EVERY_SECS) {
                            match crate::live::graphql::validity(&rc).await {
                                Ok(None) => {}
                                Ok(Some(close)) => break Some(close),
                                Err(e) => e.log(),
                            }
                        }
                    }
                }
                _ = &mut closed => break None,
            }
        };
        let reason = close.map(|c| actix_ws::CloseReason {
            code: match c.code {
                1001 => actix_ws::CloseCode::Away,
                1013 => actix_ws::CloseCode::Again,
                code => actix_ws::CloseCode::Other(code),
            },
            description: Some(c.reason.to_owned()),
        });
        let _ = session.close(reason).await;
    });
    Ok(response)
}
