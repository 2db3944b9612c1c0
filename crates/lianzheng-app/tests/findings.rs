//! The findings lifecycle through the application: 督办 by a supervisor (never by a
//! department), 整改 by the department, 办结 by the supervisor, and escalation (B001) of a 督办
//! not acted on in time.

use jiff::SignedDuration;
use jiff::civil::date;
use lianzheng_core::finding::FindingAction;
use serde_json::json;

use crate::common::{admin, at, both, dept, ev, fee, supervisor};

#[test]
fn supervise_rectify_close() {
    both("findings_lifecycle", |env| {
        env.open_case("G-1");
        env.ok(fee("G-1", env.tick(5), "GB", 5000));
        let id = env.findings("F001")[0].id;
        let order = |days: i64| FindingAction::Supervise {
            order: "限期退还多收费用".into(),
            due_at: env.now() + SignedDuration::from_hours(24 * days),
        };
        let forbidden = env
            .app
            .act_on_finding(&dept("SCJG"), id, order(3))
            .unwrap_err();
        assert_eq!(
            forbidden.code(),
            "forbidden",
            "a department cannot 督办 its own finding"
        );
        assert_eq!(
            env.app
                .act_on_finding(
                    &supervisor(),
                    id,
                    FindingAction::Close {
                        conclusion: "x".into()
                    }
                )
                .unwrap_err()
                .code(),
            "conflict"
        );
        let s = env.app.act_on_finding(&supervisor(), id, order(3)).unwrap();
        assert_eq!(s.status.code(), "supervised");
        assert_eq!(env.findings("F001")[0].status, "supervised");
        let rectify = || FindingAction::Rectify {
            text: "已退还多收的40元".into(),
        };
        assert_eq!(
            env.app
                .act_on_finding(&dept("ZJJ"), id, rectify())
                .unwrap_err()
                .code(),
            "forbidden"
        );
        assert_eq!(
            env.app
                .act_on_finding(&supervisor(), id, rectify())
                .unwrap_err()
                .code(),
            "forbidden",
            "supervisors do not rectify"
        );
        env.tick(60);
        assert_eq!(
            env.app
                .act_on_finding(&dept("SCJG"), id, rectify())
                .unwrap()
                .status
                .code(),
            "rectified"
        );
        let f = &env.findings("F001")[0];
        assert_eq!(
            (f.status.as_str(), f.answer.as_deref()),
            ("rectified", Some("已退还多收的40元"))
        );
        assert_eq!(
            env.app
                .act_on_finding(
                    &dept("SCJG"),
                    id,
                    FindingAction::Close {
                        conclusion: "ok".into()
                    }
                )
                .unwrap_err()
                .code(),
            "forbidden"
        );
        assert_eq!(
            env.app
                .act_on_finding(
                    &supervisor(),
                    id,
                    FindingAction::Close {
                        conclusion: "整改到位".into()
                    }
                )
                .unwrap()
                .status
                .code(),
            "closed"
        );
        assert_eq!(
            env.app
                .act_on_finding(
                    &supervisor(),
                    id,
                    FindingAction::Withdraw { reason: "x".into() }
                )
                .unwrap_err()
                .code(),
            "conflict"
        );
        assert_eq!(
            env.app
                .act_on_finding(
                    &admin(),
                    999,
                    FindingAction::Withdraw { reason: "x".into() }
                )
                .unwrap_err()
                .code(),
            "not_found"
        );
        let kinds = env.count(
            "SELECT COUNT(*) FROM events WHERE subject_type = 'finding' AND subject_id = ?",
            &[id.to_string().into()],
        );
        assert_eq!(kinds, 4, "opened, supervise, rectify, close are logged");
        // A 督办 withdraws nothing else and a closed finding frees the rule: the same fee
        // problem again opens a new finding.
        let r = env.ok(fee("G-1", env.tick(1), "GB", 5000));
        assert_eq!(r.findings, ["F001"]);
    });
}

#[test]
fn a_supervision_order_not_acted_on_is_escalated() {
    both("findings_b001", |env| {
        // P001 (yellow): accepted with a material missing.
        env.ok(ev(
            "H-1",
            env.now(),
            "w1",
            json!({"kind": "apply", "item_code": crate::common::ITEM, "channel": "online",
            "applicant": {"name": "李四"}, "materials": ["申请书"]}),
        ));
        let r = env.ok(ev("H-1", env.tick(1), "w1", json!({"kind": "accept"})));
        assert_eq!(r.findings, ["P001"]);
        let id = env.findings("P001")[0].id;
        assert_eq!(env.findings("P001")[0].level, "2");
        let due = at(date(2026, 3, 4), 17, 0);
        env.app
            .act_on_finding(
                &supervisor(),
                id,
                FindingAction::Supervise {
                    order: "说明情况".into(),
                    due_at: due,
                },
            )
            .unwrap();
        env.set(at(date(2026, 3, 4), 16, 0));
        assert_eq!(env.app.sweep(100).unwrap().fired, 0);
        env.set(at(date(2026, 3, 4), 18, 0));
        let r = env.app.sweep(100).unwrap();
        assert_eq!(r.fired, 1);
        let f = &env.findings("P001")[0];
        assert_eq!(
            (f.escalations, f.level.as_str(), f.status.as_str()),
            (1, "3", "supervised")
        );
        let b = env.findings("B001");
        assert_eq!(b.len(), 1);
        assert_eq!(
            (
                b[0].subject_type.as_str(),
                b[0].subject_id.as_str(),
                b[0].department.as_str()
            ),
            ("finding", id.to_string().as_str(), "SCJG")
        );
        // Another period without action escalates again, without a second open B001.
        env.set(at(date(2026, 3, 20), 9, 0));
        env.app.sweep(100).unwrap();
        assert_eq!(env.findings("P001")[0].escalations, 2);
        let open_b001 = env
            .findings("B001")
            .into_iter()
            .filter(|f| f.status == "open")
            .count();
        assert_eq!(open_b001, 1, "one open B001 per supervised finding");
        // Rectified: the watch stops.
        env.app
            .act_on_finding(
                &dept("SCJG"),
                id,
                FindingAction::Rectify {
                    text: "已补齐材料".into(),
                },
            )
            .unwrap();
        env.set(at(date(2026, 5, 1), 9, 0));
        env.app.sweep(100).unwrap();
        assert_eq!(env.findings("P001")[0].escalations, 2);
    });
}
