//! RFC 6962 Merkle tree math over the Go sumdb "stored hash" layout.
//!
//! A tree of `n` leaves is persisted as a fixed, append-only sequence of *stored hashes*:
//! every leaf hash and every root of a complete (power-of-two) subtree, in the order in which
//! they become known. [`stored_hash_index`] gives the position of a subtree root, and
//! [`stored_hash_count`] the length of the sequence for `n` leaves. Appending never changes an
//! existing stored hash, so the database layer can keep them as immutable rows keyed by index
//! and serve them back through [`HashReader`]. Every function here that needs stored hashes
//! asks for all of them in one batched [`HashReader::read_hashes`] call.
//!
//! The layout and the proof algorithms are those of `golang.org/x/mod/sumdb/tlog`, used
//! through its Rust port `tlog_tiles`. The verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2
//! with the two rules of `transparency-dev/merkle` that the plain algorithm leaves open:
//! a consistency check from size 0 is always an error, and a leaf hash must be 32 bytes.

use sha2::{Digest, Sha256};
use std::cell::Cell;
use thiserror::Error;

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// Root of the empty tree, `SHA-256("")`.
pub const EMPTY_ROOT: Hash = tlog_tiles::EMPTY_HASH.0;

/// Largest tree size the stored-hash functions accept (2^62 leaves).
///
/// Stored-hash indexes grow to about twice the tree size; the limit keeps every index
/// computation far from `u64` overflow. The verifiers accept any `u64` size.
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// Longest inclusion proof for any `u64` tree size.
const MAX_INCLUSION_PROOF_LEN: usize = 64;

/// Generous bound on a consistency proof for any `u64` tree sizes (RFC 9162 proofs have at
/// most about `log2(size2) + 1` hashes).
const MAX_CONSISTENCY_PROOF_LEN: usize = 128;

/// Source of stored hashes, by stored-hash index (see [`stored_hash_index`]).
///
/// The database layer implements this to serve the rows it persisted from [`append_leaves`].
/// An implementation must return exactly one hash per requested index, in the order
/// requested; the indexes of one call are strictly increasing.
pub trait HashReader {
    /// The storage error; it is passed through inside [`MerkleError::Storage`].
    type Error: std::error::Error + Send + Sync + 'static;

    /// Returns the stored hashes at `indexes`, in the same order.
    ///
    /// # Errors
    ///
    /// Whatever the storage reports, for example a missing index.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error>;
}

/// Error of the in-memory [`HashReader`] implementations: the index is not stored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("stored hash {index} is missing")]
pub struct MissingHash {
    /// The requested stored-hash index.
    pub index: u64,
}

/// A slice holding stored hashes at their indexes (element `i` is stored hash `i`).
impl HashReader for [Hash] {
    type Error = MissingHash;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MissingHash> {
        indexes
            .iter()
            .map(|&index| {
                usize::try_from(index)
                    .ok()
                    .and_then(|i| self.get(i))
                    .copied()
                    .ok_or(MissingHash { index })
            })
            .collect()
    }
}

impl HashReader for Vec<Hash> {
    type Error = MissingHash;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MissingHash> {
        self.as_slice().read_hashes(indexes)
    }
}

/// Errors from building or checking Merkle trees and proofs.
#[derive(Debug, Error)]
pub enum MerkleError {
    /// The [`HashReader`] failed.
    #[error("reading stored hashes failed")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The [`HashReader`] returned the wrong number of hashes.
    #[error("hash store returned {got} hashes for {wanted} indexes")]
    WrongHashCount {
        /// Number of indexes requested.
        wanted: usize,
        /// Number of hashes returned.
        got: usize,
    },
    /// The tree would grow beyond [`MAX_TREE_SIZE`].
    #[error("tree size {size} exceeds the supported maximum of 2^62 leaves")]
    TreeTooLarge {
        /// The requested size (saturated on overflow).
        size: u64,
    },
    /// A leaf index is not inside the tree.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// Consistency between these sizes is undefined: it needs `0 < size1 <= size2`.
    #[error("consistency needs 0 < size1 <= size2, got size1 {size1} and size2 {size2}")]
    BadSizes {
        /// The older size.
        size1: u64,
        /// The newer size.
        size2: u64,
    },
    /// A hash in the input is not 32 bytes long.
    #[error("{what} must be 32 bytes, got {len}")]
    BadHashLength {
        /// Which input.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// The proof has more hashes than any valid proof can have.
    #[error("proof has {len} hashes, more than any valid proof")]
    ProofTooLong {
        /// Number of hashes.
        len: usize,
    },
    /// The proof does not lead to the given root(s).
    #[error("proof does not verify")]
    InvalidProof,
    /// The Merkle library reported an unexpected failure.
    #[error("merkle computation failed: {0}")]
    Internal(String),
}

/// Leaf hash `SHA-256(0x00 || bytes)`.
#[must_use]
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    tlog_tiles::record_hash(bytes).0
}

