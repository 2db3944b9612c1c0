//! End-to-end tests of the binary's library: the HTTP API and pages through the real router,
//! and the demo city, each on SQLite and PostgreSQL.
#![expect(clippy::unwrap_used, clippy::panic, reason = "tests")]

mod api;
mod console;
mod crash;
mod demo;

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
