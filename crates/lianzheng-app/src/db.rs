//! Storage: one small SQL surface over SQLite (embedded) and PostgreSQL (production).
//!
//! The application writes portable SQL with `?` parameter marks and a handful of value types
//! (integers, text, blobs, floats, null); each backend adapts it. Both backends ship in the one
//! binary; the URL scheme picks one at run time (`sqlite://PATH`, `postgres://…`).
//!
//! Writes are serialized: SQLite has one writer connection behind a mutex; PostgreSQL takes a
//! transaction-scoped advisory lock, so several servers on one database still write one event
//! sequence (the log needs a single order). The lock's key is derived from the schema, so
//! installations in separate schemas of one database do not wait for each other. Reads use separate connections and never wait for
//! the writer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use thiserror::Error;

/// A value bound to or read from SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// NULL.
    Null,
    /// A 64-bit integer (all integer columns are BIGINT).
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// An integer column (NULL reads as 0).
    pub fn int(&self, i: usize) -> i64 {
        match self.0.get(i) {
            Some(Value::Int(v)) => *v,
            Some(Value::Float(f)) => *f as i64,
            Some(Value::Text(s)) => s.parse().unwrap_or(0),
            _ => 0,
        }
    }

    /// A nullable integer column.
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Value::Null) | None => None,
            _ => Some(self.int(i)),
        }
    }

    /// A float column.
    pub fn float(&self, i: usize) -> f64 {
        match self.0.get(i) {
            Some(Value::Float(f)) => *f,
            Some(Value::Int(v)) => *v as f64,
            _ => 0.0,
        }
    }

    /// A text column (NULL reads as empty).
    pub fn text(&self, i: usize) -> String {
        match self.0.get(i) {
            Some(Value::Text(s)) => s.clone(),
            Some(Value::Int(v)) => v.to_string(),
            _ => String::new(),
        }
    }

    /// A text column moved out of the row (left empty): no copy.
    pub fn take_text(&mut self, i: usize) -> String {
        match self.0.get_mut(i) {
            Some(Value::Text(s)) => std::mem::take(s),
            Some(Value::Int(v)) => v.to_string(),
            _ => String::new(),
        }
    }

    /// A nullable text column moved out of the row.
    pub fn take_opt_text(&mut self, i: usize) -> Option<String> {
        match self.0.get_mut(i) {
            Some(Value::Text(s)) => Some(std::mem::take(s)),
            _ => None,
        }
    }

    /// A nullable text column.
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Value::Text(s)) => Some(s.clone()),
            _ => None,
        }
    }

    /// A nullable blob column.
    pub fn opt_blob(&self, i: usize) -> Option<Vec<u8>> {
        match self.0.get(i) {
            Some(Value::Blob(b)) => Some(b.clone()),
            _ => None,
        }
    }

    /// A blob column, borrowed (None if NULL or not a blob).
    pub fn blob_ref(&self, i: usize) -> Option<&[u8]> {
        match self.0.get(i) {
            Some(Value::Blob(b)) => Some(b),
            _ => None,
        }
    }

    /// A blob column.
    pub fn blob(&self, i: usize) -> Vec<u8> {
        match self.0.get(i) {
            Some(Value::Blob(b)) => b.clone(),
            Some(Value::Text(s)) => s.clone().into_bytes(),
            _ => Vec::new(),
        }
    }
}

/// Storage errors.
#[derive(Debug, Error)]
pub enum DbError {
    /// The URL is not one we know.
    #[error("database URL `{0}` must start with sqlite:// or postgres://")]
    BadUrl(String),
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    /// The schema is older than this binary.
    #[error(
        "the database schema is at version {have}, this binary needs {want}: run `lianzheng migrate`"
    )]
    SchemaBehind {
        /// Applied version.
        have: i64,
        /// Needed version.
        want: i64,
    },
    /// The schema is newer than this binary.
    #[error("the database schema is at version {have}, newer than this binary ({want})")]
    SchemaAhead {
        /// Applied version.
        have: i64,
        /// Known version.
        want: i64,
    },
    /// Stored data that must be there is missing.
    #[error("missing {0}")]
    Missing(String),
    /// A lock was poisoned by a panic elsewhere.
    #[error("storage lock poisoned")]
    Poisoned,
}

