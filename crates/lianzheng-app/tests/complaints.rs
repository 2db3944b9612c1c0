//! Complaints (G1/G2): filing, triage, acceptance, extension, answer, rating and reopening; the
//! deadlines G001/G002 through the sweep; 乱收费 against the catalog; department isolation;
//! masking and the record of personal-data access; everything in the log.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use jiff::SignedDuration;
use jiff::civil::date;
use lianzheng_app::catalog::Department;
use lianzheng_app::complaints::{
    Complainant, ComplaintAction, ComplaintFilter, ComplaintInput, FiledComplaint, Location,
};
use lianzheng_app::views::{Appraisal, CacheKind};
use lianzheng_app::{AppError, Principal};
use lianzheng_core::codes::Fen;
use lianzheng_core::complaint::{Category, ComplaintChannel, Finding, Rating, Subject};

use crate::common::{Env, ITEM, admin, at, both, dept, supervisor, t0};

fn seed(env: &Env) {
    let d = Department {
        code: "XZSP".into(),
        credit_code: "11410800MB1A302514".into(),
        name: "焦作市行政审批和政务信息管理局".into(),
        short_name: "市行政审批局".into(),
        phone: "0391-3901317".into(),
    };
    env.app.upsert_departments(&admin(), &[d]).unwrap();
}

fn input(category: Category, department: &str, subject: Subject, real: bool) -> ComplaintInput {
    ComplaintInput {
        category,
        channel: ComplaintChannel::Hotline,
        department: department.into(),
        subject,
        title: Some("窗口办事拖拉".into()),
        content: "我叫张三丰，电话13903910000，窗口让我跑了三次。".into(),
        complainant: real.then(|| Complainant {
            name: "张三丰".into(),
            phone: "13903910000".into(),
            id_no: "410802199001011234".into(),
            contact: String::new(),
        }),
        location: Location {
            address: Some("焦作市政务服务中心".into()),
            lat: Some(35.2155),
            long: Some(113.2418),
        },
        media_url: None,
    }
}

fn file(env: &Env, category: Category, department: &str, subject: Subject) -> FiledComplaint {
    env.app
        .file_complaint(&supervisor(), input(category, department, subject, true))
        .unwrap_or_else(|e| panic!("{}: {e}", env.backend))
}

fn act(env: &Env, p: &Principal, no: &str, a: ComplaintAction) -> Result<String, AppError> {
    env.app.act_on_complaint(p, no, a).map(|r| r.status)
}

fn open_codes(env: &Env, no: &str) -> Vec<String> {
    let mut v: Vec<String> = env
        .app
        .findings(&admin(), &Default::default())
        .unwrap()
        .into_iter()
        .filter(|f| f.subject_type == "complaint" && f.subject_id == no)
        .map(|f| f.code)
        .collect();
    v.sort();
    v
}

