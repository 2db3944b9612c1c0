//! Upgrades: a database made by an older schema keeps every row through the newer migrations.

use lianzheng_app::db::{Backend, Db, DbError, Row, Tx, Value};
use lianzheng_app::{schema, testing};

/// Every row of the three tables migration 7 copies, in key order.
fn log_rows(db: &Db) -> Vec<Vec<Row>> {
    db.read(|tx| {
        Ok::<_, DbError>(vec![
            tx.query("SELECT seq, subject_type, subject_id, kind, department, actor, occurred_at, recorded_at, source, source_event_id, payload, salt FROM events ORDER BY seq", &[])?,
            tx.query("SELECT idx, leaf FROM log_leaves ORDER BY idx", &[])?,
            tx.query("SELECT idx, hash FROM log_hashes ORDER BY idx", &[])?,
        ])
    })
    .unwrap()
}

fn insert_event(tx: &mut dyn Tx, seq: i64, source_event_id: Option<&str>) -> Result<(), DbError> {
    tx.exec(
        "INSERT INTO events (seq, subject_type, subject_id, kind, department, actor, occurred_at, recorded_at, source, source_event_id, payload, salt) VALUES (?, 'case', ?, '受理', 'SCJG', 'SCJG-C01', ?, ?, 'window', ?, ?, ?)",
        &[
            seq.into(),
            format!("20260302SCJG{seq:05}").into(),
            (1_772_000_000_000 + seq).into(),
            (1_772_000_060_000 + seq).into(),
            source_event_id.into(),
            format!(r#"{{"n":{seq},"name":"张三"}}"#).into(),
            Value::Blob(vec![u8::try_from(seq % 256).unwrap(); 16]),
        ],
    )
    .map(|_| ())
}

#[test]
fn events_and_the_log_survive_the_rowid_migration() {
    for tdb in testing::all("schema_v7").unwrap_or_else(|e| panic!("{e}")) {
        let db = Db::open_unmigrated(&tdb.url).unwrap();
        assert_eq!(db.migrate_to(6).unwrap(), 6, "{}", tdb.backend);
        db.write(|tx| {
            for seq in 1..=300 {
                // Every third event came without the sender's id.
                let id = (seq % 3 != 0).then(|| format!("evt-{seq}"));
                insert_event(tx, seq, id.as_deref())?;
                tx.exec(
                    "INSERT INTO log_leaves (idx, leaf) VALUES (?, ?)",
                    &[
                        (seq - 1).into(),
                        Value::Blob(format!("leaf {seq}").into_bytes()),
                    ],
                )?;
            }
            for idx in 0..599_i64 {
                tx.exec(
                    "INSERT INTO log_hashes (idx, hash) VALUES (?, ?)",
                    &[
                        idx.into(),
                        Value::Blob(vec![u8::try_from(idx % 251).unwrap(); 32]),
                    ],
                )?;
            }
            Ok::<_, DbError>(())
        })
        .unwrap();
        let before = log_rows(&db);
        assert_eq!(before[0].len(), 300);

        assert_eq!(db.migrate().unwrap(), schema::latest_version());
        db.check_schema().unwrap();
        assert_eq!(log_rows(&db), before, "{}: rows changed", tdb.backend);

        // The sender's id is still unique, and new events go on from the last sequence number.
        let dup = db.write(|tx| insert_event(tx, 301, Some("evt-1")));
        assert!(
            dup.is_err(),
            "{}: a duplicate sender id was taken",
            tdb.backend
        );
        db.write(|tx| insert_event(tx, 301, Some("evt-301")))
            .unwrap();

        if db.backend() == Backend::Sqlite {
            let indexes: Vec<String> = db
                .read(|tx| {
                    tx.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('events', 'log_leaves', 'log_hashes') ORDER BY name", &[])
                })
                .unwrap()
                .iter()
                .map(|r| r.text(0))
                .collect();
            // No second B-tree for the keys: the key is the rowid.
            assert_eq!(indexes, ["events_source", "events_subject"]);
        }
    }
}

#[test]
fn the_statistics_totals_are_filled_from_the_stored_rows_on_upgrade() {
    use lianzheng_app::views::RatingInput;
    use lianzheng_core::codes::{RatingChannel, Satisfaction};
    crate::common::both("schema_v8", |env| {
        let c1 = env.open_case("U-1");
        env.open_case("U-2");
        let c3 = env.open_case("U-3");
        env.finish_case("U-1", "l1");
        env.finish_case("U-3", "l2");
        let rate = |no: &str, code: &str, s: Satisfaction| {
            env.app
                .rate_case(
                    no,
                    code,
                    RatingInput {
                        satisfaction: s,
                        channel: RatingChannel::HallTablet,
                        indicators: std::collections::BTreeMap::new(),
                        comment: "等了很久".into(),
                    },
                )
                .unwrap()
        };
        rate("U-1", &c1, Satisfaction::Satisfied);
        assert!(rate("U-3", &c3, Satisfaction::VeryDissatisfied).is_some());
        let (stats, months) = (
            env.app.department_stats().unwrap(),
            env.app.monthly_stats(None, 12).unwrap(),
        );
        assert!(
            stats
                .iter()
                .any(|s| s.cases == 3 && s.finished == 2 && s.bad_ratings == 1)
        );

        // A database from before migration 8: the totals are not there yet.
        env.app
            .db
            .write(|tx| {
                tx.exec("DROP TABLE stats_days", &[])?;
                tx.exec("DROP TABLE stats_open", &[])?;
                tx.exec("DELETE FROM schema_migrations WHERE version = 8", &[])?;
                Ok::<_, DbError>(())
            })
            .unwrap();
        assert_eq!(env.app.db.migrate().unwrap(), 8);
        assert_eq!(env.app.check_statistics().unwrap(), Vec::<String>::new());
        // Views are cached for a while: compare fresh computations.
        assert_eq!(
            env.app.department_stats().unwrap(),
            stats,
            "{}",
            env.backend
        );
        assert_eq!(
            env.app.monthly_stats(None, 12).unwrap(),
            months,
            "{}",
            env.backend
        );
    });
}

/// A write that fails part-way, on a statement the database refuses or on the caller's own
/// error, leaves nothing behind, and the connection it ran on serves the next transactions.
#[test]
fn a_failed_write_leaves_nothing_and_its_connection_serves_on() {
    for tdb in testing::all("rollback").unwrap_or_else(|e| panic!("{e}")) {
        let db = tdb.open().unwrap();
        let b = tdb.backend;
        db.write(|tx| insert_event(tx, 1, Some("evt-1"))).unwrap();
        // The second insert breaks the unique sender id: the first goes with it.
        let refused = db.write(|tx| {
            insert_event(tx, 2, Some("evt-2"))?;
            insert_event(tx, 3, Some("evt-1"))
        });
        assert!(refused.is_err(), "{b}");
        // A caller's error after a refused statement, the statement's error swallowed.
        let own = db.write(|tx| {
            insert_event(tx, 4, None)?;
            let _ = insert_event(tx, 5, Some("evt-1"));
            Err::<(), _>(DbError::BadUrl("the caller gives up".into()))
        });
        assert!(own.is_err(), "{b}");
        db.write(|tx| insert_event(tx, 6, Some("evt-6"))).unwrap();
        let seqs: Vec<i64> = db
            .read(|tx| tx.query("SELECT seq FROM events ORDER BY seq", &[]))
            .unwrap()
            .iter()
            .map(|r| r.int(0))
            .collect();
        assert_eq!(seqs, [1, 6], "{b}");
    }
}

/// A read sees the database as it was at its first statement, all through: a write committed
/// in between shows in the next read, not in this one.
#[test]
fn a_read_sees_one_snapshot_to_its_end() {
    for tdb in testing::all("snapshot").unwrap_or_else(|e| panic!("{e}")) {
        let db = tdb.open().unwrap();
        let b = tdb.backend;
        let count = |tx: &mut dyn Tx| {
            tx.query("SELECT COUNT(*) FROM events", &[])
                .map(|r| r[0].int(0))
        };
        db.write(|tx| insert_event(tx, 1, None)).unwrap();
        let (first, second) = std::thread::scope(|s| {
            db.read(|tx| {
                let first = count(tx)?;
                s.spawn(|| db.write(|tx| insert_event(tx, 2, None)).unwrap())
                    .join()
                    .unwrap();
                Ok::<_, DbError>((first, count(tx)?))
            })
            .unwrap()
        });
        assert_eq!((first, second), (1, 1), "{b}");
        assert_eq!(db.read(count).unwrap(), 2, "{b}");
    }
}

/// A bulk load's commits do not wait for the disk: on PostgreSQL its write transactions set
/// `synchronous_commit = off` for themselves; reads, and writes once it is over, keep the
/// server's setting.
#[test]
fn a_bulk_load_commits_without_waiting_for_the_disk_and_only_while_it_lasts() {
    for tdb in testing::all("bulk").unwrap_or_else(|e| panic!("{e}")) {
        let db = tdb.open().unwrap();
        let setting = |write: bool| {
            let sql = match db.backend() {
                Backend::Postgres => "SELECT current_setting('synchronous_commit')",
                Backend::Sqlite => "PRAGMA synchronous",
            };
            let rows = if write {
                db.write(|tx| tx.query(sql, &[]))
            } else {
                db.read(|tx| tx.query(sql, &[]))
            };
            match &rows.unwrap()[0].0[0] {
                Value::Text(t) => t.clone(),
                Value::Int(i) => i.to_string(),
                v => panic!("{v:?}"),
            }
        };
        // SQLite's writer: 2 is FULL, 0 OFF.
        let (on, off) = match db.backend() {
            Backend::Postgres => ("on", "off"),
            Backend::Sqlite => ("2", "0"),
        };
        assert_eq!(setting(true), on, "{}", tdb.backend);
        db.set_bulk_load(true).unwrap();
        assert_eq!(setting(true), off, "{}", tdb.backend);
        if db.backend() == Backend::Postgres {
            assert_eq!(setting(false), on);
        }
        db.set_bulk_load(false).unwrap();
        assert_eq!(setting(true), on, "{}", tdb.backend);
    }
}

/// Two installations in separate PostgreSQL schemas of one database write at the same time:
/// each schema has its own write lock. (One schema's writers still take turns: the servers'
/// tests show that.)
#[test]
fn writers_of_different_schemas_do_not_wait_for_each_other() {
    let (Ok(ta), Ok(tb)) = (testing::postgres("lock_a"), testing::postgres("lock_b")) else {
        assert!(!testing::postgres_required(), "PostgreSQL is required");
        eprintln!("SKIPPED postgres for `lock`: no server");
        return;
    };
    let (a, b) = (Db::open(&ta.url).unwrap(), Db::open(&tb.url).unwrap());
    a.migrate().unwrap();
    b.migrate().unwrap();
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|s| {
        let a = &a;
        s.spawn(move || {
            a.write(|tx| {
                tx.exec("INSERT INTO counters (name, value) VALUES ('a', 1)", &[])?;
                held_tx.send(()).unwrap();
                // Holds its lock until the other schema's write is through (or gives up).
                let through = done_rx.recv_timeout(std::time::Duration::from_secs(10));
                assert!(
                    through.is_ok(),
                    "the other schema's write waited for this one"
                );
                Ok::<_, DbError>(())
            })
            .unwrap();
        });
        held_rx.recv().unwrap();
        b.write(|tx| {
            tx.exec("INSERT INTO counters (name, value) VALUES ('b', 1)", &[])
                .map(|_| ())
        })
        .unwrap();
        done_tx.send(()).unwrap();
    });
    for (db, name) in [(&a, "a"), (&b, "b")] {
        let n = db
            .read(|tx| tx.query("SELECT name FROM counters WHERE name IN ('a', 'b')", &[]))
            .unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].text(0), name);
    }
}

