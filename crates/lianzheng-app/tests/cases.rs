//! Case stories through `submit`: the full lifecycle and the public view, idempotency, refusals
//! inside a batch, authorization, and findings raised by suspicious events.

use lianzheng_app::AppError;
use lianzheng_app::ingest::Incoming;
use serde_json::json;

use crate::common::{
    OTHER_ITEM, admin, apply, apply_for, both, dept, ev, ev_id, fee, step, supervisor,
};

#[test]
fn a_full_lifecycle_with_query_code_and_public_view() {
    both("lifecycle", |env| {
        let p = dept("SCJG");
        let t = env.now();
        let r = env.submit(&p, vec![apply("L-1", t)]);
        assert_eq!(r[0].status, "accepted");
        let code = r[0]
            .query_code
            .clone()
            .expect("the applicant gets a query code");
        assert_eq!(code.len(), 8);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        let t = env.tick(30);
        let batch = vec![
            ev(
                "L-1",
                t,
                "w1",
                json!({"kind": "accept", "document_no": "受字001"}),
            ),
            step("L-1", t, "o1", "承办"),
            step("L-1", t, "o2", "审核"),
            step("L-1", t, "l1", "批准"),
            ev(
                "L-1",
                t,
                "l1",
                json!({"kind": "finish", "result": "granted", "certificate_no": "JY001"}),
            ),
        ];
        let r = env.submit(&p, batch);
        for x in &r {
            assert_eq!(
                (x.status.as_str(), x.findings.len()),
                ("accepted", 0),
                "{x:?}"
            );
            assert!(
                x.query_code.is_none(),
                "the code is returned once, at registration"
            );
        }
        let seqs: Vec<i64> = r.iter().filter_map(|x| x.seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "one ordered record: {seqs:?}"
        );
        env.tick(60);
        env.ok(ev(
            "L-1",
            env.now(),
            "w1",
            json!({"kind": "deliver", "method": "窗口领取"}),
        ));

        let view = env.app.public_case("L-1", &code).unwrap();
        assert_eq!(view.applicant, "张**", "masked");
        assert_eq!(
            (view.status.as_str(), view.status_zh.as_str()),
            ("delivered", "已送达")
        );
        assert_eq!(view.department, "焦作市市场监督管理局");
        assert_eq!(view.item_name, "食品经营许可");
        assert_eq!(view.promised_limit, "5工作日");
        assert_eq!(view.promised_due.as_deref(), Some("2026-03-09"));
        assert_eq!(view.legal_due.as_deref(), Some("2026-03-30"));
        assert_eq!(view.deadline_status, "按时办结");
        assert!(view.can_rate && view.rating.is_none());
        let kinds: Vec<&str> = view.timeline.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "apply", "accept", "step", "step", "step", "finish", "deliver"
            ]
        );
        assert_eq!(view.timeline[2].detail, "承办（通过）");
        assert!(view.timeline.iter().all(|e| !e.actor.contains("张三丰")));
        let json = serde_json::to_string(&view).unwrap();
        assert!(
            !json.contains("410802199001011234") && !json.contains("13903910000"),
            "no personal data in public"
        );
        // A wrong code answers exactly like an unknown case.
        let wrong = env.app.public_case("L-1", "00000000").unwrap_err();
        let unknown = env.app.public_case("L-404", &code).unwrap_err();
        assert_eq!(
            (wrong.code(), wrong.to_string()),
            ("not_found", "case `L-1` not found".to_string())
        );
        assert_eq!(unknown.code(), "not_found");
        // The stored projection agrees.
        let c = env.stored_case("L-1");
        assert_eq!(
            (c["acceptor"].as_str(), c["approver"].as_str()),
            (Some("w1"), Some("l1"))
        );
        assert_eq!(
            env.count("SELECT on_time FROM cases WHERE case_no = 'L-1'", &[]),
            1
        );
        assert_eq!(
            env.count(
                "SELECT COUNT(*) FROM deadlines WHERE subject_id = 'L-1'",
                &[]
            ),
            0,
            "a closed case has no deadlines"
        );
        assert_eq!(env.count("SELECT COUNT(*) FROM findings", &[]), 0);
    });
}

