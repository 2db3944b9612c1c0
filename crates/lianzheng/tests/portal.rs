//! The public portal through the real router on both backends: statistics by department and
//! by month with their charts and CSV files, the embedded ECharts, the English switch, rating
//! with the indicator set, and verifying an uploaded receipt.

use axum::http::StatusCode;
use jiff::Timestamp;
use lianzheng_app::Principal;
use lianzheng_app::ingest::Incoming;
use lianzheng_core::case::{Actor, Applicant, CaseEvent, EventBody};
use lianzheng_core::codes::{ActorRole, FinishResult, StepAction};

use crate::console::{enc, send};
use crate::{TestApp, each_backend, rt};

fn now() -> Timestamp {
    "2026-03-02T10:00:00+08:00".parse().unwrap()
}

/// A finished case of ITEM1: (case number, query code).
fn finished_case(t: &TestApp) -> (String, String) {
    let admin = Principal::Admin {
        name: "test".into(),
    };
    let clerk = Actor {
        id: "c1".into(),
        name: "窗口甲".into(),
        role: ActorRole::Window,
    };
    let r = t
        .app
        .register_application(
            &admin,
            clerk.clone(),
            "ITEM1",
            Applicant {
                name: "张三丰".into(),
                id_type: "111".into(),
                id_no: "410802199001011234".into(),
                phone: "13900000000".into(),
            },
            vec![],
            None,
        )
        .unwrap();
    let officer = Actor {
        id: "o1".into(),
        name: "承办甲".into(),
        role: ActorRole::Officer,
    };
    let leader = Actor {
        id: "l1".into(),
        name: "领导甲".into(),
        role: ActorRole::Leader,
    };
    let events = [
        (
            officer.clone(),
            EventBody::Step {
                step: "承办".into(),
                action: StepAction::Pass,
                opinion: None,
            },
        ),
        (
            leader.clone(),
            EventBody::Step {
                step: "批准".into(),
                action: StepAction::Pass,
                opinion: None,
            },
        ),
        (
            leader,
            EventBody::Finish {
                result: FinishResult::Granted,
                certificate_no: None,
            },
        ),
    ];
    for (actor, body) in events {
        let ev = Incoming {
            event_id: None,
            event: CaseEvent {
                case_no: r.case_no.clone(),
                occurred_at: t.app.now(),
                actor,
                body,
            },
        };
        let res = t.app.submit(&admin, vec![Ok(ev)]).unwrap();
        assert!(res[0].error.is_none(), "{:?}", res[0].error);
    }
    (r.case_no, r.query_code)
}

#[test]
fn statistics_by_department_and_month_with_charts_and_csv() {
    each_backend("portal-stats", now(), |t| {
        crate::api::seed(&t);
        finished_case(&t);
        finished_case(&t);
        rt().block_on(async {
            let page = send(&t, "GET", "/stats", "", None).await;
            assert_eq!(page.status, StatusCode::OK);
            // Three charts declared, drawn by the embedded ECharts, with the same figures as tables.
            assert_eq!(page.body.matches("data-chart=").count(), 3, "{}", page.body);
            assert!(page.body.contains("src=\"/assets/echarts.min.js\""));
            assert!(
                page.body.contains("<td>2026-03</td><td>2</td><td>2</td>"),
                "{}",
                page.body
            );
            let one = send(&t, "GET", "/stats?department=SCJG", "", None).await;
            assert!(one.body.contains("焦作市SCJG · 逐月情况"), "{}", one.body);
            let none = send(&t, "GET", "/stats?department=GAJ", "", None).await;
            assert!(
                none.body.contains("<td>2026-03</td><td>0</td>"),
                "{}",
                none.body
            );
            // The monthly CSV: twelve months up to this one.
            let csv = send(&t, "GET", "/stats.csv?by=month&department=SCJG", "", None).await;
            let lines: Vec<&str> = csv.body.lines().collect();
            assert_eq!(lines.len(), 13, "{}", csv.body);
            assert!(lines[0].starts_with("\u{feff}部门代码,月份,"));
            assert_eq!(lines[1].split(',').nth(1), Some("2025-04"));
            assert!(lines[12].starts_with("SCJG,2026-03,2,2,"), "{}", lines[12]);
            let csv = send(&t, "GET", "/stats.csv", "", None).await;
            assert!(csv.body.contains("SCJG,焦作市SCJG,2,2,"), "{}", csv.body);
            // ECharts is served by Lianzheng itself, with its licence header.
            let js = send(&t, "GET", "/assets/echarts.min.js", "", None).await;
            assert_eq!(js.status, StatusCode::OK);
            assert!(js.body.len() > 500_000 && js.body.contains("Apache License"));
            // The operator's figures for Prometheus.
            let m = send(&t, "GET", "/metrics", "", None).await;
            assert_eq!(m.status, StatusCode::OK);
            let size: u64 = m
                .body
                .lines()
                .find_map(|l| l.strip_prefix("lianzheng_log_size "))
                .unwrap()
                .parse()
                .unwrap();
            assert!(size > 10, "{}", m.body);
            assert!(
                m.body
                    .contains("lianzheng_http_request_duration_seconds_bucket{le=\"+Inf\"}"),
                "{}",
                m.body
            );
            assert!(
                m.body.lines().any(|l| l
                    .starts_with("lianzheng_http_responses_total{class=\"2xx\"} ")
                    && !l.ends_with(" 0")),
                "{}",
                m.body
            );
            assert!(
                m.body.contains(&format!("backend=\"{}\"", t.backend)),
                "{}",
                m.body
            );
            // The home page shows this month's figures.
            let home = send(&t, "GET", "/", "", None).await;
            assert!(home.body.contains("本月受理办件<b>2</b>"), "{}", home.body);
        });
    });
}

