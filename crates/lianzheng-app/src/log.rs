//! The tamper-evident record (X1): every event row is a leaf of an RFC 6962 Merkle log, appended
//! in the same transaction as the event, with signed C2SP checkpoints, tiles, proofs, receipts,
//! an audit that recomputes everything, and erasure of personal data that keeps every proof valid.
//!
//! A leaf holds public fields only (what kind of subject, what kind of event, which department)
//! and a salted commitment to the full event row. The salt lives in the event row; erasing it
//! (with the personal data) leaves the leaf, the tree and every proof intact, and an `erasure`
//! event records the legal basis.
//!
//! Storage: `log_leaves` (index → encoded leaf), `log_hashes` (stored-hash index → hash, the Go
//! sumdb layout) and `log_checkpoints` (signed notes). The log size is the event sequence: leaf
//! `i` is event `seq = i + 1`.

use std::cell::RefCell;

use base64::Engine;
use jiff::Timestamp;
use lianzheng_tlog::checkpoint::{Checkpoint, LogSigner, verify_checkpoint};
use lianzheng_tlog::leaf::{LeafError, LeafRef, LeafV1, commitment};
use lianzheng_tlog::merkle::{self, Hash, HashReader};
use lianzheng_tlog::receipt::{Receipt, ReceiptExtra};
use lianzheng_tlog::tiles::{self, TilePath};
use serde::Serialize;

use crate::db::{DbError, Tx, Value};
use crate::{App, AppError, Principal, from_ms, ms};

/// The fields of an event row that its leaf commits to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFields {
    /// Sequence number (1-based); the leaf index is `seq - 1`.
    pub seq: i64,
    /// Subject type.
    pub subject_type: String,
    /// Subject id.
    pub subject_id: String,
    /// Kind.
    pub kind: String,
    /// Department code (empty for system events).
    pub department: String,
    /// Actor.
    pub actor: String,
    /// As the source says (ms).
    pub occurred_at: i64,
    /// Lianzheng's clock (ms).
    pub recorded_at: i64,
    /// Source.
    pub source: String,
    /// The sender's event id.
    pub source_event_id: Option<String>,
    /// Payload (JSON text).
    pub payload: String,
}

/// The leaf kind of a subject type (public).
pub fn leaf_kind(subject_type: &str) -> u8 {
    match subject_type {
        "case" => 1,
        "finding" => 2,
        "rating" => 3,
        "item" => 4,
        "department" => 5,
        "api_key" => 6,
        "user" => 7,
        "calendar" => 8,
        "rule_pack" => 9,
        "personal_data" => 10,
        "erasure" => 11,
        "log" => 12,
        _ => 0,
    }
}

impl EventFields {
    /// The canonical bytes the commitment covers: a compact JSON object with its keys in byte
    /// order holding every stored field, the payload as its stored text (a JSON string).
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.payload.len() + 256);
        self.write_canonical(&mut out);
        out
    }

    /// [`EventFields::canonical`] appended to `out`. Written field by field rather than through
    /// a JSON map, so that the bytes do not depend on how a map orders its keys (and so that the
    /// audit, which recomputes every record's, does not build one per record).
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        json_field(out, "actor", &self.actor);
        json_field(out, "department", &self.department);
        json_field(out, "kind", &self.kind);
        json_int_field(out, "occurred_at", self.occurred_at);
        json_field(out, "payload", &self.payload);
        json_int_field(out, "recorded_at", self.recorded_at);
        json_int_field(out, "seq", self.seq);
        json_field(out, "source", &self.source);
        match &self.source_event_id {
            Some(id) => json_field(out, "source_event_id", id),
            None => out.extend_from_slice(b"\"source_event_id\":null,"),
        }
        json_field(out, "subject_id", &self.subject_id);
        json_field(out, "subject_type", &self.subject_type);
        // The last field's comma closes the object.
        if let Some(last) = out.last_mut() {
            *last = b'}';
        }
    }

    /// The leaf: public fields in the clear, a salted commitment to the rest.
    pub fn leaf(&self, salt: &[u8; 32]) -> LeafV1 {
        self.leaf_ref(salt, &mut LeafScratch::default())
            .into_owned()
    }

    /// The encoding of [`EventFields::leaf`] written to `out` (cleared first), with the work
    /// buffers in `scratch`: encoding many leaves allocates nothing per leaf. The canonical
    /// bytes stay in `scratch` ([`LeafScratch::canonical`]).
    ///
    /// # Errors
    ///
    /// As [`LeafV1::encode`]: an over-long department, subject type or kind.
    pub fn encode_leaf(
        &self,
        salt: &[u8; 32],
        scratch: &mut LeafScratch,
        out: &mut Vec<u8>,
    ) -> Result<(), LeafError> {
        self.leaf_ref(salt, scratch).encode_into(out)
    }

    /// The leaf, its parts written to `scratch`.
    fn leaf_ref<'a>(&'a self, salt: &[u8; 32], scratch: &'a mut LeafScratch) -> LeafRef<'a> {
        scratch.canonical.clear();
        self.write_canonical(&mut scratch.canonical);
        self.leaf_parts(scratch);
        LeafRef {
            kind: leaf_kind(&self.subject_type),
            recorded_at_ms: u64::try_from(self.recorded_at).unwrap_or(0),
            authority: self.authority(),
            schema: &scratch.schema,
            commitment: commitment(salt, &scratch.canonical),
            public_fields: &scratch.public,
        }
    }

    /// The recording institution: the department, or Lianzheng itself for system events.
    fn authority(&self) -> &str {
        if self.department.is_empty() {
            "lianzheng"
        } else {
            &self.department
        }
    }

    /// The leaf's schema and public fields, written to `scratch`.
    fn leaf_parts(&self, scratch: &mut LeafScratch) {
        let public = &mut scratch.public;
        public.clear();
        public.push(b'{');
        json_field(public, "d", &self.department);
        json_field(public, "k", &self.kind);
        json_field(public, "t", &self.subject_type);
        if let Some(last) = public.last_mut() {
            *last = b'}';
        }
        let schema = &mut scratch.schema;
        schema.clear();
        schema.push_str(&self.subject_type);
        schema.push('.');
        schema.push_str(&self.kind);
        schema.push_str("/1");
    }
}

