//! The demo city builds on both databases and holds what it claims.

use lianzheng::demo::{Scale, build};

#[test]
fn small_demo_builds_on_every_backend() {
    for db in lianzheng_app::testing::all("demo").unwrap_or_else(|e| panic!("{e}")) {
        let until = jiff::civil::date(2026, 11, 20);
        let signer = lianzheng_tlog::checkpoint::LogSigner::generate(
            "test.example/log",
            &mut rand_core::OsRng,
        )
        .unwrap();
        let summary = build(&db.url, 2008, Scale::Small, until, Some(&signer)).unwrap();
        assert!(summary.contains("1108 items"), "{}: {summary}", db.backend);
        let app = lianzheng_app::App::open(&db.url).unwrap();
        let stats = app.department_stats().unwrap();
        let cases: i64 = stats.iter().map(|d| d.cases).sum();
        assert!(cases > 2000, "{}: only {cases} cases", db.backend);
        let red: i64 = stats.iter().map(|d| d.red_open).sum();
        assert!(
            red > 0,
            "{}: the demo should show some red cards",
            db.backend
        );
        // Every record of the demo is in the log and the signed checkpoint covers the log.
        let audit = app.audit(Some(&signer.vkey_text())).unwrap();
        assert!(
            audit.is_clean(),
            "{}: {:?}",
            db.backend,
            &audit.problems[..audit.problems.len().min(5)]
        );
        assert!(
            audit.events > 10_000 && audit.checkpoint_size == Some(audit.events),
            "{}: {audit:?}",
            db.backend
        );
        // Deterministic: the same seed gives the same summary line (timing aside). Checked on
        // SQLite only, to keep the suite short; the generator does not depend on the backend.
        if db.backend != "sqlite" {
            continue;
        }
        let second = lianzheng_app::testing::sqlite("demo2");
        let again = build(&second.url, 2008, Scale::Small, until, None).unwrap();
        let strip = |s: &str| {
            s.split_once(" s: ")
                .map(|(_, r)| r.to_string())
                .unwrap_or_default()
        };
        assert_eq!(strip(&summary), strip(&again), "{}", db.backend);
    }
}