#[test]
fn the_same_event_id_twice_is_a_duplicate() {
    both("idempotency", |env| {
        let p = dept("SCJG");
        let t = env.now();
        let first = env
            .submit(
                &p,
                vec![Incoming {
                    event_id: Some("e-1".into()),
                    ..apply("D-1", t)
                }],
            )
            .remove(0);
        assert_eq!(first.status, "accepted");
        // Again, in another batch: the same seq, no second row, no second query code.
        let again = env
            .submit(
                &p,
                vec![Incoming {
                    event_id: Some("e-1".into()),
                    ..apply("D-1", t)
                }],
            )
            .remove(0);
        assert_eq!(
            (
                again.status.as_str(),
                again.seq,
                again.query_code.as_deref()
            ),
            ("duplicate", first.seq, None)
        );
        // Twice inside one batch.
        let t = env.tick(1);
        let r = env.submit(
            &p,
            vec![
                ev_id("e-2", "D-1", t, "w1", json!({"kind": "accept"})),
                ev_id("e-2", "D-1", t, "w1", json!({"kind": "accept"})),
            ],
        );
        assert_eq!(
            (r[0].status.as_str(), r[1].status.as_str()),
            ("accepted", "duplicate")
        );
        assert_eq!(r[1].seq, r[0].seq);
        assert_eq!(env.case_events("D-1"), 2);
        // Ids are per sender: another key may use the same id.
        let other = env.submit(
            &admin(),
            vec![ev_id(
                "e-2",
                "D-1",
                env.tick(1),
                "o1",
                json!({"kind": "step", "step": "承办", "action": "pass"}),
            )],
        );
        assert_eq!(other[0].status, "accepted");
        let bad = env.submit(
            &p,
            vec![ev_id(
                "",
                "D-1",
                env.tick(1),
                "o2",
                json!({"kind": "step", "step": "审核", "action": "pass"}),
            )],
        );
        assert_eq!(bad[0].error.as_ref().unwrap().code, "invalid_input");
        assert_eq!(env.case_events("D-1"), 3);
    });
}

#[test]
fn an_illegal_event_is_rejected_and_the_rest_of_the_batch_goes_on() {
    both("batch_rejection", |env| {
        let p = dept("SCJG");
        env.ok(apply("B-1", env.now()));
        let t = env.tick(5);
        env.ok(ev("B-1", t, "w1", json!({"kind": "accept"})));
        let before = env.stored_case("B-1");
        let events_before = env.case_events("B-1");
        let t = env.tick(5);
        let r = env.submit(
            &p,
            vec![
                ev("B-1", t, "w1", json!({"kind": "deliver"})),
                ev(
                    "B-1",
                    t,
                    "w1",
                    json!({"kind": "reject", "reason": "材料不全"}),
                ),
                ev(
                    "B-1",
                    t,
                    "o1",
                    json!({"kind": "step", "step": "会签", "action": "pass"}),
                ),
                ev("B-1", t, "o1", json!({"kind": "procedure_end"})),
            ],
        );
        for x in &r {
            assert_eq!(x.status, "rejected", "{x:?}");
            let e = x.error.as_ref().unwrap();
            assert_eq!(e.code, "invalid_transition");
            assert!(x.seq.is_none());
        }
        assert_eq!(
            r[0].error.as_ref().unwrap().message,
            "`送达` is not allowed while the case is 已受理"
        );
        assert!(r[2].error.as_ref().unwrap().message.contains("会签"));
        assert_eq!(
            env.stored_case("B-1"),
            before,
            "the stored case is unchanged"
        );
        assert_eq!(env.case_events("B-1"), events_before);

        // Mixed batch: the bad one is rejected, the others are accepted, in order.
        let t = env.tick(5);
        let r = env.submit(
            &p,
            vec![
                step("B-1", t, "o1", "承办"),
                ev("B-1", t, "w1", json!({"kind": "accept"})),
                step("B-1", t, "o2", "审核"),
                apply("B-1", t),
                ev("B-404", t, "w1", json!({"kind": "accept"})),
            ],
        );
        let got: Vec<(&str, Option<&str>)> = r
            .iter()
            .map(|x| (x.status.as_str(), x.error.as_ref().map(|e| e.code.as_str())))
            .collect();
        assert_eq!(
            got,
            [
                ("accepted", None),
                ("rejected", Some("invalid_transition")),
                ("accepted", None),
                ("rejected", Some("case_exists")),
                ("rejected", Some("case_not_found")),
            ]
        );
        let c = env.stored_case("B-1");
        assert_eq!(
            (c["status"].as_str(), c["next_step"].as_u64()),
            (Some("in_progress"), Some(2))
        );
        assert_eq!(env.case_events("B-1"), events_before + 2);
        assert_eq!(env.count("SELECT COUNT(*) FROM cases", &[]), 1);
    });
}

