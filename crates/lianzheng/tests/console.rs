//! The staff console through the real router: login with CSRF and lockout, sessions that
//! expire, the supervision board, role limits, and the record of personal-data views.

use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use lianzheng_app::Principal;

use crate::{TestApp, each_backend, rt};

fn now() -> Timestamp {
    "2026-03-02T10:00:00+08:00".parse().unwrap()
}

pub(crate) struct Res {
    pub status: StatusCode,
    pub cookies: Vec<String>,
    pub location: Option<String>,
    pub body: String,
}
/// Asserts that `body` holds each of `texts`.
fn has(body: &str, texts: &[&str]) {
    for text in texts {
        assert!(body.contains(text), "{text}: {body}");
    }
}

/// Asserts that `body` holds none of `texts`.
fn lacks(body: &str, texts: &[&str]) {
    for text in texts {
        assert!(!body.contains(text), "{text}: {body}");
    }
}

pub(crate) async fn send(
    t: &TestApp,
    method: &str,
    uri: &str,
    cookie: &str,
    form: Option<&str>,
) -> Res {
    let headers: Vec<(&str, &str)> = if cookie.is_empty() {
        Vec::new()
    } else {
        vec![("cookie", cookie)]
    };
    let body = form.map(|f| ("application/x-www-form-urlencoded", f.to_string()));
    let (status, h, body) = crate::request(t, method, uri, &headers, body).await;
    let cookies = h
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    let location = h.get("location").map(|v| v.to_str().unwrap().to_string());
    Res {
        status,
        cookies,
        location,
        body,
    }
}

