//! The complaint and monitoring pages (issue #5) through the real router on both backends: a
//! citizen files on the portal, the supervisor triages, the department accepts and answers in
//! the console, the citizen rates it 不满意 and it reopens; forged posts are refused; another
//! department sees nothing; 民主评议 and its CSV show the figures; the monitoring console runs a
//! round from registration to published results.

use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use lianzheng_core::monitoring::INDICATORS;

use crate::console::{Res, enc, hidden_csrf, login, send};
use crate::{TestApp, each_backend, rt};

fn now() -> Timestamp {
    "2026-03-02T10:00:00+08:00".parse().unwrap()
}

fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let i = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {body}"))
        + start.len();
    &body[i..i + body[i..].find(end).unwrap()]
}

fn form_cookie(res: &Res) -> String {
    res.cookies
        .iter()
        .find(|c| c.starts_with("lz_cform="))
        .unwrap()
        .clone()
}

fn users(t: &TestApp) {
    t.app
        .add_user("jcj", "监察员", "supervisor", None, "supervisor-pass-1")
        .unwrap();
    t.app
        .add_user("scjg", "市场窗口", "clerk", Some("SCJG"), "clerk-pass-123")
        .unwrap();
    t.app
        .add_user("gaj", "公安窗口", "clerk", Some("GAJ"), "clerk-pass-456")
        .unwrap();
}