#[test]
fn malformed_events_and_principals_are_refused() {
    both("malformed", |env| {
        let p = dept("SCJG");
        let t = env.now();
        let future = t + jiff::SignedDuration::from_mins(10);
        let r = env.app.submit(
            &p,
            vec![
                Err("line 3: not JSON".into()),
                Ok(apply("bad no!", t)),
                Ok(apply("F-1", future)),
                Ok(apply_for("F-2", t, "NOSUCHITEM")),
                Ok(ev("F-3", t, "", json!({"kind": "accept"}))),
            ],
        );
        let r = r.unwrap();
        let codes: Vec<&str> = r
            .iter()
            .map(|x| x.error.as_ref().map_or("", |e| e.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                "invalid_input",
                "invalid_input",
                "invalid_input",
                "item_not_found",
                "invalid_input"
            ]
        );
        assert!(r[2].error.as_ref().unwrap().message.contains("future"));
        assert_eq!(
            env.count("SELECT COUNT(*) FROM events", &[]),
            env.count(
                "SELECT COUNT(*) FROM events WHERE subject_type <> 'case'",
                &[]
            )
        );
        // Supervisors and the public do not submit case events; batches are bounded.
        assert!(matches!(
            env.app.submit(&supervisor(), vec![Ok(apply("F-4", t))]),
            Err(AppError::Forbidden(_))
        ));
        let many: Vec<Result<Incoming, String>> =
            (0..1001).map(|i| Ok(apply(&format!("M-{i}"), t))).collect();
        assert_eq!(
            env.app.submit(&p, many).unwrap_err().code(),
            "invalid_input"
        );
    });
}

#[test]
fn a_department_key_cannot_submit_for_another_department() {
    both("forbidden", |env| {
        let key = env.app.create_api_key("scjg-system", Some("SCJG")).unwrap();
        let p = env
            .app
            .authenticate_key(&key.key)
            .unwrap()
            .expect("a valid key");
        let t = env.now();
        let r = env.submit(&p, vec![apply_for("Z-1", t, OTHER_ITEM), apply("S-1", t)]);
        assert_eq!(r[0].status, "rejected");
        assert_eq!(r[0].error.as_ref().unwrap().code, "forbidden");
        assert_eq!(r[1].status, "accepted");
        assert_eq!(
            env.count("SELECT COUNT(*) FROM cases WHERE case_no = 'Z-1'", &[]),
            0
        );
        // A case of ZJJ registered by ZJJ cannot be moved on by the SCJG key either.
        let zjj = env.submit(&dept("ZJJ"), vec![apply_for("Z-2", t, OTHER_ITEM)]);
        assert_eq!(zjj[0].status, "accepted");
        let r = env.submit(
            &p,
            vec![ev("Z-2", env.tick(1), "w1", json!({"kind": "accept"}))],
        );
        assert_eq!(r[0].error.as_ref().unwrap().code, "forbidden");
        assert_eq!(env.stored_case("Z-2")["status"], "registered");
        assert_eq!(env.case_events("Z-2"), 1);
        // A key for all departments (a provincial hub) may.
        let hub = env.app.create_api_key("hub", None).unwrap();
        let hub = env.app.authenticate_key(&hub.key).unwrap().unwrap();
        assert_eq!(
            env.submit(
                &hub,
                vec![ev("Z-2", env.tick(1), "w1", json!({"kind": "accept"}))]
            )[0]
            .status,
            "accepted"
        );
        // Department staff do not see another department's case.
        assert_eq!(
            env.app.staff_case(&dept("SCJG"), "Z-2").unwrap_err().code(),
            "not_found"
        );
    });
}