/// Interior node hash `SHA-256(0x01 || left || right)`.
///
/// The children are normally 32-byte hashes; any byte strings are accepted so that the
/// RFC 6962 reference vectors (which hash raw strings) can be checked.
#[must_use]
pub fn node_hash(left: &[u8], right: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Index of the stored hash of the complete subtree at `level` (a subtree of 2^level leaves)
/// and horizontal position `n` at that level.
///
/// # Errors
///
/// [`MerkleError::TreeTooLarge`] if the subtree lies beyond [`MAX_TREE_SIZE`] leaves.
pub fn stored_hash_index(level: u8, n: u64) -> Result<u64, MerkleError> {
    // The subtree covers leaves [n * 2^level, (n + 1) * 2^level).
    let end = 1u64
        .checked_shl(u32::from(level))
        .and_then(|width| n.checked_add(1)?.checked_mul(width));
    match end {
        Some(end) if end <= MAX_TREE_SIZE => Ok(tlog_tiles::stored_hash_index(level, n)),
        _ => Err(MerkleError::TreeTooLarge {
            size: end.unwrap_or(u64::MAX),
        }),
    }
}

/// Number of stored hashes of a tree of `n` leaves; the next appended hash gets this index.
///
/// # Errors
///
/// [`MerkleError::TreeTooLarge`] if `n` exceeds [`MAX_TREE_SIZE`].
pub fn stored_hash_count(n: u64) -> Result<u64, MerkleError> {
    check_size(n)?;
    Ok(tlog_tiles::stored_hash_count(n))
}

/// Appends `leaf_hashes` to a tree of `n` leaves and returns the new stored hashes to persist,
/// as `(stored-hash index, hash)` pairs with consecutive indexes starting at
/// [`stored_hash_count(n)`](stored_hash_count).
///
/// The reader must serve the stored hashes of the tree of size `n`; only the roots of its
/// complete subtrees (at most 62 hashes) are read, in one batch. The hashes produced for early
/// leaves of the batch are used for the later ones without touching storage, so a whole
/// sequencing batch costs one read and one write.
///
/// # Errors
///
/// [`MerkleError::TreeTooLarge`] if the tree would exceed [`MAX_TREE_SIZE`]; storage errors.
pub fn append_leaves<R: HashReader + ?Sized>(
    n: u64,
    leaf_hashes: &[Hash],
    reader: &R,
) -> Result<Vec<(u64, Hash)>, MerkleError> {
    let added = u64::try_from(leaf_hashes.len()).unwrap_or(u64::MAX);
    let new_size = n.saturating_add(added);
    check_size(new_size)?;
    let base = tlog_tiles::stored_hash_count(n);
    if leaf_hashes.is_empty() {
        return Ok(Vec::new());
    }

    // Appending leaf `m` needs the roots of the complete subtrees that end at `m`. Each of
    // them either is a root of the old tree's complete-subtree decomposition or was created
    // earlier in this batch, so one read of that decomposition serves the whole batch.
    let frontier_indexes = tlog_tiles::sub_tree_index(0, n, Vec::new());
    let frontier = read_checked(reader, &frontier_indexes)?;
    let mut overlay = Overlay {
        old: frontier_indexes.into_iter().zip(frontier).collect(),
        base,
        new: Vec::new(),
    };
    for (m, hash) in (n..).zip(leaf_hashes) {
        let hashes =
            tlog_tiles::stored_hashes_for_record_hash(m, tlog_tiles::Hash(*hash), &overlay)
                .map_err(|e| MerkleError::Internal(e.to_string()))?;
        overlay.new.extend(hashes.into_iter().map(|h| h.0));
    }
    Ok((base..).zip(overlay.new).collect())
}

/// Merkle tree hash (root) of the first `n` leaves.
///
/// # Errors
///
/// [`MerkleError::TreeTooLarge`]; storage errors.
pub fn tree_root<R: HashReader + ?Sized>(n: u64, reader: &R) -> Result<Hash, MerkleError> {
    check_size(n)?;
    let adapter = Adapter::new(reader);
    let root = tlog_tiles::tree_hash(n, &adapter);
    adapter.finish(root).map(|h| h.0)
}

/// Inclusion proof (audit path) for leaf `index` in the tree of size `n`: sibling hashes from
/// the leaf up to the root's child.
///
/// # Errors
///
/// [`MerkleError::IndexOutOfRange`] if `index >= n`; [`MerkleError::TreeTooLarge`]; storage
/// errors.
pub fn inclusion_proof<R: HashReader + ?Sized>(
    index: u64,
    n: u64,
    reader: &R,
) -> Result<Vec<Hash>, MerkleError> {
    check_size(n)?;
    if index >= n {
        return Err(MerkleError::IndexOutOfRange { index, size: n });
    }
    let adapter = Adapter::new(reader);
    let proof = tlog_tiles::prove_record(n, index, &adapter);
    adapter
        .finish(proof)
        .map(|p| p.into_iter().map(|h| h.0).collect())
}

/// Consistency proof that the tree of size `n1` is a prefix of the tree of size `n2`
/// (RFC 6962 `PROOF(m, D[n])`). Empty when `n1 == n2`.
///
/// # Errors
///
/// [`MerkleError::BadSizes`] unless `0 < n1 <= n2` (a proof from the empty tree is
/// meaningless, and the verifier rejects it); [`MerkleError::TreeTooLarge`]; storage errors.
pub fn consistency_proof<R: HashReader + ?Sized>(
    n1: u64,
    n2: u64,
    reader: &R,
) -> Result<Vec<Hash>, MerkleError> {
    if n1 == 0 || n1 > n2 {
        return Err(MerkleError::BadSizes {
            size1: n1,
            size2: n2,
        });
    }
    check_size(n2)?;
    let adapter = Adapter::new(reader);
    let proof = tlog_tiles::prove_tree(n2, n1, &adapter);
    adapter
        .finish(proof)
        .map(|p| p.into_iter().map(|h| h.0).collect())
}

/// Verifies that `leaf_hash` is the leaf at `index` of the tree of `size` leaves with `root`.
///
/// Hashes are byte slices so that inputs of the wrong length are reported rather than
/// unrepresentable; anything but 32 bytes is an error.
///
/// # Errors
///
/// [`MerkleError::BadHashLength`], [`MerkleError::IndexOutOfRange`],
/// [`MerkleError::ProofTooLong`], or [`MerkleError::InvalidProof`].
pub fn verify_inclusion<P: AsRef<[u8]>>(
    index: u64,
    size: u64,
    leaf_hash: &[u8],
    proof: &[P],
    root: &[u8],
) -> Result<(), MerkleError> {
    let leaf = to_hash("leaf hash", leaf_hash)?;
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    if proof.len() > MAX_INCLUSION_PROOF_LEN {
        return Err(MerkleError::ProofTooLong { len: proof.len() });
    }
    let proof = to_proof(proof)?;
    let root = to_hash("root", root)?;
    tlog_tiles::check_record(&proof, size, root, index, leaf).map_err(|_| MerkleError::InvalidProof)
}

/// Verifies that the tree of `size1` leaves with `root1` is a prefix of the tree of `size2`
/// leaves with `root2`.
///
/// `size1 == 0` is always an error, even for `0 -> 0`: nothing can be proved about the empty
/// tree. When `size1 == size2` the proof must be empty and the roots equal byte for byte (no
/// length check applies, as in `transparency-dev/merkle`).
///
/// # Errors
///
/// [`MerkleError::BadSizes`], [`MerkleError::BadHashLength`], [`MerkleError::ProofTooLong`],
/// or [`MerkleError::InvalidProof`].
pub fn verify_consistency<P: AsRef<[u8]>>(
    size1: u64,
    size2: u64,
    root1: &[u8],
    root2: &[u8],
    proof: &[P],
) -> Result<(), MerkleError> {
    if size1 == 0 || size1 > size2 {
        return Err(MerkleError::BadSizes { size1, size2 });
    }
    if size1 == size2 {
        return if proof.is_empty() && root1 == root2 {
            Ok(())
        } else {
            Err(MerkleError::InvalidProof)
        };
    }
    if proof.len() > MAX_CONSISTENCY_PROOF_LEN {
        return Err(MerkleError::ProofTooLong { len: proof.len() });
    }
    let proof = to_proof(proof)?;
    let root1 = to_hash("first root", root1)?;
    let root2 = to_hash("second root", root2)?;
    tlog_tiles::check_tree(&proof, size2, root2, size1, root1)
        .map_err(|_| MerkleError::InvalidProof)
}

fn check_size(n: u64) -> Result<(), MerkleError> {
    if n > MAX_TREE_SIZE {
        return Err(MerkleError::TreeTooLarge { size: n });
    }
    Ok(())
}

fn to_hash(what: &'static str, bytes: &[u8]) -> Result<tlog_tiles::Hash, MerkleError> {
    <[u8; 32]>::try_from(bytes)
        .map(tlog_tiles::Hash)
        .map_err(|_| MerkleError::BadHashLength {
            what,
            len: bytes.len(),
        })
}

fn to_proof<P: AsRef<[u8]>>(proof: &[P]) -> Result<Vec<tlog_tiles::Hash>, MerkleError> {
    proof
        .iter()
        .map(|p| to_hash("proof hash", p.as_ref()))
        .collect()
}

/// Reads `indexes` and checks that the reader kept its contract.
pub(crate) fn read_checked<R: HashReader + ?Sized>(
    reader: &R,
    indexes: &[u64],
) -> Result<Vec<Hash>, MerkleError> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader
        .read_hashes(indexes)
        .map_err(|e| MerkleError::Storage(Box::new(e)))?;
    if hashes.len() != indexes.len() {
        return Err(MerkleError::WrongHashCount {
            wanted: indexes.len(),
            got: hashes.len(),
        });
    }
    Ok(hashes)
}