#[test]
fn a_complaint_goes_from_the_portal_through_the_console_and_back() {
    each_backend("complaint-pages", now(), |t| {
        crate::api::seed(&t);
        users(&t);
        rt().block_on(async {
            // The form, in Chinese, with a token in a cookie and in the form.
            let form = send(&t, "GET", "/complaints/new", "", None).await;
            assert_eq!(form.status, StatusCode::OK);
            assert!(form.body.contains("投诉举报") && form.body.contains("焦作市SCJG"), "{}", form.body);
            let cookie = form_cookie(&form);
            let csrf = hidden_csrf(&form.body);
            assert_eq!(cookie, format!("lz_cform={csrf}"));
            let fields = format!(
                "category=SF&department=SCJG&subject=fee&item_code=ITEM1&fee_code={}&amount=50&title={}&content={}&identity=real&name={}&phone=13912345678",
                enc("检测费"),
                enc("窗口收取检测费"),
                enc("办理食品经营许可时被收取检测费50元，没有收据。"),
                enc("张三")
            );

            // A forged post (no cookie, or another token) is refused and stores nothing.
            let res = send(&t, "POST", "/complaints/new", "", Some(&format!("csrf={csrf}&{fields}"))).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);
            assert!(res.body.contains("页面已过期"), "{}", res.body);
            let res = send(&t, "POST", "/complaints/new", &cookie, Some(&format!("csrf=0123456789abcdef0123456789abcdef&{fields}"))).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);
            // Bad input: the form again, with the reason, what was typed, and nothing stored.
            let bad = fields.replace("identity=real&name=", "identity=real&x=");
            let res = send(&t, "POST", "/complaints/new", &cookie, Some(&format!("csrf={csrf}&{bad}"))).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            assert!(res.body.contains("实名投诉请填写姓名和联系电话") && res.body.contains("没有收据"), "{}", res.body);
            let res = send(&t, "POST", "/complaints/new", &cookie, Some(&format!("csrf={csrf}&{}", fields.replace("ITEM1", "NOPE")))).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            assert!(res.body.contains("未找到所填的单位或事项"), "{}", res.body);
            assert!(crate::sync(|| t.app.complaint_stats(None)).unwrap().is_empty());

            // Filed: the number, the query code and the fee check, once.
            let res = send(&t, "POST", "/complaints/new", &cookie, Some(&format!("csrf={csrf}&{fields}"))).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            let no = between(&res.body, "id=\"complaint-no\">", "<").to_string();
            let code = between(&res.body, "id=\"query-code\">", "<").to_string();
            assert!(no.starts_with("TS20260302"), "{no}");
            assert!(res.body.contains("目录外收费"), "{}", res.body);

            // A wrong code answers exactly like an unknown number.
            let wrong = send(&t, "GET", &format!("/complaints/query?no={no}&code=1{code}"), "", None).await;
            let unknown = send(&t, "GET", &format!("/complaints/query?no=TS20260302999999&code=1{code}"), "", None).await;
            assert_eq!(wrong.status, StatusCode::NOT_FOUND);
            assert_eq!(unknown.status, StatusCode::NOT_FOUND);
            assert_eq!(wrong.body.replace(&no, "X"), unknown.body.replace("TS20260302999999", "X"));
            let query = format!("/complaints/query?no={no}&code={code}");
            let page = send(&t, "GET", &query, "", None).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("已登记") && page.body.contains("受理期限") && !page.body.contains("张三"), "{}", page.body);

            // The supervisor sees it with the complainant and triages it to SCJG.
            let (jcj, jcsrf) = login(&t, "jcj", "supervisor-pass-1").await.map_err(|r| r.body).unwrap();
            let list = send(&t, "GET", "/console/complaints", &jcj, None).await;
            assert!(list.body.contains(&no), "{}", list.body);
            let view = send(&t, "GET", &format!("/console/complaints/{no}"), &jcj, None).await;
            assert_eq!(view.status, StatusCode::OK);
            assert!(view.body.contains("张三") && view.body.contains("id=\"triage\""), "{}", view.body);
            assert!(!view.body.contains("id=\"accept\""));
            let act = format!("/console/complaints/{no}/actions");
            let res = send(&t, "POST", &act, &jcj, Some(&format!("csrf={jcsrf}&action=triage&route=responsible&department=SCJG"))).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            assert_eq!(res.location.as_deref(), Some(format!("/console/complaints/{no}").as_str()));

            // Another department does not learn of it.
            let (gaj, gcsrf) = login(&t, "gaj", "clerk-pass-456").await.map_err(|r| r.body).unwrap();
            assert!(!send(&t, "GET", "/console/complaints?status=all", &gaj, None).await.body.contains(&no));
            assert_eq!(send(&t, "GET", &format!("/console/complaints/{no}"), &gaj, None).await.status, StatusCode::NOT_FOUND);
            let res = send(&t, "POST", &act, &gaj, Some(&format!("csrf={gcsrf}&action=accept"))).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND);

            // SCJG accepts and answers; a forged post does nothing.
            let (scjg, scsrf) = login(&t, "scjg", "clerk-pass-123").await.map_err(|r| r.body).unwrap();
            let list = send(&t, "GET", "/console/complaints", &scjg, None).await;
            assert!(list.body.contains(&no), "{}", list.body);
            let view = send(&t, "GET", &format!("/console/complaints/{no}"), &scjg, None).await;
            assert!(view.body.contains("id=\"accept\"") && !view.body.contains("id=\"triage\""), "{}", view.body);
            let res = send(&t, "POST", &act, &scjg, Some("csrf=forged&action=accept")).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);
            let res = send(&t, "POST", &act, &scjg, Some(&format!("csrf={scsrf}&action=accept"))).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            // What the use case refuses comes back as a page with its reason.
            let res = send(&t, "POST", &act, &scjg, Some(&format!("csrf={scsrf}&action=accept"))).await;
            assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
            let view = send(&t, "GET", &format!("/console/complaints/{no}"), &scjg, None).await;
            assert!(view.body.contains("id=\"answer\"") && view.body.contains("答复期限"), "{}", view.body);
            let answer = "经查属实，已退还检测费50元并对窗口人员批评教育。";
            let res = send(&t, "POST", &act, &scjg, Some(&format!("csrf={scsrf}&action=answer&outcome=sustained&text={}", enc(answer)))).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);

            // The citizen reads the answer and rates it 不满意: it is handled again.
            let page = send(&t, "GET", &query, "", None).await;
            assert!(page.body.contains(answer) && page.body.contains("评价答复"), "{}", page.body);
            let cookie = form_cookie(&page);
            let csrf = hidden_csrf(&page.body);
            let res = send(&t, "POST", "/complaints/rate", "", Some(&format!("csrf={csrf}&no={no}&code={code}&satisfaction=3"))).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);
            let res = send(&t, "POST", "/complaints/rate", &cookie, Some(&format!("csrf={csrf}&no={no}&code={code}&satisfaction=3"))).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            let page = send(&t, "GET", &query, "", None).await;
            assert!(page.body.contains("重新办理中") && page.body.contains("评价") && !page.body.contains("评价答复"), "{}", page.body);
            let v = crate::sync(|| t.app.public_complaint(&no, &code)).unwrap();
            assert_eq!(v["complaint"]["status"], "accepted");

            // 民主评议 and its CSV carry the month's figures.
            let stats = crate::sync(|| t.app.complaint_stats(None)).unwrap();
            assert_eq!(stats.len(), 1);
            let s = &stats[0];
            assert_eq!((s.received, s.answered, s.answered_in_time, s.rated, s.satisfied, s.fee_confirmed), (1, 1, 1, 1, 0, 1));
            let page = send(&t, "GET", "/appraisal", "", None).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("data-chart=") && page.body.contains("<td class=\"nowrap\">2026-03</td><td>焦作市SCJG</td><td>1</td><td>1</td><td>1</td><td>1</td><td>0</td><td>100.0%</td><td>1</td><td>0.0%</td><td>1</td>"), "{}", page.body);
            let page = send(&t, "GET", "/appraisal?month=2026-02", "", None).await;
            assert!(!page.body.contains("<td>焦作市SCJG</td>"), "{}", page.body);
            let csv = send(&t, "GET", "/appraisal.csv", "", None).await;
            assert_eq!(csv.status, StatusCode::OK);
            assert!(csv.body.starts_with("\u{feff}月份,部门代码"), "{}", csv.body);
            assert!(csv.body.contains("\n2026-03,SCJG,焦作市SCJG,1,1,1,1,0,100.0,1,0,0.0,1\n"), "{}", csv.body);
            // In English too.
            let en = send(&t, "GET", "/appraisal?lang=en", "", None).await;
            assert!(en.body.contains("Public appraisal") && en.body.contains("Complaints received"), "{}", en.body);
        });
    });
}

