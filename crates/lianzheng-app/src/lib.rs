//! The application layer of Lianzheng: use cases, transactions, authorization and storage.
//!
//! What it is: [`App`] holds the database, the working-day calendar, the rule pack and a clock,
//! and offers the use cases (submit events, sweep deadlines, act on findings, rate a case, edit
//! the catalog, query a case). Each use case is one transaction. Storage is the small SQL
//! surface in [`db`], with one implementation for SQLite and one for PostgreSQL.
//!
//! What it is not: it knows no HTTP, HTML or command line; those live in the `lianzheng` crate
//! and call one use case per request.

pub mod admin;
pub mod auth;
mod bulk;
pub mod catalog;
pub mod complaints;
pub mod db;
pub mod ingest;
pub mod log;
pub mod monitoring;
pub mod schema;
mod tally;
pub mod testing;
pub mod views;

use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use lianzheng_core::calendar::Calendar;
use lianzheng_core::deadline::BusinessHours;
use lianzheng_core::rules::RulePack;
use serde::Serialize;
use thiserror::Error;

pub use db::{Db, DbError};

/// Where time comes from. Tests and the demo pass a fixed or stepping clock.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that says what it was last told.
#[derive(Debug)]
pub struct ManualClock(RwLock<Timestamp>);

impl ManualClock {
    /// A clock at `t`.
    pub fn new(t: Timestamp) -> ManualClock {
        ManualClock(RwLock::new(t))
    }

    /// Sets the time.
    pub fn set(&self, t: Timestamp) {
        if let Ok(mut g) = self.0.write() {
            *g = t;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.0.read().map_or(Timestamp::UNIX_EPOCH, |g| *g)
    }
}

/// Where random bytes come from (query codes, API keys, salts). The demo passes a seeded one.
pub trait Entropy: Send + Sync {
    /// Fills `buf`.
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's random source.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, buf: &mut [u8]) {
        use rand_core::RngCore;
        rand_core::OsRng.fill_bytes(buf);
    }
}

/// A deterministic generator (SplitMix64) for demos and tests.
#[derive(Debug)]
pub struct SeededEntropy(std::sync::Mutex<u64>);

impl SeededEntropy {
    /// Seeds it.
    pub fn new(seed: u64) -> SeededEntropy {
        SeededEntropy(std::sync::Mutex::new(seed))
    }
}

impl Entropy for SeededEntropy {
    fn fill(&self, buf: &mut [u8]) {
        let Ok(mut s) = self.0.lock() else { return };
        for chunk in buf.chunks_mut(8) {
            *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            for (b, v) in chunk.iter_mut().zip(z.to_le_bytes()) {
                *b = v;
            }
        }
    }
}

/// Who is asking. Authorization is decided in this crate, not in the web layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    /// A system key or administrator: any department.
    Admin {
        /// Name, for the record.
        name: String,
    },
    /// The supervision bureau (监察): sees and supervises every department.
    Supervisor {
        /// Name.
        name: String,
    },
    /// The audit bureau (审计): reads every department and the record of personal-data access,
    /// acts on nothing.
    Auditor {
        /// Name.
        name: String,
    },
    /// A department's system or staff: only that department.
    Department {
        /// Name.
        name: String,
        /// Department code.
        department: String,
    },
    /// The public.
    Public,
}

impl Principal {
    /// The name recorded as the source of events.
    pub fn source(&self) -> String {
        match self {
            Principal::Admin { name }
            | Principal::Supervisor { name }
            | Principal::Auditor { name }
            | Principal::Department { name, .. } => name.clone(),
            Principal::Public => "public".to_string(),
        }
    }

    /// Whether it may act for a department.
    pub fn may_act_for(&self, department: &str) -> bool {
        match self {
            Principal::Admin { .. } => true,
            Principal::Department { department: d, .. } => d == department,
            Principal::Supervisor { .. } | Principal::Auditor { .. } | Principal::Public => false,
        }
    }

    /// Whether it may read a department's records.
    pub fn may_read(&self, department: &str) -> bool {
        match self {
            Principal::Admin { .. } | Principal::Supervisor { .. } | Principal::Auditor { .. } => {
                true
            }
            Principal::Department { department: d, .. } => d == department,
            Principal::Public => false,
        }
    }

    /// Whether it supervises (督办, 摘牌, 办结 of findings).
    pub fn supervises(&self) -> bool {
        matches!(self, Principal::Admin { .. } | Principal::Supervisor { .. })
    }
}

