//! Enterprise monitoring points through the real router: register points, open a round, answer
//! with tokens, close, read the published roll-up (JSON and CSV) and the department's own view.

use axum::http::StatusCode;
use jiff::Timestamp;
use lianzheng_core::monitoring::{INDICATORS, credit_code_check_char};
use serde_json::{Value, json};

use crate::{TestApp, each_backend, rt};

fn now() -> Timestamp {
    "2026-03-02T10:00:00+08:00".parse().unwrap()
}

async fn call(
    t: &TestApp,
    method: &str,
    uri: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value, String) {
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| ("authorization", a))
        .into_iter()
        .collect();
    let (status, _, text) = crate::request(
        t,
        method,
        uri,
        &headers,
        body.map(|v| ("application/json", v.to_string())),
    )
    .await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    )
}

fn answer(dept: &str, v: u8) -> Value {
    let scores: serde_json::Map<String, Value> = INDICATORS
        .iter()
        .map(|n| ((*n).to_string(), json!(v)))
        .collect();
    json!({"department": dept, "scores": scores, "overall": v, "comment": "办事需多次跑腿"})
}

#[test]
fn monitoring_through_the_api() {
    each_backend("api_monitoring", now(), |t| {
        crate::api::seed(&t);
        let admin = t.app.create_api_key("jcb", None).unwrap().key;
        let scjg = t.app.create_api_key("scjg", Some("SCJG")).unwrap().key;
        let gaj = t.app.create_api_key("gaj", Some("GAJ")).unwrap().key;
        rt().block_on(async {
            let (s, _, _) = call(&t, "GET", "/api/v1/monitoring/points", None, None).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED);
            for i in 1..=3u32 {
                let body = format!("91410800MA{i:07}");
                let code = format!("{body}{}", credit_code_check_char(&body).unwrap());
                let (s, v, text) = call(&t, "POST", "/api/v1/monitoring/points", Some(&admin), Some(json!({
                    "name": format!("企业{i}"), "credit_code": code, "sector": "制造业",
                    "contact_person": "赵六", "contact_phone": "13800000000"}))).await;
                assert_eq!(s, StatusCode::OK, "{}: {text}", t.backend);
                assert_eq!(v["point"]["contact_phone"], "138****0000");
            }
            let (s, v, _) = call(&t, "POST", "/api/v1/monitoring/points", Some(&admin), Some(json!({
                "name": "坏码", "credit_code": "914108000000000000", "sector": "C",
                "contact_person": "赵六", "contact_phone": "13800000000"}))).await;
            assert_eq!(s, StatusCode::BAD_REQUEST);
            assert_eq!(v["error"]["code"], "invalid_input");
            let (s, _, _) = call(&t, "GET", "/api/v1/monitoring/points", Some(&scjg), None).await;
            assert_eq!(s, StatusCode::FORBIDDEN);
            let (s, v, _) = call(&t, "GET", "/api/v1/monitoring/points/JC001/contact", Some(&admin), None).await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(v["contact"]["phone"], "13800000000");

            let (s, opened, text) = call(&t, "POST", "/api/v1/monitoring/rounds", Some(&admin),
                Some(json!({"period": "2026Q1", "due_workdays": 5, "departments": ["SCJG", "GAJ"]}))).await;
            assert_eq!(s, StatusCode::OK, "{text}");
            let requests = opened["requests"].as_array().unwrap().clone();
            assert_eq!(requests.len(), 3);
            let first = &requests[0];
            let uri = format!("/api/v1/public/monitoring/requests/{}/response", first["request"].as_str().unwrap());
            let (s, _, _) = call(&t, "POST", &uri, None,
                Some(json!({"token": "wrong", "ratings": [answer("SCJG", 2), answer("GAJ", 4)]}))).await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            for (i, r) in requests.iter().enumerate() {
                let uri = format!("/api/v1/public/monitoring/requests/{}/response", r["request"].as_str().unwrap());
                let scjg_score = if i == 2 { 3 } else { 2 };
                let (s, v, text) = call(&t, "POST", &uri, None,
                    Some(json!({"token": r["token"], "ratings": [answer("SCJG", scjg_score), answer("GAJ", 4)]}))).await;
                assert_eq!(s, StatusCode::OK, "{text}");
                assert_eq!(v["late"], false);
            }
            let (s, v, _) = call(&t, "GET", "/api/v1/monitoring/queue?status=answered", Some(&admin), None).await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(v["requests"].as_array().unwrap().len(), 3);

            let (_, v, _) = call(&t, "GET", "/api/v1/public/monitoring/results", None, None).await;
            assert_eq!(v["results"].as_array().unwrap().len(), 0, "not before the round closes");
            let (s, _, _) = call(&t, "POST", "/api/v1/monitoring/rounds/2026Q1/close", Some(&scjg), None).await;
            assert_eq!(s, StatusCode::FORBIDDEN);
            let (s, closed, text) = call(&t, "POST", "/api/v1/monitoring/rounds/2026Q1/close", Some(&admin), None).await;
            assert_eq!(s, StatusCode::OK, "{text}");
            assert_eq!(closed["findings"].as_array().unwrap().len(), 1, "{closed}");

            let (s, v, text) = call(&t, "GET", "/api/v1/public/monitoring/results?round=2026Q1", None, None).await;
            assert_eq!(s, StatusCode::OK);
            assert!(!text.contains("企业") && !text.contains("JC00") && !text.contains("跑腿"), "{text}");
            let rows = v["results"].as_array().unwrap();
            let row = rows.iter().find(|r| r["department"] == "SCJG").unwrap();
            assert_eq!((row["n"].as_u64(), row["overall"].as_f64()), (Some(3), Some(2.33)));
            let (s, headers, csv) = crate::request(&t, "GET", "/api/v1/public/monitoring/results.csv", &[], None).await;
            assert_eq!(s, StatusCode::OK);
            assert!(headers["content-type"].to_str().unwrap().starts_with("text/csv"));
            assert!(csv.contains("2026Q1,SCJG,焦作市SCJG,3,"), "{csv}");

            // A department sees only its own results, with the comments.
            let (_, v, _) = call(&t, "GET", "/api/v1/monitoring/results", Some(&gaj), None).await;
            let rows = v["results"].as_array().unwrap();
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0]["department"], "GAJ");
            assert_eq!(rows[0]["comments"].as_array().unwrap().len(), 3);
            let (_, v, _) = call(&t, "GET", "/api/v1/findings?code=E001", Some(&scjg), None).await;
            assert_eq!(v["findings"].as_array().map(Vec::len), Some(1), "{v}");

            // Every monitoring route is documented.
            let (_, doc, _) = call(&t, "GET", "/api/v1/openapi.json", None, None).await;
            for path in [
                "/api/v1/monitoring/points",
                "/api/v1/monitoring/points/{id}/retire",
                "/api/v1/monitoring/points/{id}/contact",
                "/api/v1/monitoring/rounds",
                "/api/v1/monitoring/rounds/{id}/close",
                "/api/v1/monitoring/queue",
                "/api/v1/monitoring/requests/{id}/response",
                "/api/v1/monitoring/results",
                "/api/v1/public/monitoring/requests/{id}/response",
                "/api/v1/public/monitoring/results",
                "/api/v1/public/monitoring/results.csv",
            ] {
                assert!(doc["paths"].get(path).is_some(), "route {path} is not in openapi.json");
                assert!(include_str!("../src/web/mod.rs").contains(&format!("\"{path}\"")), "{path}");
            }
        });
    });
}
