//! The web layer: HTTP, JSON and HTML, nothing else. Each handler makes one call into the
//! application layer (`lianzheng_app::App`) on a blocking thread, because storage is synchronous.

mod admin;
mod api;
mod appraisal_charts;
mod catalog;
mod charts;
mod complaint_console;
mod complaint_pages;
mod complaints_api;
mod console;
mod error;
pub mod i18n;
mod limits;
mod logs;
pub mod metrics;
mod monitoring_api;
mod monitoring_console;
mod open311;
mod pages;
mod point_pages;
mod portal;
mod window;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use lianzheng_app::App;

/// How often the background task refreshes the public statistics, in seconds: less than the
/// shortest expiry the pages ask for (30 s for 民主评议, 60 s for the statistics).
const STATS_REFRESH_SECS: i64 = 25;

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
        .route("/assets/echarts.min.js", get(charts::echarts_js))
        .route("/assets/app.js", get(charts::app_js))
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
        .route("/console/catalog", get(catalog::list))
        .route(
            "/console/catalog/{code}",
            get(catalog::edit).post(catalog::save),
        )
        .route("/console/admin", get(admin::index))
        .route("/console/admin/users", post(admin::add_user))
        .route(
            "/console/admin/users/{username}/unlock",
            post(admin::unlock_user),
        )
        .route("/console/admin/keys", post(admin::create_key))
        .route("/console/admin/keys/{id}/revoke", post(admin::revoke_key))
        .route("/console/admin/rules", post(admin::save_rules))
        .route("/console/admin/calendar", post(admin::load_year))
        .route("/console/audit", get(admin::audit))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(metrics::metrics))
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
        // Complaints (投诉受理) and Open311 GeoReport v2.
        .route(
            "/api/v1/complaints",
            get(complaints_api::list).post(complaints_api::file),
        )
        .route("/api/v1/complaints/{no}", get(complaints_api::get))
        .route("/api/v1/complaints/{no}/actions", post(complaints_api::act))
        .route(
            "/api/v1/public/complaints/{no}",
            get(complaints_api::public_get),
        )
        .route(
            "/api/v1/public/complaints/{no}/rating",
            post(complaints_api::rate),
        )
        .route(
            "/api/v1/public/stats/complaints",
            get(complaints_api::stats),
        )
        .route(
            "/open311/v2/{file}",
            get(open311::get_root).post(open311::post_root),
        )
        .route("/open311/v2/services/{file}", get(open311::get_service))
        .route("/open311/v2/requests/{file}", get(open311::get_request))
        .route("/open311/v2/tokens/{file}", get(open311::get_token))
        .route("/log/checkpoint", get(logs::checkpoint))
        .route("/log/vkey", get(logs::vkey))
        .route("/log/tile/{*path}", get(logs::tile))
        // Enterprise monitoring points (G4).
        .route(
            "/api/v1/monitoring/points",
            get(monitoring_api::points).post(monitoring_api::register_point),
        )
        .route(
            "/api/v1/monitoring/points/{id}/retire",
            post(monitoring_api::retire_point),
        )
        .route(
            "/api/v1/monitoring/points/{id}/contact",
            get(monitoring_api::contact),
        )
        .route(
            "/api/v1/monitoring/rounds",
            get(monitoring_api::rounds).post(monitoring_api::open_round),
        )
        .route(
            "/api/v1/monitoring/rounds/{id}/close",
            post(monitoring_api::close_round),
        )
        .route("/api/v1/monitoring/queue", get(monitoring_api::queue))
        .route(
            "/api/v1/monitoring/requests/{id}/response",
            post(monitoring_api::enter_response),
        )
        .route("/api/v1/monitoring/results", get(monitoring_api::results))
        .route(
            "/api/v1/public/monitoring/requests/{id}/response",
            post(monitoring_api::respond),
        )
        .route(
            "/api/v1/public/monitoring/results",
            get(monitoring_api::public_results),
        )
        .route(
            "/api/v1/public/monitoring/results.csv",
            get(monitoring_api::public_results_csv),
        )
        // Complaint and monitoring pages (issue #5): portal and console.
        .route(
            "/complaints/new",
            get(complaint_pages::new_form).post(complaint_pages::file),
        )
        .route("/complaints/query", get(complaint_pages::query))
        .route("/complaints/rate", post(complaint_pages::rate))
        .route("/appraisal", get(complaint_pages::appraisal))
        .route(
            "/monitoring/respond",
            get(point_pages::form).post(point_pages::respond),
        )
        .route("/appraisal.csv", get(complaint_pages::appraisal_csv))
        .route("/console/complaints", get(complaint_console::list))
        .route(
            "/console/complaints/new",
            get(complaint_console::new_form).post(complaint_console::file),
        )
        .route("/console/complaints/{no}", get(complaint_console::view))
        .route(
            "/console/complaints/{no}/actions",
            post(complaint_console::act),
        )
        .route("/console/monitoring", get(monitoring_console::index))
        .route(
            "/console/monitoring/points",
            post(monitoring_console::register),
        )
        .route(
            "/console/monitoring/points/{id}/retire",
            post(monitoring_console::retire),
        )
        .route(
            "/console/monitoring/rounds",
            post(monitoring_console::open_round),
        )
        .route(
            "/console/monitoring/rounds/{id}/close",
            post(monitoring_console::close_round),
        )
        .route(
            "/console/monitoring/requests/{id}",
            get(monitoring_console::response_form).post(monitoring_console::enter_response),
        )
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            limits::Limiter::default(),
            limits::limit,
        ))
        .layer(axum::middleware::from_fn(i18n::remember))
        .layer(axum::middleware::from_fn(error::json_rejections))
        .layer(axum::middleware::from_fn(metrics::track))
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

