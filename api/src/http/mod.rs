//! HTTP routes: GraphQL over POST and GET, GraphiQL, health, readiness. Metrics, CORS and the
//! request-id logger are middleware wired in `startup`.

pub mod calendar;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod ws;

use actix_web::web;

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/graphql/ws").route(web::get().to(ws::subscriptions)))
        .service(
            web::resource("/graphql")
                .route(web::post().to(graphql::post))
                .route(web::get().to(graphql::get)),
        )
        .route("/events/{id}.ics", web::get().to(calendar::one))
        .route("/me/events.ics", web::get().to(calendar::mine))
        .route("/calendar/{secret}.ics", web::get().to(calendar::feed))
        .route(
            "/export/periods/{number}.json",
            web::get().to(crate::reporting::export::json),
        )
        .route(
            "/export/periods/{number}.xlsx",
            web::get().to(crate::reporting::export::xlsx),
        )
        .route(
            "/export/periods/{number}.zip",
            web::get().to(crate::reporting::export::zip),
        )
        .route(
            "/export/periods/{number}/{table}.csv",
            web::get().to(crate::reporting::export::csv),
        )
        .route(
            "/export/keep.json",
            web::get().to(crate::reporting::export::keep_json),
        )
        .route(
            "/export/keep.xml",
            web::get().to(crate::reporting::export::keep_xml),
        )
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz));
}
