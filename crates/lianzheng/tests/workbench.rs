//! The console's work beyond the board, through the real router on both backends: the
//! administration pages (users, keys, rule pack, calendar), catalog editing as new versions,
//! special procedures and fees at the window, and who may do each.

use axum::http::StatusCode;
use jiff::Timestamp;

use crate::console::{enc, login, send};
use crate::{each_backend, rt};

fn now() -> Timestamp {
    "2026-03-02T10:00:00+08:00".parse().unwrap()
}

#[test]
fn an_administrator_manages_users_keys_rules_and_the_calendar() {
    each_backend("admin-pages", now(), |t| {
        crate::api::seed(&t);
        t.app
            .add_user("root", "管理员", "admin", None, "admin-pass-123")
            .unwrap();
        t.app
            .add_user("clerk", "窗口甲", "clerk", Some("SCJG"), "clerk-pass-123")
            .unwrap();
        rt().block_on(async {
            let (admin, csrf) = login(&t, "root", "admin-pass-123").await.map_err(|r| r.body).unwrap();
            let page = send(&t, "GET", "/console/admin", &admin, None).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("窗口人员") && page.body.contains("[[rule]]") || page.body.contains("A001"), "{}", page.body);

            // A user added through the form can log in.
            let res = send(&t, "POST", "/console/admin/users", &admin, Some(&format!(
                "csrf={csrf}&username=officer1&display_name={}&role=officer&department=GAJ&password=officer-pass-1", enc("承办乙")))).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            login(&t, "officer1", "officer-pass-1").await.map_err(|r| r.body).unwrap();
            // A department role without a department is refused, with the reason, and nothing changes.
            let res = send(&t, "POST", "/console/admin/users", &admin, Some(&format!(
                "csrf={csrf}&username=bad&display_name=x&role=clerk&department=&password=0123456789"))).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            assert!(res.body.contains("department"), "{}", res.body);
            assert!(login(&t, "bad", "0123456789").await.is_err());

            // A key is shown once, works, and stops working when revoked.
            let res = send(&t, "POST", "/console/admin/keys", &admin, Some(&format!("csrf={csrf}&name=scjg-system&department=SCJG"))).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            let key = res.body.split("<pre id=\"new-key\">").nth(1).unwrap().split('<').next().unwrap().to_string();
            assert!(key.starts_with("lz_") && key.len() == 67, "{key}");
            assert!(crate::sync(|| t.app.authenticate_key(&key)).unwrap().is_some());
            let id = crate::sync(|| t.app.api_keys(&lianzheng_app::Principal::Admin { name: "t".into() })).unwrap()
                .iter().find(|k| k.name == "scjg-system").unwrap().id;
            let res = send(&t, "POST", &format!("/console/admin/keys/{id}/revoke"), &admin, Some(&format!("csrf={csrf}"))).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            assert!(crate::sync(|| t.app.authenticate_key(&key)).unwrap().is_none());

            // The rule pack: a bad pack is refused and the old one stays; a good one is stored.
            let before = crate::sync(|| t.app.rule_pack()).to_toml();
            let res = send(&t, "POST", "/console/admin/rules", &admin, Some(&format!("csrf={csrf}&body={}&reason={}", enc("not = [toml"), enc("测试")))).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            assert_eq!(crate::sync(|| t.app.rule_pack()).to_toml(), before);
            let edited = before.replacen("fraction = 0.8", "fraction = 0.75", 1);
            assert_ne!(edited, before, "the default pack sets A001's fraction");
            let res = send(&t, "POST", "/console/admin/rules", &admin, Some(&format!("csrf={csrf}&body={}&reason={}", enc(&edited), enc("提前提醒")))).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            assert_eq!(crate::sync(|| t.app.rule_pack()).float("A001", "fraction"), 0.75);
            assert_eq!(crate::sync(|| t.app.rule_pack_versions()).unwrap()[0].1, "提前提醒");

            // The calendar: a year's notice is loaded and listed.
            let rows = "date,kind,name,notice\n2027-01-01,holiday,元旦,通知\n2027-02-06,workday,春节,通知";
            let res = send(&t, "POST", "/console/admin/calendar", &admin, Some(&format!("csrf={csrf}&year=2027&rows={}", enc(rows)))).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            assert!(crate::sync(|| t.app.calendar_years()).unwrap().iter().any(|(y, _, by)| *y == 2027 && by.contains("root")));
            let res = send(&t, "POST", "/console/admin/calendar", &admin, Some(&format!("csrf={csrf}&year=2027&rows={}", enc("2027-13-01,holiday,x,y")))).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);

            // Others may not: a clerk sees 403 and cannot post either; a forged post is refused.
            let (clerk, ccsrf) = login(&t, "clerk", "clerk-pass-123").await.map_err(|r| r.body).unwrap();
            assert_eq!(send(&t, "GET", "/console/admin", &clerk, None).await.status, StatusCode::FORBIDDEN);
            let res = send(&t, "POST", "/console/admin/keys", &clerk, Some(&format!("csrf={ccsrf}&name=mine"))).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);
            let res = send(&t, "POST", "/console/admin/keys", &admin, Some("csrf=forged&name=x")).await;
            assert_ne!(res.status, StatusCode::OK);
            assert!(crate::sync(|| t.app.api_keys(&lianzheng_app::Principal::Admin { name: "t".into() })).unwrap().iter().all(|k| k.name != "mine" && k.name != "x"));

            // Everything above is in the log and the audit stays clean.
            assert!(crate::sync(|| t.app.audit(None)).unwrap().is_clean());
        });
    });
}

