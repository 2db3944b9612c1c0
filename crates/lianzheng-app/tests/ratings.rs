//! 好差评: only finished cases, once; a bad rating opens R001 for the department, R002 fires if
//! it is not answered in time; the answer shows on the public page; roll-ups.

use std::collections::BTreeMap;

use jiff::civil::date;
use lianzheng_app::Principal;
use lianzheng_app::views::{CaseRating, RatingInput};
use lianzheng_core::codes::{RatingChannel, Satisfaction};

use crate::common::{admin, at, both, dept};

fn rating(s: Satisfaction, comment: &str) -> RatingInput {
    RatingInput {
        satisfaction: s,
        channel: RatingChannel::HallTablet,
        indicators: BTreeMap::new(),
        comment: comment.into(),
    }
}

#[test]
fn ratings_bad_ratings_answers_and_rollups() {
    both("ratings", |env| {
        let c1 = env.open_case("R-1");
        let c2 = env.open_case("R-2");
        let c3 = env.open_case("R-3");
        let c4 = env.open_case("R-4");
        env.finish_case("R-1", "l1");
        env.finish_case("R-3", "l2");
        env.finish_case("R-4", "l2");

        // Only a finished case, only with its code, only once.
        assert_eq!(
            env.app
                .rate_case("R-2", &c2, rating(Satisfaction::Satisfied, ""))
                .unwrap_err()
                .code(),
            "conflict"
        );
        assert_eq!(
            env.app
                .rate_case("R-1", "12345678", rating(Satisfaction::Satisfied, ""))
                .unwrap_err()
                .code(),
            "not_found"
        );
        let mut bad_indicator = rating(Satisfaction::Satisfied, "");
        bad_indicator.indicators.insert("平台操作性".into(), 5);
        assert_eq!(
            env.app
                .rate_case("R-1", &c1, bad_indicator)
                .unwrap_err()
                .code(),
            "invalid_input",
            "an online indicator on a hall tablet"
        );
        let mut good = rating(Satisfaction::Satisfied, "办事快");
        good.indicators.insert("服务态度".into(), 5);
        assert_eq!(
            env.app.rate_case("R-1", &c1, good).unwrap(),
            None,
            "a good rating opens nothing"
        );
        assert_eq!(
            env.app
                .rate_case("R-1", &c1, rating(Satisfaction::VeryDissatisfied, ""))
                .unwrap_err()
                .code(),
            "conflict"
        );
        let v = env.app.public_case("R-1", &c1).unwrap();
        assert!(!v.can_rate);
        assert_eq!(
            v.rating
                .as_ref()
                .map(|r| (r.satisfaction, r.comment.as_str())),
            Some((2, "办事快"))
        );

        // A bad rating opens R001 for the department, owned by the staff who handled it.
        let fid = env
            .app
            .rate_case("R-3", &c3, rating(Satisfaction::VeryDissatisfied, "态度差"))
            .unwrap()
            .expect("R001");
        let r001 = env.findings("R001");
        assert_eq!(r001.len(), 1);
        assert_eq!(
            (
                r001[0].id,
                r001[0].subject_type.as_str(),
                r001[0].owner.as_str(),
                r001[0].status.as_str()
            ),
            (fid, "rating", "l2", "open")
        );
        let fid4 = env
            .app
            .rate_case("R-4", &c4, rating(Satisfaction::Dissatisfied, "等太久"))
            .unwrap()
            .expect("R001");

        // R-4 is answered by its department; another department may not answer.
        assert_eq!(
            env.app
                .answer_rating(&dept("ZJJ"), "R-4", "已整改")
                .unwrap_err()
                .code(),
            "forbidden"
        );
        assert_eq!(
            env.app
                .answer_rating(&dept("SCJG"), "R-1", "谢谢")
                .unwrap_err()
                .code(),
            "conflict",
            "a good rating needs no answer"
        );
        assert_eq!(
            env.app
                .answer_rating(&dept("SCJG"), "R-2", "x")
                .unwrap_err()
                .code(),
            "not_found"
        );
        env.app
            .answer_rating(&dept("SCJG"), "R-4", "已电话回访并优化流程")
            .unwrap();
        assert_eq!(
            env.app
                .answer_rating(&dept("SCJG"), "R-4", "再答")
                .unwrap_err()
                .code(),
            "conflict"
        );
        let v = env.app.public_case("R-4", &c4).unwrap();
        assert_eq!(
            v.rating.unwrap().answer.as_deref(),
            Some("已电话回访并优化流程")
        );
        let by_id = |id: i64| {
            env.findings("R001")
                .into_iter()
                .find(|f| f.id == id)
                .unwrap()
        };
        assert_eq!(by_id(fid4).status, "rectified");

        // R-3 is not answered within 5 working days: R002 fires, R001 is escalated.
        env.set(at(date(2026, 3, 9), 12, 0));
        assert!(env.findings("R002").is_empty());
        env.set(at(date(2026, 3, 10), 0, 1));
        env.app.sweep(100).unwrap();
        let r002 = env.findings("R002");
        assert_eq!(r002.len(), 1, "only the unanswered one");
        assert_eq!(
            (
                r002[0].subject_type.as_str(),
                r002[0].subject_id.as_str(),
                r002[0].level.as_str()
            ),
            ("finding", fid.to_string().as_str(), "3")
        );
        assert_eq!(by_id(fid).escalations, 1);
        assert_eq!(by_id(fid4).escalations, 0);

        // Roll-ups.
        let by = |p: &Principal, key: &str| {
            env.app
                .rating_rollup(p, key)
                .unwrap()
                .into_iter()
                .map(|r| (r.key, r.count, r.bad))
                .collect::<Vec<_>>()
        };
        assert_eq!(by(&admin(), "department"), [("SCJG".to_string(), 3, 2)]);
        let mut staff = by(&admin(), "staff");
        staff.sort();
        assert_eq!(staff, [("l1".to_string(), 1, 0), ("l2".to_string(), 2, 2)]);
        assert_eq!(by(&admin(), "window"), [("W01".to_string(), 3, 2)]);
        assert_eq!(
            by(&admin(), "item"),
            [(crate::common::ITEM.to_string(), 3, 2)]
        );
        let l2 = env
            .app
            .rating_rollup(&admin(), "staff")
            .unwrap()
            .into_iter()
            .find(|r| r.key == "l2")
            .unwrap();
        assert!((l2.mean - 4.5).abs() < 1e-9, "{}", l2.mean);
        assert!((l2.satisfaction_rate - 0.0).abs() < 1e-9);
        assert!(
            by(&dept("ZJJ"), "department").is_empty(),
            "a department sees its own ratings only"
        );
        assert_eq!(by(&Principal::Public, "department").len(), 1);
        assert_eq!(
            env.app
                .rating_rollup(&Principal::Public, "staff")
                .unwrap_err()
                .code(),
            "forbidden"
        );
        assert_eq!(
            env.app.rating_rollup(&admin(), "mood").unwrap_err().code(),
            "invalid_input"
        );
        let stats = env.app.department_stats().unwrap();
        let scjg = stats.iter().find(|s| s.department == "SCJG").unwrap();
        assert_eq!(
            (
                scjg.cases,
                scjg.finished,
                scjg.on_time,
                scjg.ratings,
                scjg.bad_ratings
            ),
            (4, 3, 3, 3, 2)
        );
    });
}