/// Work buffers reused from one leaf to the next by [`EventFields::encode_leaf`].
#[derive(Debug, Default)]
pub struct LeafScratch {
    canonical: Vec<u8>,
    public: Vec<u8>,
    schema: String,
}

impl LeafScratch {
    /// The canonical bytes of the last leaf encoded.
    pub fn canonical(&self) -> &[u8] {
        &self.canonical
    }
}

/// `"key":"value",` with the value escaped as JSON.
fn json_field(out: &mut Vec<u8>, key: &str, value: &str) {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    push_json_str(out, value);
    out.push(b',');
}

/// `s` as a JSON string, byte for byte as `serde_json` writes it: `"` and `\` escaped with a
/// backslash, the control characters as `\b \t \n \f \r` or `\u00XX` (lower-case hex), every
/// other character as it is. Written straight into `out` in runs between the characters to
/// escape; the audit writes every stored payload this way.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.extend_from_slice(&bytes[run..i]);
        run = i + 1;
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0x0f)],
            ]),
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// `"key":123,`.
fn json_int_field(out: &mut Vec<u8>, key: &str, value: i64) {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    out.push(b',');
}

/// Serves stored hashes from the database inside a transaction.
pub(crate) struct TxHashes<'a, 'b>(pub RefCell<&'a mut (dyn Tx + 'b)>);

impl HashReader for TxHashes<'_, '_> {
    type Error = DbError;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, DbError> {
        let mut out = Vec::with_capacity(indexes.len());
        let mut tx = self.0.borrow_mut();
        for chunk in indexes.chunks(200) {
            let sql = format!(
                "SELECT idx, hash FROM log_hashes WHERE idx IN ({})",
                crate::bulk::marks(chunk.len())
            );
            let params: Vec<Value> = chunk
                .iter()
                .map(|i| Value::Int(i64::try_from(*i).unwrap_or(i64::MAX)))
                .collect();
            let rows = tx.query(&sql, &params)?;
            let found: std::collections::HashMap<i64, Vec<u8>> =
                rows.iter().map(|r| (r.int(0), r.blob(1))).collect();
            for i in chunk {
                let h = found
                    .get(&i64::try_from(*i).unwrap_or(i64::MAX))
                    .and_then(|b| <Hash>::try_from(b.as_slice()).ok());
                match h {
                    Some(h) => out.push(h),
                    None => return Err(DbError::Missing(format!("stored hash {i}"))),
                }
            }
        }
        Ok(out)
    }
}

/// A failure of the tree over stored hashes is the database's (a dropped connection is
/// retryable: 503) or an inconsistency of the stored log (500) — never the caller's input.
fn storage_error(what: &str, e: merkle::MerkleError) -> AppError {
    match e {
        merkle::MerkleError::Storage(src) => match src.downcast::<DbError>() {
            Ok(db) => AppError::Db(*db),
            Err(other) => AppError::Db(DbError::Missing(format!("{what}: {other}"))),
        },
        other => AppError::Db(DbError::Missing(format!("{what}: {other}"))),
    }
}

/// Appends leaves for events `first_seq ..` in this transaction: the leaf rows and the new
/// stored hashes. `size` is the log size before them.
pub fn append(tx: &mut dyn Tx, size: u64, leaves: &[Vec<u8>]) -> Result<(), AppError> {
    if leaves.is_empty() {
        return Ok(());
    }
    let hashes: Vec<Hash> = leaves.iter().map(|l| merkle::leaf_hash(l)).collect();
    let stored = {
        let reader = TxHashes(RefCell::new(&mut *tx));
        merkle::append_leaves(size, &hashes, &reader).map_err(|e| storage_error("log append", e))?
    };
    // Multi-row inserts: a round trip per few hundred rows, not per row.
    let rows: Vec<Value> = leaves
        .iter()
        .enumerate()
        .flat_map(|(i, leaf)| {
            [
                Value::Int((size + i as u64) as i64),
                Value::Blob(leaf.clone()),
            ]
        })
        .collect();
    crate::bulk::insert_rows(tx, "INSERT INTO log_leaves (idx, leaf)", 2, "", &rows)?;
    let rows: Vec<Value> = stored
        .into_iter()
        .flat_map(|(idx, h)| [Value::Int(idx as i64), Value::Blob(h.to_vec())])
        .collect();
    crate::bulk::insert_rows(tx, "INSERT INTO log_hashes (idx, hash)", 2, "", &rows)?;
    Ok(())
}

