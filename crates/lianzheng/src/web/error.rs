//! The one web error type. Each variant has a documented status; internal details go to the
//! log, never to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lianzheng_app::AppError;

/// Errors answered to HTTP clients.
#[derive(Debug)]
pub enum WebError {
    /// 400: bad input (`invalid_input`).
    BadRequest(String),
    /// 401: no or bad API key (`unauthorized`).
    Unauthorized,
    /// 403: not allowed (`forbidden`).
    Forbidden(String),
    /// 404: not found (`not_found`).
    NotFound(String),
    /// 409: conflicts with the current state (`conflict`).
    Conflict(String),
    /// 503 with Retry-After: the database is unavailable for now (`storage_unavailable`).
    Unavailable,
    /// 507: the disk is full (`disk_full`).
    DiskFull,
    /// 500: anything else (`internal`).
    Internal,
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        match e.code() {
            "not_found" => WebError::NotFound(e.to_string()),
            "invalid_input" => WebError::BadRequest(e.to_string()),
            "forbidden" => WebError::Forbidden(e.to_string()),
            "conflict" => WebError::Conflict(e.to_string()),
            "storage_unavailable" => {
                tracing::warn!(error = %e, "storage unavailable");
                WebError::Unavailable
            }
            "disk_full" => {
                tracing::error!(error = %e, "disk full");
                WebError::DiskFull
            }
            _ => {
                tracing::error!(error = %e, "internal error");
                WebError::Internal
            }
        }
    }
}

impl WebError {
    /// Status, stable code and message.
    pub fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, "invalid_input", m.clone()),
            WebError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid API key is required: Authorization: Bearer KEY".into(),
            ),
            WebError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.clone()),
            WebError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m.clone()),
            WebError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m.clone()),
            WebError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "the database is unavailable; retry later".into(),
            ),
            WebError::DiskFull => (
                StatusCode::INSUFFICIENT_STORAGE,
                "disk_full",
                "the server's disk is full; this request had to write (a record, or the record of a view of personal data) and nothing was stored or shown".into(),
            ),
            WebError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error".into(),
            ),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        let mut res = (
            status,
            Json(serde_json::json!({"error": {"code": code, "message": message}})),
        )
            .into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        res
    }
}

/// Gives the API's own error body to the refusals axum writes as plain text (a query string,
/// path or JSON body that does not parse), so every `/api/` and `/open311/` answer keeps the
/// documented shape: `{"error": {"code": "bad_request", "message": …}}`.
pub async fn json_rejections(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !api || !plain || !res.status().is_client_error() {
        return res;
    }
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        _ => "bad_request",
    };
    (
        status,
        Json(serde_json::json!({"error": {"code": code, "message": String::from_utf8_lossy(&bytes)}})),
    )
        .into_response()
}