#[test]
fn a_complaint_runs_its_course_and_g001_fires_when_nobody_accepts_it() {
    both("complaint_life", |env| {
        seed(env);
        let f = file(env, Category::Efficiency, "SCJG", Subject::Department);
        assert!(
            f.complaint_no.starts_with("TS20260302"),
            "{}",
            f.complaint_no
        );
        assert_eq!(f.complaint_no.len(), 16);
        assert!(f.findings.is_empty());
        // The public cannot file by hotline; it may by the portal.
        let mut web = input(Category::Attitude, "SCJG", Subject::Department, false);
        web.channel = ComplaintChannel::Hotline;
        assert!(matches!(
            env.app.file_complaint(&Principal::Public, web.clone()),
            Err(AppError::Forbidden(_))
        ));
        web.channel = ComplaintChannel::Portal;
        let second = env.app.file_complaint(&Principal::Public, web).unwrap();
        assert!(second.complaint_no.ends_with("000002"));
        // Triage by category: efficiency goes to the service centre.
        let triage = ComplaintAction::Triage {
            department: None,
            route: None,
        };
        assert!(matches!(
            act(env, &dept("SCJG"), &f.complaint_no, triage.clone()),
            Err(AppError::NotFound { .. })
        ));
        assert_eq!(
            act(env, &supervisor(), &f.complaint_no, triage).unwrap(),
            "assigned"
        );
        let row = env
            .app
            .complaint_queue(&dept("XZSP"), &ComplaintFilter::default())
            .unwrap();
        assert_eq!(row.len(), 1);
        assert_eq!(row[0].assigned.as_deref(), Some("XZSP"));
        // 5 working days from Mon 3/2: due at the end of Mon 3/9.
        env.set(at(date(2026, 3, 9), 23, 0));
        assert_eq!(env.app.sweep(100).unwrap().fired, 0);
        env.set(at(date(2026, 3, 10), 0, 5));
        let r = env.app.sweep(100).unwrap();
        assert_eq!(r.fired, 2, "G001 for both: neither was accepted");
        assert_eq!(open_codes(env, &f.complaint_no), ["G001"]);
        let g001 = env.findings("G001");
        assert!(
            g001.iter()
                .any(|x| x.department == "XZSP" && x.level == "2")
        );
        // Late acceptance, an extension approved in time, an answer.
        assert_eq!(
            act(env, &dept("XZSP"), &f.complaint_no, ComplaintAction::Accept).unwrap(),
            "accepted"
        );
        let ext = ComplaintAction::RequestExtension {
            days: 5,
            reason: "需调取窗口录像".into(),
        };
        act(env, &dept("XZSP"), &f.complaint_no, ext).unwrap();
        assert!(matches!(
            act(
                env,
                &dept("XZSP"),
                &f.complaint_no,
                ComplaintAction::ApproveExtension
            ),
            Err(AppError::Forbidden(_))
        ));
        act(
            env,
            &supervisor(),
            &f.complaint_no,
            ComplaintAction::ApproveExtension,
        )
        .unwrap();
        env.tick(60);
        let answer = ComplaintAction::Answer {
            text: "经核查属实，已对窗口人员批评教育".into(),
            outcome: Finding::Sustained,
        };
        assert_eq!(
            act(env, &dept("XZSP"), &f.complaint_no, answer.clone()).unwrap(),
            "answered"
        );
        // The complainant rates with the query code; a wrong code is an unknown complaint.
        assert!(matches!(
            env.app
                .rate_complaint(&f.complaint_no, "00000000x", Rating::Satisfied),
            Err(AppError::NotFound { .. })
        ));
        let r = env
            .app
            .rate_complaint(&f.complaint_no, &f.query_code, Rating::Dissatisfied)
            .unwrap();
        assert_eq!(r.status, "accepted", "reopened once");
        assert_eq!(open_codes(env, &f.complaint_no), ["G001", "G004"]);
        act(env, &dept("XZSP"), &f.complaint_no, answer).unwrap();
        let r = env
            .app
            .rate_complaint(&f.complaint_no, &f.query_code, Rating::Dissatisfied)
            .unwrap();
        assert_eq!(r.status, "closed", "not reopened twice");
        // The public view shows the steps and no personal data.
        let v = env
            .app
            .public_complaint(&f.complaint_no, &f.query_code)
            .unwrap()
            .to_string();
        assert!(v.contains("重新办理") && !v.contains("张三丰") && !v.contains("13903910000"));
        // Everything is logged, and the log audits clean.
        let kinds = env.count(
            "SELECT COUNT(*) FROM events WHERE subject_type = 'complaint' AND subject_id = ?",
            &[f.complaint_no.clone().into()],
        );
        assert_eq!(
            kinds, 10,
            "filed triaged accepted ext×2 answered rated reopened answered rated"
        );
        let payloads = env.count(
            "SELECT COUNT(*) FROM events WHERE payload LIKE '%张三丰%' OR payload LIKE '%13903910000%'",
            &[],
        );
        assert_eq!(payloads, 0, "no personal data in the log");
        assert!(env.app.audit(None).unwrap().is_clean());
        let stats = env.app.complaint_stats(Some("2026-03")).unwrap();
        let s = stats.iter().find(|s| s.department == "SCJG").unwrap();
        assert_eq!((s.received, s.answered, s.rated, s.satisfied), (2, 1, 1, 0));
    });
}