/// An event's fields with its salt (`None` once erased).
type StoredEvent = (EventFields, Option<Vec<u8>>);

/// A problem the audit found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditProblem {
    /// The event sequence number (or log index + 1) concerned, 0 for the log as a whole.
    pub seq: i64,
    /// What is wrong.
    pub problem: String,
}

/// What the audit found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditReport {
    /// Events checked.
    pub events: u64,
    /// Leaves in the log.
    pub leaves: u64,
    /// Records whose personal data was erased under a recorded legal basis.
    pub erased: u64,
    /// The checkpoint checked against, if any.
    pub checkpoint_size: Option<u64>,
    /// Bytes hashed.
    pub bytes_hashed: u64,
    /// Problems: edited, inserted, reordered or deleted records.
    pub problems: Vec<AuditProblem>,
}

impl AuditReport {
    /// Whether the record is intact.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A stored checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct StoredCheckpoint {
    /// Tree size.
    pub size: u64,
    /// The signed note.
    pub note: String,
    /// When it was signed.
    pub signed_at: Timestamp,
}

fn b64(h: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(h)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl App {
    /// Brings the log up to the event sequence after an upgrade from a schema without the log
    /// (migration 2): events recorded before the log existed get a salt and a leaf, in order.
    /// Does nothing on a database whose log is complete. Returns the leaves appended.
    pub fn backfill_log(&self) -> Result<u64, AppError> {
        // Only a log that was never started is filled: rows that appear later without a leaf
        // are exactly what the audit must report, not log.
        let started = self.db.read(|tx| {
            Ok::<_, AppError>(
                tx.query_opt("SELECT 1 FROM log_leaves LIMIT 1", &[])?
                    .is_some(),
            )
        })?;
        if started {
            return Ok(0);
        }
        let mut appended = 0u64;
        loop {
            let n = self.db.write(|tx| {
                let leaves = to_u64(tx.query_opt("SELECT COUNT(*) FROM log_leaves", &[])?.map_or(0, |r| r.int(0)));
                let rows = tx.query(
                    "SELECT seq, subject_type, subject_id, kind, department, actor, occurred_at, recorded_at, source, source_event_id, payload, salt FROM events WHERE seq > ? ORDER BY seq LIMIT 5000",
                    &[Value::Int(leaves as i64)],
                )?;
                let mut batch = Vec::with_capacity(rows.len());
                let mut scratch = LeafScratch::default();
                for (i, mut r) in rows.into_iter().enumerate() {
                    let f = fields_of(&mut r);
                    if to_u64(f.seq) != leaves + i as u64 + 1 || r.opt_blob(11).is_some() {
                        // A gap, or a row that already had a leaf: not an upgrade; the audit
                        // reports it instead.
                        break;
                    }
                    let mut salt = [0u8; 32];
                    self.random(&mut salt);
                    tx.exec("UPDATE events SET salt = ? WHERE seq = ?", &[Value::Blob(salt.to_vec()), f.seq.into()])?;
                    let mut leaf = Vec::new();
                    f.encode_leaf(&salt, &mut scratch, &mut leaf).map_err(|e| AppError::Invalid(e.to_string()))?;
                    batch.push(leaf);
                }
                append(tx, leaves, &batch)?;
                Ok::<_, AppError>(batch.len() as u64)
            })?;
            appended += n;
            if n == 0 {
                return Ok(appended);
            }
        }
    }

    /// The log size: the number of events.
    pub fn log_size(&self) -> Result<u64, AppError> {
        self.db.read(|tx| {
            Ok(to_u64(
                tx.query_opt("SELECT value FROM counters WHERE name = 'event_seq'", &[])?
                    .map_or(0, |r| r.int(0)),
            ))
        })
    }

    /// Signs a checkpoint of the current log if it grew since the last one. Returns the new
    /// checkpoint, or `None` when there was nothing new.
    pub fn checkpoint(&self, signer: &LogSigner) -> Result<Option<StoredCheckpoint>, AppError> {
        let now = self.now();
        self.db.write(|tx| {
            let size = to_u64(
                tx.query_opt("SELECT value FROM counters WHERE name = 'event_seq'", &[])?
                    .map_or(0, |r| r.int(0)),
            );
            let last = tx
                .query_opt("SELECT MAX(size) FROM log_checkpoints", &[])?
                .and_then(|r| r.opt_int(0));
            if last.is_some_and(|l| to_u64(l) >= size) || size == 0 {
                return Ok(None);
            }
            let root = {
                let reader = TxHashes(RefCell::new(&mut *tx));
                merkle::tree_root(size, &reader).map_err(|e| storage_error("log root", e))?
            };
            let cp = Checkpoint {
                origin: signer.name().to_string(),
                size,
                root,
            };
            let note = signer
                .sign_checkpoint(&cp)
                .map_err(|e| AppError::Invalid(format!("signing: {e}")))?;
            tx.exec(
                "INSERT INTO log_checkpoints (size, root, note, signed_at) VALUES (?, ?, ?, ?)",
                &[
                    Value::Int(size as i64),
                    Value::Blob(root.to_vec()),
                    note.clone().into(),
                    ms(now).into(),
                ],
            )?;
            Ok(Some(StoredCheckpoint {
                size,
                note,
                signed_at: now,
            }))
        })
    }

    /// The newest checkpoint.
    pub fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, AppError> {
        self.db.read(|tx| {
            Ok(tx
                .query_opt(
                    "SELECT size, note, signed_at FROM log_checkpoints ORDER BY size DESC LIMIT 1",
                    &[],
                )?
                .map(|r| StoredCheckpoint {
                    size: to_u64(r.int(0)),
                    note: r.text(1),
                    signed_at: from_ms(r.int(2)),
                }))
        })
    }

    /// The checkpoint of a given size, if one was signed.
    pub fn checkpoint_at(&self, size: u64) -> Result<Option<StoredCheckpoint>, AppError> {
        self.db.read(|tx| {
            Ok(tx
                .query_opt(
                    "SELECT size, note, signed_at FROM log_checkpoints WHERE size = ?",
                    &[Value::Int(size as i64)],
                )?
                .map(|r| StoredCheckpoint {
                    size: to_u64(r.int(0)),
                    note: r.text(1),
                    signed_at: from_ms(r.int(2)),
                }))
        })
    }

    /// An inclusion proof of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, AppError> {
        if index >= size || size > self.log_size()? {
            return Err(AppError::Invalid(format!(
                "index {index} is not in a tree of size {size} within the log"
            )));
        }
        self.db.read(|tx| {
            let reader = TxHashes(RefCell::new(tx));
            merkle::inclusion_proof(index, size, &reader)
                .map_err(|e| AppError::Invalid(e.to_string()))
        })
    }

    /// A consistency proof from the tree of `from` leaves to the tree of `to` leaves.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, AppError> {
        if from == 0 || from > to || to > self.log_size()? {
            return Err(AppError::Invalid(format!(
                "sizes {from} → {to} must satisfy 0 < from ≤ to ≤ log size"
            )));
        }
        self.db.read(|tx| {
            let reader = TxHashes(RefCell::new(tx));
            merkle::consistency_proof(from, to, &reader)
                .map_err(|e| AppError::Invalid(e.to_string()))
        })
    }

    /// A tile or entry bundle by its C2SP path (`tile/0/x001/234`, `tile/entries/000.p/7` …),
    /// within the newest checkpoint. Returns the bytes and whether the tile is full (immutable).
    pub fn tile(&self, path: &str) -> Result<(Vec<u8>, bool), AppError> {
        let size = self.latest_checkpoint()?.map_or(0, |c| c.size);
        let parsed = tiles::parse_tile_path(path).map_err(|e| AppError::NotFound {
            what: "tile",
            id: format!("{path}: {e}"),
        })?;
        let not_found = || AppError::NotFound {
            what: "tile",
            id: path.to_string(),
        };
        match parsed {
            TilePath::Hashes(coord) => {
                // Level-L tiles cover 256^(L+1) leaves each; the tile exists up to the checkpoint.
                let span = 256u64
                    .checked_pow(u32::from(coord.level))
                    .ok_or_else(not_found)?;
                let available = size / span;
                let end = coord
                    .index
                    .checked_mul(256)
                    .and_then(|x| x.checked_add(u64::from(coord.width)))
                    .ok_or_else(not_found)?;
                if end > available {
                    return Err(not_found());
                }
                let full = coord.is_full();
                self.db.read(|tx| {
                    let reader = TxHashes(RefCell::new(tx));
                    tiles::tile_bytes(coord.level, coord.index, coord.width, &reader)
                        .map(|b| (b, full))
                        .map_err(|e| AppError::Invalid(e.to_string()))
                })
            }
            TilePath::Entries { index, width } => {
                let first = index.checked_mul(256).ok_or_else(not_found)?;
                if first + u64::from(width) > size {
                    return Err(not_found());
                }
                let rows = self.db.read(|tx| {
                    Ok::<_, AppError>(tx.query(
                        "SELECT leaf FROM log_leaves WHERE idx >= ? AND idx < ? ORDER BY idx",
                        &[
                            Value::Int(first as i64),
                            Value::Int((first + u64::from(width)) as i64),
                        ],
                    )?)
                })?;
                let leaves: Vec<Vec<u8>> = rows.iter().map(|r| r.blob(0)).collect();
                let bundle =
                    tiles::entry_bundle(&leaves).map_err(|e| AppError::Invalid(e.to_string()))?;
                Ok((bundle, width == 256))
            }
        }
    }

    /// The event fields and salt of one event.
    fn event_fields(tx: &mut dyn Tx, seq: i64) -> Result<Option<StoredEvent>, AppError> {
        Ok(tx
            .query_opt(
                "SELECT seq, subject_type, subject_id, kind, department, actor, occurred_at, recorded_at, source, source_event_id, payload, salt FROM events WHERE seq = ?",
                &[seq.into()],
            )?
            .map(|mut r| (fields_of(&mut r), r.opt_blob(11))))
    }

    /// An offline receipt (C2SP tlog-proof) for an event of a case, for its applicant: the
    /// event's leaf, its salt and committed bytes in `extra`, the inclusion proof and the newest
    /// checkpoint. A wrong query code answers like an unknown case.
    pub fn case_receipt(
        &self,
        case_no: &str,
        query_code: &str,
        seq: i64,
    ) -> Result<String, AppError> {
        let not_found = || AppError::NotFound {
            what: "record",
            id: format!("{case_no}#{seq}"),
        };
        let code = self.db.read(|tx| {
            Ok::<_, AppError>(tx.query_opt(
                "SELECT query_code FROM case_parties WHERE case_no = ?",
                &[case_no.into()],
            )?)
        })?;
        let Some(code) = code else {
            return Err(not_found());
        };
        if code.text(0).as_bytes() != query_code.trim().as_bytes() {
            return Err(not_found());
        }
        let (fields, salt) = self
            .db
            .read(|tx| App::event_fields(tx, seq))?
            .ok_or_else(not_found)?;
        if fields.subject_type != "case" || fields.subject_id != case_no {
            return Err(not_found());
        }
        let salt: [u8; 32] = salt
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| AppError::Conflict("this record's personal data was erased".into()))?;
        let cp = self.latest_checkpoint()?.ok_or_else(|| {
            AppError::Conflict(
                "no checkpoint covers this record yet; retry in a few seconds".into(),
            )
        })?;
        let index = to_u64(seq - 1);
        if index >= cp.size {
            return Err(AppError::Conflict(
                "no checkpoint covers this record yet; retry in a few seconds".into(),
            ));
        }
        let leaf = self
            .db
            .read(|tx| {
                Ok::<_, AppError>(tx.query_opt(
                    "SELECT leaf FROM log_leaves WHERE idx = ?",
                    &[Value::Int(index as i64)],
                )?)
            })?
            .ok_or_else(not_found)?;
        let proof = self.inclusion_proof(index, cp.size)?;
        let extra = ReceiptExtra {
            leaf: leaf.blob(0),
            salt,
            payload: fields.canonical(),
        };
        Ok(Receipt {
            extra: Some(extra.to_json()),
            index,
            proof,
            checkpoint_note: cp.note,
        }
        .to_text())
    }

    /// Erases the personal data of a case (administrators): the applicant's data and the salts
    /// of its events are destroyed, and an erasure event records the legal basis. The log and
    /// every proof stay valid; the audit accounts for the erasure.
    pub fn erase_case(
        &self,
        principal: &Principal,
        case_no: &str,
        basis: &str,
    ) -> Result<usize, AppError> {
        may_erase(principal, basis)?;
        let actor = principal.source();
        crate::ingest::with_writer(self, |w| {
            let seqs: Vec<i64> = w
                .tx
                .query("SELECT seq FROM events WHERE subject_type = 'case' AND subject_id = ? AND salt IS NOT NULL ORDER BY seq", &[case_no.into()])?
                .iter()
                .map(|r| r.int(0))
                .collect();
            if seqs.is_empty() {
                return Err(AppError::NotFound {
                    what: "case",
                    id: case_no.to_string(),
                });
            }
            for s in &seqs {
                w.tx.exec(
                    "UPDATE events SET salt = NULL, payload = ? WHERE seq = ?",
                    &[r#"{"erased":true}"#.into(), (*s).into()],
                )?;
            }
            w.tx.exec(
                "UPDATE case_parties SET applicant = ? WHERE case_no = ?",
                &[r#"{"name":"（已依法删除）"}"#.into(), case_no.into()],
            )?;
            let payload = serde_json::json!({"erased_seqs": seqs, "basis": basis});
            crate::ingest::log_admin_event(w, "erasure", case_no, "erased", &actor, payload)?;
            Ok(seqs.len())
        })
    }

    /// Erases the personal data of a complaint (the complainant's name, phone, identity number
    /// and contact, and the complaint's text) under a legal basis. They live only in
    /// `complaint_parties`, never in an event, so the log is untouched; the erasure itself is
    /// on record. The complaint, its steps and its public fields stay. Administrators only.
    pub fn erase_complaint(
        &self,
        principal: &Principal,
        complaint_no: &str,
        basis: &str,
    ) -> Result<(), AppError> {
        may_erase(principal, basis)?;
        let actor = principal.source();
        crate::ingest::with_writer(self, |w| {
            let erased = "（已依法删除）";
            let n = w.tx.exec(
                "UPDATE complaint_parties SET name = ?, phone = ?, id_no = ?, contact = ?, content = ? WHERE complaint_no = ?",
                &[erased.into(), erased.into(), erased.into(), erased.into(), erased.into(), complaint_no.into()],
            )?;
            if n == 0 {
                return Err(AppError::NotFound {
                    what: "complaint",
                    id: complaint_no.to_string(),
                });
            }
            let payload = serde_json::json!({
                "complaint_no": complaint_no, "basis": basis,
                "erased": ["name", "phone", "id_no", "contact", "content"],
            });
            crate::ingest::log_admin_event(
                w,
                "erasure",
                complaint_no,
                "complaint_erased",
                &actor,
                payload,
            )?;
            Ok(())
        })
    }

    /// Records the start of a new log shard (a new origin and key, e.g. for a new year): the
    /// previous shard's final signed checkpoint goes into the record as a `shard_link` event,
    /// so the new log carries the old one's last word. Administrators only.
    pub fn link_shard(
        &self,
        principal: &Principal,
        previous_checkpoint: &str,
        previous_vkey: &str,
        new_vkey: &str,
    ) -> Result<i64, AppError> {
        if !matches!(principal, Principal::Admin { .. }) {
            return Err(AppError::Forbidden(
                "only administrators rotate the log key".into(),
            ));
        }
        let old = verify_checkpoint(previous_checkpoint, previous_vkey).map_err(|e| {
            AppError::Invalid(format!("the previous checkpoint does not verify: {e}"))
        })?;
        let actor = principal.source();
        crate::ingest::with_writer(self, |w| {
            let payload = serde_json::json!({
                "previous_origin": old.origin, "previous_size": old.size, "previous_checkpoint": previous_checkpoint,
                "previous_vkey": previous_vkey, "new_vkey": new_vkey,
            });
            crate::ingest::log_admin_event(w, "log", &old.origin, "shard_link", &actor, payload)
        })
    }

    /// Recomputes every record's leaf from the database and checks it against the log, and the
    /// log against the newest signed checkpoint (verified with `vkey`). Any edited, inserted,
    /// reordered or deleted record is reported by sequence number.
    pub fn audit(&self, vkey: Option<&str>) -> Result<AuditReport, AppError> {
        let mut report = AuditReport::default();
        let size = self.log_size()?;
        let leaves_count = self.db.read(|tx| {
            Ok::<_, AppError>(to_u64(
                tx.query_opt("SELECT COUNT(*) FROM log_leaves", &[])?
                    .map_or(0, |r| r.int(0)),
            ))
        })?;
        report.leaves = leaves_count;
        if leaves_count != size {
            report.problems.push(AuditProblem {
                seq: 0,
                problem: format!(
                    "the log holds {leaves_count} leaves but the event sequence is at {size}"
                ),
            });
        }
        // Erasures on record.
        let mut erased = std::collections::BTreeSet::new();
        self.db.read(|tx| {
            for r in tx.query(
                "SELECT payload FROM events WHERE subject_type = 'erasure'",
                &[],
            )? {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&r.text(0))
                    && let Some(a) = v.get("erased_seqs").and_then(|a| a.as_array())
                {
                    erased.extend(a.iter().filter_map(serde_json::Value::as_i64));
                }
            }
            Ok::<_, AppError>(())
        })?;
        // Walk events and leaves together, page by page of sequence numbers. Leaf `i` belongs
        // to event `i + 1`.
        let max_seq = self.db.read(|tx| {
            Ok::<_, AppError>(to_u64(
                tx.query_opt("SELECT MAX(seq) FROM events", &[])?
                    .map_or(0, |r| r.int(0)),
            ))
        })?;
        let total = size.max(leaves_count).max(max_seq);
        // The newest checkpoint, to compare the log's root with once that many leaves are in.
        let mut expected: Option<Checkpoint> = None;
        if let Some(cp) = self.latest_checkpoint()? {
            report.checkpoint_size = Some(cp.size);
            let signed = match vkey {
                Some(k) => verify_checkpoint(&cp.note, k)
                    .map_err(|e| format!("the newest checkpoint does not verify: {e}")),
                None => Checkpoint::parse(
                    cp.note
                        .split("\n\n")
                        .next()
                        .map(|t| format!("{t}\n"))
                        .as_deref()
                        .unwrap_or(""),
                )
                .map_err(|e| e.to_string()),
            };
            match signed {
                Err(e) => report.problems.push(AuditProblem { seq: 0, problem: e }),
                Ok(c) => expected = Some(c),
            }
        }
        // Pages of sequence numbers are read and checked by several threads at once; their
        // leaf hashes go into the tree here, in order, so memory stays flat in the log's size.
        // A page of 2,000 rows is about 2 MB in memory (20,000 spent a tenth of the time on the
        // kernel zeroing fresh pages for the rows).
        let page = 2_000u64;
        let pages = total.div_ceil(page);
        let workers = std::thread::available_parallelism()
            .map_or(2, usize::from)
            .clamp(2, 4);
        let next = std::sync::atomic::AtomicU64::new(0);
        let (done_tx, done_rx) =
            std::sync::mpsc::sync_channel::<(u64, Result<PageAudit, AppError>)>(workers * 2);
        let mut tree = RootBuilder::default();
        let mut root_at_checkpoint = None;
        std::thread::scope(|scope| -> Result<(), AppError> {
            for _ in 0..workers {
                let done_tx = done_tx.clone();
                let (next, erased) = (&next, &erased);
                scope.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= pages {
                            return;
                        }
                        let start = i * page;
                        let end = (start + page).min(total);
                        let result = self.audit_page(start, end, size, erased);
                        let failed = result.is_err();
                        if done_tx.send((i, result)).is_err() || failed {
                            return;
                        }
                    }
                });
            }
            drop(done_tx);
            // Pages finish out of order; they are taken in order.
            let mut waiting = std::collections::BTreeMap::new();
            let mut want = 0u64;
            for (i, result) in done_rx {
                waiting.insert(i, result?);
                while let Some(p) = waiting.remove(&want) {
                    report.events += p.events;
                    report.erased += p.erased;
                    report.bytes_hashed += p.bytes_hashed;
                    report.problems.extend(p.problems);
                    for h in p.leaf_hashes {
                        if let Some(c) = &expected
                            && tree.size == c.size
                        {
                            root_at_checkpoint = Some(tree.root());
                        }
                        tree.push(h);
                    }
                    want += 1;
                }
            }
            Ok(())
        })?;
        if let Some(c) = &expected {
            if tree.size == c.size {
                root_at_checkpoint = Some(tree.root());
            }
            match root_at_checkpoint {
                None => report.problems.push(AuditProblem {
                    seq: 0,
                    problem: format!(
                        "the checkpoint covers {} leaves but the log holds {}",
                        c.size, tree.size
                    ),
                }),
                Some(root) if root != c.root => report.problems.push(AuditProblem {
                    seq: 0,
                    problem: format!(
                        "the log's leaves do not hash to the signed root of size {}",
                        c.size
                    ),
                }),
                Some(_) => {}
            }
        }
        Ok(report)
    }

    /// Reads and checks the events with `start < seq <= end` and the leaves with
    /// `start <= idx < end`.
    fn audit_page(
        &self,
        start: u64,
        end: u64,
        size: u64,
        erased: &std::collections::BTreeSet<i64>,
    ) -> Result<PageAudit, AppError> {
        // The `LIMIT` (the range's size, which the keys cannot exceed) makes PostgreSQL's
        // generic plan walk the key's index in order; without it the plan was a bitmap scan and
        // a sort of the page, 1.0–1.2 ms of the server's time a page against 0.2–0.3 ms.
        let range = [
            Value::Int(start as i64),
            Value::Int(end as i64),
            Value::Int((end - start) as i64),
        ];
        let (events, leaves) = self.db.read(|tx| {
            let e = tx.query(
                "SELECT seq, subject_type, subject_id, kind, department, actor, occurred_at, recorded_at, source, source_event_id, payload, salt FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                &range,
            )?;
            let l = tx.query(
                "SELECT idx, leaf FROM log_leaves WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT ?",
                &range,
            )?;
            Ok::<_, AppError>((e, l))
        })?;
        let mut out = PageAudit {
            leaf_hashes: Vec::with_capacity(leaves.len()),
            ..PageAudit::default()
        };
        let problem = |seq: i64, text: &str| AuditProblem {
            seq,
            problem: text.to_string(),
        };
        let (mut scratch, mut recomputed) = (LeafScratch::default(), Vec::with_capacity(512));
        let mut events = events.into_iter().peekable();
        let mut leaves = leaves.iter().peekable();
        for seq in (start as i64 + 1)..=(end as i64) {
            // Leaf `i` belongs to event `i + 1`; both lists are in order.
            let event = events.next_if(|r| r.int(0) == seq);
            let leaf = leaves.next_if(|r| r.int(0) == seq - 1);
            if let Some(l) = leaf {
                out.leaf_hashes
                    .push(merkle::leaf_hash(l.blob_ref(1).unwrap_or_default()));
            }
            let (mut r, leaf) = match (event, leaf) {
                (Some(r), Some(l)) => (r, l.blob_ref(1).unwrap_or_default()),
                (None, Some(_)) => {
                    out.problems.push(problem(
                        seq,
                        "record deleted: its leaf is in the log but the event is gone",
                    ));
                    continue;
                }
                (Some(_), None) => {
                    out.events += 1;
                    out.problems
                        .push(problem(seq, "record inserted: no leaf in the log for it"));
                    continue;
                }
                (None, None) => {
                    if to_u64(seq) <= size {
                        out.problems
                            .push(problem(seq, "record deleted together with its leaf"));
                    }
                    continue;
                }
            };
            out.events += 1;
            out.bytes_hashed += leaf.len() as u64;
            match r.blob_ref(11).and_then(|s| <[u8; 32]>::try_from(s).ok()) {
                Some(salt) => {
                    let f = fields_of(&mut r);
                    // An error leaves `recomputed` empty, which matches no stored leaf.
                    let _ = f.encode_leaf(&salt, &mut scratch, &mut recomputed);
                    out.bytes_hashed += scratch.canonical().len() as u64 + 64;
                    if recomputed != leaf {
                        out.problems.push(problem(
                            seq,
                            "record edited or moved: it no longer matches its leaf",
                        ));
                    }
                }
                None if erased.contains(&seq) => out.erased += 1,
                None => out.problems.push(problem(
                    seq,
                    "record edited: its commitment salt is gone without an erasure on record",
                )),
            }
        }
        Ok(out)
    }
}