impl DbError {
    /// Whether retrying later may succeed (connection lost, database restarting, busy).
    pub fn is_transient(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                )
            }
            // Connection lost or refused (no server answer), or the server saying "not now":
            // class 08 connection exceptions, 57P01–57P03 shutdown and start-up, 53300 too many
            // connections, 40001/40P01 serialization failure and deadlock.
            DbError::Postgres(e) => {
                e.is_closed()
                    || e.as_db_error().is_none()
                    || e.code().is_some_and(|c| {
                        let c = c.code();
                        c.starts_with("08")
                            || matches!(
                                c,
                                "57P01" | "57P02" | "57P03" | "53300" | "40001" | "40P01"
                            )
                    })
            }
            _ => false,
        }
    }

    /// Whether the disk is full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DiskFull
            }
            DbError::Postgres(e) => e.code().is_some_and(|c| c.code() == "53100"),
            _ => false,
        }
    }
}

pub use crate::bulk::marks;

/// A connection inside a transaction (or a read snapshot).
pub trait Tx {
    /// Runs a statement; returns the rows changed.
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError>;
    /// Runs a query.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError>;
    /// Runs a query expected to return at most one row.
    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
    /// Which backend.
    fn backend(&self) -> Backend;
}

/// Which backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A database handle.
pub enum Db {
    /// SQLite.
    Sqlite(SqliteDb),
    /// PostgreSQL.
    Postgres(PgDb),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Db::Sqlite(_) => "Db::Sqlite",
            Db::Postgres(_) => "Db::Postgres",
        })
    }
}

impl Db {
    /// Opens a database by URL. SQLite databases are created and migrated; PostgreSQL ones must
    /// be migrated with [`Db::migrate`] (`lianzheng migrate`) and are checked.
    pub fn open(url: &str) -> Result<Db, DbError> {
        let db = Db::open_unmigrated(url)?;
        if db.backend() == Backend::Sqlite {
            db.migrate()?;
        }
        Ok(db)
    }