#[test]
fn g002_fires_through_the_sweep_and_a_late_extension_is_refused() {
    both("complaint_g002", |env| {
        let f = file(
            env,
            Category::Business,
            "ZJJ",
            Subject::Case {
                case_no: "20260302ZJJ00001".into(),
            },
        );
        act(
            env,
            &supervisor(),
            &f.complaint_no,
            ComplaintAction::Triage {
                department: None,
                route: None,
            },
        )
        .unwrap();
        env.tick(60);
        act(env, &dept("ZJJ"), &f.complaint_no, ComplaintAction::Accept).unwrap();
        // Answer due 15 working days after Mon 3/2: end of Mon 3/23.
        env.set(at(date(2026, 3, 23), 20, 0));
        act(
            env,
            &dept("ZJJ"),
            &f.complaint_no,
            ComplaintAction::RequestExtension {
                days: 5,
                reason: "需现场核查".into(),
            },
        )
        .unwrap();
        env.set(at(date(2026, 3, 24), 9, 0));
        let late = act(
            env,
            &supervisor(),
            &f.complaint_no,
            ComplaintAction::ApproveExtension,
        );
        assert!(
            matches!(&late, Err(AppError::Conflict(m)) if m.contains("届满")),
            "{late:?}"
        );
        let r = env.app.sweep(100).unwrap();
        assert_eq!(r.fired, 1);
        let g002 = env.findings("G002");
        assert_eq!(g002.len(), 1);
        assert_eq!(
            (g002[0].level.as_str(), g002[0].department.as_str()),
            ("3", "ZJJ")
        );
        assert_eq!(env.app.sweep(100).unwrap().crossed, 0, "fired once");
        let stats = env.app.complaint_stats(None).unwrap();
        let s = stats.iter().find(|s| s.department == "ZJJ").unwrap();
        assert_eq!((s.open_overdue, s.answered_in_time), (1, 0));
        assert!(env.app.audit(None).unwrap().is_clean());
    });
}

#[test]
fn fees_outside_the_catalog_or_above_the_standard_are_flagged() {
    both("complaint_fee", |env| {
        let fee = |code: &str, fen: i64| Subject::Fee {
            item_code: ITEM.into(),
            fee_code: code.into(),
            amount_fen: Fen(fen),
        };
        let above = file(env, Category::Fee, "SCJG", fee("GB", 5000));
        assert_eq!(above.fee_flag.as_deref(), Some("超标准收费"));
        assert_eq!(above.findings, ["G003"]);
        let outside = file(env, Category::Fee, "SCJG", fee("加急费", 2000));
        assert_eq!(outside.fee_flag.as_deref(), Some("目录外收费"));
        let fine = file(env, Category::Fee, "SCJG", fee("GB", 1000));
        assert_eq!(fine.fee_flag, None);
        assert!(fine.findings.is_empty());
        let g003 = env.findings("G003");
        assert_eq!(g003.len(), 2);
        assert!(
            g003.iter()
                .all(|f| f.department == "SCJG" && f.level == "3")
        );
        assert!(matches!(
            env.app.file_complaint(
                &supervisor(),
                input(
                    Category::Fee,
                    "SCJG",
                    Subject::Fee {
                        item_code: "NOPE".into(),
                        fee_code: "GB".into(),
                        amount_fen: Fen(1)
                    },
                    true
                )
            ),
            Err(AppError::NotFound { .. })
        ));
        // Confirmed when the answer finds it (partly) sustained.
        act(
            env,
            &supervisor(),
            &above.complaint_no,
            ComplaintAction::Triage {
                department: None,
                route: None,
            },
        )
        .unwrap();
        act(
            env,
            &dept("SCJG"),
            &above.complaint_no,
            ComplaintAction::Accept,
        )
        .unwrap();
        act(
            env,
            &dept("SCJG"),
            &above.complaint_no,
            ComplaintAction::Answer {
                text: "已退还多收费用".into(),
                outcome: Finding::Sustained,
            },
        )
        .unwrap();
        let s = env.app.complaint_stats(Some("2026-03")).unwrap();
        assert_eq!(
            s.iter()
                .find(|s| s.department == "SCJG")
                .unwrap()
                .fee_confirmed,
            1
        );
    });
}

