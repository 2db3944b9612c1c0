//! Migrations. Never edit an applied migration; add a new one.
//!
//! The SQL is portable between SQLite and PostgreSQL: integers are BIGINT, instants are
//! milliseconds since the Unix epoch, dates are `YYYY-MM-DD` text, booleans are 0/1, and
//! `{blob}` stands for BLOB or BYTEA.

use crate::db::{Backend, DbError, Tx};

/// `(version, name, sql, only on this backend)`.
const MIGRATIONS: &[(i64, &str, &str, Option<Backend>)] = &[
    (1, "approval core", V1, None),
    (2, "transparency log", V2, None),
    (3, "console sessions", V3, None),
    (4, "complaints", V4, None),
    (5, "enterprise monitoring points", V5, None),
    (6, "statistics from covering indexes", V6, None),
    (
        7,
        "rowid keys for the events and the log",
        V7_SQLITE,
        Some(Backend::Sqlite),
    ),
    (8, "running totals for the statistics", V8, None),
];

/// The statistics' running totals per department and local day, counted from the stored rows
/// (what migration 8 fills `stats_days` with, and what `App::check_statistics` compares it to).
macro_rules! tally_from_rows {
    () => {
        "SELECT department, day, SUM(registered), SUM(finished), SUM(finished_accepted), SUM(on_time), SUM(ratings), SUM(bad_ratings), SUM(red_opened), SUM(yellow_opened) FROM (
    SELECT department, (registered_at + 28800000) / 86400000 AS day, 1 AS registered, 0 AS finished, 0 AS finished_accepted, 0 AS on_time, 0 AS ratings, 0 AS bad_ratings, 0 AS red_opened, 0 AS yellow_opened FROM cases
    UNION ALL
    SELECT department, (finished_at + 28800000) / 86400000, 0, 1, CASE WHEN accepted_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN on_time = 1 THEN 1 ELSE 0 END, 0, 0, 0, 0 FROM cases WHERE finished_at IS NOT NULL
    UNION ALL
    SELECT department, (rated_at + 28800000) / 86400000, 0, 0, 0, 0, 1, CASE WHEN satisfaction >= 4 THEN 1 ELSE 0 END, 0, 0 FROM ratings
    UNION ALL
    SELECT department, (opened_at + 28800000) / 86400000, 0, 0, 0, 0, 0, 0, CASE WHEN level = '3' THEN 1 ELSE 0 END, CASE WHEN level = '2' THEN 1 ELSE 0 END FROM findings
) AS t GROUP BY department, day"
    };
}
pub(crate) use tally_from_rows;

/// The open findings per department and level, counted from the stored rows.
macro_rules! open_from_rows {
    () => {
        "SELECT department, level, COUNT(*) FROM findings WHERE status IN ('open', 'supervised', 'rectified') GROUP BY department, level"
    };
}
pub(crate) use open_from_rows;

/// The statistics' running totals (`tally.rs`), filled from the rows already stored. The day is
/// the local (UTC+8) day number of the instant, as `tally::day` computes it.
const V8: &str = concat!(
    "
CREATE TABLE stats_days (
    department TEXT NOT NULL, day BIGINT NOT NULL, registered BIGINT NOT NULL, finished BIGINT NOT NULL,
    finished_accepted BIGINT NOT NULL, on_time BIGINT NOT NULL, ratings BIGINT NOT NULL,
    bad_ratings BIGINT NOT NULL, red_opened BIGINT NOT NULL, yellow_opened BIGINT NOT NULL,
    PRIMARY KEY (department, day)
);
CREATE TABLE stats_open (
    department TEXT NOT NULL, level TEXT NOT NULL, open_findings BIGINT NOT NULL,
    PRIMARY KEY (department, level)
);
INSERT INTO stats_days (department, day, registered, finished, finished_accepted, on_time, ratings, bad_ratings, red_opened, yellow_opened)
",
    tally_from_rows!(),
    ";
INSERT INTO stats_open (department, level, open_findings)
",
    open_from_rows!(),
    ";
"
);

