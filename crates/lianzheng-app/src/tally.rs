//! The public statistics' running totals, kept by the writer in the transaction that changes what
//! they count, so that reading them costs the same at a thousand cases and at ten million.
//!
//! `stats_days` holds, per department and local (UTC+8) day: cases registered, cases finished (all,
//! and those that had been accepted), finished on time, ratings and bad ratings (不满意 and 非常不满意, 4 and 5), and red
//! and yellow findings by the day they opened (at their current level). `stats_open` holds the open
//! findings (open, supervised, rectified) per department and level. Every change is a difference:
//! a case row counts as its stored figures before the batch and as its new figures after it, so a
//! case that is finished, reopened or moved is counted once, where it now belongs. Migration 8
//! fills both tables from the rows already stored.

use std::collections::HashMap;

use lianzheng_core::finding::FindingStatus;

use crate::bulk;
use crate::db::{DbError, Row, Tx, Value};

/// Columns of a day's figures, in `stats_days` order.
pub(crate) const REGISTERED: usize = 0;
pub(crate) const FINISHED: usize = 1;
pub(crate) const FINISHED_ACCEPTED: usize = 2;
pub(crate) const ON_TIME: usize = 3;
pub(crate) const RATINGS: usize = 4;
pub(crate) const BAD_RATINGS: usize = 5;
pub(crate) const RED: usize = 6;
pub(crate) const YELLOW: usize = 7;
const COLS: usize = 8;

/// The local day (UTC+8) of an instant in milliseconds, as the statistics' SQL computes it.
pub(crate) fn day(at_ms: i64) -> i64 {
    (at_ms + 28_800_000).div_euclid(86_400_000)
}

/// The day column a finding of level `code` counts in (red `3`, yellow `2`; others are not
/// counted).
pub(crate) fn level_column(code: &str) -> Option<usize> {
    match code {
        "3" => Some(RED),
        "2" => Some(YELLOW),
        _ => None,
    }
}

/// Whether a finding in status `code` is open for the statistics (not withdrawn or closed).
fn is_open(code: &str) -> bool {
    FindingStatus::parse(code).is_some_and(|s| !s.is_final())
}

/// What one case row counts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CaseFigures {
    pub department: String,
    pub registered_at: i64,
    /// When it finished, whether it had been accepted, and whether on time.
    pub finished: Option<(i64, bool, bool)>,
}

impl CaseFigures {
    /// From the stored columns `department, registered_at, accepted_at, finished_at, on_time`,
    /// starting at column `at` of `r`.
    pub(crate) fn from_row(r: &Row, at: usize) -> CaseFigures {
        let finished = r.opt_int(at + 3).map(|finished_at| {
            (
                finished_at,
                r.opt_int(at + 2).is_some(),
                r.opt_int(at + 4) == Some(1),
            )
        });
        CaseFigures {
            department: r.text(at),
            registered_at: r.int(at + 1),
            finished,
        }
    }
}

/// The differences a transaction makes, written at its end.
#[derive(Default)]
pub(crate) struct Tally {
    days: HashMap<(String, i64), [i64; COLS]>,
    open: HashMap<(String, String), i64>,
}

impl Tally {
    /// Adds `n` to column `col` of the department's day of `at_ms`.
    pub(crate) fn add(&mut self, department: &str, at_ms: i64, col: usize, n: i64) {
        if let Some(v) = self
            .days
            .entry((department.to_string(), day(at_ms)))
            .or_default()
            .get_mut(col)
        {
            *v += n;
        }
    }

    /// Adds `n` to the department's open findings of level `level`.
    pub(crate) fn add_open(&mut self, department: &str, level: &str, n: i64) {
        *self
            .open
            .entry((department.to_string(), level.to_string()))
            .or_default() += n;
    }

    /// Counts a case row (`sign` 1) or takes it back (`sign` -1).
    pub(crate) fn case(&mut self, c: &CaseFigures, sign: i64) {
        self.add(&c.department, c.registered_at, REGISTERED, sign);
        if let Some((at, accepted, on_time)) = c.finished {
            self.add(&c.department, at, FINISHED, sign);
            if accepted {
                self.add(&c.department, at, FINISHED_ACCEPTED, sign);
            }
            if on_time {
                self.add(&c.department, at, ON_TIME, sign);
            }
        }
    }

