//! Enterprise monitoring points (G4): registration up to the cap with validated credit codes,
//! contacts masked and their reading recorded; a survey round answered by token and by staff,
//! late points chased by the sweep and escalated, the roll-up suppressed under k, E001 on a low
//! department, department isolation, and a clean audit.

use std::collections::BTreeMap;

use jiff::civil::date;
use lianzheng_app::Principal;
use lianzheng_app::monitoring::{MonitoringSettings, PointInput, RoundInput};
use lianzheng_core::monitoring::{DepartmentRating, INDICATORS, credit_code_check_char};

use crate::common::{admin, at, both, dept, supervisor};

/// A valid 统一社会信用代码 numbered `i`.
fn credit(i: u32) -> String {
    let body = format!("91410800MA{i:07}");
    format!("{body}{}", credit_code_check_char(&body).unwrap())
}

fn point(i: u32) -> PointInput {
    PointInput {
        name: format!("焦作市第{i}制造有限公司"),
        credit_code: credit(i),
        sector: "C".into(),
        contact_person: "王建国".into(),
        contact_phone: "13903910000".into(),
        registered_on: None,
    }
}

fn rating(d: &str, v: u8, comment: &str) -> DepartmentRating {
    DepartmentRating {
        department: d.into(),
        scores: INDICATORS.iter().map(|n| ((*n).to_string(), v)).collect(),
        overall: v,
        comment: comment.into(),
    }
}

#[test]
fn points_cap_credit_codes_and_contacts() {
    both("monitoring_points", |env| {
        let app = &env.app;
        assert_eq!(app.monitoring_settings().unwrap().max_points, 100);
        assert_eq!(
            app.set_monitoring_settings(
                &supervisor(),
                MonitoringSettings {
                    max_points: 3,
                    min_publish: 3
                }
            )
            .unwrap_err()
            .code(),
            "forbidden"
        );
        app.set_monitoring_settings(
            &admin(),
            MonitoringSettings {
                max_points: 3,
                min_publish: 3,
            },
        )
        .unwrap();
        // Credit codes: check character, alphabet, length.
        let mut bad = point(9);
        let last = bad.credit_code.pop().unwrap();
        bad.credit_code.push(if last == '0' { '1' } else { '0' });
        let e = app.register_point(&supervisor(), bad).unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.to_string().contains("校验位"), "{e}");
        let mut short = point(9);
        short.credit_code = "91410800".into();
        assert_eq!(
            app.register_point(&supervisor(), short).unwrap_err().code(),
            "invalid_input"
        );
        let mut sector = point(9);
        sector.sector = "农业".into();
        assert!(
            app.register_point(&supervisor(), sector)
                .unwrap_err()
                .to_string()
                .contains("行业")
        );
        assert_eq!(
            app.register_point(&dept("SCJG"), point(1))
                .unwrap_err()
                .code(),
            "forbidden"
        );
        // Up to the cap, then refused; a retired point frees a place.
        for i in 1..=3 {
            let v = app.register_point(&supervisor(), point(i)).unwrap();
            assert_eq!(v.id, format!("JC{i:03}"));
            assert_eq!(v.contact_phone, "139****0000");
            assert_eq!(v.contact_person, "王**");
        }
        let e = app.register_point(&supervisor(), point(4)).unwrap_err();
        assert_eq!(e.code(), "conflict");
        assert!(e.to_string().contains("上限3家"), "{e}");
        app.retire_point(&supervisor(), "JC002", "企业迁出")
            .unwrap();
        assert_eq!(
            app.retire_point(&supervisor(), "JC002", "再次")
                .unwrap_err()
                .code(),
            "conflict"
        );
        assert_eq!(
            app.register_point(&admin(), point(1)).unwrap_err().code(),
            "conflict",
            "same code twice"
        );
        let v = app.register_point(&admin(), point(4)).unwrap();
        assert_eq!(v.id, "JC004");
        let list = app.monitoring_points(&supervisor()).unwrap();
        assert_eq!(list.len(), 4);
        assert_eq!(list[1].retired_on.as_deref(), Some("2026-03-02"));
        assert!(list.iter().all(|p| p.contact_phone == "139****0000"));
        assert_eq!(
            app.monitoring_points(&dept("SCJG")).unwrap_err().code(),
            "forbidden"
        );
        assert_eq!(
            app.monitoring_points(&Principal::Public)
                .unwrap_err()
                .code(),
            "forbidden"
        );
        // Unmasked contact: staff only, and recorded.
        let views = || {
            env.count(
                "SELECT COUNT(*) FROM events WHERE subject_type = 'personal_data'",
                &[],
            )
        };
        let before = views();
        assert_eq!(
            app.point_contact(&dept("SCJG"), "JC001")
                .unwrap_err()
                .code(),
            "forbidden"
        );
        let c = app.point_contact(&supervisor(), "JC001").unwrap();
        assert_eq!(
            (c.person.as_str(), c.phone.as_str()),
            ("王建国", "13903910000")
        );
        assert_eq!(views(), before + 1);
        let access = app
            .personal_data_access(&Principal::Auditor { name: "sjj".into() }, 10)
            .unwrap();
        assert_eq!(access[0].1, "JC001");
        // The contact never enters the record unmasked.
        assert_eq!(
            env.count(
                "SELECT COUNT(*) FROM events WHERE payload LIKE '%13903910000%' OR payload LIKE '%王建国%'",
                &[]
            ),
            0
        );
        assert_eq!(
            env.count(
                "SELECT COUNT(*) FROM events WHERE subject_type = 'monitoring_point'",
                &[]
            ),
            6,
            "settings, 4 registrations, 1 retirement"
        );
    });
}