/// PostgreSQL's dead row versions of `table` as its statistics count them.
fn dead_rows(db: &Db, table: &str) -> i64 {
    db.read(|tx| {
        tx.query_opt(
            "SELECT n_dead_tup FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = ?",
            &[table.into()],
        )
    })
    .unwrap()
    .map_or(0, |r| r.int(0))
}

/// Waits (up to 15 s) for PostgreSQL's statistics, which backends report asynchronously, to
/// satisfy `ok`, and returns the last count seen.
fn dead_rows_until(db: &Db, table: &str, ok: impl Fn(i64) -> bool) -> i64 {
    let mut n = dead_rows(db, table);
    for _ in 0..150 {
        if ok(n) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        n = dead_rows(db, table);
    }
    n
}

#[test]
fn tables_with_more_dead_rows_than_live_ones_are_vacuumed() {
    for tdb in testing::all("vacuum").unwrap_or_else(|e| panic!("{e}")) {
        let db = tdb.open().unwrap();
        // 12,000 deadline rows written and deleted, as the writer does when cases move on:
        // dead versions and no live rows. 100 cases with 100 deletes: under the threshold.
        db.write(|tx| {
            tx.exec(
                "INSERT INTO deadlines (subject_type, subject_id, code, scope, due_at) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 12000) SELECT 'case', 'C' || n, 'A001', '', n FROM s",
                &[],
            )?;
            tx.exec("DELETE FROM deadlines", &[])?;
            tx.exec(
                "INSERT INTO case_parties (case_no, query_code, applicant) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 200) SELECT 'C' || n, '1', '张三' FROM s",
                &[],
            )?;
            tx.exec("DELETE FROM case_parties WHERE case_no LIKE 'C1%'", &[])?;
            if db.backend() == Backend::Postgres {
                // The statistics of this transaction are reported as soon as it ends.
                tx.exec("SELECT pg_stat_force_next_flush()", &[])?;
            }
            Ok::<_, DbError>(())
        })
        .unwrap();
        match db.backend() {
            Backend::Sqlite => {
                let done = db.vacuum_churned().unwrap();
                assert!(done.is_empty(), "SQLite has nothing to vacuum: {done:?}");
            }
            Backend::Postgres => {
                // Once the statistics show the dead rows (they are reported asynchronously).
                let before = dead_rows_until(&db, "deadlines", |n| n >= 12_000);
                assert_eq!(before, 12_000);
                let done = db.vacuum_churned().unwrap();
                let tables: Vec<&str> = done.iter().map(|v| v.table.as_str()).collect();
                assert_eq!(tables, ["deadlines"], "{done:?}");
                assert_eq!((done[0].live, done[0].dead), (0, 12_000));
                assert!(done[0].vacuum);
                // A transaction of another test in the same database, open while VACUUM ran,
                // keeps the versions it may still see; they stay counted as dead, and the next
                // check vacuums the table again, once that transaction has ended.
                let mut dead = dead_rows_until(&db, "deadlines", |n| n == 0);
                for _ in 0..20 {
                    if dead == 0 {
                        break;
                    }
                    let again = db.vacuum_churned().unwrap();
                    assert!(again.iter().all(|v| v.table == "deadlines"), "{again:?}");
                    dead = dead_rows_until(&db, "deadlines", |n| n == 0);
                }
                assert_eq!(dead, 0);
                assert!(
                    dead_rows(&db, "case_parties") > 0,
                    "under the threshold: left alone"
                );
                // Nothing left to do: a second call vacuums nothing.
                assert_eq!(db.vacuum_churned().unwrap(), []);
            }
        }
    }
}