#[test]
fn departments_see_only_their_complaints_and_identities_are_guarded() {
    both("complaint_isolation", |env| {
        let f = file(env, Category::Fee, "SCJG", Subject::Department);
        act(
            env,
            &supervisor(),
            &f.complaint_no,
            ComplaintAction::Triage {
                department: None,
                route: None,
            },
        )
        .unwrap();
        let w = file(
            env,
            Category::Misconduct,
            "SCJG",
            Subject::Person {
                staff: "W07".into(),
            },
        );
        act(
            env,
            &supervisor(),
            &w.complaint_no,
            ComplaintAction::Triage {
                department: None,
                route: None,
            },
        )
        .unwrap();
        // The other department sees and does nothing.
        let zjj = dept("ZJJ");
        assert!(
            env.app
                .complaint_queue(&zjj, &ComplaintFilter::default())
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            env.app.staff_complaint(&zjj, &f.complaint_no),
            Err(AppError::NotFound { .. })
        ));
        assert!(matches!(
            act(env, &zjj, &f.complaint_no, ComplaintAction::Accept),
            Err(AppError::NotFound { .. })
        ));
        assert!(matches!(
            env.app
                .complaint_queue(&Principal::Public, &ComplaintFilter::default()),
            Err(AppError::Forbidden(_))
        ));
        // SCJG handles the fee complaint, not the misconduct one (routed to the 监察局).
        let scjg = dept("SCJG");
        let q = env
            .app
            .complaint_queue(&scjg, &ComplaintFilter::default())
            .unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].complaint_no, f.complaint_no);
        assert!(matches!(
            env.app.staff_complaint(&scjg, &w.complaint_no),
            Err(AppError::NotFound { .. })
        ));
        let views = |env: &Env| {
            env.count(
                "SELECT COUNT(*) FROM events WHERE subject_type = 'personal_data'",
                &[],
            )
        };
        let v = env.app.staff_complaint(&scjg, &f.complaint_no).unwrap();
        assert_eq!(v["complainant"]["phone"], "13903910000");
        assert_eq!(views(env), 1, "seeing the identity is recorded");
        let auditor = Principal::Auditor { name: "sjj".into() };
        let v = env.app.staff_complaint(&auditor, &w.complaint_no).unwrap();
        assert_eq!(v["complainant"]["name"], "张**");
        assert_eq!(v["complainant"]["phone"], "139****0000");
        assert_eq!(views(env), 1, "masked views are not identity views");
        assert!(matches!(
            act(env, &auditor, &w.complaint_no, ComplaintAction::Accept),
            Err(AppError::Forbidden(_))
        ));
        let v = env
            .app
            .staff_complaint(&supervisor(), &w.complaint_no)
            .unwrap();
        assert_eq!(v["complainant"]["id_no"], "410802199001011234");
        assert_eq!(views(env), 2);
        let access = env.app.personal_data_access(&auditor, 10).unwrap();
        assert_eq!(access[0].1, w.complaint_no);
        // Public lists carry no personal data.
        let public = serde_json::to_string(
            &env.app
                .public_complaints(&ComplaintFilter::default())
                .unwrap(),
        )
        .unwrap();
        assert!(!public.contains("张三丰") && !public.contains("1390391"));
        assert!(env.app.audit(None).unwrap().is_clean());
    });
}