/// What one page of the audit found.
#[derive(Default)]
struct PageAudit {
    events: u64,
    erased: u64,
    bytes_hashed: u64,
    leaf_hashes: Vec<Hash>,
    problems: Vec<AuditProblem>,
}

/// The RFC 6962 root of a growing list of leaf hashes, from a stack of the complete subtrees
/// (at most one per height): memory logarithmic in the number of leaves.
#[derive(Default)]
struct RootBuilder {
    size: u64,
    stack: Vec<(u32, Hash)>,
}

impl RootBuilder {
    fn push(&mut self, leaf: Hash) {
        // Merging equal heights builds the left-full tree of RFC 6962.
        let mut cur = (0u32, leaf);
        while let Some(&(height, top)) = self.stack.last() {
            if height != cur.0 {
                break;
            }
            self.stack.pop();
            cur = (height + 1, merkle::node_hash(&top, &cur.1));
        }
        self.stack.push(cur);
        self.size += 1;
    }

    /// The root of the leaves so far: the right edge folded into the subtrees to its left.
    fn root(&self) -> Hash {
        let mut rest = self.stack.iter().rev();
        let Some((_, mut acc)) = rest.next().copied() else {
            return merkle::EMPTY_ROOT;
        };
        for (_, left) in rest {
            acc = merkle::node_hash(left, &acc);
        }
        acc
    }
}

