//! End-to-end tests of the binary's library: the HTTP API and pages through the real router,
//! and the demo city, each on SQLite and PostgreSQL.
#![expect(clippy::unwrap_used, clippy::panic, reason = "tests")]

mod api;
mod complaint_pages;
mod console;
mod crash;
mod demo;
mod faults;
mod monitoring_api;
mod open311;
mod portal;
mod servers;
mod workbench;

use std::sync::Arc;

use jiff::Timestamp;
use lianzheng_app::testing::TestDb;
use lianzheng_app::{App, ManualClock, SeededEntropy, Settings};

/// A test app on a fresh database with a manual clock.
pub struct TestApp {
    pub app: Arc<App>,
    pub clock: Arc<ManualClock>,
    pub backend: &'static str,
    _db: TestDb,
}

impl TestApp {
    /// A second application on the same database and clock, as another server runs it.
    pub fn second_server(&self) -> Arc<App> {
        Arc::new(
            App::new(
                self._db.open().unwrap(),
                self.clock.clone(),
                Arc::new(SeededEntropy::new(4)),
                Settings::default(),
            )
            .unwrap(),
        )
    }
}

/// Runs `f` once per backend.
pub fn each_backend(tag: &str, now: Timestamp, f: impl Fn(TestApp)) {
    for db in lianzheng_app::testing::all(tag).unwrap_or_else(|e| panic!("{e}")) {
        let clock = Arc::new(ManualClock::new(now));
        let app = App::new(
            db.open().unwrap(),
            clock.clone(),
            Arc::new(SeededEntropy::new(3)),
            Settings::default(),
        )
        .unwrap();
        let backend = db.backend;
        f(TestApp {
            app: Arc::new(app),
            clock,
            backend,
            _db: db,
        });
    }
}

/// A two-worker runtime for driving the router from a synchronous test.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// One request through a fresh router: the status, the response headers and the body text.
pub async fn request(
    t: &TestApp,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, String)>,
) -> (axum::http::StatusCode, axum::http::HeaderMap, String) {
    request_with_vkey(t, None, method, uri, headers, body).await
}

/// [`request`] through a router that serves the log with verifier key `vkey`.
pub async fn request_with_vkey(
    t: &TestApp,
    vkey: Option<&str>,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, String)>,
) -> (axum::http::StatusCode, axum::http::HeaderMap, String) {
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = match body {
        Some((content_type, text)) => {
            req = req.header("content-type", content_type);
            axum::body::Body::from(text)
        }
        None => axum::body::Body::empty(),
    };
    let res = lianzheng::web::router(t.app.clone(), vkey.map(str::to_string))
        .oneshot(req.body(body).unwrap())
        .await
        .unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// Runs synchronous storage code from inside the test runtime (the PostgreSQL client starts a
/// runtime of its own, which tokio allows only off the worker's async context).
pub fn sync<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}
