//! The web layer: HTTP, JSON and HTML, nothing else. Each handler makes one call into the
//! application layer (`lianzheng_app::App`) on a blocking thread, because storage is synchronous.

mod api;
mod console;
mod error;
mod limits;
mod logs;
mod pages;
mod portal;
mod window;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use lianzheng_app::App;

pub use error::WebError;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The application.
    pub app: Arc<App>,
    /// The log's verifier key text, served at `/log/vkey`.
    pub vkey: Option<Arc<str>>,
    /// Whether session cookies are marked `Secure` (behind TLS).
    pub secure_cookies: bool,
}

/// Runs a use case on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&App) -> Result<T, lianzheng_app::AppError> + Send + 'static,
) -> Result<T, WebError> {
    let app = Arc::clone(&state.app);
    tokio::task::spawn_blocking(move || f(&app))
        .await
        .map_err(|_| WebError::Internal)?
        .map_err(WebError::from)
}

/// The router.
pub fn router(app: Arc<App>, vkey: Option<String>) -> Router {
    router_with(app, vkey, false)
}

/// The router, with session cookies marked `Secure` when served behind TLS.
pub fn router_with(app: Arc<App>, vkey: Option<String>, secure_cookies: bool) -> Router {
    let state = AppState {
        app,
        vkey: vkey.map(Arc::from),
        secure_cookies,
    };
    Router::new()
        .route("/", get(pages::home))
        .route("/query", get(pages::query))
        .route("/favicon.ico", get(pages::favicon))
        .route("/assets/app.css", get(pages::stylesheet))
        .route("/items", get(portal::items))
        .route("/items/{code}", get(portal::item))
        .route("/stats", get(portal::stats))
        .route("/stats.csv", get(portal::stats_csv))
        .route("/query/rate", post(portal::rate))
        .route(
            "/verify",
            get(pages::verify_form).post(pages::verify_submit),
        )
        .route("/console", get(console::board))
        .route(
            "/console/login",
            get(console::login_form).post(console::login),
        )
        .route("/console/logout", post(console::logout))
        .route(
            "/console/register",
            get(window::form).post(window::register),
        )
        .route("/console/cases/{case_no}/events", post(window::record))
        .route("/console/findings/{id}", post(console::act))
        .route("/console/ratings/{case_no}/answer", post(console::answer))
        .route("/console/cases/{case_no}", get(console::case))
        .route("/healthz", get(api::healthz))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/events", post(api::submit_events))
        .route("/api/v1/rules", get(api::rules))
        .route("/api/v1/public/items", get(api::public_items))
        .route("/api/v1/public/items/{code}", get(api::public_item))
        .route("/api/v1/public/cases/{case_no}", get(api::public_case))
        .route(
            "/api/v1/public/cases/{case_no}/rating",
            post(api::rate_case),
        )
        .route(
            "/api/v1/public/stats/departments",
            get(api::department_stats),
        )
        .route(
            "/api/v1/public/stats/ratings",
            get(api::public_rating_rollup),
        )
        .route("/api/v1/findings", get(api::findings))
        .route("/api/v1/findings/{id}/actions", post(api::finding_action))
        .route("/api/v1/ratings/{case_no}/answer", post(api::answer_rating))
        .route("/api/v1/stats/ratings", get(api::rating_rollup))
        .route("/api/v1/cases/{case_no}", get(api::staff_case))
        .route("/api/v1/catalog/items", post(api::save_items))
        .route("/api/v1/log/checkpoint", get(logs::checkpoint_json))
        .route("/api/v1/log/proof/inclusion", get(logs::inclusion))
        .route("/api/v1/log/proof/consistency", get(logs::consistency))
        .route(
            "/api/v1/public/cases/{case_no}/receipts/{seq}",
            get(logs::receipt),
        )
        .route("/log/checkpoint", get(logs::checkpoint))
        .route("/log/vkey", get(logs::vkey))
        .route("/log/tile/{*path}", get(logs::tile))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            limits::Limiter::default(),
            limits::limit,
        ))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::extract::DefaultBodyLimit::max(8 * 1024 * 1024))
        .with_state(state)
}

async fn security_headers(mut res: axum::response::Response) -> axum::response::Response {
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"),
    );
    res
}

/// Serves until Ctrl-C, sweeping deadlines and signing checkpoints in the background.
pub async fn serve(
    app: Arc<App>,
    listen: &str,
    sweep_every: Duration,
    signer: Option<Arc<lianzheng_tlog::checkpoint::LogSigner>>,
    secure_cookies: bool,
) -> anyhow::Result<()> {
    let vkey = signer.as_ref().map(|s| s.vkey_text());
    if let Some(signer) = signer {
        let app = Arc::clone(&app);
        // Checkpoints are signed for batches of leaves, at most about a second apart, so that
        // throughput does not depend on one signature per event.
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let (a, s) = (Arc::clone(&app), Arc::clone(&signer));
                match tokio::task::spawn_blocking(move || a.checkpoint(&s)).await {
                    Ok(Ok(Some(cp))) => tracing::debug!(size = cp.size, "checkpoint signed"),
                    Ok(Ok(None)) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "signing a checkpoint failed; will retry")
                    }
                    Err(e) => tracing::error!(error = %e, "checkpoint task panicked"),
                }
            }
        });
    }
    let sweeper = Arc::clone(&app);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(sweep_every);
        loop {
            tick.tick().await;
            let a = Arc::clone(&sweeper);
            match tokio::task::spawn_blocking(move || a.sweep(500)).await {
                Ok(Ok(r)) if r.crossed > 0 => {
                    tracing::info!(crossed = r.crossed, fired = r.fired, "deadline sweep")
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "deadline sweep failed; will retry"),
                Err(e) => tracing::error!(error = %e, "deadline sweep panicked"),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(listen, "serving");
    // Client addresses reach the rate limits through the connection info.
    axum::serve(
        listener,
        router_with(app, vkey, secure_cookies)
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
