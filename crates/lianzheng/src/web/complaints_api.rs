//! JSON endpoints of complaints (投诉受理) under `/api/v1/complaints` and
//! `/api/v1/public/complaints`: file, list the queue, read one, act, rate, statistics.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use lianzheng_app::Principal;
use lianzheng_app::complaints::{ComplaintAction, ComplaintFilter, ComplaintInput};
use lianzheng_core::complaint::Rating;
use serde::Deserialize;

use super::api::{optional_principal, principal};
use super::{AppState, WebError, blocking};

/// `POST /api/v1/complaints`: files a complaint. Without a key it is the public (portal);
/// with one, the key's principal (hotline operators, department systems).
pub async fn file(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, WebError> {
    let p = optional_principal(&s, &headers)
        .await?
        .unwrap_or(Principal::Public);
    let input: ComplaintInput = serde_json::from_slice(&body)
        .map_err(|e| WebError::BadRequest(format!("投诉格式有误：{e}")))?;
    let filed = blocking(&s, move |app| app.file_complaint(&p, input)).await?;
    Ok(Json(serde_json::to_value(filed).unwrap_or_default()))
}

/// `GET /api/v1/complaints`: the queue within the key's reach, most urgent first.
pub async fn list(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(f): Query<ComplaintFilter>,
) -> Result<Json<serde_json::Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let rows = blocking(&s, move |app| app.complaint_queue(&p, &f)).await?;
    Ok(Json(serde_json::json!({"complaints": rows})))
}

/// `GET /api/v1/complaints/{no}`: one complaint for staff (identity access is recorded).
pub async fn get(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(no): Path<String>,
) -> Result<Json<serde_json::Value>, WebError> {
    let p = principal(&s, &headers).await?;
    Ok(Json(
        blocking(&s, move |app| app.staff_complaint(&p, &no)).await?,
    ))
}

/// `POST /api/v1/complaints/{no}/actions`: triage, accept, decline, extension, answer, close.
pub async fn act(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(no): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let action: ComplaintAction = serde_json::from_slice(&body)
        .map_err(|e| WebError::BadRequest(format!("操作格式有误：{e}")))?;
    let row = blocking(&s, move |app| app.act_on_complaint(&p, &no, action)).await?;
    Ok(Json(serde_json::json!({"complaint": row})))
}

/// The query code of a public request.
#[derive(Deserialize)]
pub struct CodeQuery {
    query_code: String,
}

/// `GET /api/v1/public/complaints/{no}?query_code=…`: the complainant's view.
pub async fn public_get(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Query(q): Query<CodeQuery>,
) -> Result<Json<serde_json::Value>, WebError> {
    Ok(Json(
        blocking(&s, move |app| app.public_complaint(&no, &q.query_code)).await?,
    ))
}

/// The body of a rating.
#[derive(Deserialize)]
pub struct RatingBody {
    query_code: String,
    satisfaction: Rating,
}

/// `POST /api/v1/public/complaints/{no}/rating`: 满意 / 基本满意 / 不满意 (reopens once).
pub async fn rate(
    State(s): State<AppState>,
    Path(no): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, WebError> {
    let b: RatingBody = serde_json::from_slice(&body)
        .map_err(|e| WebError::BadRequest(format!("评价格式有误：{e}")))?;
    let row = blocking(&s, move |app| {
        app.rate_complaint(&no, &b.query_code, b.satisfaction)
    })
    .await?;
    Ok(Json(serde_json::json!({"complaint": row})))
}

/// The month of the statistics.
#[derive(Deserialize)]
pub struct MonthQuery {
    month: Option<String>,
}

/// `GET /api/v1/public/stats/complaints?month=YYYY-MM`: figures per department and month.
pub async fn stats(
    State(s): State<AppState>,
    Query(q): Query<MonthQuery>,
) -> Result<Json<serde_json::Value>, WebError> {
    let rows = blocking(&s, move |app| app.complaint_stats(q.month.as_deref())).await?;
    Ok(Json(serde_json::json!({"stats": rows})))
}