#[test]
fn tables_whose_statistics_are_stale_are_analyzed() {
    for tdb in testing::all("analyze").unwrap_or_else(|e| panic!("{e}")) {
        let db = tdb.open().unwrap();
        // 12,000 new findings and no statistics gathered since: live rows, none dead.
        db.write(|tx| {
            tx.exec(
                "INSERT INTO findings (id, code, level, subject_type, subject_id, scope, department, owner, message, status, opened_at, due_at, escalations, updated_at) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 12000) SELECT n, 'A003', 'yellow', 'case', 'C' || n, '', 'SCJG', '', '', 'open', n, n, 0, n FROM s",
                &[],
            )?;
            if db.backend() == Backend::Postgres {
                tx.exec("SELECT pg_stat_force_next_flush()", &[])?;
            }
            Ok::<_, DbError>(())
        })
        .unwrap();
        match db.backend() {
            Backend::Sqlite => assert_eq!(db.vacuum_churned().unwrap(), []),
            Backend::Postgres => {
                let analyzed = || {
                    db.read(|tx| {
                        tx.query_opt(
                            "SELECT COUNT(*) FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = 'findings' AND last_analyze IS NOT NULL",
                            &[],
                        )
                    })
                    .unwrap()
                    .map_or(0, |r| r.int(0))
                };
                assert_eq!(analyzed(), 0);
                // Once the statistics show the new rows (they are reported asynchronously).
                let mut done = Vec::new();
                for _ in 0..50 {
                    done = db.vacuum_churned().unwrap();
                    if !done.is_empty() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                let got: Vec<(&str, bool)> =
                    done.iter().map(|v| (v.table.as_str(), v.vacuum)).collect();
                assert_eq!(got, [("findings", false)], "{done:?}");
                assert_eq!(analyzed(), 1);
                // Analyzed once: the next call has nothing to do.
                assert_eq!(db.vacuum_churned().unwrap(), []);
            }
        }
    }
}

#[test]
fn at_most_sixteen_reads_run_at_once_and_the_others_wait() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    for tdb in testing::all("readers").unwrap_or_else(|e| panic!("{e}")) {
        let db = tdb.open().unwrap();
        let (now, most, done) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        );
        std::thread::scope(|s| {
            for _ in 0..40 {
                s.spawn(|| {
                    db.read(|tx| {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(n, Ordering::SeqCst);
                        tx.query("SELECT COUNT(*) FROM cases", &[])?;
                        // Held open a while, so that the others pile up behind it.
                        std::thread::sleep(std::time::Duration::from_millis(30));
                        now.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, DbError>(())
                    })
                    .unwrap();
                    done.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(done.load(Ordering::SeqCst), 40, "{}", tdb.backend);
        let most = most.load(Ordering::SeqCst);
        assert!(most <= 16, "{}: {most} reads at once", tdb.backend);
        assert!(most > 1, "{}: the reads ran one at a time", tdb.backend);
    }
}