pub(crate) fn hidden_csrf(html: &str) -> String {
    let i = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

pub(crate) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Logs in and returns the session cookie and the board's CSRF token.
pub(crate) async fn login(
    t: &TestApp,
    user: &str,
    password: &str,
) -> Result<(String, String), Res> {
    let form = send(t, "GET", "/console/login", "", None).await;
    let pre = form
        .cookies
        .iter()
        .find(|c| c.starts_with("lz_login_csrf="))
        .unwrap()
        .clone();
    let csrf = hidden_csrf(&form.body);
    let res = send(
        t,
        "POST",
        "/console/login",
        &pre,
        Some(&format!(
            "csrf={csrf}&username={}&password={}",
            enc(user),
            enc(password)
        )),
    )
    .await;
    if res.status != StatusCode::SEE_OTHER {
        return Err(res);
    }
    let session = res
        .cookies
        .iter()
        .find(|c| c.starts_with("lz_session="))
        .unwrap()
        .clone();
    let board = send(t, "GET", "/console", &session, None).await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    Ok((session, hidden_csrf(&board.body)))
}

#[test]
fn the_console_from_login_to_a_supervision_order() {
    each_backend("console", now(), |t| {
        crate::api::seed(&t);
        let app = &t.app;
        app.add_user("jcj", "监察员甲", "supervisor", None, "supervisor-pass-1")
            .unwrap();
        app.add_user("scjg1", "窗口乙", "clerk", Some("SCJG"), "clerk-pass-123")
            .unwrap();
        app.add_user("sjj", "审计员丙", "auditor", None, "auditor-pass-1")
            .unwrap();
        // A red card: a fee on an item that charges nothing (F002).
        let dept = Principal::Department {
            name: "key:scjg".into(),
            department: "SCJG".into(),
        };
        let ev = |kind: &str, extra: serde_json::Value| {
            let mut v = serde_json::json!({"case_no": "C1", "kind": kind, "occurred_at": "2026-03-02T09:00:00+08:00", "actor": {"id": "W01", "role": "window"}});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            Ok(serde_json::from_value(v).unwrap())
        };
        let r = app
            .submit(&dept, vec![
                ev("apply", serde_json::json!({"item_code": "ITEM1", "channel": "window", "applicant": {"name": "张三丰", "id_no": "410802199001011234"}})),
                ev("accept", serde_json::json!({})),
                ev("fee", serde_json::json!({"fee_code": "X", "amount_fen": 5000})),
            ])
            .unwrap();
        assert_eq!(r[2].findings, vec!["F002".to_string()], "{}", t.backend);
        let fid = app
            .findings(
                &Principal::Supervisor { name: "x".into() },
                &Default::default(),
            )
            .unwrap()[0]
            .id;

        rt().block_on(async {
            // Anonymous: to the login page.
            let res = send(&t, "GET", "/console", "", None).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER);
            assert_eq!(res.location.as_deref(), Some("/console/login"));
            // A login without the double-submit token is refused.
            let res = send(
                &t,
                "POST",
                "/console/login",
                "",
                Some("csrf=x&username=jcj&password=supervisor-pass-1"),
            )
            .await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);
            // Wrong passwords lock the account after five tries, even for the right password.
            for i in 0..5 {
                let res = login(&t, "scjg1", "wrong-password").await.err().unwrap();
                assert_eq!(res.status, StatusCode::FORBIDDEN);
                let expected = if i < 4 {
                    "用户名或密码错误"
                } else {
                    "账户已锁定"
                };
                assert!(res.body.contains(expected), "{i}: {}", res.body);
            }
            let res = login(&t, "scjg1", "clerk-pass-123").await.err().unwrap();
            assert!(res.body.contains("账户已锁定"));

            // The supervisor sees the red card and issues a 督办.
            let (sup, csrf) = login(&t, "jcj", "supervisor-pass-1")
                .await
                .map_err(|r| r.body)
                .unwrap();
            let board = send(&t, "GET", "/console", &sup, None).await;
            assert!(
                board.body.contains("F002") && board.body.contains("督办"),
                "{}",
                board.body
            );
            let res = send(
                &t,
                "POST",
                &format!("/console/findings/{fid}"),
                &sup,
                Some("csrf=bad&action=supervise&text=x"),
            )
            .await;
            assert_eq!(
                res.status,
                StatusCode::FORBIDDEN,
                "a forged form does nothing"
            );
            let res = send(
                &t,
                "POST",
                &format!("/console/findings/{fid}"),
                &sup,
                Some(&format!(
                    "csrf={csrf}&action=supervise&text={}",
                    enc("请5个工作日内退还多收费用")
                )),
            )
            .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            let a = t.app.clone();
            let f = tokio::task::spawn_blocking(move || {
                a.findings(
                    &Principal::Supervisor { name: "x".into() },
                    &Default::default(),
                )
            })
            .await
            .unwrap()
            .unwrap();
            assert_eq!(
                f.iter().find(|x| x.id == fid).unwrap().status,
                "supervised",
                "{}",
                t.backend
            );

            // The department's clerk (after the lock) may report rectification, not supervise.
            t.clock.set(now() + SignedDuration::from_mins(16));
            let (clerk, ccsrf) = login(&t, "scjg1", "clerk-pass-123")
                .await
                .map_err(|r| r.body)
                .unwrap();
            let res = send(
                &t,
                "POST",
                &format!("/console/findings/{fid}"),
                &clerk,
                Some(&format!("csrf={ccsrf}&action=withdraw&text=x")),
            )
            .await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);
            let res = send(
                &t,
                "POST",
                &format!("/console/findings/{fid}"),
                &clerk,
                Some(&format!(
                    "csrf={ccsrf}&action=rectify&text={}",
                    enc("已退还")
                )),
            )
            .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);

            // The auditor reads a case with personal data (recorded) and sees the record.
            let (aud, _) = login(&t, "sjj", "auditor-pass-1")
                .await
                .map_err(|r| r.body)
                .unwrap();
            let res = send(&t, "GET", "/console/cases/C1", &aud, None).await;
            assert_eq!(res.status, StatusCode::OK);
            assert!(res.body.contains("张三丰") && res.body.contains("访问已记录"));
            let board = send(&t, "GET", "/console", &aud, None).await;
            assert!(
                board.body.contains("个人信息访问记录") && board.body.contains("user:sjj"),
                "{}",
                board.body
            );
            assert!(
                !board.body.contains("value=\"supervise\""),
                "an auditor acts on nothing"
            );

            // Sessions end: by logout, and after 30 idle minutes.
            let res = send(
                &t,
                "POST",
                "/console/logout",
                &clerk,
                Some(&format!("csrf={ccsrf}")),
            )
            .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER);
            assert_eq!(
                send(&t, "GET", "/console", &clerk, None).await.status,
                StatusCode::SEE_OTHER
            );
            t.clock.set(now() + SignedDuration::from_mins(16 + 31));
            assert_eq!(
                send(&t, "GET", "/console", &sup, None).await.status,
                StatusCode::SEE_OTHER
            );
        });
    });
}

