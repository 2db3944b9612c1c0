//! Multi-row statements for the writer: rows a transaction writes are buffered and sent as
//! `INSERT … VALUES (…), (…), …` (and `… IN (…)` lists), so that PostgreSQL pays one network
//! round trip per chunk of rows instead of one per row, and SQLite runs one statement instead of
//! hundreds.
//!
//! Chunks hold a power of two of rows, at most [`MAX_ROWS`] and never more parameters than
//! [`MAX_PARAMS`], so each statement shape has at most ten distinct texts: each is prepared once
//! per connection and then served from the statement cache.

use crate::db::{DbError, Tx, Value};

/// Most rows in one statement (and the size at which the writer flushes its event buffer).
pub(crate) const MAX_ROWS: usize = 512;

/// Most parameters in one statement: under SQLite's `SQLITE_MAX_VARIABLE_NUMBER` (32,766 in the
/// bundled build) and PostgreSQL's 65,535.
pub(crate) const MAX_PARAMS: usize = 32_000;

/// The number of rows of the next chunk out of `rows` rows of `cols` values each.
fn chunk_rows(rows: usize, cols: usize) -> usize {
    let max = (MAX_PARAMS / cols.max(1)).clamp(1, MAX_ROWS);
    let n = rows.min(max);
    // The largest power of two not above `n` (n ≥ 1).
    1 << (usize::BITS - 1 - n.leading_zeros())
}

/// `(?, ?, …)` for `cols` values, `rows` times, comma-separated.
fn value_lists(rows: usize, cols: usize) -> String {
    let one = format!("({})", vec!["?"; cols].join(", "));
    vec![one; rows].join(", ")
}

/// `?, ?, …` for `n` values.
pub fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Inserts rows of `cols` values each (`values` holds them one row after another):
/// `{head} VALUES (…), (…) {tail}`, in chunks. `head` is `INSERT INTO t (a, b, …)`; `tail` may
/// be empty or an `ON CONFLICT …` clause (which then must not meet the same key twice in one
/// statement).
pub(crate) fn insert_rows(
    tx: &mut dyn Tx,
    head: &str,
    cols: usize,
    tail: &str,
    values: &[Value],
) -> Result<(), DbError> {
    debug_assert!(cols > 0 && values.len().is_multiple_of(cols));
    let mut rest = values;
    while !rest.is_empty() {
        let n = chunk_rows(rest.len() / cols, cols);
        let (now, later) = rest.split_at(n * cols);
        let sql = format!(
            "{head} VALUES {}{}{tail}",
            value_lists(n, cols),
            if tail.is_empty() { "" } else { " " }
        );
        tx.exec(&sql, now)?;
        rest = later;
    }
    Ok(())
}

/// Runs a statement over a list of keys in chunks: `sql(n)` builds the text for `n` keys (with
/// its own parameters `before` first), e.g. `DELETE FROM t WHERE k IN (?, ?, …)`.
pub(crate) fn exec_in(
    tx: &mut dyn Tx,
    before: &[Value],
    keys: &[Value],
    sql: impl Fn(usize) -> String,
) -> Result<u64, DbError> {
    let mut changed = 0;
    in_chunks(before, keys, |n, params| {
        changed += tx.exec(&sql(n), params)?;
        Ok(())
    })?;
    Ok(changed)
}

/// Runs a query over a list of keys in chunks (see [`exec_in`]) and returns all rows.
pub(crate) fn query_in(
    tx: &mut dyn Tx,
    before: &[Value],
    keys: &[Value],
    sql: impl Fn(usize) -> String,
) -> Result<Vec<crate::db::Row>, DbError> {
    let mut out = Vec::new();
    in_chunks(before, keys, |n, params| {
        out.extend(tx.query(&sql(n), params)?);
        Ok(())
    })?;
    Ok(out)
}

/// Calls `run(n, params)` for each chunk of `n` keys, `params` being `before` then the chunk.
fn in_chunks(
    before: &[Value],
    keys: &[Value],
    mut run: impl FnMut(usize, &[Value]) -> Result<(), DbError>,
) -> Result<(), DbError> {
    let mut rest = keys;
    while !rest.is_empty() {
        let n = chunk_rows(rest.len(), 1);
        let (now, later) = rest.split_at(n);
        let mut params = before.to_vec();
        params.extend_from_slice(now);
        run(n, &params)?;
        rest = later;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two_within_the_limits() {
        assert_eq!(chunk_rows(1, 12), 1);
        assert_eq!(chunk_rows(500, 12), 256);
        assert_eq!(chunk_rows(512, 12), 512);
        assert_eq!(chunk_rows(100_000, 2), 512);
        assert_eq!(chunk_rows(100_000, 100), 256);
        assert_eq!(chunk_rows(3, 40_000), 1);
        let mut rows = 1234;
        let mut chunks = 0;
        while rows > 0 {
            let n = chunk_rows(rows, 19);
            assert!(n.is_power_of_two() && n * 19 <= MAX_PARAMS && n <= rows);
            rows -= n;
            chunks += 1;
        }
        // 512 + 512 + 128 + 64 + 16 + 2
        assert_eq!(chunks, 6);
    }
}
