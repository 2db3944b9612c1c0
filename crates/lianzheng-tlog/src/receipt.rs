//! Offline receipts in the C2SP `tlog-proof` format (`c2sp.org/tlog-proof@v1`).
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64>          optional, unauthenticated application data
//! index <n>
//! <base64 hash>           inclusion proof, leaf sibling first, one per line
//!
//! <checkpoint note, verbatim, with the log signature and any cosignatures>
//! ```
//!
//! Anyone holding a receipt, the leaf bytes and the log's verifier key can check, offline,
//! that the log signed a tree containing that leaf. Lianzheng's self-contained receipts put a
//! JSON object `{"leaf", "salt", "payload"}` (base64 values) in `extra`, so that a citizen's
//! file also proves which private payload the leaf commits to ([`ReceiptExtra`]).
//!
//! Witness quorum policies (`tlog-policy`) are not checked here.

use crate::checkpoint::{self, Checkpoint, CheckpointError};
use crate::leaf::{self, LeafError, LeafV1};
use crate::merkle::{self, Hash, MerkleError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use thiserror::Error;

/// First line of every receipt.
pub const RECEIPT_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Longest inclusion proof (any `u64` tree size).
const MAX_PROOF_LINES: usize = 64;

/// An offline inclusion receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Optional application data, not authenticated by the log.
    pub extra: Option<Vec<u8>>,
    /// Zero-based leaf index.
    pub index: u64,
    /// Inclusion proof of the leaf in the checkpoint's tree.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint_note: String,
}

/// The content of `extra` in a self-contained receipt: the leaf and the private data it
/// commits to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptExtra {
    /// The encoded [`LeafV1`].
    pub leaf: Vec<u8>,
    /// The commitment salt.
    pub salt: [u8; 32],
    /// The private payload.
    pub payload: Vec<u8>,
}

/// What a self-contained receipt proves once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRecord {
    /// The signed checkpoint whose tree includes the leaf.
    pub checkpoint: Checkpoint,
    /// The decoded leaf.
    pub leaf: LeafV1,
    /// The private payload, bound to the leaf by its commitment.
    pub payload: Vec<u8>,
}

