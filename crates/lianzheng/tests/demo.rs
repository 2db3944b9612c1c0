//! The demo city builds on both databases and holds what it claims.

use lianzheng::demo::{Scale, build};
use lianzheng_tlog::checkpoint::LogSigner;

/// The last simulated day of the tests' demos.
const UNTIL: jiff::civil::Date = jiff::civil::date(2026, 11, 20);

/// The first column of the first row of `sql` (0 when there is none).
fn count(app: &lianzheng_app::App, sql: &str) -> i64 {
    app.db
        .read(|tx| {
            Ok::<_, lianzheng_app::AppError>(tx.query_opt(sql, &[])?.map_or(0, |r| r.int(0)))
        })
        .unwrap()
}

/// A fresh log signing key.
fn signer() -> LogSigner {
    LogSigner::generate("test.example/log", &mut rand_core::OsRng).unwrap()
}

#[test]
fn small_demo_builds_on_every_backend() {
    for db in lianzheng_app::testing::all("demo").unwrap_or_else(|e| panic!("{e}")) {
        let signer = signer();
        let summary = build(&db.url, 2008, Scale::Small, UNTIL, None, 1, Some(&signer)).unwrap();
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
        complaints_and_monitoring_hold_together(&app, &summary, db.backend);
        // The statistics' running totals agree with a count of every case, rating and finding.
        let drift = app.check_statistics().unwrap();
        assert!(
            drift.is_empty(),
            "{}: {:?}",
            db.backend,
            &drift[..drift.len().min(5)]
        );
        // Deterministic: the same seed gives the same summary line (timing aside). Checked on
        // SQLite only, to keep the suite short; the generator does not depend on the backend.
        if db.backend != "sqlite" {
            continue;
        }
        tiles_verify_with_a_standard_client(app, &signer.vkey_text());
        let second = lianzheng_app::testing::sqlite("demo2");
        let again = build(&second.url, 2008, Scale::Small, UNTIL, None, 1, None).unwrap();
        let strip = |s: &str| {
            s.split_once(" s: ")
                .map(|(_, r)| r.to_string())
                .unwrap_or_default()
        };
        assert_eq!(strip(&summary), strip(&again), "{}", db.backend);
    }
}