#[test]
fn an_operator_enters_a_hotline_complaint() {
    each_backend("complaint-hotline", now(), |t| {
        crate::api::seed(&t);
        users(&t);
        rt().block_on(async {
            let (jcj, csrf) = login(&t, "jcj", "supervisor-pass-1")
                .await
                .map_err(|r| r.body)
                .unwrap();
            let form = send(&t, "GET", "/console/complaints/new", &jcj, None).await;
            assert_eq!(form.status, StatusCode::OK);
            assert!(form.body.contains("热线投诉登记"));
            let fields = format!(
                "category=TD&department=GAJ&subject=department&content={}&identity=anonymous",
                enc("来电反映窗口人员态度生硬。")
            );
            let res = send(
                &t,
                "POST",
                "/console/complaints/new",
                &jcj,
                Some(&format!("csrf=forged&{fields}")),
            )
            .await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);
            let res = send(
                &t,
                "POST",
                "/console/complaints/new",
                &jcj,
                Some(&format!(
                    "csrf={csrf}&category=TD&department=GAJ&identity=anonymous&content="
                )),
            )
            .await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            assert!(
                crate::sync(|| t.app.complaint_stats(None))
                    .unwrap()
                    .is_empty()
            );
            let res = send(
                &t,
                "POST",
                "/console/complaints/new",
                &jcj,
                Some(&format!("csrf={csrf}&{fields}")),
            )
            .await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            let no = between(&res.body, "id=\"complaint-no\">", "<").to_string();
            let view = send(&t, "GET", &format!("/console/complaints/{no}"), &jcj, None).await;
            assert!(
                view.body.contains("热线") && view.body.contains("匿名投诉"),
                "{}",
                view.body
            );
            // The public cannot use the hotline channel; the console requires a session.
            let res = send(&t, "GET", "/console/complaints/new", "", None).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER);
        });
    });
}

fn scores(i: usize, department: &str, v: u8) -> String {
    let mut s = format!("&d_{i}={department}&o_{i}={v}&c_{i}={}", enc("审批快"));
    for k in 0..INDICATORS.len() {
        s.push_str(&format!("&s_{i}_{k}={v}"));
    }
    s
}