#[test]
fn a_department_edits_its_items_as_new_versions() {
    each_backend("catalog-pages", now(), |t| {
        crate::api::seed(&t);
        t.app
            .add_user(
                "scjg-officer",
                "承办甲",
                "officer",
                Some("SCJG"),
                "officer-pass-1",
            )
            .unwrap();
        t.app
            .add_user(
                "gaj-officer",
                "承办乙",
                "officer",
                Some("GAJ"),
                "officer-pass-2",
            )
            .unwrap();
        rt().block_on(async {
            let (o, csrf) = login(&t, "scjg-officer", "officer-pass-1").await.map_err(|r| r.body).unwrap();
            let list = send(&t, "GET", "/console/catalog", &o, None).await;
            assert!(list.body.contains("/console/catalog/ITEM1"), "{}", list.body);
            let form = send(&t, "GET", "/console/catalog/ITEM1", &o, None).await;
            assert_eq!(form.status, StatusCode::OK);
            assert!(form.body.contains("承办|2") && form.body.contains("食品经营许可"), "{}", form.body);
            let fields = |materials: &str, fees: &str| format!(
                "csrf={csrf}&name={}&legal_basis={}&legal_amount=20&legal_unit=WD&promised_amount=3&promised_unit=WD&materials={}&fees={}&steps={}&special={}&supervision_phone=0391-1234567&status=active&effective_date=2026-03-05&reason={}",
                enc("食品经营许可"), enc("《食品安全法》第三十五条"), enc(materials), enc(fees), enc("承办|1\n批准|2"), enc("现场核查"), enc("压缩承诺时限"));
            // Bad lines: every problem is listed and nothing is saved.
            let res = send(&t, "POST", "/console/catalog/ITEM1", &o, Some(&fields("申请书|必备|x|0", "F1|工本费|abc|"))).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            assert!(res.body.contains("申请材料第 1 行") && res.body.contains("收费第 1 行"), "{}", res.body);
            assert_eq!(crate::sync(|| t.app.item_versions("ITEM1")).unwrap().len(), 1);
            // A good edit is version 2, public at once with its reason.
            let res = send(&t, "POST", "/console/catalog/ITEM1", &o, Some(&fields("申请书|必备|1|0\n营业执照|非必备|0|1", "F1|工本费|10.50|豫价费〔2008〕1号"))).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            let v = crate::sync(|| t.app.item_versions("ITEM1")).unwrap();
            assert_eq!(v.len(), 2);
            let b = &v[1].body;
            assert_eq!(b.promised_limit.amount, 3);
            assert_eq!(b.fees[0].standard_fen.0, 1050);
            assert!(!b.materials[1].required && b.materials[1].copy_copies == 1);
            assert_eq!(b.special_procedures, vec!["现场核查".to_string()]);
            let public = send(&t, "GET", "/items/ITEM1", "", None).await;
            assert!(public.body.contains("压缩承诺时限") && public.body.contains("营业执照"), "{}", public.body);
            // Another department's officer may not edit it.
            let (g, gcsrf) = login(&t, "gaj-officer", "officer-pass-2").await.map_err(|r| r.body).unwrap();
            assert_eq!(send(&t, "GET", "/console/catalog/ITEM1", &g, None).await.status, StatusCode::FORBIDDEN);
            let res = send(&t, "POST", "/console/catalog/ITEM1", &g, Some(&fields("", "").replace(&csrf, &gcsrf))).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
            assert_eq!(crate::sync(|| t.app.item_versions("ITEM1")).unwrap().len(), 2);
        });
    });
}

