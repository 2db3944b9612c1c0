//! JSON API of the enterprise monitoring points (G4) under `/api/v1/monitoring` (staff, with an
//! API key) and `/api/v1/public/monitoring` (enterprises answering with their token; published
//! results). Each handler makes one call into `lianzheng_app::monitoring`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use lianzheng_app::Principal;
use lianzheng_app::monitoring::{PointInput, RoundInput, results_csv};
use lianzheng_core::monitoring::DepartmentRating;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::principal;
use super::{AppState, WebError, blocking};

fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, WebError> {
    serde_json::from_slice(bytes).map_err(|e| WebError::BadRequest(format!("请求内容无效：{e}")))
}

/// `GET /api/v1/monitoring/points`: every point, contacts masked.
pub async fn points(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let points = blocking(&s, move |app| app.monitoring_points(&p)).await?;
    Ok(Json(json!({ "points": points })))
}

/// `POST /api/v1/monitoring/points`: registers a point (refused beyond the cap).
pub async fn register_point(
    State(s): State<AppState>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let input: PointInput = body(&bytes)?;
    let point = blocking(&s, move |app| app.register_point(&p, input)).await?;
    Ok(Json(json!({ "point": point })))
}

/// The body of a retirement.
#[derive(Deserialize)]
pub struct Retire {
    reason: String,
}

/// `POST /api/v1/monitoring/points/{id}/retire`.
pub async fn retire_point(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let r: Retire = body(&bytes)?;
    let point = id.clone();
    blocking(&s, move |app| app.retire_point(&p, &point, &r.reason)).await?;
    Ok(Json(json!({ "point": id, "retired": true })))
}

/// `GET /api/v1/monitoring/points/{id}/contact`: the unmasked contact; the reading is recorded.
pub async fn contact(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let c = blocking(&s, move |app| app.point_contact(&p, &id)).await?;
    Ok(Json(json!({ "contact": c })))
}

/// `GET /api/v1/monitoring/rounds`.
pub async fn rounds(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let rounds = blocking(&s, move |app| app.survey_rounds(&p)).await?;
    Ok(Json(json!({ "rounds": rounds })))
}

/// `POST /api/v1/monitoring/rounds`: opens a round; the tokens are in this answer only.
pub async fn open_round(
    State(s): State<AppState>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let input: RoundInput = body(&bytes)?;
    let opened = blocking(&s, move |app| app.open_round(&p, input)).await?;
    Ok(Json(json!(opened)))
}

/// `POST /api/v1/monitoring/rounds/{id}/close`: rolls up, publishes, raises E001.
pub async fn close_round(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let closed = blocking(&s, move |app| app.close_round(&p, &id)).await?;
    Ok(Json(json!(closed)))
}

/// Query of the queue.
#[derive(Deserialize)]
pub struct QueueQuery {
    round: Option<String>,
    status: Option<String>,
}

/// `GET /api/v1/monitoring/queue`: requests by due date.
pub async fn queue(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let rows = blocking(&s, move |app| {
        app.survey_queue(&p, q.round.as_deref(), q.status.as_deref())
    })
    .await?;
    Ok(Json(json!({ "requests": rows })))
}

/// The body of an answer.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    #[serde(default)]
    token: Option<String>,
    ratings: Vec<DepartmentRating>,
}

/// `POST /api/v1/monitoring/requests/{id}/response`: staff enter an answer received otherwise.
pub async fn enter_response(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let a: Answer = body(&bytes)?;
    let r = blocking(&s, move |app| app.enter_response(&p, &id, a.ratings)).await?;
    Ok(Json(json!(r)))
}

/// `POST /api/v1/public/monitoring/requests/{id}/response`: the enterprise answers with its token.
pub async fn respond(
    State(s): State<AppState>,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, WebError> {
    let a: Answer = body(&bytes)?;
    let token = a
        .token
        .ok_or_else(|| WebError::BadRequest("缺少评议令牌 token".into()))?;
    let r = blocking(&s, move |app| {
        app.respond_with_token(&id, &token, a.ratings)
    })
    .await?;
    Ok(Json(json!(r)))
}

/// Query of the results.
#[derive(Deserialize)]
pub struct ResultsQuery {
    round: Option<String>,
}

/// `GET /api/v1/monitoring/results`: results as the key's department (or all) sees them.
pub async fn results(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ResultsQuery>,
) -> Result<Json<Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let rows = blocking(&s, move |app| app.survey_results(&p, q.round.as_deref())).await?;
    Ok(Json(json!({ "results": rows })))
}

/// `GET /api/v1/public/monitoring/results`: published roll-ups of closed rounds.
pub async fn public_results(
    State(s): State<AppState>,
    Query(q): Query<ResultsQuery>,
) -> Result<Json<Value>, WebError> {
    let rows = blocking(&s, move |app| {
        app.survey_results(&Principal::Public, q.round.as_deref())
    })
    .await?;
    Ok(Json(json!({ "results": rows })))
}

/// `GET /api/v1/public/monitoring/results.csv`: the same as CSV.
pub async fn public_results_csv(
    State(s): State<AppState>,
    Query(q): Query<ResultsQuery>,
) -> Result<Response, WebError> {
    let rows = blocking(&s, move |app| {
        app.survey_results(&Principal::Public, q.round.as_deref())
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"monitoring-results.csv\"",
            ),
        ],
        results_csv(&rows),
    )
        .into_response())
}
