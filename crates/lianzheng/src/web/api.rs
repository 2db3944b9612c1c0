//! JSON API handlers under `/api/v1`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use lianzheng_app::Principal;
use lianzheng_app::catalog::ItemChange;
use lianzheng_app::ingest::Incoming;
use lianzheng_app::views::{FindingFilter, RatingInput};
use lianzheng_core::finding::FindingAction;
use serde::Deserialize;

use super::{AppState, WebError, blocking};

const OPENAPI: &str = include_str!("../../openapi.json");

/// `GET /healthz`: the process is up and the database answers.
pub async fn healthz(State(s): State<AppState>) -> Result<Json<serde_json::Value>, WebError> {
    blocking(&s, |app| {
        app.db
            .read(|tx| Ok::<_, lianzheng_app::AppError>(tx.query_opt("SELECT 1", &[])?))?;
        Ok(())
    })
    .await?;
    Ok(Json(serde_json::json!({"status": "ok"})))
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Unknown routes.
pub async fn not_found() -> WebError {
    WebError::NotFound("no such route".into())
}

/// The principal of an `Authorization: Bearer KEY` header; `None` without the header, and
/// `Unauthorized` for a malformed header or a key that is not valid.
pub(super) async fn optional_principal(
    s: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, WebError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|k| k.trim().to_string())
        .ok_or(WebError::Unauthorized)?;
    blocking(s, move |app| app.authenticate_key(&key))
        .await?
        .map(Some)
        .ok_or(WebError::Unauthorized)
}

/// The principal of the `Authorization: Bearer KEY` header, which is required.
pub(super) async fn principal(s: &AppState, headers: &HeaderMap) -> Result<Principal, WebError> {
    optional_principal(s, headers)
        .await?
        .ok_or(WebError::Unauthorized)
}

/// The body of `POST /api/v1/events`.
#[derive(Deserialize)]
pub struct EventBatch {
    events: Vec<serde_json::Value>,
}

/// `POST /api/v1/events`: a batch of case events from a department's system.
pub async fn submit_events(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let p = principal(&s, &headers).await?;
    let batch: EventBatch = serde_json::from_slice(&body)
        .map_err(|e| WebError::BadRequest(format!("body must be {{\"events\": [...]}}: {e}")))?;
    let events: Vec<Result<Incoming, String>> = batch
        .events
        .into_iter()
        .map(|v| serde_json::from_value::<Incoming>(v).map_err(|e| format!("malformed event: {e}")))
        .collect();
    let results = blocking(&s, move |app| app.submit(&p, events)).await?;
    let accepted = results.iter().filter(|r| r.status == "accepted").count();
    let duplicate = results.iter().filter(|r| r.status == "duplicate").count();
    let rejected = results.len() - accepted - duplicate;
    Ok(Json(serde_json::json!({"accepted": accepted, "duplicate": duplicate, "rejected": rejected, "results": results})).into_response())
}

/// `GET /api/v1/rules`: every rule with its level, basis and parameters in force.
pub async fn rules(State(s): State<AppState>) -> Json<serde_json::Value> {
    let pack = s.app.rule_pack();
    let rules: Vec<serde_json::Value> = lianzheng_core::rules::RULES
        .iter()
        .map(|r| {
            let setting = pack.setting(r.code);
            serde_json::json!({
                "code": r.code, "name": r.name_zh, "name_en": r.name_en, "kind": r.kind, "basis": r.basis,
                "enabled": setting.is_some_and(|s| s.enabled),
                "level": setting.map_or(r.level, |s| s.level).code(),
                "level_zh": setting.map_or(r.level, |s| s.level).label_zh(),
                "params": setting.map(|s| s.params.clone()).unwrap_or_default(),
            })
        })
        .collect();
    Json(serde_json::json!({"rules": rules}))
}