    /// Opens a database by URL without applying any migration (upgrade tests start from an
    /// older schema with [`Db::migrate_to`]).
    pub fn open_unmigrated(url: &str) -> Result<Db, DbError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            Ok(Db::Sqlite(SqliteDb::open(path)?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Db::Postgres(PgDb::open(url)?))
        } else {
            Err(DbError::BadUrl(url.to_string()))
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs `f` in a write transaction; commits when it returns `Ok`, rolls back otherwise.
    /// Writers are serialized (see the module doc).
    pub fn write<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Db::Sqlite(s) => s.write(f),
            Db::Postgres(p) => p.write(f),
        }
    }

    /// Runs `f` on a read connection.
    pub fn read<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Db::Sqlite(s) => s.read(f),
            Db::Postgres(p) => p.read(f),
        }
    }

    /// Bulk loading (the demo generator): commits stop waiting for the disk, so a crash may
    /// lose the end of the load, which is then rebuilt from scratch. On SQLite
    /// `synchronous = OFF`, and the writer's cache is sized for the database as it is now (see
    /// `bulk_cache_kib`): the generator calls this again as the database grows. On PostgreSQL
    /// each write transaction sets `synchronous_commit = off` for itself: the WAL is still
    /// written in order, so a crash loses the last commits, never the database's consistency.
    /// Never used by the server.
    pub fn set_bulk_load(&self, on: bool) -> Result<(), DbError> {
        if let Db::Postgres(p) = self {
            p.bulk.store(on, std::sync::atomic::Ordering::Relaxed);
        }
        if let Db::Sqlite(s) = self {
            let conn = s.writer.lock().map_err(|_| DbError::Poisoned)?;
            conn.pragma_update(None, "synchronous", if on { "OFF" } else { "FULL" })?;
            let cache = if on {
                let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
                let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
                bulk_cache_kib(pages.saturating_mul(page_size))
            } else {
                WRITER_CACHE_KIB
            };
            conn.pragma_update(None, "cache_size", -cache)?;
        }
        Ok(())
    }

    /// On PostgreSQL, vacuums the tables of this schema that hold more dead row versions than
    /// live ones (and at least [`VACUUM_MIN_DEAD`]): the tables the writer rewrites as cases
    /// move (the deadline rows, the cases, the counters and running totals). Autovacuum, when
    /// on with its defaults, cleans a table long before that, so this acts only where it is off
    /// or falls behind; without either, every statement on the deadline rows walks their dead
    /// versions and ingest slows down as the load goes on. Tables with more rows changed since
    /// their statistics were last gathered than a fifth of their rows (and at least
    /// [`VACUUM_MIN_DEAD`]) are analyzed, as autovacuum would: without statistics the planner
    /// took the findings of a batch's cases, `subject_id IN (…)`, for a filter over every
    /// finding instead of lookups in its index (22 ms for 500 cases among 30,000 findings).
    /// `SKIP_LOCKED`: a table another server or autovacuum is vacuuming is left to it. SQLite
    /// reuses freed pages itself and plans without gathered statistics: nothing to do there.
    /// Returns what was vacuumed or analyzed.
    pub fn vacuum_churned(&self) -> Result<Vec<Vacuumed>, DbError> {
        match self {
            Db::Postgres(p) => p.vacuum_churned(),
            Db::Sqlite(_) => Ok(Vec::new()),
        }
    }

    /// Applies pending migrations.
    pub fn migrate(&self) -> Result<i64, DbError> {
        let backend = self.backend();
        self.write(|tx| crate::schema::migrate(tx, backend))
    }

    /// Applies the pending migrations up to `version` only: an older schema, as an upgrade
    /// test starts from.
    pub fn migrate_to(&self, version: i64) -> Result<i64, DbError> {
        let backend = self.backend();
        self.write(|tx| crate::schema::migrate_to(tx, backend, version))
    }

    /// Checks that the schema matches this binary.
    pub fn check_schema(&self) -> Result<(), DbError> {
        let have = self.read(|tx| crate::schema::current_version(tx))?;
        let want = crate::schema::latest_version();
        if have < want {
            return Err(DbError::SchemaBehind { have, want });
        }
        if have > want {
            return Err(DbError::SchemaAhead { have, want });
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// SQLite

/// SQLite: one writer, a few readers, WAL mode, `synchronous = FULL` so that a commit is on disk
/// when it returns (a crash at any instant loses no acknowledged record).
pub struct SqliteDb {
    path: String,
    writer: Mutex<rusqlite::Connection>,
    readers: Mutex<Vec<rusqlite::Connection>>,
    /// Readers checked out now, and the condition a waiting reader sleeps on.
    busy: (Mutex<usize>, std::sync::Condvar),
    /// Copies the WAL back into the database on a thread of its own.
    _checkpointer: Checkpointer,
}

/// The writer's commits only append to the WAL; this thread copies it back into the database
/// (`PRAGMA wal_checkpoint(PASSIVE)`, which never blocks the writer or the readers) every
/// [`CHECKPOINT_EVERY`], on the other core, instead of the writer doing it every thousand pages
/// in the middle of a commit. If it falls behind, the writer's own automatic checkpoint at
/// [`WRITER_AUTOCHECKPOINT_PAGES`] still bounds the WAL. Durability does not depend on it: a
/// commit is durable once its WAL frames are synced.
struct Checkpointer {
    stop: Arc<(Mutex<bool>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);
const WRITER_AUTOCHECKPOINT_PAGES: i64 = 16_384;

impl Checkpointer {
    fn start(path: &str) -> Result<Checkpointer, DbError> {
        let conn = sqlite_conn(path, 1_024)?;
        let stop = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let (lock, wake) = &*flag;
                let Ok(mut stopped) = lock.lock() else { return };
                while !*stopped {
                    match wake.wait_timeout(stopped, CHECKPOINT_EVERY) {
                        Ok((guard, _)) => stopped = guard,
                        Err(_) => return,
                    }
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::debug!(error = %e, "WAL checkpoint");
                    }
                }
            })
            .map_err(|e| tracing::warn!(error = %e, "no checkpoint thread: the writer checkpoints"))
            .ok();
        Ok(Checkpointer { stop, thread })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (lock, wake) = &*self.stop;
        if let Ok(mut stopped) = lock.lock() {
            *stopped = true;
        }
        wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// At most this many read transactions run at once (others wait): memory stays bounded
/// whatever the load and the database size.
const MAX_READERS: usize = 16;

/// Page cache of the writer (the working set of a city's open cases fits) and of each reader,
/// in KiB.
const WRITER_CACHE_KIB: i64 = 65_536;
const READER_CACHE_KIB: i64 = 8_192;
/// The writer's cache while [`Db::set_bulk_load`] is on (the demo build) and the database is
/// past [`LOCK_BYTE_OFFSET`], in KiB: a bulk load touches the whole of a growing database, and a
/// larger cache keeps more of its B-tree pages in memory.
const BULK_WRITER_CACHE_KIB: i64 = 262_144;
/// The same while the database is smaller than that.
const SMALL_BULK_WRITER_CACHE_KIB: i64 = 16_384;
/// Where SQLite's lock-byte page lies: 1 GiB into the file.
const LOCK_BYTE_OFFSET: i64 = 1 << 30;

/// The bulk load's writer cache for a database of `bytes`. When SQLite's B-tree balancing puts
/// new pages in order, it briefly gives one the number of the lock-byte page (page 262,145 at
/// 4 KiB pages). While the database is smaller than 1 GiB that page lies past its end, so the
/// commit that follows walks the whole page cache (every hash bucket and every page) to drop
/// pages past the end: with 256 MiB of cache that walk was 9.5% of the demo's time on a
/// database under 1 GiB. So the cache stays small until the database is past that page, where
/// the walk no longer happens.
fn bulk_cache_kib(bytes: i64) -> i64 {
    if bytes < LOCK_BYTE_OFFSET {
        SMALL_BULK_WRITER_CACHE_KIB
    } else {
        BULK_WRITER_CACHE_KIB
    }
}

fn sqlite_conn(path: &str, cache_kib: i64) -> Result<rusqlite::Connection, DbError> {
    let c = rusqlite::Connection::open(path)?;
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "FULL")?;
    c.pragma_update(None, "foreign_keys", "ON")?;
    c.pragma_update(None, "cache_size", -cache_kib)?;
    c.pragma_update(None, "temp_store", "MEMORY")?;
    c.set_prepared_statement_cache_capacity(256);
    Ok(c)
}

/// One of the [`MAX_READERS`] read slots, given back when dropped (also on a panic).
struct ReaderSlot<'a>(&'a (Mutex<usize>, std::sync::Condvar));