#[test]
fn a_clerk_registers_an_application_and_records_its_steps() {
    each_backend("window", now(), |t| {
        crate::api::seed(&t);
        // The seeded item has no materials; give it a required one through a new version.
        let admin = Principal::Admin {
            name: "test".into(),
        };
        let mut v = t.app.item_versions("ITEM1").unwrap().pop().unwrap();
        v.body.materials = vec![
            lianzheng_core::catalog::Material {
                name: "申请书".into(),
                required: true,
                original_copies: 1,
                copy_copies: 0,
            },
            lianzheng_core::catalog::Material {
                name: "营业执照".into(),
                required: true,
                original_copies: 0,
                copy_copies: 1,
            },
        ];
        let change = lianzheng_app::catalog::ItemChange {
            code: "ITEM1".into(),
            effective_date: v.effective_date,
            reason: "增加材料".into(),
            status: v.status,
            body: v.body,
        };
        assert!(
            t.app
                .save_items(&admin, vec![change])
                .unwrap()
                .errors
                .is_empty()
        );
        t.app
            .add_user("scjg1", "窗口乙", "clerk", Some("SCJG"), "clerk-pass-123")
            .unwrap();
        t.app
            .add_user("gaj1", "窗口丁", "clerk", Some("GAJ"), "clerk-pass-456")
            .unwrap();
        rt().block_on(async {
            let (clerk, csrf) = login(&t, "scjg1", "clerk-pass-123").await.map_err(|r| r.body).unwrap();
            let form = send(&t, "GET", "/console/register?item=ITEM1", &clerk, None).await;
            assert_eq!(form.status, StatusCode::OK);
            assert!(form.body.contains("申请书（必备）") && form.body.contains("营业执照（必备）"), "{}", form.body);
            // One material missing: the one-time notice lists it, no acceptance.
            let res = send(&t, "POST", "/console/register", &clerk, Some(&format!("csrf={csrf}&item=ITEM1&name={}&id_type=001&m0={}", enc("焦作市宏达商贸有限公司"), enc("申请书")))).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            assert!(res.body.contains("一次性告知书") && res.body.contains("<li>营业执照</li>"), "{}", res.body);
            // All materials: accepted on the spot, with the case number and query code.
            let res = send(&t, "POST", "/console/register", &clerk, Some(&format!("csrf={csrf}&item=ITEM1&name={}&id_type=111&id_no=410802199001011234&m0={}&m1={}", enc("张三丰"), enc("申请书"), enc("营业执照")))).await;
            assert!(res.body.contains("受理通知书"), "{}", res.body);
            let no = res.body.split("办件编号 <strong>").nth(1).unwrap().split('<').next().unwrap().to_string();
            let code = res.body.split("查询码 <strong>").nth(1).unwrap().split('<').next().unwrap().to_string();
            assert!(no.starts_with("20260302SCJG"), "{no}");
            // Record the steps, 办结 and 送达 from the case page.
            for (form, label) in [
                ("kind=step&step=%E6%89%BF%E5%8A%9E&action=pass", "承办"),
                ("kind=step&step=%E6%89%B9%E5%87%86&action=pass", "批准"),
                ("kind=finish&result=granted", "办结"),
                ("kind=deliver", "送达"),
            ] {
                let res = send(&t, "POST", &format!("/console/cases/{no}/events"), &clerk, Some(&format!("csrf={csrf}&{form}"))).await;
                assert_eq!(res.status, StatusCode::SEE_OTHER, "{label}: {}", res.body);
            }
            let page = send(&t, "GET", &format!("/console/cases/{no}"), &clerk, None).await;
            assert!(page.body.contains("<span id=\"status\">已送达</span>"), "{}", page.body);
            // The public sees the finished case; another department's clerk cannot touch it.
            let public = send(&t, "GET", &format!("/query?case_no={no}&code={code}"), "", None).await;
            assert!(public.body.contains("已送达") && public.body.contains("评价本次办理"), "{}", public.body);
            let (other, ocsrf) = login(&t, "gaj1", "clerk-pass-456").await.map_err(|r| r.body).unwrap();
            let res = send(&t, "POST", "/console/register", &other, Some(&format!("csrf={ocsrf}&item=ITEM1&name=x&m0=x"))).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
            let res = send(&t, "GET", &format!("/console/cases/{no}"), &other, None).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND);
        });
    });
}