#[test]
fn suspicious_events_raise_findings() {
    both("suspicious", |env| {
        env.open_case("X-1");
        let t = env.tick(5);
        let r = env.submit(
            &dept("SCJG"),
            vec![
                fee("X-1", t, "GB", 2000),
                fee("X-1", t, "XX", 500),
                fee("X-1", t, "GB", 1000),
            ],
        );
        assert_eq!(r[0].findings, ["F001"]);
        assert_eq!(r[1].findings, ["F002"]);
        assert!(r[2].findings.is_empty());
        let f001 = env.findings("F001");
        assert_eq!(f001.len(), 1);
        let f = &f001[0];
        assert_eq!(
            (
                f.status.as_str(),
                f.level.as_str(),
                f.subject_type.as_str(),
                f.subject_id.as_str()
            ),
            ("open", "3", "case", "X-1")
        );
        assert_eq!(
            (f.scope.as_str(), f.department.as_str(), f.owner.as_str()),
            ("GB", "SCJG", "w1")
        );
        assert!(f.message.contains("20.00"), "{}", f.message);
        // The same rule on the same scope does not open a second finding while one is open.
        let r = env.submit(&dept("SCJG"), vec![fee("X-1", env.tick(1), "GB", 3000)]);
        assert!(r[0].findings.is_empty(), "{:?}", r[0].findings);
        assert_eq!(env.findings("F001").len(), 1);
        // A finding is itself logged.
        assert_eq!(
            env.count(
                "SELECT COUNT(*) FROM events WHERE subject_type = 'finding' AND kind = 'opened'",
                &[]
            ),
            2
        );
        // Department lists show only their own.
        let mine = env.app.findings(&dept("ZJJ"), &Default::default()).unwrap();
        assert!(mine.is_empty());
        assert_eq!(
            env.app
                .findings(&dept("SCJG"), &Default::default())
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            env.app
                .findings(&lianzheng_app::Principal::Public, &Default::default())
                .unwrap_err()
                .code(),
            "forbidden"
        );
        // Same person accepts and approves: P005 on 办结.
        env.ok(apply("X-2", env.tick(1)));
        env.ok(ev("X-2", env.tick(1), "w9", json!({"kind": "accept"})));
        for s in ["承办", "审核"] {
            env.ok(step("X-2", env.tick(1), "o1", s));
        }
        env.ok(step("X-2", env.tick(1), "w9", "批准"));
        let r = env.ok(ev(
            "X-2",
            env.tick(1),
            "w9",
            json!({"kind": "finish", "result": "granted"}),
        ));
        assert_eq!(r.findings, ["P005"]);
    });
}

/// The deadline rows of a subject, without the subject.
fn deadline_rows(env: &crate::common::Env, case_no: &str) -> Vec<(String, String, i64)> {
    env.app
        .db
        .read(|tx| {
            Ok::<_, AppError>(
                tx.query(
                    "SELECT code, scope, due_at FROM deadlines WHERE subject_type = 'case' AND subject_id = ? ORDER BY code, scope",
                    &[case_no.into()],
                )?
                .iter()
                .map(|r| (r.text(0), r.text(1), r.int(2)))
                .collect(),
            )
        })
        .unwrap()
}