    /// A finding's level or status changed.
    pub(crate) fn finding_changed(
        &mut self,
        department: &str,
        opened_at: i64,
        (old_status, old_level): (&str, &str),
        (new_status, new_level): (&str, &str),
    ) {
        if old_level != new_level {
            if let Some(col) = level_column(old_level) {
                self.add(department, opened_at, col, -1);
            }
            if let Some(col) = level_column(new_level) {
                self.add(department, opened_at, col, 1);
            }
        }
        if is_open(old_status) {
            self.add_open(department, old_level, -1);
        }
        if is_open(new_status) {
            self.add_open(department, new_level, 1);
        }
    }

    /// Writes the differences (one upsert per table) and forgets them.
    pub(crate) fn write(&mut self, tx: &mut dyn Tx) -> Result<(), DbError> {
        let mut days: Vec<Value> = Vec::new();
        for ((department, day), v) in self.days.drain() {
            if v.iter().all(|n| *n == 0) {
                continue;
            }
            days.push(department.into());
            days.push(day.into());
            days.extend(v.iter().map(|n| Value::Int(*n)));
        }
        bulk::insert_rows(
            tx,
            "INSERT INTO stats_days (department, day, registered, finished, finished_accepted, on_time, ratings, bad_ratings, red_opened, yellow_opened)",
            COLS + 2,
            "ON CONFLICT (department, day) DO UPDATE SET registered = stats_days.registered + excluded.registered, finished = stats_days.finished + excluded.finished, finished_accepted = stats_days.finished_accepted + excluded.finished_accepted, on_time = stats_days.on_time + excluded.on_time, ratings = stats_days.ratings + excluded.ratings, bad_ratings = stats_days.bad_ratings + excluded.bad_ratings, red_opened = stats_days.red_opened + excluded.red_opened, yellow_opened = stats_days.yellow_opened + excluded.yellow_opened",
            &days,
        )?;
        let mut open: Vec<Value> = Vec::new();
        for ((department, level), n) in self.open.drain() {
            if n != 0 {
                open.extend([department.into(), level.into(), n.into()]);
            }
        }
        bulk::insert_rows(
            tx,
            "INSERT INTO stats_open (department, level, open_findings)",
            3,
            "ON CONFLICT (department, level) DO UPDATE SET open_findings = stats_open.open_findings + excluded.open_findings",
            &open,
        )
    }
}

impl crate::App {
    /// Compares the statistics' running totals with a count of the stored cases, ratings and
    /// findings, and says what differs (nothing when they agree). It reads every row: for tests
    /// and audits, not for pages.
    pub fn check_statistics(&self) -> Result<Vec<String>, crate::AppError> {
        use std::collections::BTreeMap;
        let (counted, kept, open_counted, open_kept) = self.db.read(|tx| {
            Ok::<_, crate::AppError>((
                tx.query(crate::schema::tally_from_rows!(), &[])?,
                tx.query("SELECT department, day, registered, finished, finished_accepted, on_time, ratings, bad_ratings, red_opened, yellow_opened FROM stats_days", &[])?,
                tx.query(crate::schema::open_from_rows!(), &[])?,
                tx.query("SELECT department, level, open_findings FROM stats_open", &[])?,
            ))
        })?;
        let days = |rows: &[Row]| -> BTreeMap<(String, i64), Vec<i64>> {
            rows.iter()
                .map(|r| {
                    (
                        (r.text(0), r.int(1)),
                        (2..2 + COLS).map(|i| r.int(i)).collect::<Vec<i64>>(),
                    )
                })
                .filter(|(_, v)| v.iter().any(|n| *n != 0))
                .collect()
        };
        let open = |rows: &[Row]| -> BTreeMap<(String, String), i64> {
            rows.iter()
                .map(|r| ((r.text(0), r.text(1)), r.int(2)))
                .filter(|(_, n)| *n != 0)
                .collect()
        };
        let mut diffs = differences(&days(&counted), &days(&kept), |(d, day)| {
            format!("{d} day {day}")
        });
        diffs.extend(differences(
            &open(&open_counted),
            &open(&open_kept),
            |(d, level)| format!("{d} level {level} open"),
        ));
        Ok(diffs)
    }
}

/// The keys on which two maps differ, each described by `what`.
fn differences<K: Ord, V: PartialEq + std::fmt::Debug>(
    counted: &std::collections::BTreeMap<K, V>,
    kept: &std::collections::BTreeMap<K, V>,
    what: impl Fn(&K) -> String,
) -> Vec<String> {
    let keys: std::collections::BTreeSet<&K> = counted.keys().chain(kept.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (c, k) = (counted.get(key), kept.get(key));
            (c != k).then(|| format!("{}: counted {c:?}, kept {k:?}", what(key)))
        })
        .collect()
}