#[test]
fn the_portal_switches_to_english_and_remembers_it() {
    each_backend("portal-lang", now(), |t| {
        crate::api::seed(&t);
        rt().block_on(async {
            let zh = send(&t, "GET", "/items", "", None).await;
            assert!(zh.body.contains("<html lang=\"zh-CN\">") && zh.body.contains("事项目录"));
            assert!(zh.body.contains("href=\"/items?lang=en\""), "{}", zh.body);
            let en = send(&t, "GET", "/items?lang=en", "", None).await;
            assert!(
                en.body.contains("<html lang=\"en\">") && en.body.contains("Approval items"),
                "{}",
                en.body
            );
            let cookie = en
                .cookies
                .iter()
                .find(|c| c.starts_with("lz_lang="))
                .unwrap()
                .clone();
            assert_eq!(cookie, "lz_lang=en");
            // The next page follows the cookie; data stays as published.
            let stats = send(&t, "GET", "/stats", &cookie, None).await;
            assert!(
                stats.body.contains("Statistics") && stats.body.contains("焦作市SCJG"),
                "{}",
                stats.body
            );
            let query = send(&t, "GET", "/query?case_no=X&code=1", &cookie, None).await;
            assert_eq!(query.status, StatusCode::NOT_FOUND);
            assert!(
                query
                    .body
                    .contains("No such case, or the query code is wrong."),
                "{}",
                query.body
            );
            // And back.
            let zh = send(&t, "GET", "/verify?lang=zh", &cookie, None).await;
            assert!(zh.body.contains("回执验证") && zh.cookies.contains(&"lz_lang=zh".to_string()));
        });
    });
}

#[test]
fn a_citizen_rates_with_indicators_and_verifies_an_uploaded_receipt() {
    each_backend("portal-rate", now(), |t| {
        crate::api::seed(&t);
        let (no, code) = finished_case(&t);
        rt().block_on(async {
            let page = send(&t, "GET", &format!("/query?case_no={no}&code={code}"), "", None).await;
            assert!(page.body.contains("name=\"ind_0\"") && page.body.contains("办事效率"), "{}", page.body);
            // The applicant's name is masked on the public page.
            assert!(!page.body.contains("张三丰") && page.body.contains("张*"), "{}", page.body);
            let token = page.cookies.iter().find(|c| c.starts_with("lz_form=")).unwrap().clone();
            let csrf = token.trim_start_matches("lz_form=").to_string();
            // A bad indicator value changes nothing.
            let res = send(&t, "POST", "/query/rate", &token, Some(&format!("csrf={csrf}&case_no={no}&code={code}&satisfaction=4&ind_1=9"))).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            let res = send(&t, "POST", "/query/rate", &token, Some(&format!("csrf={csrf}&case_no={no}&code={code}&satisfaction=4&ind_1=5&ind_3=4&comment={}", enc("等待时间太长")))).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            let admin = Principal::Admin { name: "t".into() };
            let rollup = crate::sync(|| t.app.rating_rollup(&admin, "department")).unwrap();
            assert_eq!((rollup[0].count, rollup[0].bad), (1, 1));
            let n = no.clone();
            let stored = crate::sync(|| t.app.db.read(move |tx| {
                Ok::<_, lianzheng_app::AppError>(tx.query_opt("SELECT indicators, channel FROM ratings WHERE case_no = ?", &[n.into()])?.unwrap().text(0))
            })).unwrap();
            let v: serde_json::Value = serde_json::from_str(&stored).unwrap();
            assert_eq!(v, serde_json::json!({"办事效率": 5, "办事便捷度": 4}));
            // The 差评 opened a rectification task (R001).
            let f = crate::sync(|| t.app.findings(&admin, &Default::default())).unwrap();
            assert!(f.iter().any(|f| f.code == "R001"), "{f:?}");

            // A receipt downloaded from the page verifies when uploaded as a file.
            let signer = std::sync::Arc::new(
                lianzheng_tlog::checkpoint::LogSigner::generate("test.example/log", &mut rand_core::OsRng).unwrap(),
            );
            let vkey = signer.vkey_text();
            let a = t.app.clone();
            tokio::task::spawn_blocking(move || a.checkpoint(&signer)).await.unwrap().unwrap().unwrap();
            let seq = page.body.split("/receipts/").nth(1).unwrap().split('?').next().unwrap().to_string();
            let receipt = send(&t, "GET", &format!("/api/v1/public/cases/{no}/receipts/{seq}?query_code={code}"), "", None).await;
            assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.body);
            let boundary = "XyZ123";
            let body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"receipt\"\r\n\r\n\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.tlog-proof\"\r\nContent-Type: text/plain\r\n\r\n{}\r\n--{boundary}--\r\n",
                receipt.body
            );
            let (status, _, html) = crate::request_with_vkey(&t, Some(&vkey), "POST", "/verify", &[], Some((&format!("multipart/form-data; boundary={boundary}"), body))).await;
            assert_eq!(status, StatusCode::OK, "{html}");
            assert!(html.contains("验证通过"), "{html}");
        });
    });
}