#[test]
fn the_console_speaks_english_when_asked_and_chinese_by_default() {
    each_backend("console-lang", now(), |t| {
        crate::api::seed(&t);
        let app = &t.app;
        app.add_user("jcj", "监察员甲", "supervisor", None, "supervisor-pass-1")
            .unwrap();
        app.add_user("gly", "管理员乙", "admin", None, "admin-pass-123")
            .unwrap();
        // A red card on the board: a fee on an item that charges nothing (F002).
        let dept = Principal::Department {
            name: "key:scjg".into(),
            department: "SCJG".into(),
        };
        let ev = |kind: &str, extra: serde_json::Value| {
            let mut v = serde_json::json!({"case_no": "C1", "kind": kind, "occurred_at": "2026-03-02T09:00:00+08:00", "actor": {"id": "W01", "role": "window"}});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            Ok(serde_json::from_value(v).unwrap())
        };
        app.submit(&dept, vec![
            ev("apply", serde_json::json!({"item_code": "ITEM1", "channel": "window", "applicant": {"name": "张三丰", "id_no": "410802199001011234"}})),
            ev("accept", serde_json::json!({})),
            ev("fee", serde_json::json!({"fee_code": "X", "amount_fen": 5000})),
        ])
        .unwrap();

        rt().block_on(async {
            // The login page follows `?lang=en`, and a wrong password is refused in English.
            let form = send(&t, "GET", "/console/login?lang=en", "", None).await;
            assert!(
                form.body.contains("<html lang=\"en\">")
                    && form.body.contains("Staff login")
                    && form.body.contains("Password")
                    && !form.body.contains("用户名"),
                "{}",
                form.body
            );
            let pre = form
                .cookies
                .iter()
                .find(|c| c.starts_with("lz_login_csrf="))
                .unwrap()
                .clone();
            let res = send(
                &t,
                "POST",
                "/console/login",
                &format!("{pre}; lz_lang=en"),
                Some(&format!(
                    "csrf={}&username=jcj&password=wrong",
                    crate::console::hidden_csrf(&form.body)
                )),
            )
            .await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);
            assert!(
                res.body.contains("Wrong user name or password"),
                "{}",
                res.body
            );

            let (sup, _) = login(&t, "jcj", "supervisor-pass-1")
                .await
                .map_err(|r| r.body)
                .unwrap();
            // Chinese by default, with the switch to English on the same page.
            let zh = send(&t, "GET", "/console?level=3", &sup, None).await;
            assert_eq!(zh.status, StatusCode::OK);
            assert!(
                zh.body.contains("<html lang=\"zh-CN\">")
                    && zh.body.contains("<h1>工作台</h1>")
                    && zh.body.contains("预警与报警")
                    && zh.body.contains("href=\"/console?level=3&#38;lang=en\""),
                "{}",
                zh.body
            );
            // `?lang=en`: the board in English, remembered in a cookie.
            let en = send(&t, "GET", "/console?level=3&lang=en", &sup, None).await;
            assert_eq!(en.status, StatusCode::OK);
            has(
                &en.body,
                &[
                    "<html lang=\"en\">",
                    "<h1>Console</h1>",
                    "Alerts",
                    "Log out",
                    "Supervision board",
                    "Red card",
                    "F002",
                    "Supervise",
                    "href=\"/console?level=3&#38;lang=zh\"",
                ],
            );
            lacks(
                &en.body,
                &[
                    "<h1>工作台</h1>",
                    "预警与报警",
                    "退出登录",
                    "监督工作台",
                    "红牌报警",
                ],
            );
            assert!(en.cookies.iter().any(|c| c == "lz_lang=en"));
            let cookie = format!("{sup}; lz_lang=en");

            // The other console pages follow the cookie; data stays as stored.
            let case = send(&t, "GET", "/console/cases/C1", &cookie, None).await;
            assert!(
                case.body.contains("This page shows personal data")
                    && case.body.contains("张三丰")
                    && !case.body.contains("办件详情"),
                "{}",
                case.body
            );
            let complaints = send(&t, "GET", "/console/complaints", &cookie, None).await;
            assert!(
                complaints.body.contains("<h1>Complaint handling</h1>")
                    && !complaints.body.contains("<h1>投诉处理</h1>"),
                "{}",
                complaints.body
            );
            let monitoring = send(&t, "GET", "/console/monitoring", &cookie, None).await;
            assert!(
                monitoring
                    .body
                    .contains("<h1>Economic environment monitoring points</h1>"),
                "{}",
                monitoring.body
            );
            // A forged form is refused in English.
            let res = send(
                &t,
                "POST",
                "/console/findings/1",
                &cookie,
                Some("csrf=bad&action=supervise&text=x"),
            )
            .await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);
            assert!(
                res.body.contains("Action refused") && !res.body.contains("操作被拒绝"),
                "{}",
                res.body
            );
            // A use case's refusal too: a supervisor may not open the administration page.
            let res = send(&t, "GET", "/console/admin", &cookie, None).await;
            assert!(res.body.contains("Not allowed"), "{}", res.body);

            let (adm, _) = login(&t, "gly", "admin-pass-123")
                .await
                .map_err(|r| r.body)
                .unwrap();
            let admin = send(&t, "GET", "/console/admin?lang=en", &adm, None).await;
            assert!(
                admin.body.contains("<h1>Administration</h1>")
                    && admin.body.contains("Users and roles")
                    && admin.body.contains("Administrator")
                    && !admin.body.contains("用户与角色"),
                "{}",
                admin.body
            );
            // And back: `?lang=zh` (or no cookie) is Chinese again.
            let back = send(
                &t,
                "GET",
                "/console/admin?lang=zh",
                &format!("{adm}; lz_lang=en"),
                None,
            )
            .await;
            assert!(
                back.body.contains("<h1>系统管理</h1>") && !back.body.contains("Users and roles"),
                "{}",
                back.body
            );
            let plain = send(&t, "GET", "/console", &adm, None).await;
            assert!(plain.body.contains("<h1>工作台</h1>"), "{}", plain.body);
        });
    });
}

