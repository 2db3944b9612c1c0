//! Helpers shared by the test modules: fixtures, an in-memory log and naive RFC 6962 oracles.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use lianzheng_tlog::merkle::{self, Hash};
use std::path::PathBuf;

pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

pub fn load_json(rel: &str) -> serde_json::Value {
    let path = testdata(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn b64(s: &str) -> Vec<u8> {
    BASE64
        .decode(s)
        .unwrap_or_else(|e| panic!("bad base64 `{s}`: {e}"))
}

pub fn hex32(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

pub fn str_of<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
}

/// An in-memory log: stored hashes at their indexes, plus the leaf hashes for the oracles.
#[derive(Default)]
pub struct MemLog {
    pub stored: Vec<Hash>,
    pub leaves: Vec<Hash>,
}

impl MemLog {
    pub fn size(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// Appends a batch through the incremental builder and persists what it returns.
    pub fn append(&mut self, leaf_hashes: &[Hash]) {
        let new = merkle::append_leaves(self.size(), leaf_hashes, &self.stored).unwrap();
        for (index, hash) in new {
            assert_eq!(
                index,
                self.stored.len() as u64,
                "stored hashes must be contiguous"
            );
            self.stored.push(hash);
        }
        self.leaves.extend_from_slice(leaf_hashes);
        assert_eq!(
            merkle::stored_hash_count(self.size()).unwrap(),
            self.stored.len() as u64
        );
    }
}

fn split(n: usize) -> usize {
    // Largest power of two strictly smaller than n (n >= 2).
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// RFC 6962 `MTH(D[n])` over leaf hashes, straight from the definition.
pub fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => merkle::EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = split(n);
            merkle::node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

/// RFC 6962 `PATH(m, D[n])`.
pub fn naive_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    let mut out;
    if m < k {
        out = naive_path(m, &leaves[..k]);
        out.push(naive_root(&leaves[k..]));
    } else {
        out = naive_path(m - k, &leaves[k..]);
        out.push(naive_root(&leaves[..k]));
    }
    out
}

/// RFC 6962 `PROOF(m, D[n])` = `SUBPROOF(m, D[n], true)`.
pub fn naive_consistency(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    fn sub(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if b {
                Vec::new()
            } else {
                vec![naive_root(leaves)]
            };
        }
        let k = split(n);
        let mut out;
        if m <= k {
            out = sub(m, &leaves[..k], b);
            out.push(naive_root(&leaves[k..]));
        } else {
            out = sub(m - k, &leaves[k..], false);
            out.push(naive_root(&leaves[..k]));
        }
        out
    }
    sub(m, leaves, true)
}

/// A deterministic stand-in for a CSPRNG, so that test keys are reproducible.
pub struct FixedRng(pub u8);

impl rand_core::RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        u32::from_ne_bytes([self.0; 4])
    }
    fn next_u64(&mut self) -> u64 {
        u64::from_ne_bytes([self.0; 8])
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(self.0);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for FixedRng {}
