//! `GET /metrics`: figures for Prometheus (text exposition format 0.0.4), for the operator at
//! 3 a.m.: requests by status class and their latency, the deadline sweep, checkpoint signing,
//! the log's size, and open findings by level. Only aggregates: nothing personal.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppState, WebError, blocking};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// Process-wide counters (atomics, so the hot path takes no lock).
pub struct Metrics {
    /// Responses by status class: 1xx … 5xx.
    by_class: [AtomicU64; 5],
    /// Requests at or under each bucket bound (not cumulative here; summed when rendered).
    buckets: [AtomicU64; BUCKETS.len() + 1],
    /// Total latency in microseconds.
    micros: AtomicU64,
    /// Sweep runs, deadlines crossed, findings fired, failures.
    sweeps: AtomicU64,
    crossed: AtomicU64,
    fired: AtomicU64,
    sweep_failures: AtomicU64,
    /// Checkpoints signed and signing failures.
    checkpoints: AtomicU64,
    checkpoint_failures: AtomicU64,
}

#[expect(
    clippy::declare_interior_mutable_const,
    reason = "array initializer only"
)]
const ZERO: AtomicU64 = AtomicU64::new(0);

/// The one set of counters of this process.
pub static METRICS: Metrics = Metrics {
    by_class: [ZERO; 5],
    buckets: [ZERO; BUCKETS.len() + 1],
    micros: ZERO,
    sweeps: ZERO,
    crossed: ZERO,
    fired: ZERO,
    sweep_failures: ZERO,
    checkpoints: ZERO,
    checkpoint_failures: ZERO,
};

impl Metrics {
    /// Records one deadline sweep.
    pub fn sweep(&self, result: Result<(usize, usize), ()>) {
        self.sweeps.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok((crossed, fired)) => {
                self.crossed.fetch_add(crossed as u64, Ordering::Relaxed);
                self.fired.fetch_add(fired as u64, Ordering::Relaxed);
            }
            Err(()) => {
                self.sweep_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Records one checkpoint attempt that signed (`Ok(true)`), had nothing new (`Ok(false)`)
    /// or failed.
    pub fn checkpoint(&self, result: Result<bool, ()>) {
        match result {
            Ok(true) => {
                self.checkpoints.fetch_add(1, Ordering::Relaxed);
            }
            Ok(false) => {}
            Err(()) => {
                self.checkpoint_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn observe(&self, status: u16, seconds: f64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        let i = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }
}

/// Counts every response and its latency.
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let res = next.run(req).await;
    METRICS.observe(res.status().as_u16(), start.elapsed().as_secs_f64());
    res
}

/// `GET /metrics`.
pub async fn metrics(State(s): State<AppState>) -> Result<Response, WebError> {
    let (log_size, open) = blocking(&s, |app| {
        Ok((app.log_size()?, app.open_findings_by_level()?))
    })
    .await?;
    let m = &METRICS;
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let mut out = String::with_capacity(2048);
    let _ = writeln!(
        out,
        "# HELP lianzheng_build_info The running version.\n# TYPE lianzheng_build_info gauge\nlianzheng_build_info{{version=\"{}\",backend=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        match s.app.db.backend() {
            lianzheng_app::db::Backend::Sqlite => "sqlite",
            lianzheng_app::db::Backend::Postgres => "postgres",
        }
    );
    out.push_str("# HELP lianzheng_http_responses_total HTTP responses by status class.\n# TYPE lianzheng_http_responses_total counter\n");
    for (i, c) in m.by_class.iter().enumerate() {
        let _ = writeln!(
            out,
            "lianzheng_http_responses_total{{class=\"{}xx\"}} {}",
            i + 1,
            get(c)
        );
    }
    out.push_str("# HELP lianzheng_http_request_duration_seconds Time to answer a request.\n# TYPE lianzheng_http_request_duration_seconds histogram\n");
    let mut cumulative = 0;
    for (i, b) in BUCKETS.iter().enumerate() {
        cumulative += get(&m.buckets[i]);
        let _ = writeln!(
            out,
            "lianzheng_http_request_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}"
        );
    }
    cumulative += get(&m.buckets[BUCKETS.len()]);
    let _ = writeln!(
        out,
        "lianzheng_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
    );
    let _ = writeln!(
        out,
        "lianzheng_http_request_duration_seconds_sum {}",
        get(&m.micros) as f64 / 1e6
    );
    let _ = writeln!(
        out,
        "lianzheng_http_request_duration_seconds_count {cumulative}"
    );
    for (name, help, v) in [
        (
            "lianzheng_sweeps_total",
            "Deadline sweeps run.",
            get(&m.sweeps),
        ),
        (
            "lianzheng_sweep_deadlines_crossed_total",
            "Deadlines the sweep found crossed.",
            get(&m.crossed),
        ),
        (
            "lianzheng_sweep_findings_total",
            "Findings the sweep opened or escalated.",
            get(&m.fired),
        ),
        (
            "lianzheng_sweep_failures_total",
            "Sweeps that failed (retried at the next tick).",
            get(&m.sweep_failures),
        ),
        (
            "lianzheng_checkpoints_signed_total",
            "Log checkpoints signed by this process.",
            get(&m.checkpoints),
        ),
        (
            "lianzheng_checkpoint_failures_total",
            "Checkpoint signing attempts that failed.",
            get(&m.checkpoint_failures),
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP lianzheng_log_size Records in the transparency log.\n# TYPE lianzheng_log_size gauge\nlianzheng_log_size {log_size}"
    );
    out.push_str("# HELP lianzheng_findings_open Open findings by level (1 提醒, 2 黄牌, 3 红牌).\n# TYPE lianzheng_findings_open gauge\n");
    for (level, n) in open {
        let _ = writeln!(out, "lianzheng_findings_open{{level=\"{level}\"}} {n}");
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}