/// Query of the item list.
#[derive(Deserialize)]
pub struct ItemQuery {
    department: Option<String>,
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /api/v1/public/items`: retained items, by department and keyword.
pub async fn public_items(
    State(s): State<AppState>,
    Query(q): Query<ItemQuery>,
) -> Result<Json<serde_json::Value>, WebError> {
    let items = blocking(&s, move |app| {
        app.public_items(
            q.department.as_deref(),
            q.q.as_deref(),
            q.limit.unwrap_or(50),
            q.offset.unwrap_or(0),
        )
    })
    .await?;
    Ok(Json(serde_json::json!({"items": items})))
}

/// `GET /api/v1/public/items/{code}`: an item with its version history.
pub async fn public_item(
    State(s): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<serde_json::Value>, WebError> {
    let versions = blocking(&s, move |app| app.item_versions(&code)).await?;
    let Some(current) = versions.last() else {
        return Err(WebError::NotFound("item not found".into()));
    };
    Ok(Json(
        serde_json::json!({"item": current, "versions": versions}),
    ))
}

/// Query code parameter.
#[derive(Deserialize)]
pub struct CodeQuery {
    query_code: String,
}

/// `GET /api/v1/public/cases/{case_no}?query_code=…`: the public case view.
pub async fn public_case(
    State(s): State<AppState>,
    Path(case_no): Path<String>,
    Query(q): Query<CodeQuery>,
) -> Result<Json<serde_json::Value>, WebError> {
    let view = blocking(&s, move |app| app.public_case(&case_no, &q.query_code)).await?;
    Ok(Json(
        serde_json::to_value(view).map_err(|_| WebError::Internal)?,
    ))
}

/// The body of a rating.
#[derive(Deserialize)]
pub struct RatingBody {
    query_code: String,
    #[serde(flatten)]
    rating: RatingInput,
}

/// `POST /api/v1/public/cases/{case_no}/rating`: the applicant rates a finished case.
pub async fn rate_case(
    State(s): State<AppState>,
    Path(case_no): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, WebError> {
    let b: RatingBody = serde_json::from_slice(&body)
        .map_err(|e| WebError::BadRequest(format!("malformed rating: {e}")))?;
    let finding = blocking(&s, move |app| {
        app.rate_case(&case_no, &b.query_code, b.rating)
    })
    .await?;
    Ok(Json(
        serde_json::json!({"status": "rated", "rectification_finding": finding}),
    ))
}

/// `GET /api/v1/public/stats/departments`.
pub async fn department_stats(
    State(s): State<AppState>,
) -> Result<Json<serde_json::Value>, WebError> {
    let stats = blocking(&s, |app| app.department_stats_cached(60)).await?;
    Ok(Json(serde_json::json!({"departments": &*stats})))
}

/// Roll-up dimension.
#[derive(Deserialize)]
pub struct ByQuery {
    by: Option<String>,
}

/// `GET /api/v1/public/stats/ratings?by=department|item`.
pub async fn public_rating_rollup(
    State(s): State<AppState>,
    Query(q): Query<ByQuery>,
) -> Result<Json<serde_json::Value>, WebError> {
    let by = q.by.unwrap_or_else(|| "department".into());
    let rows = blocking(&s, move |app| app.rating_rollup(&Principal::Public, &by)).await?;
    Ok(Json(serde_json::json!({"rollup": rows})))
}

/// `GET /api/v1/stats/ratings?by=staff|window|department|item` (staff).
pub async fn rating_rollup(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ByQuery>,
) -> Result<Json<serde_json::Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let by = q.by.unwrap_or_else(|| "department".into());
    let rows = blocking(&s, move |app| app.rating_rollup(&p, &by)).await?;
    Ok(Json(serde_json::json!({"rollup": rows})))
}

/// `GET /api/v1/findings`.
pub async fn findings(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(f): Query<FindingFilter>,
) -> Result<Json<serde_json::Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let rows = blocking(&s, move |app| app.findings(&p, &f)).await?;
    Ok(Json(serde_json::json!({"findings": rows})))
}

/// `POST /api/v1/findings/{id}/actions`: 督办, 整改, 摘牌, 升级, 办结.
pub async fn finding_action(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let action: FindingAction = serde_json::from_slice(&body)
        .map_err(|e| WebError::BadRequest(format!("malformed action: {e}")))?;
    let state = blocking(&s, move |app| app.act_on_finding(&p, id, action)).await?;
    Ok(Json(
        serde_json::to_value(state).map_err(|_| WebError::Internal)?,
    ))
}

/// The body of an answer.
#[derive(Deserialize)]
pub struct AnswerBody {
    answer: String,
}

/// `POST /api/v1/ratings/{case_no}/answer`: the department answers a bad rating.
pub async fn answer_rating(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(case_no): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, WebError> {
    let p = principal(&s, &headers).await?;
    let b: AnswerBody = serde_json::from_slice(&body)
        .map_err(|e| WebError::BadRequest(format!("malformed answer: {e}")))?;
    blocking(&s, move |app| app.answer_rating(&p, &case_no, &b.answer)).await?;
    Ok(Json(serde_json::json!({"status": "answered"})))
}

/// `GET /api/v1/cases/{case_no}`: the staff view with personal data; the access is recorded.
pub async fn staff_case(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(case_no): Path<String>,
) -> Result<Json<serde_json::Value>, WebError> {
    let p = principal(&s, &headers).await?;
    Ok(Json(
        blocking(&s, move |app| app.staff_case(&p, &case_no)).await?,
    ))
}

/// `POST /api/v1/catalog/items`: item changes as a JSON array, all or nothing.
pub async fn save_items(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let p = principal(&s, &headers).await?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| WebError::BadRequest("body must be UTF-8 JSON".into()))?;
    let changes: Vec<ItemChange> = match lianzheng_app::catalog::parse_json_import(&text) {
        Ok(c) => c,
        Err(errors) => {
            let body = serde_json::json!({"error": {"code": "invalid_input", "message": "some rows are invalid; nothing was saved"}, "rows": errors});
            return Ok((axum::http::StatusCode::BAD_REQUEST, Json(body)).into_response());
        }
    };
    let report = blocking(&s, move |app| app.save_items(&p, changes)).await?;
    let status = if report.errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::BAD_REQUEST
    };
    Ok((
        status,
        Json(serde_json::to_value(report).map_err(|_| WebError::Internal)?),
    )
        .into_response())
}
