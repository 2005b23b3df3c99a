//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::state::AppState;

/// The process is up (no I/O: a slow database must not get a live node killed).
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// How long `/readyz` waits for the database before it answers 503: a load balancer's probe
/// (typically 1–5 s) gets an answer, whatever state the database is in.
const READY_PROBE: std::time::Duration = std::time::Duration::from_millis(900);

/// The node can serve: the database answers and every migration is applied. Answers within
/// [`READY_PROBE`] even when the database hangs.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let probe = async {
        let db_ok = state.db.ping().await.is_ok();
        let migrated = db_ok
            && crate::db::migrations_applied(&state.db)
                .await
                .unwrap_or(false);
        (db_ok, migrated)
    };
    let (db_ok, migrated) = tokio::time::timeout(READY_PROBE, probe)
        .await
        .unwrap_or((false, false));
    let body = json!({ "database": db_ok, "migrations": migrated });
    if db_ok && migrated {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
            .json(body)
    }
}