/// The complaints and the monitoring points of the small city: every status and every finding
/// their paths raise, consistent with each other, and results published.
fn complaints_and_monitoring_hold_together(app: &lianzheng_app::App, summary: &str, backend: &str) {
    let count = |sql: &str| count(app, sql);
    assert!(summary.contains("\ncomplaints: "), "{backend}: {summary}");
    assert!(
        summary.contains("\nmonitoring points: 100 points"),
        "{backend}: {summary}"
    );
    assert!(!summary.contains("refused"), "{backend}: {summary}");
    let filed = count("SELECT COUNT(*) FROM complaints");
    assert!((30..=120).contains(&filed), "{backend}: {filed} complaints");
    for status in [
        "filed", "assigned", "accepted", "declined", "answered", "closed",
    ] {
        let n = count(&format!(
            "SELECT COUNT(*) FROM complaints WHERE status = '{status}'"
        ));
        assert!(n > 0, "{backend}: no complaint is {status}");
    }
    for code in ["G001", "G002", "G003", "G004", "E001", "E002"] {
        let n = count(&format!(
            "SELECT COUNT(*) FROM findings WHERE code = '{code}'"
        ));
        assert!(n > 0, "{backend}: no {code} finding");
    }
    // Every complaint was filed through the log, with its complainant kept apart.
    assert_eq!(
        count("SELECT COUNT(*) FROM events WHERE subject_type = 'complaint' AND kind = 'filed'"),
        filed,
        "{backend}"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM complaint_parties"),
        filed,
        "{backend}"
    );
    // Most are answered in time; each late answer had its G002 from the sweep; some were
    // extended, some declined, some reopened after 不满意.
    let in_time = count("SELECT COUNT(*) FROM complaints WHERE answered_in_time = 1");
    let late = count("SELECT COUNT(*) FROM complaints WHERE answered_in_time = 0");
    assert!(
        late > 0 && in_time > 5 * late,
        "{backend}: {in_time} in time, {late} late"
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM complaints c WHERE c.answered_in_time = 0 AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.subject_type = 'complaint' AND f.subject_id = c.complaint_no AND f.code = 'G002')"
        ),
        0,
        "{backend}: a late answer without G002"
    );
    assert!(
        count(
            "SELECT COUNT(*) FROM events WHERE subject_type = 'complaint' AND kind = 'extension_approved'"
        ) > 0,
        "{backend}: no extension"
    );
    assert!(
        count("SELECT COUNT(*) FROM complaints WHERE reopened = 1") > 0,
        "{backend}: nothing reopened"
    );
    // 乱收费: a fee above the standard (or outside the catalog) is flagged and raises G003; one
    // within the standard is not.
    assert!(
        count("SELECT COUNT(*) FROM complaints WHERE category = 'SF' AND fee_flag IS NOT NULL") > 0,
        "{backend}"
    );
    assert!(
        count("SELECT COUNT(*) FROM complaints WHERE category = 'SF' AND fee_flag IS NULL") > 0,
        "{backend}: every fee complaint flagged"
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM findings f JOIN complaints c ON c.complaint_no = f.subject_id WHERE f.code = 'G003' AND c.fee_flag IS NULL"
        ),
        0,
        "{backend}: G003 on a fee within the standard"
    );
    // Serious breaches go to the 监察局 (JCJ, a department of the demo city).
    assert!(
        count("SELECT COUNT(*) FROM complaints WHERE route = 'supervision' AND assigned = 'JCJ'")
            > 0,
        "{backend}"
    );
    assert!(
        count("SELECT COUNT(*) FROM complaints WHERE category = 'WJ' AND assigned <> 'JCJ'") == 0,
        "{backend}"
    );
    let stats = app.complaint_stats(None).unwrap();
    assert_eq!(
        stats.iter().map(|s| s.received).sum::<i64>(),
        filed,
        "{backend}"
    );
    // Monitoring: the points at the cap, a closed round published to the public, and each E001
    // on a department whose published mean is low.
    assert_eq!(
        count("SELECT COUNT(*) FROM monitoring_points"),
        100,
        "{backend}"
    );
    assert!(
        count("SELECT COUNT(*) FROM survey_requests WHERE answered_late = 1") > 0,
        "{backend}: nobody answered late"
    );
    let public = app
        .survey_results(&lianzheng_app::Principal::Public, None)
        .unwrap();
    assert!(
        public.iter().any(|r| !r.suppressed && r.overall.is_some()),
        "{backend}: nothing published"
    );
    assert!(public.iter().all(|r| r.comments.is_empty()), "{backend}");
    let e001 = app
        .db
        .read(|tx| {
            Ok::<_, lianzheng_app::AppError>(
                tx.query(
                    "SELECT subject_id, scope FROM findings WHERE code = 'E001'",
                    &[],
                )?
                .iter()
                .map(|r| (r.text(0), r.text(1)))
                .collect::<Vec<_>>(),
            )
        })
        .unwrap();
    for (department, round) in e001 {
        let row = public
            .iter()
            .find(|r| r.department == department && r.round == round)
            .unwrap_or_else(|| panic!("{backend}: E001 on {department} {round} unpublished"));
        assert!(row.overall.is_some_and(|o| o < 3.0), "{backend}: {row:?}");
    }
}