/// The event fields of a row of `SELECT seq, subject_type, … payload`, its texts moved out.
fn fields_of(r: &mut crate::db::Row) -> EventFields {
    EventFields {
        seq: r.int(0),
        subject_type: r.take_text(1),
        subject_id: r.take_text(2),
        kind: r.take_text(3),
        department: r.take_text(4),
        actor: r.take_text(5),
        occurred_at: r.int(6),
        recorded_at: r.int(7),
        source: r.take_text(8),
        source_event_id: r.take_opt_text(9),
        payload: r.take_text(10),
    }
}

/// Erasures are for administrators, under a stated legal basis.
fn may_erase(principal: &Principal, basis: &str) -> Result<(), AppError> {
    if !matches!(principal, Principal::Admin { .. }) {
        return Err(AppError::Forbidden(
            "only administrators erase personal data".into(),
        ));
    }
    if basis.trim().is_empty() {
        return Err(AppError::Invalid("an erasure needs its legal basis".into()));
    }
    Ok(())
}

/// RFC 6962 root of a list of leaf hashes, computed bottom-up with a stack (no storage).
pub fn root_of(leaves: &[Hash]) -> Hash {
    let mut tree = RootBuilder::default();
    for h in leaves {
        tree.push(*h);
    }
    tree.root()
}

