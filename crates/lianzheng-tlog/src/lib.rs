//! The transparency-log core of Lianzheng: pure functions and types for an append-only
//! RFC 6962 / C2SP Merkle log in which every domain event is recorded.
//!
//! What it is:
//!
//! - [`leaf`]: the fixed binary encoding of a log leaf (`lianzheng/log/v1`) and the salted
//!   commitment that binds a leaf to a private payload kept elsewhere.
//! - [`merkle`]: RFC 6962 hashing, the Go sumdb "stored hash" layout for incremental appends,
//!   tree roots, inclusion and consistency proofs (built from stored hashes read through
//!   [`merkle::HashReader`]) and their verifiers (RFC 9162 plus the `transparency-dev/merkle`
//!   edge rules).
//! - [`tiles`]: C2SP `tlog-tiles` paths, hash tiles and entry bundles.
//! - [`checkpoint`]: C2SP `tlog-checkpoint` bodies, Ed25519 signed notes, log keys.
//! - [`receipt`]: offline receipts in the C2SP `tlog-proof` format, including the
//!   self-contained variant that carries the leaf, salt and payload for a citizen.
//!
//! What it is not: it does no I/O, reads no clock, opens no database and spawns nothing.
//! Persisting stored hashes, sequencing entries, publishing tiles, scheduling checkpoints,
//! witnessing and key storage belong to the callers; times are passed in as values (for
//! example [`leaf::LeafV1::recorded_at_ms`]). It does not verify witness cosignatures
//! (`cosignature/v1`) or ML-DSA signatures yet; unknown signatures on a note are ignored, as
//! the specifications require.
//!
//! Typical flow for the callers: encode each event as a [`leaf::LeafV1`] with a fresh salt;
//! pass a batch of [`merkle::leaf_hash`]es to [`merkle::append_leaves`] and persist the
//! `(index, hash)` pairs it returns in the same transaction as the entries; compute
//! [`merkle::tree_root`] and sign it with [`checkpoint::LogSigner::sign_checkpoint`]; publish
//! the note, [`tiles::changed_tiles`] (via [`tiles::tile_bytes`]) and entry bundles; hand each
//! party a [`receipt::Receipt`] built from [`merkle::inclusion_proof`] and the signed note.
//!
//! The Merkle math and the signed-note format are delegated to the `tlog_tiles` and
//! `signed_note` crates (ports of Go `golang.org/x/mod/sumdb`); this crate adds the C2SP paths,
//! the Lianzheng leaf and receipt formats, strict parsing, and errors without panics.

pub mod checkpoint;
pub mod leaf;
pub mod merkle;
pub mod receipt;
pub mod tiles;

pub use checkpoint::{Checkpoint, CheckpointError, LogSigner, verify_checkpoint};
pub use leaf::{LeafError, LeafRef, LeafV1, commitment};
pub use merkle::{Hash, HashReader, MerkleError};
pub use receipt::{Receipt, ReceiptError};
pub use tiles::TileError;

/// Parses a decimal number without sign or leading zeros (`0` itself is fine), the form that
/// checkpoints, receipts and tile paths all require.
pub(crate) fn parse_canonical_decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}