/// Ratings in one transaction: each is refused on its own as one alone would be (a wrong code,
/// a case not finished, a second rating of a case, a bad indicator), and a refused one leaves
/// nothing behind; the others are stored and logged, a 差评 opening its R001.
#[test]
fn ratings_in_one_transaction_are_refused_one_by_one() {
    both("rate_many", |env| {
        let codes: Vec<String> = (1..=4).map(|i| env.open_case(&format!("RM-{i}"))).collect();
        for no in ["RM-1", "RM-2", "RM-4"] {
            env.finish_case(no, "l1");
        }
        let one = |no: &str, code: &str, r: RatingInput| CaseRating {
            case_no: no.into(),
            query_code: code.into(),
            input: r,
        };
        let mut bad_indicator = rating(Satisfaction::Satisfied, "");
        bad_indicator.indicators.insert("平台操作性".into(), 5);
        let results = env
            .app
            .rate_cases(&[
                one("RM-1", &codes[0], rating(Satisfaction::Satisfied, "好")),
                one("RM-2", "00000000", rating(Satisfaction::Satisfied, "")),
                one("RM-9", "00000000", rating(Satisfaction::Satisfied, "")),
                one("RM-3", &codes[2], rating(Satisfaction::Satisfied, "")),
                one("RM-1", &codes[0], rating(Satisfaction::Dissatisfied, "")),
                one("RM-4", &codes[3], bad_indicator),
                one(
                    "RM-4",
                    &codes[3],
                    rating(Satisfaction::VeryDissatisfied, "慢"),
                ),
            ])
            .unwrap();
        let got: Vec<Result<bool, &str>> = results
            .iter()
            .map(|r| r.as_ref().map(Option::is_some).map_err(|e| e.code()))
            .collect();
        assert_eq!(
            got,
            [
                Ok(false),
                Err("not_found"),
                Err("not_found"),
                Err("conflict"),
                Err("conflict"),
                Err("invalid_input"),
                Ok(true),
            ],
            "{}",
            env.backend
        );
        assert_eq!(
            env.count("SELECT COUNT(*) FROM ratings", &[]),
            2,
            "{}",
            env.backend
        );
        assert_eq!(
            env.count("SELECT COUNT(*) FROM events WHERE kind = 'rate'", &[]),
            2,
            "{}",
            env.backend
        );
        assert_eq!(env.findings("R001").len(), 1, "{}", env.backend);
        // The 差评's row points at its rectification task.
        assert_eq!(
            env.count(
                "SELECT COUNT(*) FROM ratings WHERE case_no = 'RM-4' AND finding_id IS NOT NULL",
                &[]
            ),
            1,
            "{}",
            env.backend
        );
        let v = env.app.public_case("RM-4", &codes[3]).unwrap();
        assert_eq!(v.rating.map(|r| r.satisfaction), Some(5));
        // Every stored rating is in the log.
        assert!(env.app.audit(None).unwrap().is_clean(), "{}", env.backend);
    });
}