#[test]
fn the_monitoring_console_runs_a_round_to_published_results() {
    each_backend("monitoring-pages", now(), |t| {
        crate::api::seed(&t);
        users(&t);
        rt().block_on(async {
            let (jcj, csrf) = login(&t, "jcj", "supervisor-pass-1").await.map_err(|r| r.body).unwrap();
            for i in 1..=4u32 {
                let body = format!("91410800MA{i:07}");
                let code = format!("{body}{}", lianzheng_core::monitoring::credit_code_check_char(&body).unwrap());
                let res = send(&t, "POST", "/console/monitoring/points", &jcj, Some(&format!(
                    "csrf={csrf}&name={}&credit_code={code}&sector=C&contact_person={}&contact_phone=13800000000",
                    enc(&format!("企业{i}")), enc("赵六")))).await;
                assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            }
            // A bad credit code: the use case's reason in a page.
            let res = send(&t, "POST", "/console/monitoring/points", &jcj, Some(&format!(
                "csrf={csrf}&name=x&credit_code=914108000000000000&sector=C&contact_person=y&contact_phone=13800000000"))).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            let res = send(&t, "POST", "/console/monitoring/points/JC004/retire", &jcj, Some(&format!("csrf={csrf}&reason={}", enc("企业迁出")))).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            let page = send(&t, "GET", "/console/monitoring", &jcj, None).await;
            assert!(page.body.contains("在册 3 家") && page.body.contains("138****0000") && !page.body.contains("13800000000"), "{}", page.body);

            // A round: the tokens once; a forged post opens nothing.
            let open = "period=2026Q1&due_workdays=5&departments=SCJG&departments=GAJ";
            let res = send(&t, "POST", "/console/monitoring/rounds", &jcj, Some(&format!("csrf=forged&{open}"))).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);
            let res = send(&t, "POST", "/console/monitoring/rounds", &jcj, Some(&format!("csrf={csrf}&{open}"))).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            assert_eq!(res.body.matches("<code>").count(), 3, "{}", res.body);

            // Two answers entered on time; the form shows both departments.
            let form = send(&t, "GET", "/console/monitoring/requests/2026Q1-JC001", &jcj, None).await;
            assert!(form.body.contains("焦作市SCJG") && form.body.contains("焦作市GAJ") && form.body.contains("s_1_4"), "{}", form.body);
            for p in ["JC001", "JC002"] {
                let res = send(&t, "POST", &format!("/console/monitoring/requests/2026Q1-{p}"), &jcj,
                    Some(&format!("csrf={csrf}{}{}", scores(0, "SCJG", 4), scores(1, "GAJ", 2)))).await;
                assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            }
            // Twice is refused.
            let res = send(&t, "POST", "/console/monitoring/requests/2026Q1-JC001", &jcj,
                Some(&format!("csrf={csrf}{}{}", scores(0, "SCJG", 4), scores(1, "GAJ", 2)))).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            // The third is late: marked in the queue after the sweep, then entered late.
            t.clock.set(now() + SignedDuration::from_hours(24 * 14));
            crate::sync(|| t.app.sweep(500)).unwrap();
            // (Sessions end meanwhile: sign in again.)
            let (jcj, csrf) = login(&t, "jcj", "supervisor-pass-1").await.map_err(|r| r.body).unwrap();
            let page = send(&t, "GET", "/console/monitoring", &jcj, None).await;
            let queue = between(&page.body, "<table id=\"queue\">", "</table>");
            assert!(queue.contains("class=\"late\"") && queue.contains("企业3"), "{queue}");
            let res = send(&t, "POST", "/console/monitoring/requests/2026Q1-JC003", &jcj,
                Some(&format!("csrf={csrf}{}{}", scores(0, "SCJG", 5), scores(1, "GAJ", 3)))).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            let res = send(&t, "POST", "/console/monitoring/rounds/2026Q1/close", &jcj, Some(&format!("csrf={csrf}"))).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            let page = send(&t, "GET", "/console/monitoring", &jcj, None).await;
            assert!(page.body.contains("逾期反馈") && page.body.contains("4.33"), "{}", page.body);

            // A second round with one answer is published as 样本不足.
            let res = send(&t, "POST", "/console/monitoring/rounds", &jcj, Some(&format!("csrf={csrf}&period=2026Q2&due_workdays=5&departments=SCJG"))).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            let res = send(&t, "POST", "/console/monitoring/requests/2026Q2-JC001", &jcj, Some(&format!("csrf={csrf}{}", scores(0, "SCJG", 1)))).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            send(&t, "POST", "/console/monitoring/rounds/2026Q2/close", &jcj, Some(&format!("csrf={csrf}"))).await;

            // The public appraisal shows the published numbers and the suppression, no comments.
            let page = send(&t, "GET", "/appraisal", "", None).await;
            let results = between(&page.body, "<table id=\"monitoring-results\">", "</table>");
            assert!(results.contains("<td>2026Q1</td><td>焦作市SCJG</td><td>3</td><td>4.33</td>"), "{results}");
            assert!(results.contains("<td>2026Q2</td><td>焦作市SCJG</td><td>1</td><td colspan=\"6\" class=\"warn\">样本不足</td>"), "{results}");
            assert!(!page.body.contains("审批快"));
            assert!(page.body.contains("/api/v1/public/monitoring/results.csv"));

            // A department reads only its own results; it manages nothing.
            let (scjg, scsrf) = login(&t, "scjg", "clerk-pass-123").await.map_err(|r| r.body).unwrap();
            let page = send(&t, "GET", "/console/monitoring", &scjg, None).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("本部门评议结果") && page.body.contains("审批快") && !page.body.contains("焦作市GAJ"), "{}", page.body);
            let res = send(&t, "POST", "/console/monitoring/rounds/2026Q3/close", &scjg, Some(&format!("csrf={scsrf}"))).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);
        });
    });
}

