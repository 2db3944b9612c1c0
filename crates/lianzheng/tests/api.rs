//! The JSON API and the plain pages through the real router.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use jiff::Timestamp;
use lianzheng::web::router;
use lianzheng_app::Principal;
use lianzheng_app::catalog::{Department, ItemChange};
use lianzheng_core::catalog::{ItemBody, ItemStatus, StepDef};
use lianzheng_core::codes::{CaseKind, ItemType, ServiceObject, WindowAuth};
use lianzheng_core::deadline::TimeLimit;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{TestApp, each_backend, rt};

fn now() -> Timestamp {
    "2026-03-02T10:00:00+08:00".parse().unwrap()
}

pub(crate) fn seed(t: &TestApp) {
    let admin = Principal::Admin {
        name: "test".into(),
    };
    let deps = ["SCJG", "GAJ"].map(|c| Department {
        code: c.into(),
        credit_code: format!("11410800{c}000000"),
        name: format!("焦作市{c}"),
        short_name: c.into(),
        phone: "0391-1234567".into(),
    });
    t.app.upsert_departments(&admin, &deps).unwrap();
    let body = ItemBody {
        name: "食品经营许可".into(),
        basic_code: "0111001000".into(),
        item_type: ItemType::Licensing,
        department: "SCJG".into(),
        legal_basis: "《食品安全法》".into(),
        legal_limit: TimeLimit::working_days(20),
        promised_limit: TimeLimit::working_days(5),
        case_kind: CaseKind::Promised,
        service_object: ServiceObject::Enterprise,
        window_auth: WindowAuth::AcceptOnly,
        fees: vec![],
        materials: vec![],
        steps: vec![
            StepDef {
                name: "承办".into(),
                limit_days: 2,
            },
            StepDef {
                name: "批准".into(),
                limit_days: 2,
            },
        ],
        special_procedures: vec![],
        supervision_phone: "0391-1234567".into(),
        conditions: String::new(),
        online_required: false,
    };
    let change = ItemChange {
        code: "ITEM1".into(),
        effective_date: jiff::civil::date(2026, 1, 1),
        reason: "公布".into(),
        status: ItemStatus::Active,
        body,
    };
    assert!(
        t.app
            .save_items(&admin, vec![change])
            .unwrap()
            .errors
            .is_empty()
    );
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

fn ev(id: &str, kind: &str, at: &str, extra: Value) -> Value {
    let mut v = json!({"event_id": id, "case_no": "C1", "kind": kind, "occurred_at": at, "actor": {"id": "W01", "name": "李四", "role": "window"}});
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    v
}

#[test]
fn case_through_the_api() {
    each_backend("api_case", now(), |t| {
        seed(&t);
        let key = t.app.create_api_key("scjg", Some("SCJG")).unwrap().key;
        let other = t.app.create_api_key("gaj", Some("GAJ")).unwrap().key;
        rt().block_on(async {
            let (s, _, _) = call(&t, "GET", "/healthz", None, None).await;
            assert_eq!(s, StatusCode::OK, "{}", t.backend);

            // No key, a bad key, malformed bodies.
            let batch = json!({"events": [ev("e1", "apply", "2026-03-02T09:00:00+08:00", json!({"item_code": "ITEM1", "channel": "window", "applicant": {"name": "张三丰", "id_no": "410802199001011234"}}))]});
            let (s, body, _) = call(&t, "POST", "/api/v1/events", None, Some(batch.clone())).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED);
            assert_eq!(body["error"]["code"], "unauthorized");
            let (s, _, _) = call(&t, "POST", "/api/v1/events", Some("lz_nope"), Some(batch.clone())).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED);
            let (s, body, _) = call(&t, "POST", "/api/v1/events", Some(&key), Some(json!({"nope": 1}))).await;
            assert_eq!(s, StatusCode::BAD_REQUEST);
            assert_eq!(body["error"]["code"], "invalid_input");

            // Another department's key reaches nothing of SCJG.
            let (s, body, _) = call(&t, "POST", "/api/v1/events", Some(&other), Some(batch.clone())).await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(body["results"][0]["error"]["code"], "forbidden", "{}", t.backend);

            let (s, body, _) = call(&t, "POST", "/api/v1/events", Some(&key), Some(batch.clone())).await;
            assert_eq!(s, StatusCode::OK, "{body}");
            assert_eq!(body["accepted"], 1);
            let code = body["results"][0]["query_code"].as_str().unwrap().to_string();
            // Idempotent.
            let (_, body, _) = call(&t, "POST", "/api/v1/events", Some(&key), Some(batch)).await;
            assert_eq!(body["duplicate"], 1);

            // An illegal transition is rejected with a clear error; the rest of the batch goes in.
            let batch = json!({"events": [
                ev("e2", "finish", "2026-03-02T09:10:00+08:00", json!({"result": "granted"})),
                ev("e3", "accept", "2026-03-02T09:20:00+08:00", json!({})),
                {"case_no": "C1", "kind": "teleport"},
            ]});
            let (_, body, _) = call(&t, "POST", "/api/v1/events", Some(&key), Some(batch)).await;
            assert_eq!(body["results"][0]["status"], "rejected");
            assert_eq!(body["results"][0]["error"]["code"], "invalid_transition");
            assert_eq!(body["results"][1]["status"], "accepted");
            assert_eq!(body["results"][2]["error"]["code"], "invalid_input");

            // The public query: masked name, the deadline, the timeline; a wrong code is a 404.
            let (s, body, _) = call(&t, "GET", &format!("/api/v1/public/cases/C1?query_code={code}"), None, None).await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(body["applicant"], "张**");
            assert_eq!(body["promised_due"], "2026-03-09");
            assert_eq!(body["timeline"].as_array().unwrap().len(), 2);
            let (s, _, _) = call(&t, "GET", "/api/v1/public/cases/C1?query_code=00000000", None, None).await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            let (s, _, html) = call(&t, "GET", &format!("/query?case_no=C1&code={code}"), None, None).await;
            assert_eq!(s, StatusCode::OK);
            assert!(html.contains("食品经营许可") && html.contains("张**") && !html.contains("张三丰"), "{html}");
            assert!(html.contains("2026-03-09"));
            let (s, _, html) = call(&t, "GET", "/query?case_no=C1&code=1", None, None).await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            assert!(html.contains("查询码不正确"));

            // Steps, finish, then a bad rating opens a rectification task the department answers.
            let batch = json!({"events": [
                ev("e4", "step", "2026-03-02T09:30:00+08:00", json!({"step": "承办", "action": "pass"})),
                ev("e5", "step", "2026-03-02T09:40:00+08:00", json!({"step": "批准", "action": "通过"})),
                ev("e6", "finish", "2026-03-02T09:50:00+08:00", json!({"result": "granted"})),
            ]});
            let (_, body, _) = call(&t, "POST", "/api/v1/events", Some(&key), Some(batch)).await;
            assert_eq!(body["accepted"], 3, "{body}");
            let rating = json!({"query_code": code, "satisfaction": 5, "channel": "tablet", "indicators": {"服务态度": 1}, "comment": "态度差"});
            let (s, body, _) = call(&t, "POST", "/api/v1/public/cases/C1/rating", None, Some(rating.clone())).await;
            assert_eq!(s, StatusCode::OK, "{body}");
            assert!(body["rectification_finding"].is_i64());
            let (s, _, _) = call(&t, "POST", "/api/v1/public/cases/C1/rating", None, Some(rating)).await;
            assert_eq!(s, StatusCode::CONFLICT);
            let (s, _, _) = call(&t, "POST", "/api/v1/ratings/C1/answer", Some(&other), Some(json!({"answer": "x"}))).await;
            assert_eq!(s, StatusCode::FORBIDDEN);
            let (s, _, _) = call(&t, "POST", "/api/v1/ratings/C1/answer", Some(&key), Some(json!({"answer": "已整改，致歉"}))).await;
            assert_eq!(s, StatusCode::OK);
            let (_, body, _) = call(&t, "GET", &format!("/api/v1/public/cases/C1?query_code={code}"), None, None).await;
            assert_eq!(body["rating"]["answer"], "已整改，致歉");

            // Findings are scoped to the department; the public cannot list them.
            let (s, body, _) = call(&t, "GET", "/api/v1/findings", Some(&key), None).await;
            assert_eq!(s, StatusCode::OK);
            assert!(body["findings"].as_array().unwrap().iter().any(|f| f["code"] == "R001"));
            let (_, body, _) = call(&t, "GET", "/api/v1/findings", Some(&other), None).await;
            assert!(body["findings"].as_array().unwrap().is_empty());
            let (s, _, _) = call(&t, "GET", "/api/v1/findings", None, None).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED);

            // The staff view with personal data is scoped and its access recorded.
            let (s, _, _) = call(&t, "GET", "/api/v1/cases/C1", Some(&other), None).await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            let (s, body, _) = call(&t, "GET", "/api/v1/cases/C1", Some(&key), None).await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(body["applicant"]["name"], "张三丰");
        });
        let views = t
            .app
            .db
            .read(|tx| {
                Ok::<_, lianzheng_app::AppError>(
                    tx.query_opt(
                        "SELECT COUNT(*) FROM events WHERE subject_type = 'personal_data'",
                        &[],
                    )?
                    .unwrap()
                    .int(0),
                )
            })
            .unwrap();
        assert_eq!(views, 1, "{}", t.backend);
    });
}

