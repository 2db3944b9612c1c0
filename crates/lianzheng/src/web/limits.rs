//! Rate limits on the forms anyone can post (login, rating, receipt verification): a fixed
//! window per client address and form. Lockout after failed logins (in `lianzheng-app`) protects
//! each account; this protects the server and slows guessing across accounts.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

/// Posts allowed per client address and form within one window.
pub const PER_WINDOW: u32 = 20;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Per `(address, path)`: when the window started and how many posts it has seen.
type Windows = HashMap<(String, String), (Instant, u32)>;

/// Counts posts per `(address, path)` in fixed windows.
#[derive(Debug, Default, Clone)]
pub struct Limiter(Arc<Mutex<Windows>>);

impl Limiter {
    /// Records a post; returns how many seconds to wait when over the limit.
    pub fn check(&self, client: &str, path: &str, now: Instant) -> Option<u64> {
        let Ok(mut map) = self.0.lock() else {
            return None;
        };
        // Forget old windows now and then so the map stays small.
        if map.len() > 10_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = map
            .entry((client.to_string(), path.to_string()))
            .or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        (entry.1 > PER_WINDOW).then(|| {
            WINDOW
                .saturating_sub(now.duration_since(entry.0))
                .as_secs()
                .max(1)
        })
    }
}

const LIMITED: &[&str] = &[
    "/console/login",
    "/query/rate",
    "/verify",
    "/complaints/new",
    "/complaints/rate",
];

/// The middleware: posts to the public forms beyond the limit get `429` with `Retry-After`.
pub async fn limit(State(limiter): State<Limiter>, req: Request, next: Next) -> Response {
    if req.method() == Method::POST && LIMITED.contains(&req.uri().path()) {
        let client = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "local".to_string(), |c| c.0.ip().to_string());
        if let Some(wait) = limiter.check(&client, req.uri().path(), Instant::now()) {
            let body = super::pages::layout(
                "请稍后再试",
                "<h1>请稍后再试</h1><p class=\"err\" role=\"alert\">提交过于频繁，请一分钟后再试。</p>",
            );
            let mut res = (StatusCode::TOO_MANY_REQUESTS, Html(body)).into_response();
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return res;
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_the_limit_then_refuses_until_it_passes() {
        let l = Limiter::default();
        let t = Instant::now();
        for _ in 0..PER_WINDOW {
            assert_eq!(l.check("1.2.3.4", "/console/login", t), None);
        }
        assert!(l.check("1.2.3.4", "/console/login", t).is_some());
        assert_eq!(
            l.check("5.6.7.8", "/console/login", t),
            None,
            "another client"
        );
        assert_eq!(l.check("1.2.3.4", "/verify", t), None, "another form");
        assert_eq!(
            l.check("1.2.3.4", "/console/login", t + WINDOW),
            None,
            "a new window"
        );
    }
}