impl<'a> ReaderSlot<'a> {
    fn take(busy: &'a (Mutex<usize>, std::sync::Condvar)) -> Result<ReaderSlot<'a>, DbError> {
        let mut n = busy.0.lock().map_err(|_| DbError::Poisoned)?;
        while *n >= MAX_READERS {
            n = busy.1.wait(n).map_err(|_| DbError::Poisoned)?;
        }
        *n += 1;
        Ok(ReaderSlot(busy))
    }
}

impl Drop for ReaderSlot<'_> {
    fn drop(&mut self) {
        if let Ok(mut n) = self.0.0.lock() {
            *n = n.saturating_sub(1);
        }
        self.0.1.notify_one();
    }
}

impl SqliteDb {
    fn open(path: &str) -> Result<SqliteDb, DbError> {
        let writer = sqlite_conn(path, WRITER_CACHE_KIB)?;
        let checkpointer = Checkpointer::start(path)?;
        if checkpointer.thread.is_some() {
            writer.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)?;
        }
        Ok(SqliteDb {
            path: path.to_string(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            busy: (Mutex::new(0), std::sync::Condvar::new()),
            _checkpointer: checkpointer,
        })
    }

    /// The file path.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn write<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.writer.lock().map_err(|_| DbError::Poisoned)?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(DbError::from)?;
        let mut t = SqliteTx(&tx);
        let out = f(&mut t)?;
        tx.commit().map_err(DbError::from)?;
        Ok(out)
    }

    fn read<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        let _slot = ReaderSlot::take(&self.busy)?;
        let conn = self.readers.lock().map_err(|_| DbError::Poisoned)?.pop();
        let mut conn = match conn {
            Some(c) => c,
            None => sqlite_conn(&self.path, READER_CACHE_KIB)?,
        };
        let out = {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)
                .map_err(DbError::from)?;
            let mut t = SqliteTx(&tx);
            let out = f(&mut t);
            // A read transaction has nothing to commit; ending it releases the snapshot.
            let _ = tx.rollback();
            out
        };
        if let Ok(mut pool) = self.readers.lock()
            && pool.len() < MAX_READERS
        {
            pool.push(conn);
        }
        out
    }

    /// Writes a consistent online copy of the database to `dest` (SQLite `VACUUM INTO`).
    pub fn backup_to(&self, dest: &str) -> Result<(), DbError> {
        let conn = self.writer.lock().map_err(|_| DbError::Poisoned)?;
        conn.execute("VACUUM INTO ?1", [dest])?;
        Ok(())
    }
}