/// Errors of the use cases, each with a stable machine-readable code.
#[derive(Debug, Error)]
pub enum AppError {
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Something named does not exist.
    #[error("{what} `{id}` not found")]
    NotFound {
        /// What kind of thing.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// Bad input; nothing changed.
    #[error("{0}")]
    Invalid(String),
    /// Not allowed for this principal.
    #[error("{0}")]
    Forbidden(String),
    /// Conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
}

impl AppError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Db(e) if e.is_disk_full() => "disk_full",
            AppError::Db(e) if e.is_transient() => "storage_unavailable",
            AppError::Db(_) => "internal",
            AppError::NotFound { .. } => "not_found",
            AppError::Invalid(_) => "invalid_input",
            AppError::Forbidden(_) => "forbidden",
            AppError::Conflict(_) => "conflict",
        }
    }
}

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Business hours, for limits in hours.
    pub hours: BusinessHours,
    /// Largest batch of events accepted in one call.
    pub max_batch: usize,
    /// Whether events are appended to the transparency log. Always on in the server; off only
    /// in the benchmark that measures what the log costs.
    pub log: bool,
    /// Where complaint triage sends each route (政务服务中心, 监察局).
    pub complaint_routing: lianzheng_core::complaint::Routing,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            hours: BusinessHours::default(),
            max_batch: 1000,
            log: true,
            complaint_routing: lianzheng_core::complaint::Routing::default(),
        }
    }
}

/// The application: database, calendar, rule pack, clock.
pub struct App {
    /// The database.
    pub db: Db,
    calendar: RwLock<Arc<Calendar>>,
    pack: RwLock<Arc<RulePack>>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    item_cache: ingest::ItemCache,
    /// Short-lived copies of public views (statistics, 民主评议, the Open311 list).
    view_cache: views::ViewCache,
    /// Counts this process's changes to departments and items (see [`App::catalog_generation`]).
    catalog_generation: std::sync::atomic::AtomicU64,
    /// Settings.
    pub settings: Settings,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Builds the application on an open database: loads the calendar years and the rule pack
    /// stored in it over the built-in ones.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        settings: Settings,
    ) -> Result<App, AppError> {
        let calendar = Calendar::builtin()
            .map_err(|e| AppError::Invalid(format!("built-in calendar: {e}")))?;
        let app = App {
            db,
            calendar: RwLock::new(Arc::new(calendar)),
            pack: RwLock::new(Arc::new(RulePack::default())),
            clock,
            entropy,
            item_cache: ingest::ItemCache::default(),
            view_cache: views::ViewCache::default(),
            catalog_generation: std::sync::atomic::AtomicU64::new(0),
            settings,
        };
        app.reload_calendar()?;
        app.reload_rule_pack()?;
        let backfilled = app.backfill_log()?;
        if backfilled > 0 {
            tracing::warn!(
                leaves = backfilled,
                "logged events recorded before the log existed (upgrade to schema 2)"
            );
        }
        Ok(app)
    }

    /// Opens a database by URL with the system clock and entropy.
    pub fn open(url: &str) -> Result<App, AppError> {
        let db = Db::open(url)?;
        db.check_schema()?;
        App::new(
            db,
            Arc::new(SystemClock),
            Arc::new(OsEntropy),
            Settings::default(),
        )
    }

    /// Now, by the application's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// A number that changes whenever this process saves departments or items: a key part for
    /// copies of catalog pages, so that a change made here shows at once. A change made by
    /// another server shows when such a copy expires.
    pub fn catalog_generation(&self) -> u64 {
        self.catalog_generation
            .load(std::sync::atomic::Ordering::Acquire)
    }

    fn catalog_changed(&self) {
        self.catalog_generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// The calendar in force.
    pub fn calendar(&self) -> Arc<Calendar> {
        self.calendar
            .read()
            .map_or_else(|g| Arc::clone(g.get_ref()), |g| Arc::clone(&g))
    }

    /// The rule pack in force.
    pub fn rule_pack(&self) -> Arc<RulePack> {
        self.pack
            .read()
            .map_or_else(|g| Arc::clone(g.get_ref()), |g| Arc::clone(&g))
    }

    fn set_calendar(&self, c: Calendar) {
        if let Ok(mut g) = self.calendar.write() {
            *g = Arc::new(c);
        }
    }

    fn set_rule_pack(&self, p: RulePack) {
        if let Ok(mut g) = self.pack.write() {
            *g = Arc::new(p);
        }
    }

    /// Random bytes.
    pub fn random(&self, buf: &mut [u8]) {
        self.entropy.fill(buf);
    }

    /// A random decimal code of `n` digits.
    pub fn random_digits(&self, n: usize) -> String {
        let mut buf = vec![0u8; n];
        self.random(&mut buf);
        buf.iter().map(|b| char::from(b'0' + b % 10)).collect()
    }
}

/// Milliseconds since the epoch, as stored.
pub fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// The instant of stored milliseconds.
pub fn from_ms(v: i64) -> Timestamp {
    Timestamp::from_millisecond(v).unwrap_or(Timestamp::UNIX_EPOCH)
}