#[test]
fn a_round_answered_chased_closed_and_published() {
    both("monitoring_round", |env| {
        let app = &env.app;
        for i in 1..=5 {
            app.register_point(&supervisor(), point(i)).unwrap();
        }
        let assign = |deps: &[&str]| deps.iter().map(|d| (*d).to_string()).collect::<Vec<_>>();
        let input = RoundInput {
            period: "2026Q1".into(),
            due_workdays: 5,
            departments: vec![],
            assignments: BTreeMap::from([
                ("JC001".to_string(), assign(&["SCJG", "ZJJ"])),
                ("JC002".to_string(), assign(&["SCJG", "ZJJ"])),
                ("JC003".to_string(), assign(&["SCJG"])),
                ("JC004".to_string(), assign(&["SCJG"])),
                ("JC005".to_string(), assign(&["SCJG"])),
            ]),
        };
        assert_eq!(
            app.open_round(&dept("SCJG"), input.clone())
                .unwrap_err()
                .code(),
            "forbidden"
        );
        let mut bad = input.clone();
        bad.period = "2026Q5".into();
        assert_eq!(
            app.open_round(&supervisor(), bad).unwrap_err().code(),
            "invalid_input"
        );
        let mut nodept = input.clone();
        nodept.assignments.insert("JC001".into(), assign(&["NOPE"]));
        assert_eq!(
            app.open_round(&supervisor(), nodept).unwrap_err().code(),
            "invalid_input"
        );
        let opened = app.open_round(&supervisor(), input.clone()).unwrap();
        assert_eq!(opened.requests.len(), 5);
        assert_eq!(opened.due_on, "2026-03-09");
        assert_eq!(
            app.open_round(&supervisor(), input).unwrap_err().code(),
            "conflict"
        );
        let token = |p: &str| {
            opened
                .requests
                .iter()
                .find(|r| r.point == p)
                .map(|r| (r.request.clone(), r.token.clone()))
                .unwrap()
        };

        // Answers: by token, by staff; wrong tokens, incomplete answers and repeats refused.
        let (r1, t1) = token("JC001");
        assert_eq!(
            app.respond_with_token(&r1, "00", vec![rating("SCJG", 2, "")])
                .unwrap_err()
                .code(),
            "not_found"
        );
        let e = app
            .respond_with_token(&r1, &t1, vec![rating("SCJG", 2, "")])
            .unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.to_string().contains("ZJJ"), "{e}");
        let mut six = rating("SCJG", 2, "");
        six.overall = 6;
        assert_eq!(
            app.respond_with_token(&r1, &t1, vec![six, rating("ZJJ", 1, "")])
                .unwrap_err()
                .code(),
            "invalid_input"
        );
        let rec = app
            .respond_with_token(
                &r1,
                &t1,
                vec![rating("SCJG", 2, "窗口推诿"), rating("ZJJ", 1, "")],
            )
            .unwrap();
        assert!(!rec.late);
        assert_eq!(
            app.respond_with_token(&r1, &t1, vec![rating("SCJG", 2, ""), rating("ZJJ", 1, "")])
                .unwrap_err()
                .code(),
            "conflict"
        );
        let (r2, _) = token("JC002");
        assert_eq!(
            app.enter_response(&dept("SCJG"), &r2, vec![rating("SCJG", 5, "")])
                .unwrap_err()
                .code(),
            "forbidden",
            "a department never answers for an enterprise"
        );
        app.enter_response(
            &supervisor(),
            &r2,
            vec![rating("SCJG", 2, ""), rating("ZJJ", 1, "")],
        )
        .unwrap();
        let (r3, t3) = token("JC003");
        app.respond_with_token(&r3, &t3, vec![rating("SCJG", 3, "审批较慢")])
            .unwrap();

        // The queue, by due date.
        let q = app
            .survey_queue(&supervisor(), Some("2026Q1"), None)
            .unwrap();
        assert_eq!(q.len(), 5);
        assert!(q.iter().all(|r| r.due_on == "2026-03-09"));
        assert_eq!(q.iter().filter(|r| r.status == "answered").count(), 3);
        assert_eq!(
            app.survey_queue(&dept("SCJG"), None, None)
                .unwrap_err()
                .code(),
            "forbidden"
        );

        // Past the due date the sweep chases JC004 and JC005: late, a reminder, a finding.
        env.set(at(date(2026, 3, 10), 9, 0));
        let s = app.sweep(100).unwrap();
        assert_eq!(s.fired, 2, "{}", env.backend);
        let pending = app.survey_queue(&supervisor(), None, Some("late")).unwrap();
        assert_eq!(pending.len(), 2);
        assert!(
            pending
                .iter()
                .all(|r| r.chased == 1 && r.status_zh == "逾期未反馈")
        );
        let e002 = env.findings("E002");
        assert_eq!(e002.len(), 2);
        assert_eq!(e002[0].owner, "经济发展环境监测办公室");
        assert_eq!(e002[0].level_zh, "提醒");
        assert!(e002[0].message.contains("已催报"));
        assert_eq!(
            env.count("SELECT COUNT(*) FROM events WHERE subject_type = 'survey_round' AND kind = 'reminded'", &[]),
            2
        );
        assert!(
            app.findings(&dept("SCJG"), &Default::default())
                .unwrap()
                .iter()
                .all(|f| f.code != "E002"),
            "the chase is the office's business"
        );
        assert_eq!(app.sweep(100).unwrap().fired, 0, "nothing twice");

        // JC005 answers late: its finding is withdrawn. JC004 stays silent: escalated after the
        // grace period (3 working days: Fri 2026-03-13).
        let (r5, t5) = token("JC005");
        let rec = app
            .respond_with_token(&r5, &t5, vec![rating("SCJG", 2, "")])
            .unwrap();
        assert!(rec.late);
        env.set(at(date(2026, 3, 13), 12, 0));
        assert_eq!(
            app.sweep(100).unwrap().fired,
            0,
            "not before the grace period ends"
        );
        env.set(at(date(2026, 3, 16), 9, 0));
        assert_eq!(app.sweep(100).unwrap().fired, 1);
        let e002 = env.findings("E002");
        let (r4, _) = token("JC004");
        let f4 = e002.iter().find(|f| f.subject_id == r4).unwrap();
        assert_eq!(
            (f4.escalations, f4.level.as_str(), f4.status.as_str()),
            (1, "3", "open")
        );
        let f5 = e002.iter().find(|f| f.subject_id == r5).unwrap();
        assert_eq!(f5.status, "withdrawn");
        assert_eq!(app.sweep(100).unwrap().fired, 0);

        // Nothing is published before the round closes.
        assert!(
            app.survey_results(&Principal::Public, None)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            app.close_round(&dept("SCJG"), "2026Q1").unwrap_err().code(),
            "forbidden"
        );
        let closed = app.close_round(&supervisor(), "2026Q1").unwrap();
        assert_eq!(
            app.close_round(&supervisor(), "2026Q1").unwrap_err().code(),
            "conflict"
        );
        // SCJG: 4 answers (2, 2, 3, 2) → 2.25 < 3.0: E001. ZJJ: 2 answers → 样本不足, never flagged.
        assert_eq!(closed.findings.len(), 1);
        assert_eq!(closed.findings[0].0, "SCJG");
        let e001 = env.findings("E001");
        assert_eq!(e001.len(), 1);
        assert_eq!(
            (e001[0].subject_type.as_str(), e001[0].department.as_str()),
            ("department", "SCJG")
        );
        assert_eq!(e001[0].scope, "2026Q1");
        assert_eq!(e001[0].level_zh, "黄牌预警");
        assert_eq!(
            app.findings(&dept("SCJG"), &Default::default())
                .unwrap()
                .iter()
                .filter(|f| f.code == "E001")
                .count(),
            1,
            "the department sees its finding"
        );
        assert!(
            app.findings(&dept("ZJJ"), &Default::default())
                .unwrap()
                .iter()
                .all(|f| f.code != "E001")
        );

        let public = app.survey_results(&Principal::Public, None).unwrap();
        assert_eq!(public.len(), 2);
        let scjg = public.iter().find(|r| r.department == "SCJG").unwrap();
        assert_eq!(
            (scjg.n, scjg.overall, scjg.suppressed),
            (4, Some(2.25), false)
        );
        assert_eq!(scjg.indicators["廉洁自律"], 2.25);
        assert!(scjg.comments.is_empty(), "comments are never public");
        let zjj = public.iter().find(|r| r.department == "ZJJ").unwrap();
        assert_eq!(
            (zjj.n, zjj.overall, zjj.suppressed, zjj.note),
            (2, None, true, Some("样本不足"))
        );
        assert!(zjj.indicators.is_empty());
        let text = serde_json::to_string(&public).unwrap();
        assert!(
            !text.contains("JC00") && !text.contains("有限公司"),
            "{text}"
        );
        let csv = lianzheng_app::monitoring::results_csv(&public);
        assert!(
            csv.contains("2026Q1,ZJJ,焦作市住房和城乡建设局,2,,,,,,,样本不足"),
            "{csv}"
        );
        assert!(
            csv.contains("2026Q1,SCJG,焦作市市场监督管理局,4,2.25"),
            "{csv}"
        );

        // Department isolation: each sees only its own row; comments only when published.
        let own = app.survey_results(&dept("SCJG"), None).unwrap();
        assert_eq!(own.len(), 1);
        assert_eq!(own[0].department, "SCJG");
        let mut comments = own[0].comments.clone();
        comments.sort();
        assert_eq!(comments, vec!["审批较慢", "窗口推诿"]);
        let own = app.survey_results(&dept("ZJJ"), Some("2026Q1")).unwrap();
        assert_eq!(own.len(), 1);
        assert!(own[0].comments.is_empty() && own[0].suppressed);
        assert_eq!(app.survey_results(&supervisor(), None).unwrap().len(), 2);

        // A closed round takes no answers and chases no one.
        let (r4, t4) = token("JC004");
        assert_eq!(
            app.respond_with_token(&r4, &t4, vec![rating("SCJG", 4, "")])
                .unwrap_err()
                .code(),
            "conflict"
        );
        env.set(at(date(2026, 4, 1), 9, 0));
        assert_eq!(app.sweep(100).unwrap().crossed, 0);
        let rounds = app.survey_rounds(&supervisor()).unwrap();
        assert_eq!(
            (
                rounds[0].status.as_str(),
                rounds[0].requests,
                rounds[0].answered
            ),
            ("closed", 5, 4)
        );

        // The stored answers carry neither the point nor a time.
        assert_eq!(env.count("SELECT COUNT(*) FROM survey_responses", &[]), 6);
        // Everything is on the record, and the record is intact.
        let report = app.audit(None).unwrap();
        assert!(report.is_clean(), "{}: {:?}", env.backend, report.problems);
        assert_eq!(
            env.count(
                "SELECT COUNT(*) FROM events WHERE subject_type = 'survey_round'",
                &[]
            ),
            // opened, 4 answers, 3 reminders, closed
            9
        );
    });
}