#[test]
fn openapi_documents_every_route() {
    each_backend("api_doc", now(), |t| {
        rt().block_on(async {
            let (s, doc, _) = call(&t, "GET", "/api/v1/openapi.json", None, None).await;
            assert_eq!(s, StatusCode::OK);
            let paths = doc["paths"].as_object().unwrap();
            let src = include_str!("../src/web/mod.rs");
            for line in src.lines().filter(|l| {
                l.trim_start().starts_with(".route(\"/api") || l.contains(".route(\"/healthz")
            }) {
                let path = line.split('"').nth(1).unwrap();
                assert!(
                    paths.contains_key(path),
                    "route {path} is not in openapi.json"
                );
            }
            let (s, body, _) = call(&t, "GET", "/nope", None, None).await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            assert_eq!(body["error"]["code"], "not_found");
            let (_, rules, _) = call(&t, "GET", "/api/v1/rules", None, None).await;
            assert!(rules["rules"].as_array().unwrap().len() >= 25);
        });
    });
}

#[test]
fn the_log_over_http_and_a_receipt_verified_offline() {
    each_backend("api_log", now(), |t| {
        seed(&t);
        let key = t.app.create_api_key("scjg", Some("SCJG")).unwrap().key;
        let signer = std::sync::Arc::new(
            lianzheng_tlog::checkpoint::LogSigner::generate(
                "test.example/log",
                &mut rand_core::OsRng,
            )
            .unwrap(),
        );
        let vkey = signer.vkey_text();
        rt().block_on(async {
            let batch = json!({"events": [
                ev("a", "apply", "2026-03-02T09:00:00+08:00", json!({"item_code": "ITEM1", "channel": "window", "applicant": {"name": "张三丰"}})),
                ev("b", "accept", "2026-03-02T09:10:00+08:00", json!({})),
            ]});
            let (_, body, _) = call(&t, "POST", "/api/v1/events", Some(&key), Some(batch)).await;
            let code = body["results"][0]["query_code"].as_str().unwrap().to_string();
            let seq = body["results"][1]["seq"].as_i64().unwrap();
            // Before a checkpoint: a clear retryable refusal.
            let (s, body, _) = call(&t, "GET", &format!("/api/v1/public/cases/C1/receipts/{seq}?query_code={code}"), None, None).await;
            assert_eq!(s, StatusCode::CONFLICT, "{body}");
            let (a, sg) = (t.app.clone(), signer.clone());
            let cp = tokio::task::spawn_blocking(move || a.checkpoint(&sg)).await.unwrap().unwrap().unwrap();
            let app = router(t.app.clone(), Some(vkey.clone()));
            let get = |uri: String| {
                let app = app.clone();
                async move {
                    let res = app.oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap()).await.unwrap();
                    let status = res.status();
                    let cache = res.headers().get("cache-control").map(|v| v.to_str().unwrap().to_string());
                    (status, axum::body::to_bytes(res.into_body(), 1 << 24).await.unwrap().to_vec(), cache)
                }
            };
            let (s, note, _) = get("/log/checkpoint".into()).await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(String::from_utf8(note).unwrap(), cp.note);
            let (_, k, _) = get("/log/vkey".into()).await;
            assert_eq!(String::from_utf8(k).unwrap().trim(), vkey);
            let (s, tile, cache) = get(format!("/log/tile/0/000.p/{}", cp.size)).await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(tile.len() as u64, cp.size * 32);
            assert_eq!(cache.as_deref(), Some("public, max-age=1"));
            let (s, _, _) = get("/log/tile/0/001".into()).await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            let (s, _, _) = get("/log/tile/0/x".into()).await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            let (s, body, text) = call(&t, "GET", &format!("/api/v1/log/proof/inclusion?index={}&size={}", seq - 1, cp.size), None, None).await;
            assert_eq!(s, StatusCode::OK, "{text}");
            assert!(body["proof"].is_array());
            let (s, _, _) = call(&t, "GET", "/api/v1/log/proof/inclusion?index=99&size=3", None, None).await;
            assert_eq!(s, StatusCode::BAD_REQUEST);
            // The receipt verifies offline against the verifier key alone.
            let (s, _, receipt) = call(&t, "GET", &format!("/api/v1/public/cases/C1/receipts/{seq}?query_code={code}"), None, None).await;
            assert_eq!(s, StatusCode::OK, "{receipt}");
            let r = lianzheng_tlog::receipt::Receipt::parse(&receipt).unwrap();
            let rec = r.verify_self_contained(&vkey).unwrap();
            assert!(String::from_utf8_lossy(&rec.payload).contains("\"kind\":\"accept\""));
            let (s, _, _) = call(&t, "GET", &format!("/api/v1/public/cases/C1/receipts/{seq}?query_code=1"), None, None).await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            // The portal's verify page, with the receipt pasted, and with it altered.
            let form = |text: &str| {
                let body: String = text.bytes().map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") }).collect();
                Request::builder().method("POST").uri("/verify").header("content-type", "application/x-www-form-urlencoded").body(Body::from(format!("receipt={body}"))).unwrap()
            };
            let res = app.clone().oneshot(form(&receipt)).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let html = String::from_utf8(axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
            assert!(html.contains("验证通过"), "{html}");
            let forged = receipt.replacen("index ", "index 1", 1);
            let res = app.clone().oneshot(form(&forged)).await.unwrap();
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
            // The case page links every step's receipt.
            let (_, _, html) = call(&t, "GET", &format!("/query?case_no=C1&code={code}"), None, None).await;
            assert!(html.contains(&format!("/api/v1/public/cases/C1/receipts/{seq}?query_code={code}")), "{html}");
        });
    });
}