#[test]
fn the_catalog_editor_and_the_use_cases_messages_speak_english() {
    each_backend("console-lang-catalog", now(), |t| {
        crate::api::seed(&t);
        t.app
            .add_user("scjg1", "承办甲", "officer", Some("SCJG"), "officer-pass-1")
            .unwrap();
        t.app
            .add_user("jcj", "监察员甲", "supervisor", None, "supervisor-pass-1")
            .unwrap();
        rt().block_on(async {
            let (o, csrf) = login(&t, "scjg1", "officer-pass-1")
                .await
                .map_err(|r| r.body)
                .unwrap();
            // Chinese by default, with the switch to English.
            let zh = send(&t, "GET", "/console/catalog", &o, None).await;
            assert!(
                zh.body.contains("<h1>事项管理</h1>")
                    && zh.body.contains("20工作日")
                    && zh.body.contains("href=\"/console/catalog?lang=en\""),
                "{}",
                zh.body
            );
            // The list in English.
            let list = send(&t, "GET", "/console/catalog?lang=en", &o, None).await;
            assert_eq!(list.status, StatusCode::OK);
            has(&list.body, &[
                "<html lang=\"en\">",
                "<h1>Items</h1>",
                "Keyword in the item name",
                "Legal limit",
                "20 working days",
                "/console/catalog/ITEM1",
                "食品经营许可",
                "href=\"/console/catalog?lang=zh\"",
            ]);
            lacks(&list.body, &["<h1>事项管理</h1>", "事项名称关键词", "20工作日", "查找"]);
            let cookie = format!("{o}; lz_lang=en");

            // The edit form in English; data stays as stored.
            let form = send(&t, "GET", "/console/catalog/ITEM1", &cookie, None).await;
            assert_eq!(form.status, StatusCode::OK);
            has(&form.body, &[
                "<h1>Edit item: 食品经营许可</h1>",
                "Administrative licensing",
                "Materials (one a line: name|required or optional|originals|copies)",
                "Working days",
                "Save as a new version",
                "Change history",
                "承办|2",
            ]);
            lacks(&form.body, &["修改事项", "保存为新版本", "变更记录", "法定办结时限"]);
            let fields = |materials: &str, fees: &str| {
                format!(
                    "csrf={csrf}&name={}&legal_basis=&legal_amount=20&legal_unit=WD&promised_amount=x&promised_unit=WD&materials={}&fees={}&steps={}&special=&supervision_phone=&status=active&effective_date=2026-03-05&reason=r",
                    enc("食品经营许可"),
                    enc(materials),
                    enc(fees),
                    enc("承办|1\n批准|2")
                )
            };
            // Bad lines and a bad amount: every problem in English, nothing saved.
            let res = send(
                &t,
                "POST",
                "/console/catalog/ITEM1",
                &cookie,
                Some(&fields("申请书|required|x|0", "F1|工本费|abc|")),
            )
            .await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            has(&res.body, &[
                "<h1>Not saved</h1>",
                "The promised limit&#39;s amount must be a whole number",
                "Materials, line 1: not valid",
                "Fees, line 1: not valid",
                "Back to the form",
            ]);
            lacks(&res.body, &["申请材料第", "收费第", "未能保存", "承诺时限"]);
            // The same refusal in Chinese without the cookie.
            let res = send(
                &t,
                "POST",
                "/console/catalog/ITEM1",
                &o,
                Some(&fields("申请书|必备|x|0", "")),
            )
            .await;
            assert!(
                res.body.contains("承诺时限的数量须为整数")
                    && res.body.contains("申请材料第 1 行格式不正确"),
                "{}",
                res.body
            );
            assert_eq!(crate::sync(|| t.app.item_versions("ITEM1")).unwrap().len(), 1);
            // A good edit in English: `optional` is understood.
            let res = send(
                &t,
                "POST",
                "/console/catalog/ITEM1",
                &cookie,
                Some(
                    &fields("申请书|required|1|0\n营业执照|optional|0|1", "")
                        .replace("promised_amount=x", "promised_amount=3"),
                ),
            )
            .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            let v = crate::sync(|| t.app.item_versions("ITEM1")).unwrap();
            let m = &v[1].body.materials;
            assert!(m[0].required && !m[1].required, "{m:?}");
            let form = send(&t, "GET", "/console/catalog/ITEM1", &cookie, None).await;
            assert!(form.body.contains("营业执照|optional|0|1"), "{}", form.body);
            let form = send(&t, "GET", "/console/catalog/ITEM1", &o, None).await;
            assert!(form.body.contains("营业执照|非必备|0|1"), "{}", form.body);

            // A use case's message built at run time: its English half on an English page, the
            // whole (Chinese first) on a Chinese one.
            let (jcj, jcsrf) = login(&t, "jcj", "supervisor-pass-1")
                .await
                .map_err(|r| r.body)
                .unwrap();
            let body = "91410800MA0000001";
            let code = format!(
                "{body}{}",
                lianzheng_core::monitoring::credit_code_check_char(body).unwrap()
            );
            let res = send(
                &t,
                "POST",
                "/console/monitoring/points",
                &jcj,
                Some(&format!(
                    "csrf={jcsrf}&name={}&credit_code={code}&sector=C&contact_person={}&contact_phone=13800000000",
                    enc("企业1"),
                    enc("赵六")
                )),
            )
            .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            let round = |deps: &str| {
                format!("csrf={jcsrf}&period=2026Q1&due_workdays=5&departments={deps}")
            };
            let jcj_en = format!("{jcj}; lz_lang=en");
            let open_round = |cookie: &str, deps: &str| {
                let (cookie, form) = (cookie.to_string(), round(deps));
                let t = &t;
                async move { send(t, "POST", "/console/monitoring/rounds", &cookie, Some(&form)).await }
            };
            let res = open_round(&jcj_en, "NOPE").await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            assert!(
                res.body.contains("department `NOPE` does not exist")
                    && !res.body.contains("不存在"),
                "{}",
                res.body
            );
            let res = open_round(&jcj, "SCJG").await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            let res = open_round(&jcj_en, "SCJG").await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            assert!(
                res.body.contains("survey round `2026Q1` already exists")
                    && !res.body.contains("已存在"),
                "{}",
                res.body
            );
            let res = open_round(&jcj, "SCJG").await;
            assert!(
                res.body.contains("评议期次 `2026Q1` 已存在"),
                "{}",
                res.body
            );
        });
    });
}