/// Base64 of a hash, as C2SP writes them.
pub fn hash_b64(h: &Hash) -> String {
    b64(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn serde_str(s: &str) -> Vec<u8> {
        serde_json::to_vec(s).unwrap_or_default()
    }

    #[test]
    fn json_strings_are_written_as_serde_json_writes_them() {
        // Every ASCII character, alone and between others, and some beyond ASCII.
        for c in (0u8..0x80)
            .map(char::from)
            .chain(['é', '廉', '\u{2028}', '😀'])
        {
            for s in [c.to_string(), format!("a{c}b{c}{c}"), format!("{c}\"x\\")] {
                let mut out = Vec::new();
                push_json_str(&mut out, &s);
                assert_eq!(out, serde_str(&s), "{s:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn any_string_is_written_as_serde_json_writes_it(s in any::<String>(), prefix in "[a-z\"]{0,3}") {
            let mut out = prefix.clone().into_bytes();
            push_json_str(&mut out, &s);
            let mut want = prefix.into_bytes();
            want.extend(serde_str(&s));
            prop_assert_eq!(out, want);
        }

        #[test]
        fn an_encoded_leaf_is_the_leaf_encoded(
            payload in any::<String>(), department in "[A-Z]{0,6}", kind in "[a-z_]{1,12}",
            actor in any::<String>(), id in proptest::option::of("[0-9a-f-]{1,20}"), salt in any::<[u8; 32]>(),
        ) {
            let f = EventFields {
                seq: 7, subject_type: "case".into(), subject_id: "20260302XZSP00001".into(), kind,
                department, actor, occurred_at: 1_772_413_200_000, recorded_at: 1_772_413_260_000,
                source: "api".into(), source_event_id: id, payload,
            };
            let (mut scratch, mut out) = (LeafScratch::default(), vec![1, 2, 3]);
            // Twice with the same buffers: nothing of the first is left in the second.
            for _ in 0..2 {
                f.encode_leaf(&salt, &mut scratch, &mut out).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(&out, &f.leaf(&salt).encode().map_err(|e| TestCaseError::fail(e.to_string()))?);
                let canonical = f.canonical();
                prop_assert_eq!(scratch.canonical(), canonical.as_slice());
            }
        }
    }
}