#[test]
fn a_batch_over_many_cases_matches_events_sent_one_by_one() {
    // 600 cases per batch: the writer's buffers (event rows, leaves, stored hashes, cases,
    // deadline rows) are flushed in several multi-row statements, and a sender id repeated
    // after the first flush, or from an earlier batch, is still a duplicate.
    both("bigbatch", |env| {
        let p = dept("SCJG");
        let n = 600;
        let t = env.now();
        let t1 = t + jiff::SignedDuration::from_mins(1);
        let accept = || json!({"kind": "accept", "document_no": "受字001"});
        let mut batch: Vec<Incoming> = (0..n)
            .map(|i| Incoming {
                event_id: Some(format!("a-{i}")),
                ..apply(&format!("M-{i:04}"), t)
            })
            .collect();
        batch.push(Incoming {
            event_id: Some("a-0".into()),
            ..apply("M-0000", t)
        });
        let r = env.submit(&p, batch);
        assert!(
            r[..n].iter().all(|x| x.status == "accepted"),
            "{}",
            env.backend
        );
        assert!(
            r[..n]
                .windows(2)
                .all(|w| w[1].seq == w[0].seq.map(|s| s + 1))
        );
        assert_eq!((r[n].status.as_str(), r[n].seq), ("duplicate", r[0].seq));
        // The stored cases, loaded together, updated by one upsert per chunk, their deadline
        // rows replaced; an id of the first batch and one repeated in this batch are duplicates.
        let mut batch: Vec<Incoming> = (0..n)
            .map(|i| ev_id(&format!("c-{i}"), &format!("M-{i:04}"), t1, "w1", accept()))
            .collect();
        batch.push(Incoming {
            event_id: Some("a-5".into()),
            ..apply("M-0005", t)
        });
        batch.push(ev_id("c-599", "M-0599", t1, "w1", accept()));
        let r = env.submit(&p, batch);
        assert!(
            r[..n].iter().all(|x| x.status == "accepted"),
            "{}",
            env.backend
        );
        assert_eq!(r[n].status, "duplicate");
        assert_eq!(
            (r[n + 1].status.as_str(), r[n + 1].seq),
            ("duplicate", r[n - 1].seq)
        );
        // The same events for a control case, one per batch.
        env.ok(apply("K-1", t));
        env.ok(ev("K-1", t1, "w1", accept()));
        let control = deadline_rows(env, "K-1");
        assert!(!control.is_empty());
        for no in ["M-0000", "M-0511", "M-0599"] {
            assert_eq!(deadline_rows(env, no), control, "{}: {no}", env.backend);
            assert_eq!(
                env.stored_case(no)["status"],
                env.stored_case("K-1")["status"]
            );
            assert_eq!(env.case_events(no), 2);
        }
        let t2 = env.tick(2);
        let pass = || json!({"kind": "step", "step": "承办", "action": "pass"});
        let batch: Vec<Incoming> = (0..n)
            .map(|i| ev_id(&format!("s-{i}"), &format!("M-{i:04}"), t2, "o1", pass()))
            .collect();
        let r = env.submit(&p, batch);
        assert!(r.iter().all(|x| x.status == "accepted"), "{}", env.backend);
        env.ok(ev("K-1", t2, "o1", pass()));
        let control = deadline_rows(env, "K-1");
        for no in ["M-0000", "M-0512", "M-0599"] {
            assert_eq!(deadline_rows(env, no), control, "{}: {no}", env.backend);
            assert_eq!(
                env.stored_case(no)["steps"],
                env.stored_case("K-1")["steps"]
            );
        }
        let events = env.count("SELECT COUNT(*) FROM events", &[]);
        assert_eq!(env.count("SELECT COUNT(*) FROM log_leaves", &[]), events);
        assert_eq!(env.count("SELECT COUNT(*) FROM case_parties", &[]), 601);
        assert_eq!(
            env.count(
                "SELECT COUNT(*) FROM cases WHERE status = (SELECT status FROM cases WHERE case_no = 'K-1')",
                &[]
            ),
            601
        );
        assert!(env.app.audit(None).unwrap().is_clean());
    });
}