struct SqliteTx<'a>(&'a rusqlite::Transaction<'a>);

/// Bound by reference: SQLite copies the bytes once (`SQLITE_TRANSIENT`), with no owned copy
/// made first.
impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput::Borrowed, ValueRef};
        Ok(Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Float(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// Text as stored: valid UTF-8 (checked on the fast path) is copied as it is.
fn sqlite_text(t: &[u8]) -> String {
    match std::str::from_utf8(t) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(t).into_owned(),
    }
}

impl Tx for SqliteTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let mut st = self.0.prepare_cached(sql)?;
        let n = st.execute(rusqlite::params_from_iter(params.iter()))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let mut st = self.0.prepare_cached(sql)?;
        let n = st.column_count();
        let mut rows = st.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                vals.push(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(i) => Value::Int(i),
                    rusqlite::types::ValueRef::Real(f) => Value::Float(f),
                    rusqlite::types::ValueRef::Text(t) => Value::Text(sqlite_text(t)),
                    rusqlite::types::ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/// PostgreSQL: a small pool of connections, each with its own statement cache.
pub struct PgDb {
    url: String,
    pool: Mutex<Vec<PgConn>>,
    /// Read transactions in progress, at most [`MAX_READERS`] as on SQLite: past that a read
    /// waits for one to end rather than opening a connection of its own, which the pool (of
    /// 16) would then close again: under 64 clients that was a new connection, with its
    /// statements prepared again, for most requests.
    readers: (Mutex<usize>, std::sync::Condvar),
    /// Bulk loading (see [`Db::set_bulk_load`]).
    bulk: std::sync::atomic::AtomicBool,
}

struct PgConn {
    client: postgres::Client,
    cache: HashMap<String, postgres::Statement>,
}

/// The fewest dead row versions for which [`Db::vacuum_churned`] vacuums a table.
pub const VACUUM_MIN_DEAD: i64 = 10_000;

/// A table [`Db::vacuum_churned`] vacuumed or analyzed, with its row counts before.
#[derive(Debug, Clone, PartialEq)]
pub struct Vacuumed {
    /// The table.
    pub table: String,
    /// Vacuumed (and analyzed); `false`: only its statistics were refreshed (`ANALYZE`).
    pub vacuum: bool,
    /// Live rows before (PostgreSQL's estimate).
    pub live: i64,
    /// Dead row versions before (PostgreSQL's estimate).
    pub dead: i64,
    /// How long the vacuum or the analysis took.
    pub seconds: f64,
}

impl Vacuumed {
    /// What was done, for the log: `vacuumed …` or `analyzed …`.
    pub fn action(&self) -> &'static str {
        if self.vacuum {
            "vacuumed a table with more dead rows than live ones"
        } else {
            "analyzed a table with stale statistics"
        }
    }
}

/// The seed of the advisory lock that serializes writers (the event sequence is one order): the
/// key is the hash of the schema with this seed, so each schema (each installation) has its own
/// lock. `coalesce` because a search path naming no existing schema gives no current schema, and
/// the lock function given NULL would take no lock at all.
const WRITE_LOCK: i64 = 0x4c69_616e_7a68;

/// What a write transaction starts with, sent as one message (one round trip): the transaction
/// and the write lock (and, in a bulk load, commits that do not wait for the disk).
fn begin_write(bulk: bool) -> String {
    format!(
        "START TRANSACTION READ WRITE;{} SELECT pg_advisory_xact_lock(hashtextextended(coalesce(current_schema(), ''), {WRITE_LOCK}))",
        if bulk {
            " SET LOCAL synchronous_commit = off;"
        } else {
            ""
        }
    )
}

impl PgDb {
    fn open(url: &str) -> Result<PgDb, DbError> {
        let db = PgDb {
            url: url.to_string(),
            pool: Mutex::new(Vec::new()),
            readers: (Mutex::new(0), std::sync::Condvar::new()),
            bulk: std::sync::atomic::AtomicBool::new(false),
        };
        let c = db.connect()?;
        db.put(c);
        Ok(db)
    }

    fn connect(&self) -> Result<PgConn, DbError> {
        let client = postgres::Client::connect(&self.url, postgres::NoTls)?;
        Ok(PgConn {
            client,
            cache: HashMap::new(),
        })
    }

    fn take(&self) -> Result<PgConn, DbError> {
        let c = self.pool.lock().map_err(|_| DbError::Poisoned)?.pop();
        match c {
            Some(c) if !c.client.is_closed() => Ok(c),
            _ => self.connect(),
        }
    }

    fn put(&self, c: PgConn) {
        if c.client.is_closed() {
            return;
        }
        if let Ok(mut pool) = self.pool.lock()
            && pool.len() < 16
        {
            pool.push(c);
        }
    }

    fn write<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        self.run(false, f)
    }

    fn read<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        self.run(true, f)
    }

    /// Runs `f` in a transaction on a pooled connection: read-only, or a write that first takes
    /// the advisory lock serializing writers. The transaction is begun (with the lock) in one
    /// round trip, and ended with `COMMIT` when `f` returns `Ok`, `ROLLBACK` otherwise; a
    /// connection whose transaction could not be ended is closed, not given back.
    fn run<T, E: From<DbError>>(
        &self,
        read_only: bool,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        // Writers wait for the advisory lock instead, one at a time.
        let _slot = if read_only {
            Some(ReaderSlot::take(&self.readers)?)
        } else {
            None
        };
        // A read sees one snapshot from its first statement to its end, as on SQLite (a read
        // never fails to serialize: only writes do).
        let begin = if read_only {
            "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY".to_string()
        } else {
            begin_write(self.bulk.load(std::sync::atomic::Ordering::Relaxed))
        };
        let mut conn = self.take()?;
        let out = conn
            .client
            .batch_execute(&begin)
            .map_err(|e| DbError::from(e).into())
            .and_then(|()| {
                f(&mut PgTx {
                    client: &mut conn.client,
                    cache: &mut conn.cache,
                })
            })
            .and_then(|out| {
                conn.client
                    .batch_execute("COMMIT")
                    .map_err(|e| DbError::from(e).into())
                    .map(|()| out)
            });
        // A failed `COMMIT` has ended the transaction already; `ROLLBACK` then only warns.
        if out.is_err() && conn.client.batch_execute("ROLLBACK").is_err() {
            return out;
        }
        self.put(conn);
        out
    }

    /// Runs `f` on a connection taken from the pool, and gives it back (unless it closed).
    fn with_conn<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut PgConn) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.take()?;
        let out = f(&mut conn);
        self.put(conn);
        out
    }

    /// See [`Db::vacuum_churned`]. `VACUUM` runs outside a transaction.
    fn vacuum_churned(&self) -> Result<Vec<Vacuumed>, DbError> {
        self.with_conn(|conn| {
            let rows = conn.client.query(
                "SELECT relname::text, n_live_tup, n_dead_tup, n_dead_tup > GREATEST(n_live_tup, $1) \
                 FROM pg_stat_user_tables WHERE schemaname = current_schema() \
                 AND (n_dead_tup > GREATEST(n_live_tup, $1) OR n_mod_since_analyze > GREATEST(n_live_tup / 5, $1)) \
                 ORDER BY n_dead_tup DESC, relname",
                &[&VACUUM_MIN_DEAD],
            )?;
            let mut done = Vec::with_capacity(rows.len());
            for r in rows {
                let table: String = r.get(0);
                let vacuum: bool = r.get(3);
                let started = std::time::Instant::now();
                conn.client.batch_execute(&format!(
                    "{} \"{}\"",
                    if vacuum {
                        "VACUUM (SKIP_LOCKED, ANALYZE)"
                    } else {
                        "ANALYZE (SKIP_LOCKED)"
                    },
                    table.replace('"', "\"\"")
                ))?;
                done.push(Vacuumed {
                    table,
                    vacuum,
                    live: r.get(1),
                    dead: r.get(2),
                    seconds: started.elapsed().as_secs_f64(),
                });
            }
            Ok(done)
        })
    }
}

