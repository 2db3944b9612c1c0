//! The deadline sweep: yellow then red cards as the clock passes the warning and the deadline,
//! withdrawal when a case finishes in time, cost proportional to what is due, and deadlines
//! recomputed when a year's holiday notice is loaded.

use jiff::civil::date;
use lianzheng_app::ms;
use lianzheng_core::calendar::{DayKind, DayOverride};
use lianzheng_core::time::end_of;
use serde_json::json;

use crate::common::{admin, apply, at, both, both_at, dept, ev};

fn status_of(env: &crate::common::Env, code: &str) -> Vec<String> {
    env.findings(code).into_iter().map(|f| f.status).collect()
}

#[test]
fn the_sweep_raises_a003_then_a004_which_withdraws_it() {
    both("sweep_a003_a004", |env| {
        // Accepted Mon 3/2: 5 working days promised → due end of Mon 3/9; yellow after 4 (end of 3/6).
        env.open_case("T-1");
        assert_eq!(env.app.sweep(100).unwrap().crossed, 0, "nothing is due yet");
        env.set(at(date(2026, 3, 6), 23, 59));
        assert_eq!(env.app.sweep(100).unwrap().crossed, 0);
        env.set(at(date(2026, 3, 7), 0, 1));
        let r = env.app.sweep(100).unwrap();
        assert_eq!((r.crossed, r.fired), (1, 1));
        assert_eq!(status_of(env, "A003"), ["open"]);
        let a003 = &env.findings("A003")[0];
        assert_eq!(
            (a003.level.as_str(), a003.subject_id.as_str()),
            ("2", "T-1")
        );
        let view = env.app.public_case("T-1", &query_code(env, "T-1")).unwrap();
        assert_eq!(view.deadline_status, "临近时限");
        // Past the deadline: A007 (due today) fell due on 3/9, A004 on 3/10 00:00.
        env.set(at(date(2026, 3, 10), 8, 0));
        let r = env.app.sweep(100).unwrap();
        assert_eq!((r.crossed, r.fired), (2, 2));
        assert_eq!(status_of(env, "A004"), ["open"]);
        assert_eq!(
            status_of(env, "A003"),
            ["withdrawn"],
            "the red card withdraws the yellow one"
        );
        assert_eq!(status_of(env, "A007"), ["withdrawn"]);
        assert_eq!(
            env.count(
                "SELECT COUNT(*) FROM events WHERE subject_type = 'finding' AND kind = 'withdraw'",
                &[]
            ),
            2
        );
        assert_eq!(
            env.app
                .public_case("T-1", &query_code(env, "T-1"))
                .unwrap()
                .deadline_status,
            "已超时"
        );
        // Nothing fires twice.
        let r = env.app.sweep(100).unwrap();
        assert_eq!((r.crossed, r.fired), (0, 0));
        // Finishing late withdraws nothing and records the case as late.
        env.finish_case("T-1", "l1");
        assert_eq!(status_of(env, "A004"), ["open"]);
        assert_eq!(
            env.count("SELECT on_time FROM cases WHERE case_no = 'T-1'", &[]),
            0
        );
    });
}

fn query_code(env: &crate::common::Env, case_no: &str) -> String {
    env.app
        .db
        .read(|tx| {
            Ok::<_, lianzheng_app::AppError>(
                tx.query_opt(
                    "SELECT query_code FROM case_parties WHERE case_no = ?",
                    &[case_no.into()],
                )?
                .map(|r| r.text(0)),
            )
        })
        .unwrap()
        .unwrap()
}