/// Errors from parsing or verifying receipts.
#[derive(Debug, Error)]
pub enum ReceiptError {
    /// The text is not a well-formed `tlog-proof`.
    #[error("malformed receipt: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The checkpoint is malformed or its signature does not verify.
    #[error("receipt checkpoint is not valid")]
    Checkpoint(#[from] CheckpointError),
    /// The inclusion proof does not verify against the checkpoint.
    #[error("inclusion proof does not verify against the checkpoint")]
    Inclusion(#[from] MerkleError),
    /// A self-contained receipt needs `extra`.
    #[error("receipt has no extra data")]
    NoExtra,
    /// `extra` is not the expected JSON object.
    #[error("receipt extra data is malformed: {reason}")]
    MalformedExtra {
        /// What is wrong.
        reason: String,
    },
    /// The leaf in `extra` does not decode.
    #[error("receipt leaf does not decode")]
    Leaf(#[from] LeafError),
    /// Salt and payload do not produce the leaf's commitment.
    #[error("payload and salt do not match the leaf commitment")]
    CommitmentMismatch,
}

impl Receipt {
    /// The receipt in `tlog-proof` text form.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(RECEIPT_HEADER);
        out.push('\n');
        if let Some(extra) = &self.extra {
            out.push_str("extra ");
            out.push_str(&BASE64.encode(extra));
            out.push('\n');
        }
        out.push_str(&format!("index {}\n", self.index));
        for hash in &self.proof {
            out.push_str(&BASE64.encode(hash));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint_note);
        out
    }

    /// Parses a receipt strictly. The checkpoint note must be a syntactically valid signed
    /// checkpoint; its signature is checked by [`Receipt::verify`].
    ///
    /// # Errors
    ///
    /// [`ReceiptError::Malformed`], or [`ReceiptError::Checkpoint`] for a malformed note.
    pub fn parse(text: &str) -> Result<Receipt, ReceiptError> {
        let malformed = |reason| ReceiptError::Malformed { reason };
        let mut rest = text;
        let mut next_line = |what| {
            let (line, tail) = rest.split_once('\n').ok_or(malformed(what))?;
            rest = tail;
            Ok::<&str, ReceiptError>(line)
        };

        if next_line("missing header line")? != RECEIPT_HEADER {
            return Err(malformed("first line is not `c2sp.org/tlog-proof@v1`"));
        }
        let mut line = next_line("missing index line")?;
        let extra = match line.strip_prefix("extra ") {
            Some(data) => {
                let extra = BASE64
                    .decode(data)
                    .map_err(|_| malformed("extra data is not valid base64"))?;
                line = next_line("missing index line")?;
                Some(extra)
            }
            None => None,
        };
        let index = line
            .strip_prefix("index ")
            .and_then(crate::parse_canonical_decimal)
            .ok_or(malformed(
                "expected `index <n>` with a canonical decimal index",
            ))?;
        let mut proof = Vec::new();
        loop {
            let line = next_line("missing empty line before the checkpoint")?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(malformed("inclusion proof has more than 64 hashes"));
            }
            let hash = BASE64
                .decode(line)
                .ok()
                .and_then(|h| Hash::try_from(h).ok())
                .ok_or(malformed("proof line is not base64 of a 32-byte hash"))?;
            proof.push(hash);
        }
        let checkpoint_note = rest;
        checkpoint::parse_unverified(checkpoint_note)?;
        Ok(Receipt {
            extra,
            index,
            proof,
            checkpoint_note: checkpoint_note.to_owned(),
        })
    }

    /// Verifies the receipt for `leaf_bytes`: the checkpoint must carry a valid signature by
    /// `vkey_text`, and the proof must show `leaf_hash(leaf_bytes)` at `index` in its tree.
    /// Returns the verified checkpoint; callers that expect a particular origin or a minimum
    /// size must compare.
    ///
    /// # Errors
    ///
    /// [`ReceiptError::Checkpoint`] or [`ReceiptError::Inclusion`].
    pub fn verify(&self, leaf_bytes: &[u8], vkey_text: &str) -> Result<Checkpoint, ReceiptError> {
        let checkpoint = checkpoint::verify_checkpoint(&self.checkpoint_note, vkey_text)?;
        merkle::verify_inclusion(
            self.index,
            checkpoint.size,
            &merkle::leaf_hash(leaf_bytes),
            &self.proof,
            &checkpoint.root,
        )?;
        Ok(checkpoint)
    }

    /// Verifies a self-contained receipt: `extra` must hold a [`ReceiptExtra`]; the leaf must
    /// decode, its commitment must equal `commitment(salt, payload)`, and the receipt must
    /// verify for the leaf as in [`Receipt::verify`].
    ///
    /// # Errors
    ///
    /// [`ReceiptError::NoExtra`], [`ReceiptError::MalformedExtra`], [`ReceiptError::Leaf`],
    /// [`ReceiptError::CommitmentMismatch`], or the errors of [`Receipt::verify`].
    pub fn verify_self_contained(&self, vkey_text: &str) -> Result<VerifiedRecord, ReceiptError> {
        let extra = ReceiptExtra::from_json(self.extra.as_deref().ok_or(ReceiptError::NoExtra)?)?;
        let leaf = LeafV1::decode(&extra.leaf)?;
        if leaf::commitment(&extra.salt, &extra.payload) != leaf.commitment {
            return Err(ReceiptError::CommitmentMismatch);
        }
        let checkpoint = self.verify(&extra.leaf, vkey_text)?;
        Ok(VerifiedRecord {
            checkpoint,
            leaf,
            payload: extra.payload,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtraJson {
    leaf: String,
    salt: String,
    payload: String,
}

impl ReceiptExtra {
    /// The JSON object `{"leaf":…,"salt":…,"payload":…}` with standard base64 values, in this
    /// fixed key order.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        // Base64 text needs no JSON escaping, so the object is written directly.
        format!(
            "{{\"leaf\":\"{}\",\"salt\":\"{}\",\"payload\":\"{}\"}}",
            BASE64.encode(&self.leaf),
            BASE64.encode(self.salt),
            BASE64.encode(&self.payload)
        )
        .into_bytes()
    }

    /// Parses the JSON object written by [`ReceiptExtra::to_json`]; unknown keys are rejected.
    ///
    /// # Errors
    ///
    /// [`ReceiptError::MalformedExtra`].
    pub fn from_json(bytes: &[u8]) -> Result<ReceiptExtra, ReceiptError> {
        let bad = |reason: String| ReceiptError::MalformedExtra { reason };
        let json: ExtraJson = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        let decode = |field: &str, value: &str| {
            BASE64
                .decode(value)
                .map_err(|_| bad(format!("`{field}` is not valid base64")))
        };
        let salt = decode("salt", &json.salt)?;
        let salt = <[u8; 32]>::try_from(salt)
            .map_err(|s| bad(format!("`salt` must be 32 bytes, got {}", s.len())))?;
        Ok(ReceiptExtra {
            leaf: decode("leaf", &json.leaf)?,
            salt,
            payload: decode("payload", &json.payload)?,
        })
    }
}