#[test]
fn public_forms_are_rate_limited() {
    each_backend("api_limits", now(), |t| {
        rt().block_on(async {
            let app = router(t.app.clone(), None);
            let mut statuses = Vec::new();
            for _ in 0..22 {
                let req = Request::builder()
                    .method("POST")
                    .uri("/verify")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from("receipt=x"))
                    .unwrap();
                let res = app.clone().oneshot(req).await.unwrap();
                statuses.push((res.status(), res.headers().get("retry-after").is_some()));
            }
            assert!(
                statuses[..20]
                    .iter()
                    .all(|(s, _)| *s != StatusCode::TOO_MANY_REQUESTS),
                "{statuses:?}"
            );
            assert_eq!(statuses[20], (StatusCode::TOO_MANY_REQUESTS, true));
            // Reading pages is not limited.
            let res = app
                .clone()
                .oneshot(
                    Request::builder()
                        .uri("/verify")
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
        });
    });
}

#[test]
fn malformed_requests_get_the_documented_json_error() {
    each_backend("api_malformed", now(), |t| {
        seed(&t);
        let key = t.app.create_api_key("admin-key", None).unwrap().key;
        rt().block_on(async {
            for (method, uri, body) in [
                ("GET", "/api/v1/findings?open=maybe", None),
                ("GET", "/api/v1/public/items?offset=null", None),
                ("GET", "/api/v1/log/proof/inclusion?index=x", None),
                (
                    "POST",
                    "/api/v1/findings/x/actions",
                    Some(json!({"action": "supervise"})),
                ),
                (
                    "POST",
                    "/api/v1/events",
                    Some(json!({"events": "not a list"})),
                ),
            ] {
                let (status, body, text) = call(&t, method, uri, Some(&key), body).await;
                assert!(status.is_client_error(), "{uri}: {status} {text}");
                assert!(
                    body["error"]["code"].is_string() && body["error"]["message"].is_string(),
                    "{uri}: {text}"
                );
            }
        });
    });
}