/// The deadline rows the rules want for a stored case now: `desired_deadlines` of its stored
/// state and item version, worked out here rather than by the writer.
fn desired_rows(env: &crate::common::Env, case_no: &str) -> Vec<(String, String, i64)> {
    let (state, body) = env
        .app
        .db
        .read(|tx| {
            let r = tx
                .query_opt(
                    "SELECT c.state, v.body FROM cases c JOIN item_versions v ON v.code = c.item_code AND v.version = c.item_version WHERE c.case_no = ?",
                    &[case_no.into()],
                )?
                .expect("the case and its item version are stored");
            Ok::<_, AppError>((r.text(0), r.text(1)))
        })
        .unwrap();
    let case: lianzheng_core::case::Case = serde_json::from_str(&state).unwrap();
    let item: lianzheng_core::catalog::ItemBody = serde_json::from_str(&body).unwrap();
    let mut rows: Vec<(String, String, i64)> = env
        .app
        .rule_pack()
        .desired_deadlines(
            &case,
            &item,
            &env.app.calendar(),
            &env.app.settings.hours,
            env.now(),
        )
        .into_iter()
        .map(|d| (d.code.to_string(), d.scope, d.due_at.as_millisecond()))
        .collect();
    rows.sort();
    rows
}

#[test]
fn deadline_rows_follow_every_event_exactly() {
    // After every event a case's deadline rows are exactly the rules' set, worked out here from
    // its stored state: a step's deadlines go when it passes and the next step's come, a clock
    // stop and an extension move the case's deadlines (same rows, new due times), 办结 takes
    // them all; a case that did not change keeps its rows.
    both("deadline-diff", |env| {
        let p = dept("SCJG");
        env.submit(&p, vec![apply("D-1", env.now()), apply("D-2", env.now())]);
        let other = deadline_rows(env, "D-2");
        assert!(!other.is_empty());
        let events = [
            json!({"kind": "accept", "document_no": "受字002"}),
            json!({"kind": "step", "step": "承办", "action": "pass"}),
            json!({"kind": "procedure_start", "procedure_type": "2", "name": "专家评审", "reason": "技术审查"}),
            json!({"kind": "procedure_end", "result": "通过"}),
            json!({"kind": "procedure_start", "procedure_type": "1", "name": "延长审批", "days": 10, "approver": "l1"}),
            json!({"kind": "step", "step": "审核", "action": "pass"}),
            json!({"kind": "step", "step": "批准", "action": "pass"}),
            json!({"kind": "finish", "result": "granted"}),
        ];
        let mut seen = Vec::new();
        for (i, body) in events.into_iter().enumerate() {
            let actor = if i == 0 {
                "w1"
            } else if i == 6 {
                "l1"
            } else {
                "o1"
            };
            let t = env.tick(60 * 24);
            let r = env.submit(&p, vec![ev("D-1", t, actor, body)]);
            assert_eq!(r[0].status, "accepted", "{}: event {i}: {r:?}", env.backend);
            let rows = deadline_rows(env, "D-1");
            assert_eq!(rows, desired_rows(env, "D-1"), "{}: event {i}", env.backend);
            seen.push(rows);
        }
        // The story went through each kind of change.
        assert!(seen[..7].iter().all(|r| !r.is_empty()));
        assert!(seen[7].is_empty(), "办结 leaves no deadline");
        assert!(
            seen.windows(2).any(|w| w[0].len() == w[1].len()
                && w[0]
                    .iter()
                    .zip(&w[1])
                    .any(|(a, b)| a.0 == b.0 && a.1 == b.1 && a.2 != b.2)),
            "a deadline kept its row and moved"
        );
        assert_eq!(deadline_rows(env, "D-2"), other, "{}", env.backend);
    });
}
