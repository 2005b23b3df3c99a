//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::state::AppState;

/// The process is up (no I/O: a slow database must not get a live node killed).
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The node can serve: the database answers and every migration is applied.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let db_ok = state.db.ping().await.is_ok();
    let migrated = db_ok
        && crate::db::migrations_applied(&state.db)
            .await
            .unwrap_or(false);
    let body = json!({ "database": db_ok, "migrations": migrated });
    if db_ok && migrated {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