/// Statements over a list of more keys than this are prepared for each run (see
/// `PgTx::planned`).
const UNCACHED_QUERY_PARAMS: usize = 16;

/// A transaction in progress on a connection (see `PgDb::run`).
struct PgTx<'a> {
    client: &'a mut postgres::Client,
    cache: &'a mut HashMap<String, postgres::Statement>,
}

/// Rewrites `?` parameter marks to `$1, $2, …` (the SQL here never has `?` inside literals).
fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

impl postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        match self {
            Value::Null => Ok(postgres::types::IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Value::Float(f) => f.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl PgTx<'_> {
    /// The statement for `sql`, prepared once per connection, except a query or a change over a
    /// long list of keys (`… IN (?, ?, …)`), planned for its values every time: a cached generic
    /// plan is chosen once, often while the table is still small, and a sequential scan chosen
    /// then stays when the table has grown (a `DELETE FROM deadlines … IN (…)` took 0.4–0.7 s a
    /// batch at 60,000 rows).
    fn planned(&mut self, sql: &str, params: &[Value]) -> Result<postgres::Statement, DbError> {
        if params.len() > UNCACHED_QUERY_PARAMS && sql.contains(" IN (") {
            Ok(self.client.prepare(&pg_sql(sql))?)
        } else {
            self.statement(sql)
        }
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, DbError> {
        if let Some(s) = self.cache.get(sql) {
            return Ok(s.clone());
        }
        let st = self.client.prepare(&pg_sql(sql))?;
        self.cache.insert(sql.to_string(), st.clone());
        Ok(st)
    }
}

fn params_ref(params: &[Value]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

impl Tx for PgTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let st = self.planned(sql, params)?;
        Ok(self.client.execute(&st, &params_ref(params))?)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        use postgres::types::Type;
        let st = self.planned(sql, params)?;
        let rows = self.client.query(&st, &params_ref(params))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut vals = Vec::with_capacity(r.len());
            for (i, col) in r.columns().iter().enumerate() {
                let v = match *col.type_() {
                    Type::INT8 => r
                        .try_get::<_, Option<i64>>(i)?
                        .map_or(Value::Null, Value::Int),
                    Type::INT4 => r
                        .try_get::<_, Option<i32>>(i)?
                        .map_or(Value::Null, |x| Value::Int(i64::from(x))),
                    Type::INT2 => r
                        .try_get::<_, Option<i16>>(i)?
                        .map_or(Value::Null, |x| Value::Int(i64::from(x))),
                    Type::BOOL => r
                        .try_get::<_, Option<bool>>(i)?
                        .map_or(Value::Null, |x| Value::Int(i64::from(x))),
                    Type::FLOAT8 => r
                        .try_get::<_, Option<f64>>(i)?
                        .map_or(Value::Null, Value::Float),
                    Type::FLOAT4 => r
                        .try_get::<_, Option<f32>>(i)?
                        .map_or(Value::Null, |x| Value::Float(f64::from(x))),
                    Type::BYTEA => r
                        .try_get::<_, Option<Vec<u8>>>(i)?
                        .map_or(Value::Null, Value::Blob),
                    _ => r
                        .try_get::<_, Option<String>>(i)?
                        .map_or(Value::Null, Value::Text),
                };
                vals.push(v);
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }
}