#[test]
fn a_case_finished_in_time_withdraws_its_a003() {
    both("sweep_in_time", |env| {
        env.open_case("T-2");
        env.set(at(date(2026, 3, 7), 9, 0));
        assert_eq!(env.app.sweep(100).unwrap().fired, 1);
        assert_eq!(status_of(env, "A003"), ["open"]);
        env.set(at(date(2026, 3, 9), 9, 0));
        env.app.sweep(100).unwrap();
        assert_eq!(status_of(env, "A007"), ["open"]);
        env.finish_case("T-2", "l1");
        assert_eq!(status_of(env, "A003"), ["withdrawn"]);
        assert_eq!(status_of(env, "A007"), ["withdrawn"]);
        env.set(at(date(2026, 3, 20), 9, 0));
        assert_eq!(
            env.app.sweep(100).unwrap().crossed,
            0,
            "a finished case has no deadlines left"
        );
        assert!(env.findings("A004").is_empty());
        assert_eq!(
            env.count("SELECT on_time FROM cases WHERE case_no = 'T-2'", &[]),
            1
        );
    });
}

#[test]
fn the_sweep_only_touches_due_rows() {
    both("sweep_due_only", |env| {
        // Three cases accepted on Mon 3/2 …
        for i in 0..3 {
            env.open_case(&format!("OLD-{i}"));
        }
        // … and twenty accepted on Mon 3/9, due a week later.
        env.set(at(date(2026, 3, 9), 9, 0));
        let p = dept("SCJG");
        let t = env.now();
        let mut batch = Vec::new();
        for i in 0..20 {
            let no = format!("NEW-{i}");
            batch.push(apply(&no, t));
            batch.push(ev(&no, t, "w1", json!({"kind": "accept"})));
        }
        assert!(env.submit(&p, batch).iter().all(|r| r.status == "accepted"));
        let rows = env.count("SELECT COUNT(*) FROM deadlines", &[]);
        assert!(rows >= 100, "{rows} pending deadline rows");
        // On Tue 3/10 each old case has crossed A003, A007 and A004; no new case has.
        env.set(at(date(2026, 3, 10), 9, 0));
        let due = env.count(
            "SELECT COUNT(*) FROM deadlines WHERE due_at <= ?",
            &[ms(env.now()).into()],
        );
        assert_eq!(due, 9);
        let r = env.app.sweep(2).unwrap();
        assert_eq!(
            r.crossed, 9,
            "small batches still see each crossed deadline once"
        );
        assert_eq!(r.fired, 9);
        assert_eq!(env.findings("A004").len(), 3);
        assert!(
            env.findings("A004")
                .iter()
                .all(|f| f.subject_id.starts_with("OLD-"))
        );
        assert_eq!(env.app.sweep(2).unwrap().crossed, 0);
        let left = env.count("SELECT COUNT(*) FROM deadlines", &[]);
        assert_eq!(left, rows - 9, "the new cases' rows are untouched");
    });
}

#[test]
fn loading_a_calendar_year_recomputes_provisional_deadlines() {
    // Mon 2026-12-28: five working days run into 2027, whose notice is not loaded yet.
    both_at("calendar_year", at(date(2026, 12, 28), 9, 0), |env| {
        let code = env.open_case("Y-1");
        let view = env.app.public_case("Y-1", &code).unwrap();
        // 12/29, 12/30, 12/31, (1/1 statutory holiday), 1/4, 1/5.
        assert_eq!(view.promised_due.as_deref(), Some("2027-01-05"));
        assert!(view.due_provisional);
        assert_eq!(
            env.count(
                "SELECT due_provisional FROM cases WHERE case_no = 'Y-1'",
                &[]
            ),
            1
        );
        let notice = |d, kind| DayOverride {
            date: d,
            kind,
            name: "元旦".into(),
            notice: "国办发明电〔2026〕测试".into(),
        };
        let rows = vec![
            notice(date(2027, 1, 1), DayKind::Holiday),
            notice(date(2027, 1, 4), DayKind::Holiday),
        ];
        assert_eq!(
            env.app
                .set_calendar_year(&dept("SCJG"), 2027, rows.clone())
                .unwrap_err()
                .code(),
            "forbidden"
        );
        assert_eq!(
            env.app
                .set_calendar_year(
                    &admin(),
                    2027,
                    vec![notice(date(2028, 1, 1), DayKind::Holiday)]
                )
                .unwrap_err()
                .code(),
            "invalid_input"
        );
        assert_eq!(env.app.set_calendar_year(&admin(), 2027, rows).unwrap(), 1);
        let view = env.app.public_case("Y-1", &code).unwrap();
        assert_eq!(view.promised_due.as_deref(), Some("2027-01-06"));
        assert!(!view.due_provisional);
        assert_eq!(
            env.count(
                "SELECT due_provisional FROM cases WHERE case_no = 'Y-1'",
                &[]
            ),
            0
        );
        assert_eq!(
            env.count(
                "SELECT promised_due_at FROM cases WHERE case_no = 'Y-1'",
                &[]
            ),
            ms(end_of(date(2027, 1, 6)))
        );
        assert_eq!(
            env.count(
                "SELECT due_at FROM deadlines WHERE subject_id = 'Y-1' AND code = 'A004'",
                &[]
            ),
            ms(end_of(date(2027, 1, 6))),
            "the deadline index follows"
        );
        // The notice is stored: a restarted application reckons the same.
        let again = env.reopen();
        assert!(again.calendar().is_loaded(2027));
        assert_eq!(
            again
                .public_case("Y-1", &code)
                .unwrap()
                .promised_due
                .as_deref(),
            Some("2027-01-06")
        );
    });
}

