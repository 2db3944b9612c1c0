//! The log over HTTP: C2SP tlog-tiles paths under `/log/` (static-serveable, immutable full
//! tiles), the verifier key, proofs and receipts in the JSON API.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{AppState, WebError, blocking};

fn text(body: String, cache: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

/// `GET /log/checkpoint`: the newest signed checkpoint (mutable, cached for a second).
pub async fn checkpoint(State(s): State<AppState>) -> Result<Response, WebError> {
    let cp = blocking(&s, |app| app.latest_checkpoint()).await?;
    let cp = cp.ok_or_else(|| WebError::NotFound("no checkpoint has been signed yet".into()))?;
    Ok(text(cp.note, "public, max-age=1"))
}

/// `GET /log/vkey`: the verifier key of the log.
pub async fn vkey(State(s): State<AppState>) -> Result<Response, WebError> {
    let k = s
        .vkey
        .clone()
        .ok_or_else(|| WebError::NotFound("this server has no log key".into()))?;
    Ok(text(format!("{k}\n"), "public, max-age=300"))
}

/// `GET /log/tile/<L>/<N>[.p/<W>]` and `/log/tile/entries/<N>[.p/<W>]`.
pub async fn tile(
    State(s): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, WebError> {
    let full_path = format!("tile/{path}");
    let (bytes, full) = blocking(&s, move |app| app.tile(&full_path)).await?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if full {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=1"
        }),
    );
    Ok(res)
}

/// `GET /api/v1/log/checkpoint`: the newest checkpoint as JSON.
pub async fn checkpoint_json(
    State(s): State<AppState>,
) -> Result<Json<serde_json::Value>, WebError> {
    let cp = blocking(&s, |app| app.latest_checkpoint()).await?;
    let cp = cp.ok_or_else(|| WebError::NotFound("no checkpoint has been signed yet".into()))?;
    Ok(Json(
        serde_json::json!({"size": cp.size, "note": cp.note, "signed_at": cp.signed_at.to_string(), "vkey": s.vkey.as_deref()}),
    ))
}

/// Query of an inclusion proof.
#[derive(Deserialize)]
pub struct InclusionQuery {
    index: u64,
    size: u64,
}

/// `GET /api/v1/log/proof/inclusion?index=I&size=N`.
pub async fn inclusion(
    State(s): State<AppState>,
    Query(q): Query<InclusionQuery>,
) -> Result<Json<serde_json::Value>, WebError> {
    let proof = blocking(&s, move |app| app.inclusion_proof(q.index, q.size)).await?;
    let proof: Vec<String> = proof.iter().map(lianzheng_app::log::hash_b64).collect();
    Ok(Json(
        serde_json::json!({"index": q.index, "size": q.size, "proof": proof}),
    ))
}

/// Query of a consistency proof.
#[derive(Deserialize)]
pub struct ConsistencyQuery {
    from: u64,
    to: u64,
}

/// `GET /api/v1/log/proof/consistency?from=M&to=N`.
pub async fn consistency(
    State(s): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<serde_json::Value>, WebError> {
    let proof = blocking(&s, move |app| app.consistency_proof(q.from, q.to)).await?;
    let proof: Vec<String> = proof.iter().map(lianzheng_app::log::hash_b64).collect();
    Ok(Json(
        serde_json::json!({"from": q.from, "to": q.to, "proof": proof}),
    ))
}

/// Query code of a receipt.
#[derive(Deserialize)]
pub struct ReceiptQuery {
    query_code: String,
}

/// `GET /api/v1/public/cases/{case_no}/receipts/{seq}?query_code=…`: a `.tlog-proof` receipt.
pub async fn receipt(
    State(s): State<AppState>,
    Path((case_no, seq)): Path<(String, i64)>,
    Query(q): Query<ReceiptQuery>,
) -> Result<Response, WebError> {
    let no = case_no.clone();
    let body = blocking(&s, move |app| app.case_receipt(&no, &q.query_code, seq)).await?;
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    let disposition = format!(
        "attachment; filename=\"{}-{seq}.tlog-proof\"",
        case_no.replace(['"', '\\'], "")
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
