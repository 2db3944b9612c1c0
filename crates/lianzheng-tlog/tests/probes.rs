//! Every inclusion and consistency probe of `transparency-dev/merkle` (`testdata/inclusion`,
//! `testdata/consistency`): the verifier must fail exactly when `wantErr` is true.

use crate::common::{b64, load_json, str_of, testdata};
use lianzheng_tlog::merkle;
use std::path::{Path, PathBuf};

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn probes(kind: &str) -> Vec<(String, serde_json::Value)> {
    let root = testdata(kind);
    let mut files = Vec::new();
    json_files(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(&root).unwrap().display().to_string();
            let text = std::fs::read_to_string(&p).unwrap();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect()
}

fn proof_of(v: &serde_json::Value) -> Vec<Vec<u8>> {
    match &v["proof"] {
        serde_json::Value::Null => Vec::new(),
        p => p
            .as_array()
            .unwrap()
            .iter()
            .map(|h| b64(h.as_str().unwrap()))
            .collect(),
    }
}

/// Runs `verify` on every probe of `kind` and checks that it fails exactly when `wantErr`.
fn walk_probes<E: std::fmt::Debug>(
    kind: &str,
    verify: impl Fn(&serde_json::Value) -> Result<(), E>,
) {
    let all = probes(kind);
    assert_eq!(all.len(), 98, "the complete upstream set of {kind} probes");
    let mut failures = Vec::new();
    let mut valid = 0;
    for (name, v) in &all {
        let result = verify(v);
        let want_err = v["wantErr"].as_bool().unwrap();
        if result.is_err() != want_err {
            failures.push(format!("{name}: want_err={want_err}, got {result:?}"));
        }
        valid += usize::from(!want_err);
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(valid, 6);
}

#[test]
fn inclusion_probes() {
    walk_probes("inclusion", |v| {
        merkle::verify_inclusion(
            v["leafIdx"].as_u64().unwrap(),
            v["treeSize"].as_u64().unwrap(),
            &b64(str_of(v, "leafHash")),
            &proof_of(v),
            &b64(str_of(v, "root")),
        )
    });
}

#[test]
fn consistency_probes() {
    walk_probes("consistency", |v| {
        merkle::verify_consistency(
            v["size1"].as_u64().unwrap(),
            v["size2"].as_u64().unwrap(),
            &b64(str_of(v, "root1")),
            &b64(str_of(v, "root2")),
            &proof_of(v),
        )
    });
}

/// Real Certificate Transparency data (Google's argon2020 log, vendored by `tlog_tiles`): an
/// inclusion proof and a consistency proof in a tree of 961,984,011 leaves.
#[test]
fn argon2020_real_proofs() {
    let sth = load_json("argon2020/sth.json");
    let size = sth["tree_size"].as_u64().unwrap();
    let root = b64(str_of(&sth, "sha256_root_hash"));
    assert_eq!(size, 961_984_011);

    let entries = load_json("argon2020/entries-10000.json");
    let leaf = b64(str_of(&entries["entries"][0], "leaf_input"));
    let proof = load_json("argon2020/proof-by-hash-10000-961984011.json");
    let index = proof["leaf_index"].as_u64().unwrap();
    let path: Vec<Vec<u8>> = proof["audit_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| b64(h.as_str().unwrap()))
        .collect();
    let leaf_hash = merkle::leaf_hash(&leaf);
    merkle::verify_inclusion(index, size, &leaf_hash, &path, &root).unwrap();
    assert!(merkle::verify_inclusion(index + 1, size, &leaf_hash, &path, &root).is_err());

    let consistency = load_json("argon2020/consistency-3654490-961984011.json");
    let proof: Vec<Vec<u8>> = consistency["consistency"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| b64(h.as_str().unwrap()))
        .collect();
    // The old root is the one used by the upstream test (`tlog_tiles` `lib.rs`).
    let old_root = b64("AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ=");
    merkle::verify_consistency(3_654_490, size, &old_root, &root, &proof).unwrap();
    assert!(merkle::verify_consistency(3_654_491, size, &old_root, &root, &proof).is_err());
}

#[test]
fn transparency_dev_edge_rules() {
    let root = merkle::leaf_hash(b"x");
    // A consistency proof from the empty tree is rejected, even 0 -> 0.
    assert!(
        merkle::verify_consistency::<[u8; 32]>(0, 0, &merkle::EMPTY_ROOT, &merkle::EMPTY_ROOT, &[])
            .is_err()
    );
    assert!(merkle::verify_consistency(0, 1, &merkle::EMPTY_ROOT, &root, &[root]).is_err());
    // A leaf hash that is not 32 bytes is rejected even if everything else matches.
    assert!(merkle::verify_inclusion::<[u8; 32]>(0, 1, &root[..31], &[], &root[..31]).is_err());
    assert!(merkle::verify_inclusion::<[u8; 32]>(0, 1, &root, &[], &root).is_ok());
    // Oversized proofs are rejected before any hashing.
    assert!(matches!(
        merkle::verify_inclusion(0, u64::MAX, &root, &vec![root; 65], &root),
        Err(merkle::MerkleError::ProofTooLong { len: 65 })
    ));
}