#[test]
fn without_a_title_the_public_sees_the_category_not_the_text() {
    both("complaint_title", |env| {
        seed(env);
        let mut i = input(Category::Attitude, "SCJG", Subject::Department, true);
        i.title = None;
        let f = env.app.file_complaint(&supervisor(), i).unwrap();
        let rows = env
            .app
            .public_complaints(&ComplaintFilter::default())
            .unwrap();
        let row = rows
            .iter()
            .find(|r| r.complaint_no == f.complaint_no)
            .unwrap();
        assert_eq!(row.title, format!("{}投诉", Category::Attitude.label_zh()));
        assert!(!row.title.contains("张三丰") && !row.title.contains("1390"));
    });
}

#[test]
fn the_appraisal_is_cached_until_it_expires_and_equals_the_computation() {
    both("appraisal_cache", |env| {
        seed(env);
        file(env, Category::Efficiency, "SCJG", Subject::Department);
        let cached = env.app.appraisal_cached(30).unwrap();
        assert_eq!(*cached, env.app.appraisal().unwrap(), "{}", env.backend);
        assert_eq!(cached.complaints[0].received, 1);
        assert!(cached.monitoring.iter().all(|r| r.comments.is_empty()));
        // The CSV of one month filters the cached figures: the same as the month's query.
        let march: Vec<_> = cached
            .complaints
            .iter()
            .filter(|r| r.month == "2026-03")
            .cloned()
            .collect();
        assert_eq!(march, env.app.complaint_stats(Some("2026-03")).unwrap());
        // A second complaint: the copy is served for 30 s, then the figures include it.
        file(env, Category::Efficiency, "SCJG", Subject::Department);
        env.set(t0() + SignedDuration::from_secs(29));
        let again = env.app.appraisal_cached(30).unwrap();
        assert!(Arc::ptr_eq(&cached, &again));
        assert_eq!(again.complaints[0].received, 1);
        assert_eq!(env.app.appraisal().unwrap().complaints[0].received, 2);
        env.set(t0() + SignedDuration::from_secs(30));
        let fresh = env.app.appraisal_cached(30).unwrap();
        assert_eq!(fresh.complaints[0].received, 2);
        assert_eq!(*fresh, env.app.appraisal().unwrap());
        // A clock that went back does not keep a copy for longer.
        env.set(t0());
        assert!(!Arc::ptr_eq(&fresh, &env.app.appraisal_cached(30).unwrap()));
    });
}

#[test]
fn a_burst_on_an_expired_view_computes_it_once() {
    both("view_cache_burst", |env| {
        seed(env);
        file(env, Category::Efficiency, "SCJG", Subject::Department);
        let kind = CacheKind {
            name: "test_burst",
            capacity: 4,
        };
        let computed = AtomicUsize::new(0);
        // Eight requests at once, each computing slowly if it computes at all.
        let burst = || -> Vec<Arc<Appraisal>> {
            let start = Barrier::new(8);
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            start.wait();
                            env.app
                                .cached(kind, "all", 10, |app| {
                                    computed.fetch_add(1, Ordering::SeqCst);
                                    std::thread::sleep(std::time::Duration::from_millis(50));
                                    app.appraisal()
                                })
                                .unwrap()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            })
        };
        let first = burst();
        assert_eq!(computed.load(Ordering::SeqCst), 1, "{}", env.backend);
        assert!(first.iter().all(|v| Arc::ptr_eq(v, &first[0])));
        assert_eq!(*first[0], env.app.appraisal().unwrap());
        // Expired: computed once more, for the whole burst again.
        env.set(t0() + SignedDuration::from_secs(10));
        let second = burst();
        assert_eq!(computed.load(Ordering::SeqCst), 2);
        let latest = env
            .app
            .cached(kind, "all", 10, |_| -> Result<Appraisal, _> {
                panic!("the value computed by the burst is fresh")
            })
            .unwrap();
        assert!(!Arc::ptr_eq(&first[0], &latest));
        // The one that computed got the new value; the others were served the previous one
        // while it ran (or the new one, if they came after): nobody waited for a second copy.
        assert!(second.iter().any(|v| Arc::ptr_eq(v, &latest)));
        assert!(
            second
                .iter()
                .all(|v| Arc::ptr_eq(v, &latest) || Arc::ptr_eq(v, &first[0]))
        );
        // The page's own entry point likewise.
        let pages: Vec<Arc<Appraisal>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| env.app.appraisal_cached(30).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(pages.iter().all(|v| Arc::ptr_eq(v, &pages[0])));
    });
}