#[test]
fn correcting_a_loaded_year_moves_the_deadline_index() {
    // Thu 2026-09-24 + 5 working days across 中秋 and 国庆 → 10/9.
    both_at("calendar_correction", at(date(2026, 9, 24), 9, 0), |env| {
        let code = env.open_case("Y-2");
        assert_eq!(
            env.app
                .public_case("Y-2", &code)
                .unwrap()
                .promised_due
                .as_deref(),
            Some("2026-10-09")
        );
        assert_eq!(
            env.count(
                "SELECT due_at FROM deadlines WHERE subject_id = 'Y-2' AND code = 'A004'",
                &[]
            ),
            ms(end_of(date(2026, 10, 9)))
        );
        // An administrator corrects the 2026 notice (here: without the 国庆 block): the deadline
        // moves earlier, to 10/2, and the stored deadline and the index must follow, or the
        // sweep would raise A004 a week late.
        let rows: Vec<DayOverride> = env
            .app
            .calendar()
            .year_rows(2026)
            .into_iter()
            .filter(|r| !(r.date.month() == 10 && r.date.day() <= 8))
            .collect();
        env.app.set_calendar_year(&admin(), 2026, rows).unwrap();
        assert_eq!(
            env.app
                .public_case("Y-2", &code)
                .unwrap()
                .promised_due
                .as_deref(),
            Some("2026-10-02")
        );
        assert_eq!(
            env.count(
                "SELECT promised_due_at FROM cases WHERE case_no = 'Y-2'",
                &[]
            ),
            ms(end_of(date(2026, 10, 2)))
        );
        assert_eq!(
            env.count(
                "SELECT due_at FROM deadlines WHERE subject_id = 'Y-2' AND code = 'A004'",
                &[]
            ),
            ms(end_of(date(2026, 10, 2)))
        );
        env.set(at(date(2026, 10, 3), 9, 0));
        env.app.sweep(100).unwrap();
        assert_eq!(env.findings("A004").len(), 1, "overdue since 10/3 00:00");
    });
}

#[test]
fn a_sweep_with_batch_zero_returns() {
    both("sweep_batch_zero", |env| {
        env.open_case("Z-0");
        // Run it on a second application on its own thread, so that a loop that never ends
        // fails the test instead of hanging the suite.
        let app = env.reopen();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(app.sweep(0).map(|r| r.crossed).map_err(|e| e.to_string()));
        });
        let got = rx.recv_timeout(std::time::Duration::from_secs(5));
        assert!(
            matches!(got, Ok(Ok(0))),
            "sweep(0) did not return within 5 s: {got:?}"
        );
    });
}