/// SQLite makes only an `INTEGER PRIMARY KEY` the table's own key (the rowid); the `BIGINT
/// PRIMARY KEY` of the three append-only tables gave each a second B-tree, a unique index beside
/// the table, written on every insert (an event, its leaf and its stored hashes: four such
/// insertions). The tables are copied into rowid-keyed ones, in sequence order (an
/// append). PostgreSQL's tables are heaps with one index either way and are left as they are.
/// Upgrading copies the three tables once: see `docs/operations.md`.
const V7_SQLITE: &str = r"
CREATE TABLE events_v7 (
    seq INTEGER PRIMARY KEY, subject_type TEXT NOT NULL, subject_id TEXT NOT NULL, kind TEXT NOT NULL,
    department TEXT NOT NULL, actor TEXT NOT NULL, occurred_at BIGINT NOT NULL, recorded_at BIGINT NOT NULL,
    source TEXT NOT NULL, source_event_id TEXT, payload TEXT NOT NULL, salt BLOB
);
INSERT INTO events_v7 (seq, subject_type, subject_id, kind, department, actor, occurred_at, recorded_at, source, source_event_id, payload, salt)
    SELECT seq, subject_type, subject_id, kind, department, actor, occurred_at, recorded_at, source, source_event_id, payload, salt FROM events ORDER BY seq;
DROP TABLE events;
ALTER TABLE events_v7 RENAME TO events;
CREATE UNIQUE INDEX events_source ON events (source, source_event_id);
CREATE INDEX events_subject ON events (subject_type, subject_id, seq);
CREATE TABLE log_leaves_v7 (idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL);
INSERT INTO log_leaves_v7 (idx, leaf) SELECT idx, leaf FROM log_leaves ORDER BY idx;
DROP TABLE log_leaves;
ALTER TABLE log_leaves_v7 RENAME TO log_leaves;
CREATE TABLE log_hashes_v7 (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL);
INSERT INTO log_hashes_v7 (idx, hash) SELECT idx, hash FROM log_hashes ORDER BY idx;
DROP TABLE log_hashes;
ALTER TABLE log_hashes_v7 RENAME TO log_hashes;
";

/// The public statistics read compact indexes that hold every column they count, not the case
/// rows with their state (about 1.5 KB each): at three million cases the department figures took
/// 78 s from the table. Finished cases by time (the monthly completions and the department
/// totals), ratings by department and findings by time, each with what is counted.
const V6: &str = r"
CREATE INDEX cases_finished ON cases (finished_at, department, on_time, accepted_at);
CREATE INDEX ratings_stats ON ratings (department, satisfaction, rated_at);
CREATE INDEX findings_stats ON findings (opened_at, department, level, status);
";

