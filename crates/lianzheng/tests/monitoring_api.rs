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
            // The same round again: a conflict, its message in both languages.
            let (s, v, _) = call(&t, "POST", "/api/v1/monitoring/rounds", Some(&admin),
                Some(json!({"period": "2026Q1", "due_workdays": 5, "departments": ["SCJG"]}))).await;
            assert_eq!(s, StatusCode::CONFLICT);
            assert_eq!(v["error"]["code"], "conflict");
            assert_eq!(v["error"]["message"], "评议期次 `2026Q1` 已存在 (survey round `2026Q1` already exists)");
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

/// `application/x-www-form-urlencoded` value encoding.
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The form fields of a complete answer for two departments, all scores `v`.
fn form_answer(request: &str, token: &str, v: u8, skip: Option<&str>) -> String {
    let mut fields = vec![
        ("request".to_string(), request.to_string()),
        ("token".to_string(), token.to_string()),
    ];
    for d in 0..2 {
        for j in 0..INDICATORS.len() {
            fields.push((format!("d{d}_s{j}"), v.to_string()));
        }
        fields.push((format!("d{d}_overall"), v.to_string()));
        fields.push((format!("d{d}_comment"), "窗口排队时间长".into()));
    }
    fields
        .into_iter()
        .filter(|(k, _)| Some(k.as_str()) != skip)
        .map(|(k, v)| format!("{k}={}", encode(&v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[test]
fn an_enterprise_answers_on_the_page_its_link_opens() {
    each_backend("page_monitoring", now(), |t| {
        crate::api::seed(&t);
        let admin = t.app.create_api_key("jcb", None).unwrap().key;
        rt().block_on(async {
            let body = "91410800MA0000001";
            let code = format!("{body}{}", credit_code_check_char(body).unwrap());
            let (s, _, text) = call(
                &t,
                "POST",
                "/api/v1/monitoring/points",
                Some(&admin),
                Some(json!({
                "name": "焦作某制造企业", "credit_code": code, "sector": "制造业",
                "contact_person": "赵六", "contact_phone": "13800000000"})),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{text}");
            let (s, opened, text) = call(
                &t,
                "POST",
                "/api/v1/monitoring/rounds",
                Some(&admin),
                Some(
                    json!({"period": "2026Q1", "due_workdays": 5, "departments": ["SCJG", "GAJ"]}),
                ),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{text}");
            let request = opened["requests"][0]["request"]
                .as_str()
                .unwrap()
                .to_string();
            let token = opened["requests"][0]["token"].as_str().unwrap().to_string();
            let link = format!("/monitoring/respond?request={request}&token={token}");

            // The link opens the form: the departments and the five indicators, no point data.
            let (s, headers, page) = crate::request(&t, "GET", &link, &[], None).await;
            assert_eq!(s, StatusCode::OK, "{}: {page}", t.backend);
            assert_eq!(headers["referrer-policy"], "no-referrer");
            assert!(
                page.contains("2026Q1")
                    && page.contains("焦作市SCJG")
                    && page.contains("焦作市GAJ"),
                "{page}"
            );
            assert!(INDICATORS.iter().all(|i| page.contains(i)));
            assert!(page.contains("name=\"d1_overall\""));
            assert!(
                !page.contains("焦作某制造企业")
                    && !page.contains("赵六")
                    && !page.contains("13800000000"),
                "{page}"
            );
            // A wrong token, or none, is a request that does not exist.
            let (s, _, page) = crate::request(
                &t,
                "GET",
                &format!("/monitoring/respond?request={request}&token=00"),
                &[],
                None,
            )
            .await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            assert!(page.contains("未找到该评议请求"), "{page}");

            // Posts the form; the page and its status.
            let post = |body: String| {
                let t = &t;
                async move {
                    let (s, _, page) = crate::request(
                        t,
                        "POST",
                        "/monitoring/respond",
                        &[],
                        Some(("application/x-www-form-urlencoded", body)),
                    )
                    .await;
                    (s, page)
                }
            };
            // How many requests are answered, as the office sees them.
            let answered = || {
                let (t, admin) = (&t, &admin);
                async move {
                    let (_, v, _) = call(
                        t,
                        "GET",
                        "/api/v1/monitoring/queue?status=answered",
                        Some(admin),
                        None,
                    )
                    .await;
                    v["requests"].as_array().map_or(0, Vec::len)
                }
            };
            // A missing score: refused with the reason, what was chosen kept, nothing stored.
            let (s, page) = post(form_answer(&request, &token, 4, Some("d1_s3"))).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{page}");
            assert!(page.contains("请为每个部门的每一项选择1至5分"), "{page}");
            assert!(page.contains("<option value=\"4\" selected>"), "{page}");
            assert!(page.contains("窗口排队时间长"));
            assert_eq!(answered().await, 0);
            // A wrong token in the form stores nothing either.
            let (s, _) = post(form_answer(&request, "ff", 4, None)).await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            assert_eq!(answered().await, 0);

            // The complete answer is taken once.
            let (s, page) = post(form_answer(&request, &token, 4, None)).await;
            assert_eq!(s, StatusCode::OK, "{page}");
            assert!(page.contains("id=\"done\""), "{page}");
            assert_eq!(answered().await, 1);
            let (s, page) = post(form_answer(&request, &token, 2, None)).await;
            assert_eq!(s, StatusCode::CONFLICT, "{page}");
            assert!(page.contains("评议未提交"), "{page}");
            let (_, _, page) = crate::request(&t, "GET", &link, &[], None).await;
            assert!(page.contains("id=\"answered\""), "{page}");
            // In English too.
            let (_, _, page) =
                crate::request(&t, "GET", &format!("{link}&lang=en"), &[], None).await;
            assert!(page.contains("This survey has been answered"), "{page}");

            // The round's results count the answer; the comment goes to the department only.
            let (s, _, text) = call(
                &t,
                "POST",
                "/api/v1/monitoring/rounds/2026Q1/close",
                Some(&admin),
                None,
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{text}");
        });
        assert!(t.app.audit(None).unwrap().is_clean());
    });
}