/// How often a PostgreSQL server looks for tables to vacuum.
const VACUUM_EVERY: Duration = Duration::from_secs(600);

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
                    Ok(Ok(Some(cp))) => {
                        metrics::METRICS.checkpoint(Ok(true));
                        tracing::debug!(size = cp.size, "checkpoint signed")
                    }
                    Ok(Ok(None)) => metrics::METRICS.checkpoint(Ok(false)),
                    Ok(Err(e)) => {
                        metrics::METRICS.checkpoint(Err(()));
                        tracing::warn!(error = %e, "signing a checkpoint failed; will retry")
                    }
                    Err(e) => {
                        metrics::METRICS.checkpoint(Err(()));
                        tracing::error!(error = %e, "checkpoint task panicked")
                    }
                }
            }
        });
    }
    // The public statistics are computed here, at start and again before they expire, so that
    // no visitor waits while a large database is counted (the pages' own calls then find them
    // in the cache).
    let warm = Arc::clone(&app);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(STATS_REFRESH_SECS as u64));
        loop {
            tick.tick().await;
            let a = Arc::clone(&warm);
            let refreshed = tokio::task::spawn_blocking(move || {
                a.department_stats_cached(STATS_REFRESH_SECS)?;
                a.monthly_stats_cached(None, portal::MONTHS, STATS_REFRESH_SECS)?;
                a.appraisal_cached(STATS_REFRESH_SECS).map(|_| ())
            })
            .await;
            match refreshed {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "refreshing the statistics failed"),
                Err(e) => tracing::error!(error = %e, "refreshing the statistics panicked"),
            }
        }
    });
    let sweeper = Arc::clone(&app);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(sweep_every);
        loop {
            tick.tick().await;
            let a = Arc::clone(&sweeper);
            match tokio::task::spawn_blocking(move || a.sweep(500)).await {
                Ok(Ok(r)) => {
                    metrics::METRICS.sweep(Ok((r.crossed, r.fired)));
                    if r.crossed > 0 {
                        tracing::info!(crossed = r.crossed, fired = r.fired, "deadline sweep")
                    }
                }
                Ok(Err(e)) => {
                    metrics::METRICS.sweep(Err(()));
                    tracing::warn!(error = %e, "deadline sweep failed; will retry")
                }
                Err(e) => {
                    metrics::METRICS.sweep(Err(()));
                    tracing::error!(error = %e, "deadline sweep panicked")
                }
            }
        }
    });
    // PostgreSQL: the tables the writer rewrites are vacuumed when autovacuum is off or falls
    // behind (see `Db::vacuum_churned`); on SQLite there is nothing to do.
    if app.db.backend() == lianzheng_app::db::Backend::Postgres {
        let vacuumer = Arc::clone(&app);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(VACUUM_EVERY);
            loop {
                tick.tick().await;
                let a = Arc::clone(&vacuumer);
                match tokio::task::spawn_blocking(move || a.db.vacuum_churned()).await {
                    Ok(Ok(done)) => {
                        for v in done {
                            tracing::info!(
                                table = v.table,
                                live = v.live,
                                dead = v.dead,
                                seconds = v.seconds,
                                "{} (is autovacuum off?)",
                                v.action()
                            )
                        }
                    }
                    Ok(Err(e)) => tracing::warn!(error = %e, "vacuuming failed; will retry"),
                    Err(e) => tracing::error!(error = %e, "the vacuum task panicked"),
                }
            }
        });
    }
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