/// Enterprise monitoring points (G4). Contacts (personal data) are kept apart from the points;
/// responses carry neither the point nor a time, so a stored answer cannot be traced back to the
/// enterprise that gave it.
const V5: &str = r"
CREATE TABLE monitoring_settings (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE monitoring_points (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, credit_code TEXT NOT NULL, sector TEXT NOT NULL,
    registered_on TEXT NOT NULL, retired_on TEXT, created_at BIGINT NOT NULL
);
CREATE INDEX monitoring_points_credit ON monitoring_points (credit_code);
CREATE TABLE monitoring_contacts (point_id TEXT PRIMARY KEY, person TEXT NOT NULL, phone TEXT NOT NULL);
CREATE TABLE survey_rounds (
    id TEXT PRIMARY KEY, period TEXT NOT NULL, status TEXT NOT NULL, departments TEXT NOT NULL,
    opened_at BIGINT NOT NULL, due_at BIGINT NOT NULL, closed_at BIGINT
);
CREATE TABLE survey_requests (
    id TEXT PRIMARY KEY, round_id TEXT NOT NULL, point_id TEXT NOT NULL, departments TEXT NOT NULL,
    status TEXT NOT NULL, chased BIGINT NOT NULL DEFAULT 0, due_at BIGINT NOT NULL,
    token_hash TEXT NOT NULL, answered_at BIGINT, answered_late BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX survey_requests_due ON survey_requests (status, due_at);
CREATE INDEX survey_requests_round ON survey_requests (round_id, point_id);
CREATE TABLE survey_responses (
    id TEXT PRIMARY KEY, round_id TEXT NOT NULL, department TEXT NOT NULL, scores TEXT NOT NULL,
    overall BIGINT NOT NULL, comment TEXT NOT NULL
);
CREATE INDEX survey_responses_round ON survey_responses (round_id, department, id);
";

/// Complaints (G1/G2): the projection holds no personal data; the complainant and the full text
/// are in `complaint_parties`, like `case_parties`.
const V4: &str = r"
CREATE TABLE complaints (
    complaint_no TEXT PRIMARY KEY, token TEXT NOT NULL, category TEXT NOT NULL, channel TEXT NOT NULL,
    department TEXT NOT NULL, assigned TEXT, route TEXT, status TEXT NOT NULL, title TEXT NOT NULL,
    real_name BIGINT NOT NULL, fee_flag TEXT, fee_confirmed BIGINT NOT NULL DEFAULT 0,
    filed_at BIGINT NOT NULL, month TEXT NOT NULL, accepted_at BIGINT, answered_at BIGINT,
    closed_at BIGINT, updated_at BIGINT NOT NULL, accept_due_at BIGINT NOT NULL, answer_due_at BIGINT,
    due_at BIGINT, accepted_in_time BIGINT, answered_in_time BIGINT, rating TEXT,
    reopened BIGINT NOT NULL DEFAULT 0, address TEXT, lat DOUBLE PRECISION, lon DOUBLE PRECISION,
    media_url TEXT, state TEXT NOT NULL, updated_seq BIGINT NOT NULL
);
CREATE UNIQUE INDEX complaints_token ON complaints (token);
CREATE INDEX complaints_queue ON complaints (assigned, status, due_at);
CREATE INDEX complaints_status_due ON complaints (status, due_at);
CREATE INDEX complaints_department ON complaints (department, month);
CREATE INDEX complaints_filed ON complaints (filed_at);
CREATE TABLE complaint_parties (
    complaint_no TEXT PRIMARY KEY, query_code TEXT NOT NULL, name TEXT NOT NULL, phone TEXT NOT NULL,
    id_no TEXT NOT NULL, contact TEXT NOT NULL, content TEXT NOT NULL
);
";

const V3: &str = r"
CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL, created_at BIGINT NOT NULL, last_seen BIGINT NOT NULL, expires_at BIGINT NOT NULL);
CREATE INDEX sessions_user ON sessions (username);
";

const V2: &str = r"
ALTER TABLE events ADD COLUMN salt {blob};
CREATE TABLE log_leaves (idx BIGINT PRIMARY KEY, leaf {blob} NOT NULL);
CREATE TABLE log_hashes (idx BIGINT PRIMARY KEY, hash {blob} NOT NULL);
CREATE TABLE log_checkpoints (size BIGINT PRIMARY KEY, root {blob} NOT NULL, note TEXT NOT NULL, signed_at BIGINT NOT NULL);
";

const V1: &str = r"
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE departments (
    code TEXT PRIMARY KEY, credit_code TEXT NOT NULL, name TEXT NOT NULL,
    short_name TEXT NOT NULL, phone TEXT NOT NULL DEFAULT ''
);
CREATE TABLE items (
    code TEXT PRIMARY KEY, department TEXT NOT NULL, name TEXT NOT NULL, basic_code TEXT NOT NULL,
    item_type TEXT NOT NULL, status TEXT NOT NULL, current_version BIGINT NOT NULL, updated_at BIGINT NOT NULL
);
CREATE INDEX items_department ON items (department, code);
CREATE TABLE item_versions (
    code TEXT NOT NULL, version BIGINT NOT NULL, effective_date TEXT NOT NULL, reason TEXT NOT NULL,
    status TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL, created_by TEXT NOT NULL,
    PRIMARY KEY (code, version)
);
CREATE TABLE events (
    seq BIGINT PRIMARY KEY, subject_type TEXT NOT NULL, subject_id TEXT NOT NULL, kind TEXT NOT NULL,
    department TEXT NOT NULL, actor TEXT NOT NULL, occurred_at BIGINT NOT NULL, recorded_at BIGINT NOT NULL,
    source TEXT NOT NULL, source_event_id TEXT, payload TEXT NOT NULL
);
CREATE UNIQUE INDEX events_source ON events (source, source_event_id);
CREATE INDEX events_subject ON events (subject_type, subject_id, seq);
CREATE TABLE cases (
    case_no TEXT PRIMARY KEY, item_code TEXT NOT NULL, item_version BIGINT NOT NULL, department TEXT NOT NULL,
    status TEXT NOT NULL, channel TEXT NOT NULL, window_id TEXT, acceptor TEXT, approver TEXT,
    registered_at BIGINT NOT NULL, accepted_at BIGINT, finished_at BIGINT,
    promised_due_at BIGINT, legal_due_at BIGINT, due_provisional BIGINT NOT NULL DEFAULT 0,
    on_time BIGINT, fees_fen BIGINT NOT NULL DEFAULT 0, state TEXT NOT NULL, updated_seq BIGINT NOT NULL
);
CREATE INDEX cases_department ON cases (department, registered_at);
CREATE INDEX cases_registered ON cases (registered_at);
CREATE TABLE case_parties (case_no TEXT PRIMARY KEY, query_code TEXT NOT NULL, applicant TEXT NOT NULL);
CREATE TABLE findings (
    id BIGINT PRIMARY KEY, code TEXT NOT NULL, level TEXT NOT NULL, subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL, scope TEXT NOT NULL, department TEXT NOT NULL, item_code TEXT,
    owner TEXT NOT NULL, message TEXT NOT NULL, status TEXT NOT NULL, opened_at BIGINT NOT NULL,
    due_at BIGINT NOT NULL, escalations BIGINT NOT NULL DEFAULT 0, answer TEXT, closed_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX findings_subject ON findings (subject_type, subject_id, code, scope);
CREATE INDEX findings_department ON findings (department, status, opened_at);
CREATE INDEX findings_opened ON findings (opened_at);
CREATE TABLE deadlines (
    subject_type TEXT NOT NULL, subject_id TEXT NOT NULL, code TEXT NOT NULL, scope TEXT NOT NULL,
    due_at BIGINT NOT NULL, PRIMARY KEY (subject_type, subject_id, code, scope)
);
CREATE INDEX deadlines_due ON deadlines (due_at);
CREATE TABLE ratings (
    case_no TEXT PRIMARY KEY, satisfaction BIGINT NOT NULL, channel TEXT NOT NULL, online BIGINT NOT NULL,
    indicators TEXT NOT NULL, comment TEXT NOT NULL, rated_at BIGINT NOT NULL, department TEXT NOT NULL,
    item_code TEXT NOT NULL, window_id TEXT, staff TEXT, finding_id BIGINT, answer TEXT, answered_at BIGINT
);
CREATE INDEX ratings_department ON ratings (department, rated_at);
CREATE TABLE api_keys (
    id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE, department TEXT, key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL, revoked_at BIGINT
);
CREATE TABLE users (
    username TEXT PRIMARY KEY, display_name TEXT NOT NULL, role TEXT NOT NULL, department TEXT,
    password_hash TEXT NOT NULL, created_at BIGINT NOT NULL, failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT
);
CREATE TABLE calendar_days (date TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, notice TEXT NOT NULL);
CREATE TABLE calendar_years (year BIGINT PRIMARY KEY, loaded_at BIGINT NOT NULL, loaded_by TEXT NOT NULL);
CREATE TABLE rule_packs (version BIGINT PRIMARY KEY, body TEXT NOT NULL, reason TEXT NOT NULL, created_at BIGINT NOT NULL, created_by TEXT NOT NULL);
";

/// The newest schema version this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// The applied version (0 for an empty database).
pub fn current_version(tx: &mut dyn Tx) -> Result<i64, DbError> {
    let exists = match tx.backend() {
        Backend::Sqlite => tx
            .query_opt("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", &[])?
            .is_some(),
        Backend::Postgres => tx
            .query_opt("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'", &[])?
            .is_some(),
    };
    if !exists {
        return Ok(0);
    }
    Ok(tx
        .query_opt("SELECT MAX(version) FROM schema_migrations", &[])?
        .map_or(0, |r| r.int(0)))
}

/// Applies every pending migration in this transaction; returns the new version.
pub fn migrate(tx: &mut dyn Tx, backend: Backend) -> Result<i64, DbError> {
    migrate_to(tx, backend, latest_version())
}

/// Applies the pending migrations up to `target` (an older schema, for upgrade tests).
pub fn migrate_to(tx: &mut dyn Tx, backend: Backend, target: i64) -> Result<i64, DbError> {
    tx.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)", &[])?;
    let have = current_version(tx)?;
    for (version, name, sql, only) in MIGRATIONS {
        if *version <= have || *version > target {
            continue;
        }
        // A migration for one backend is recorded on the other too, as a no-op there.
        let sql = if only.is_some_and(|b| b != backend) {
            ""
        } else {
            sql
        };
        let sql = sql.replace(
            "{blob}",
            if backend == Backend::Sqlite {
                "BLOB"
            } else {
                "BYTEA"
            },
        );
        for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            tx.exec(stmt, &[])?;
        }
        tx.exec(
            "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
            &[(*version).into(), (*name).into()],
        )?;
    }
    current_version(tx)
}
