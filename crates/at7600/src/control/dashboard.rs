//! The live dashboard: one page of plain HTML, CSS and JavaScript, built into the
//! binary. It shows the modems (`GET /events/modems`), a chosen modem's line
//! (`GET /modems/{id}/transcript`) and has buttons for its faults and DTR.
//!
//! The page and its two files hold no data, so they are served without the token;
//! everything the page shows or does goes through the API with the token the user
//! typed into it (sent as `Authorization: Bearer`, also for the event streams, which
//! the page reads with `fetch` rather than `EventSource` for that reason).

use super::Registry;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const HTML: &str = include_str!("dashboard.html");
const JS: &str = include_str!("dashboard.js");
const CSS: &str = include_str!("dashboard.css");

/// The page's routes.
pub fn routes() -> OpenApiRouter<Arc<Registry>> {
    OpenApiRouter::new()
        .routes(routes!(page))
        .routes(routes!(script))
        .routes(routes!(style))
}

/// Whether a request is for the page or its files: served without the token.
pub fn is_page<B>(req: &axum::http::Request<B>) -> bool {
    req.method() == axum::http::Method::GET
        && matches!(req.uri().path(), "/" | "/dashboard.js" | "/dashboard.css")
}

fn file(kind: &'static str, body: &'static str) -> impl IntoResponse {
    ([(CONTENT_TYPE, kind), (CACHE_CONTROL, "no-cache")], body)
}

/// The dashboard page (no token needed: it holds no data).
#[utoipa::path(get, path = "/", tag = "dashboard",
    responses((status = 200, description = "The dashboard page", content_type = "text/html")))]
async fn page() -> impl IntoResponse {
    file("text/html; charset=utf-8", HTML)
}

/// The dashboard's script.
#[utoipa::path(get, path = "/dashboard.js", tag = "dashboard",
    responses((status = 200, description = "The dashboard's script", content_type = "text/javascript")))]
async fn script() -> impl IntoResponse {
    file("text/javascript; charset=utf-8", JS)
}

/// The dashboard's style sheet.
#[utoipa::path(get, path = "/dashboard.css", tag = "dashboard",
    responses((status = 200, description = "The dashboard's style sheet", content_type = "text/css")))]
async fn style() -> impl IntoResponse {
    file("text/css; charset=utf-8", CSS)
}