#[test]
fn catalog_pages_show_a_change_made_here_at_once_and_one_made_elsewhere_within_seconds() {
    each_backend("catalog-copies", now(), |t| {
        crate::api::seed(&t);
        let admin = lianzheng_app::Principal::Admin { name: "t".into() };
        let change = |app: &lianzheng_app::App, name: &str| {
            let mut body = app.item_versions("ITEM1").unwrap().pop().unwrap().body;
            body.name = name.into();
            let report = app
                .save_items(
                    &admin,
                    vec![lianzheng_app::catalog::ItemChange {
                        code: "ITEM1".into(),
                        effective_date: jiff::civil::date(2026, 3, 1),
                        reason: "改名".into(),
                        status: lianzheng_core::catalog::ItemStatus::Active,
                        body,
                    }],
                )
                .unwrap();
            assert_eq!(report.written, 1, "{:?}", report.errors);
        };
        let other = t.second_server();
        rt().block_on(async {
            let page = |path: &'static str| send(&t, "GET", path, "", None);
            // The pages are read once, so that copies of them are held.
            assert!(page("/items").await.body.contains("食品经营许可"));
            assert!(page("/items/ITEM1").await.body.contains("食品经营许可"));
            assert_eq!(page("/items/NOPE").await.status, StatusCode::NOT_FOUND);

            // A change saved through this server shows at once, on the list and the guide.
            crate::sync(|| change(&t.app, "食品经营许可（含网络经营）"));
            assert!(
                page("/items")
                    .await
                    .body
                    .contains("食品经营许可（含网络经营）")
            );
            let guide = page("/items/ITEM1").await;
            assert!(
                guide.body.contains("食品经营许可（含网络经营）"),
                "{}",
                guide.body
            );

            // One saved by another server on the same database shows once the copy is 5 s old.
            crate::sync(|| change(&other, "食品经营许可（仅预包装食品）"));
            t.clock
                .set(t.app.now() + jiff::SignedDuration::from_secs(5));
            assert!(
                page("/items")
                    .await
                    .body
                    .contains("食品经营许可（仅预包装食品）")
            );
            assert!(
                page("/items/ITEM1")
                    .await
                    .body
                    .contains("食品经营许可（仅预包装食品）")
            );
        });
    });
}

#[test]
fn the_window_records_special_procedures_and_fees() {
    each_backend("window-more", now(), |t| {
        crate::api::seed(&t);
        let admin = lianzheng_app::Principal::Admin { name: "t".into() };
        let mut v = t.app.item_versions("ITEM1").unwrap().pop().unwrap();
        v.body.fees = vec![lianzheng_core::catalog::FeeItem {
            code: "F1".into(),
            name: "工本费".into(),
            standard_fen: lianzheng_core::codes::Fen(1000),
            basis: "豫价费".into(),
        }];
        v.body.special_procedures = vec!["专家评审".into()];
        let change = lianzheng_app::catalog::ItemChange {
            code: "ITEM1".into(),
            effective_date: v.effective_date,
            reason: "收费".into(),
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
            .add_user("clerk", "窗口甲", "clerk", Some("SCJG"), "clerk-pass-123")
            .unwrap();
        rt().block_on(async {
            let (c, csrf) = login(&t, "clerk", "clerk-pass-123")
                .await
                .map_err(|r| r.body)
                .unwrap();
            let res = send(
                &t,
                "POST",
                "/console/register",
                &c,
                Some(&format!(
                    "csrf={csrf}&item=ITEM1&name={}&id_type=001",
                    enc("焦作市宏达商贸有限公司")
                )),
            )
            .await;
            let no = res
                .body
                .split("办件编号 <strong>")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_string();
            let post = |form: String| {
                let (t, c, no) = (&t, c.clone(), no.clone());
                async move {
                    send(
                        t,
                        "POST",
                        &format!("/console/cases/{no}/events"),
                        &c,
                        Some(&form),
                    )
                    .await
                }
            };
            let page = send(&t, "GET", &format!("/console/cases/{no}"), &c, None).await;
            assert!(
                page.body.contains("启动特别程序")
                    && page.body.contains("专家评审")
                    && page.body.contains("工本费（标准 10.00 元）"),
                "{}",
                page.body
            );
            // An extension without its days is refused; a clock stop with approval is recorded.
            let res = post(format!(
                "csrf={csrf}&kind=procedure_start&procedure={}&reason=x&basis=y&approver=z&days=",
                enc("1|延长审批")
            ))
            .await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            assert!(res.body.contains("延长的工作日数"), "{}", res.body);
            let res = post(format!(
                "csrf={csrf}&kind=procedure_start&procedure={}&reason={}&basis={}&approver={}",
                enc("2|专家评审"),
                enc("技术复杂"),
                enc("《行政许可法》第四十五条"),
                enc("局长甲")
            ))
            .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            let page = send(&t, "GET", &format!("/console/cases/{no}"), &c, None).await;
            assert!(page.body.contains("进行中：专家评审"), "{}", page.body);
            let res = post(format!(
                "csrf={csrf}&kind=procedure_end&result={}",
                enc("评审通过")
            ))
            .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            // Fees: a bad amount changes nothing; within the standard is quiet; above it is a red card.
            let res = post(format!("csrf={csrf}&kind=fee&fee_code=F1&amount=ten")).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST);
            let res = post(format!("csrf={csrf}&kind=fee&fee_code=F1&amount=10")).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            let filter = lianzheng_app::views::FindingFilter::default();
            assert!(
                crate::sync(|| t.app.findings(&admin, &filter))
                    .unwrap()
                    .iter()
                    .all(|f| f.code != "F001")
            );
            let res = post(format!("csrf={csrf}&kind=fee&fee_code=F1&amount=25.50")).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            let f = crate::sync(|| t.app.findings(&admin, &filter)).unwrap();
            assert!(
                f.iter().any(|f| f.code == "F001" && f.subject_id == no),
                "{f:?}"
            );
            let staff = crate::sync(|| t.app.staff_case(&admin, &no)).unwrap();
            assert_eq!(staff["case"]["fees_fen"], 3550, "{staff}");
        });
    });
}