#[test]
fn the_appraisal_and_its_csv_are_cached_for_thirty_seconds() {
    use lianzheng_app::Principal;
    use lianzheng_app::complaints::{ComplaintInput, Location};
    use lianzheng_core::complaint::{Category, ComplaintChannel, Subject};
    each_backend("appraisal-cache", now(), |t| {
        crate::api::seed(&t);
        let file = || {
            let input = ComplaintInput {
                category: Category::Efficiency,
                channel: ComplaintChannel::Portal,
                department: "SCJG".into(),
                subject: Subject::Department,
                title: Some("窗口办事拖拉".into()),
                content: "跑了三次".into(),
                complainant: None,
                location: Location::default(),
                media_url: None,
            };
            crate::sync(|| t.app.file_complaint(&Principal::Public, input)).unwrap();
        };
        let row =
            |n: i64| format!("<td class=\"nowrap\">2026-03</td><td>焦作市SCJG</td><td>{n}</td>");
        let line = |n: i64| format!("\n2026-03,SCJG,焦作市SCJG,{n},");
        file();
        rt().block_on(async {
            let page = send(&t, "GET", "/appraisal", "", None).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains(&row(1)), "{}", page.body);
            // The page is the uncached computation's figures.
            let stats = crate::sync(|| t.app.complaint_stats(None)).unwrap();
            assert_eq!(stats.len(), 1);
            assert_eq!(stats[0].received, 1);
            // A second complaint: the page (any month, any language) and the CSV keep the
            // figures of the first computation for 30 s.
            file();
            t.clock.set(now() + SignedDuration::from_secs(29));
            for uri in [
                "/appraisal",
                "/appraisal?month=2026-03",
                "/appraisal?lang=en",
            ] {
                let page = send(&t, "GET", uri, "", None).await;
                assert!(page.body.contains(&row(1)), "{uri}: {}", page.body);
            }
            for uri in ["/appraisal.csv", "/appraisal.csv?month=2026-03"] {
                let csv = send(&t, "GET", uri, "", None).await;
                assert!(csv.body.contains(&line(1)), "{uri}: {}", csv.body);
            }
            let csv = send(&t, "GET", "/appraisal.csv?month=2026-02", "", None).await;
            assert_eq!(csv.body.lines().count(), 1, "{}", csv.body);
            t.clock.set(now() + SignedDuration::from_secs(30));
            let page = send(&t, "GET", "/appraisal", "", None).await;
            assert!(page.body.contains(&row(2)), "{}", page.body);
            let csv = send(&t, "GET", "/appraisal.csv?month=2026-03", "", None).await;
            assert!(csv.body.contains(&line(2)), "{}", csv.body);
            let csv = send(&t, "GET", "/appraisal.csv", "", None).await;
            let stats = crate::sync(|| t.app.complaint_stats(None)).unwrap();
            assert_eq!(csv.body.lines().count(), 1 + stats.len());
            assert!(csv.body.contains(&line(stats[0].received)));
        });
    });
}