/// Presents a [`HashReader`] to `tlog_tiles`, keeping our error for the caller.
///
/// `tlog_tiles` asserts that a reader returns one hash per index; checking the count here turns
/// a misbehaving store into an error instead of a panic.
struct Adapter<'a, R: ?Sized> {
    inner: &'a R,
    failure: Cell<Option<MerkleError>>,
}

impl<'a, R: HashReader + ?Sized> Adapter<'a, R> {
    fn new(inner: &'a R) -> Self {
        Adapter {
            inner,
            failure: Cell::new(None),
        }
    }

    fn finish<T>(self, result: Result<T, tlog_tiles::Error>) -> Result<T, MerkleError> {
        result.map_err(|e| {
            self.failure
                .into_inner()
                .unwrap_or_else(|| MerkleError::Internal(e.to_string()))
        })
    }
}

impl<R: HashReader + ?Sized> tlog_tiles::HashReader for Adapter<'_, R> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        match read_checked(self.inner, indexes) {
            Ok(hashes) => Ok(hashes.into_iter().map(tlog_tiles::Hash).collect()),
            Err(e) => {
                self.failure.set(Some(e));
                Err(tlog_tiles::Error::IndexesNotInTree)
            }
        }
    }
}

/// Stored hashes during a batched append: the old tree's frontier plus the hashes made so far.
struct Overlay {
    old: Vec<(u64, Hash)>,
    base: u64,
    new: Vec<Hash>,
}

impl tlog_tiles::HashReader for Overlay {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&index| {
                let found = if index >= self.base {
                    usize::try_from(index - self.base)
                        .ok()
                        .and_then(|i| self.new.get(i))
                        .copied()
                } else {
                    self.old.iter().find(|(i, _)| *i == index).map(|(_, h)| *h)
                };
                found
                    .map(tlog_tiles::Hash)
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}
