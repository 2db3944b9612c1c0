//! Fresh databases for tests and benchmarks, on SQLite and PostgreSQL alike.
//!
//! PostgreSQL is found at `LIANZHENG_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/test`);
//! each database is a new schema, dropped when the handle is dropped. When PostgreSQL cannot be
//! reached, [`all`] prints a visible `SKIPPED postgres` line and returns SQLite alone, unless
//! `LIANZHENG_REQUIRE_PG=1` (set by CI), in which case it returns an error.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::db::{Db, DbError};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A database made for one test.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    cleanup: Cleanup,
}

enum Cleanup {
    File(String),
    Schema { base: String, schema: String },
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TestDb({})", self.backend)
    }
}

impl TestDb {
    /// Opens (and migrates) it.
    pub fn open(&self) -> Result<Db, DbError> {
        let db = Db::open(&self.url)?;
        db.migrate()?;
        Ok(db)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for s in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{s}"));
                }
            }
            Cleanup::Schema { base, schema } => {
                if let Ok(mut c) = postgres::Client::connect(base, postgres::NoTls) {
                    let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                }
            }
        }
    }
}

fn unique(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{tag}_{}_{n}_{nanos}", std::process::id())
}

/// A new SQLite database in the temporary directory.
pub fn sqlite(tag: &str) -> TestDb {
    let path = std::env::temp_dir()
        .join(format!("lianzheng-{}.db", unique(tag)))
        .to_string_lossy()
        .into_owned();
    TestDb {
        url: format!("sqlite://{path}"),
        backend: "sqlite",
        cleanup: Cleanup::File(path),
    }
}

/// The PostgreSQL server tests use.
pub fn postgres_base() -> String {
    std::env::var("LIANZHENG_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A new schema in PostgreSQL, or why not.
pub fn postgres(tag: &str) -> Result<TestDb, String> {
    let base = postgres_base();
    // A schema name is an identifier: anything but letters and digits becomes `_`.
    let schema: String = format!("t_{}", unique(tag))
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut c = postgres::Client::connect(&base, postgres::NoTls)
        .map_err(|e| format!("cannot reach {base}: {e}"))?;
    c.batch_execute(&format!("CREATE SCHEMA {schema}"))
        .map_err(|e| format!("cannot create a schema: {e}"))?;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok(TestDb {
        url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
        backend: "postgres",
        cleanup: Cleanup::Schema { base, schema },
    })
}

/// Whether PostgreSQL must be there (CI).
pub fn postgres_required() -> bool {
    std::env::var("LIANZHENG_REQUIRE_PG").is_ok_and(|v| v == "1")
}

/// SQLite and PostgreSQL databases for one test; see the module doc for a missing server.
pub fn all(tag: &str) -> Result<Vec<TestDb>, String> {
    let mut out = vec![sqlite(tag)];
    match postgres(tag) {
        Ok(db) => out.push(db),
        Err(e) if postgres_required() => {
            return Err(format!(
                "PostgreSQL is required (LIANZHENG_REQUIRE_PG=1): {e}"
            ));
        }
        Err(e) => {
            // Written to the stderr handle itself, which the test harness does not capture, so
            // the skip is visible in every run.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED postgres for `{tag}`: {e}");
        }
    }
    Ok(out)
}