/// Reads the demo city's log over HTTP the way a tlog client does: `tlog_tiles` (Cloudflare's
/// port of Go's `sumdb/tlog`) authenticates every tile against the signed checkpoint, proves
/// records from the tiles alone, and the entry bundles hash to the level-0 tiles.
fn tiles_verify_with_a_standard_client(app: lianzheng_app::App, vkey: &str) {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    let cp = app.latest_checkpoint().unwrap().unwrap();
    let c = lianzheng_tlog::checkpoint::verify_checkpoint(&cp.note, vkey).unwrap();
    let router = lianzheng::web::router(std::sync::Arc::new(app), Some(vkey.to_string()));
    let rt = crate::rt();
    let get = |path: String| -> Vec<u8> {
        rt.block_on(async {
            let res = router
                .clone()
                .oneshot(
                    Request::builder()
                        .uri(format!("/log/{path}"))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert!(
                res.status().is_success(),
                "GET /log/{path}: {}",
                res.status()
            );
            axum::body::to_bytes(res.into_body(), 1 << 24)
                .await
                .unwrap()
                .to_vec()
        })
    };
    assert_eq!(get("checkpoint".into()), cp.note.as_bytes());

    struct Http<'a>(&'a dyn Fn(String) -> Vec<u8>);
    impl tlog_tiles::TileReader for Http<'_> {
        fn height(&self) -> u8 {
            8
        }
        fn read_tiles(
            &self,
            tiles: &[tlog_tiles::Tile],
        ) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
            Ok(tiles
                .iter()
                .map(|t| {
                    let w = u16::try_from(t.width()).unwrap();
                    (self.0)(
                        lianzheng_tlog::tiles::tile_path(t.level(), t.level_index(), w).unwrap(),
                    )
                })
                .collect())
        }
        fn save_tiles(&self, _: &[tlog_tiles::Tile], _: &[Vec<u8>]) {}
    }
    let reader = Http(&get);
    let thr = tlog_tiles::TileHashReader::new(c.size, tlog_tiles::Hash(c.root), &reader);
    assert_eq!(tlog_tiles::tree_hash(c.size, &thr).unwrap().0, c.root);
    // Every 997th record, and the last, proved from the tiles; its hash from the entry bundle.
    let mut i = 0;
    while i < c.size {
        let bundle_index = i / 256;
        let full = (bundle_index + 1) * 256 <= c.size;
        let width = if full {
            256
        } else {
            u16::try_from(c.size % 256).unwrap()
        };
        let bundle = get(lianzheng_tlog::tiles::entries_path(bundle_index, width).unwrap());
        let entries = lianzheng_tlog::tiles::parse_entry_bundle(&bundle).unwrap();
        let leaf = &entries[usize::try_from(i % 256).unwrap()];
        let h = tlog_tiles::record_hash(leaf);
        let proof = tlog_tiles::prove_record(c.size, i, &thr).unwrap();
        tlog_tiles::check_record(&proof, c.size, tlog_tiles::Hash(c.root), i, h).unwrap();
        i = if i + 997 >= c.size && i != c.size - 1 {
            c.size - 1
        } else {
            i + 997
        };
    }
}

/// A day's events pushed at once (`--push-hours 24`, as the province data set is built): every
/// event of the exchange platform is recorded at the day's push, the ratings wait for it, and
/// the log, the checkpoint and the statistics agree as with hourly pushes.
#[test]
fn daily_pushes_hold_together_on_every_backend() {
    for db in lianzheng_app::testing::all("demo_daily").unwrap_or_else(|e| panic!("{e}")) {
        let signer = signer();
        let summary = build(&db.url, 7, Scale::Small, UNTIL, Some(20), 24, Some(&signer)).unwrap();
        let app = lianzheng_app::App::open(&db.url).unwrap();
        let count = |sql: &str| count(&app, sql);
        let pushed = count("SELECT COUNT(*) FROM events WHERE source = 'key:数据交换平台'");
        assert!(pushed > 3_000, "{}: {pushed} events pushed", db.backend);
        // Local midnight (UTC+8) is 16:00 UTC: 57,600,000 ms into the UTC day.
        let off_push = count(
            "SELECT COUNT(*) FROM events WHERE source = 'key:数据交换平台' AND recorded_at % 86400000 <> 57600000",
        );
        assert_eq!(
            off_push, 0,
            "{}: events recorded between pushes",
            db.backend
        );
        let rated = count("SELECT COUNT(*) FROM ratings");
        assert!(rated > 100, "{}: {rated} ratings", db.backend);
        let audit = app.audit(Some(&signer.vkey_text())).unwrap();
        assert!(audit.is_clean(), "{}: {:?}", db.backend, audit.problems);
        assert_eq!(audit.checkpoint_size, Some(audit.events), "{}", db.backend);
        assert!(app.check_statistics().unwrap().is_empty(), "{}", db.backend);
        assert!(summary.contains("findings"), "{}: {summary}", db.backend);
    }
}

#[test]
fn a_push_period_that_does_not_divide_a_day_is_refused() {
    let db = lianzheng_app::testing::sqlite("demo_push");
    for hours in [0, 5, 25] {
        let err = build(&db.url, 7, Scale::Small, UNTIL, Some(2), hours, None).unwrap_err();
        assert!(err.to_string().contains("--push-hours"), "{hours}: {err}");
    }
}