#[test]
fn each_cached_kind_keeps_at_most_its_capacity_of_keys() {
    both("view_cache_bound", |env| {
        let kind = CacheKind {
            name: "test_bound",
            capacity: 3,
        };
        let computed = AtomicUsize::new(0);
        let get = |key: &str| {
            env.app
                .cached(kind, key, 60, |_| {
                    computed.fetch_add(1, Ordering::SeqCst);
                    Ok(key.to_string())
                })
                .unwrap()
        };
        let count = || computed.load(Ordering::SeqCst);
        let monthly = env.app.monthly_stats_cached(None, 12, 60).unwrap();
        assert_eq!(*monthly, env.app.monthly_stats(None, 12).unwrap());
        for k in ["a", "b", "c", "a"] {
            assert_eq!(*get(k), k);
        }
        assert_eq!((count(), env.app.cached_keys("test_bound")), (3, 3));
        // A fourth key pushes out the least recently used one (b), not a.
        get("d");
        assert_eq!((count(), env.app.cached_keys("test_bound")), (4, 3));
        for k in ["a", "c", "d"] {
            get(k);
        }
        assert_eq!(count(), 4);
        get("b");
        assert_eq!((count(), env.app.cached_keys("test_bound")), (5, 3));
        // A crawler's thousand keys stay within the bound and leave other kinds alone.
        for i in 0..1000 {
            get(&format!("crawl {i}"));
        }
        assert_eq!(env.app.cached_keys("test_bound"), 3);
        assert!(Arc::ptr_eq(
            &monthly,
            &env.app.monthly_stats_cached(None, 12, 60).unwrap()
        ));
        assert_eq!(env.app.cached_keys("monthly_stats"), 1);
    });
}

#[test]
fn a_complaint_s_personal_data_is_erased_under_a_basis_and_the_erasure_is_on_record() {
    both("complaint_erasure", |env| {
        let f = file(env, Category::Fee, "SCJG", Subject::Department);
        let no = &f.complaint_no;
        // Only an administrator, and only with a basis.
        assert!(matches!(
            env.app.erase_complaint(&supervisor(), no, "申请人请求"),
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            env.app.erase_complaint(&admin(), no, "  "),
            Err(AppError::Invalid(_))
        ));
        assert!(matches!(
            env.app
                .erase_complaint(&admin(), "T20260302X999", "申请人请求"),
            Err(AppError::NotFound { .. })
        ));
        let before = env.count("SELECT COUNT(*) FROM events", &[]);
        env.app
            .erase_complaint(&admin(), no, "《个人信息保护法》第四十七条，本人申请")
            .unwrap();
        assert_eq!(env.count("SELECT COUNT(*) FROM events", &[]), before + 1);
        assert_eq!(
            env.count(
                "SELECT COUNT(*) FROM events WHERE subject_type = 'erasure' AND subject_id = ? AND kind = 'complaint_erased'",
                &[no.as_str().into()],
            ),
            1
        );
        let v = env.app.staff_complaint(&supervisor(), no).unwrap();
        let shown = v.to_string();
        assert!(
            !shown.contains("张三丰")
                && !shown.contains("13903910000")
                && !shown.contains("410802"),
            "{}: {shown}",
            env.backend
        );
        assert_eq!(v["complainant"]["name"], "（已依法删除）");
        assert_eq!(v["content"], "（已依法删除）");
        // The complaint and its public fields stay; the log still verifies.
        assert_eq!(v["complaint"]["complaint_no"], no.as_str());
        assert!(env.app.audit(None).unwrap().is_clean());
    });
}
