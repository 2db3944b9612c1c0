//! RFC 6962 reference constants (`testdata/rfc6962-reference.json`).

use crate::common::{MemLog, hex32, load_json, naive_root, str_of};
use lianzheng_tlog::merkle::{self, EMPTY_ROOT};

fn reference() -> serde_json::Value {
    load_json("rfc6962-reference.json")
}

#[test]
fn hasher_vectors() {
    let r = reference();
    assert_eq!(EMPTY_ROOT, hex32(str_of(&r["empty_tree_hash"], "hex")));
    let cases = r["hasher_vectors"]["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let want = hex32(str_of(case, "want_hex"));
        let got = match str_of(case, "desc") {
            "RFC6962 Empty" => EMPTY_ROOT,
            "RFC6962 Empty Leaf" => merkle::leaf_hash(b""),
            "RFC6962 Leaf" => merkle::leaf_hash(str_of(case, "input_ascii").as_bytes()),
            "RFC6962 Node" => merkle::node_hash(
                str_of(case, "left_ascii").as_bytes(),
                str_of(case, "right_ascii").as_bytes(),
            ),
            other => panic!("unknown hasher case `{other}`"),
        };
        assert_eq!(got, want, "{}", str_of(case, "desc"));
    }
}

/// The eight standard leaves, appended one at a time through the builder.
fn eight_leaf_log() -> MemLog {
    let r = reference();
    let mut log = MemLog::default();
    for input in r["leaves"]["inputs_hex"].as_array().unwrap() {
        let bytes = hex::decode(input.as_str().unwrap()).unwrap();
        log.append(&[merkle::leaf_hash(&bytes)]);
    }
    log
}

#[test]
fn leaf_hashes_and_roots_for_every_size() {
    let r = reference();
    let log = eight_leaf_log();
    let want_leaves: Vec<_> = r["leaves"]["leaf_hashes_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hex32(h.as_str().unwrap()))
        .collect();
    assert_eq!(log.leaves, want_leaves);

    let roots = r["root_hashes_by_tree_size"]["values"].as_array().unwrap();
    assert_eq!(roots.len(), 9);
    for v in roots {
        let size = v["tree_size"].as_u64().unwrap();
        let want = hex32(str_of(v, "hex"));
        assert_eq!(
            merkle::tree_root(size, &log.stored).unwrap(),
            want,
            "size {size}"
        );
        assert_eq!(
            naive_root(&log.leaves[..size as usize]),
            want,
            "naive size {size}"
        );
    }
}

#[test]
fn node_hashes_are_the_stored_subtree_roots() {
    let r = reference();
    let log = eight_leaf_log();
    let levels = r["node_hashes_by_level"]["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 4);
    for level in levels {
        let l = u8::try_from(level["level"].as_u64().unwrap()).unwrap();
        for (n, h) in level["hex"].as_array().unwrap().iter().enumerate() {
            let index = merkle::stored_hash_index(l, n as u64).unwrap();
            assert_eq!(
                log.stored[index as usize],
                hex32(h.as_str().unwrap()),
                "level {l} node {n}"
            );
        }
    }
}

#[test]
fn batched_and_single_appends_store_the_same_hashes() {
    let one_by_one = eight_leaf_log();
    let mut batched = MemLog::default();
    batched.append(&one_by_one.leaves[..3]);
    batched.append(&one_by_one.leaves[3..]);
    assert_eq!(batched.stored, one_by_one.stored);
    let mut whole = MemLog::default();
    whole.append(&one_by_one.leaves);
    assert_eq!(whole.stored, one_by_one.stored);
}

#[test]
fn storage_errors_and_misbehaving_readers_are_errors_not_panics() {
    use lianzheng_tlog::merkle::Hash;
    use lianzheng_tlog::merkle::{HashReader, MerkleError, MissingHash};

    struct ShortReader;
    impl HashReader for ShortReader {
        type Error = MissingHash;
        fn read_hashes(&self, _: &[u64]) -> Result<Vec<Hash>, MissingHash> {
            Ok(vec![[0; 32]])
        }
    }

    let log = eight_leaf_log();
    // Stored hashes of a 4-leaf tree only: asking about 8 leaves reads missing indexes.
    let short = &log.stored[..merkle::stored_hash_count(4).unwrap() as usize];
    assert!(matches!(
        merkle::tree_root(8, short),
        Err(MerkleError::Storage(_))
    ));
    assert!(matches!(
        merkle::inclusion_proof(6, 8, short),
        Err(MerkleError::Storage(_))
    ));
    assert!(matches!(
        merkle::tree_root(7, &ShortReader),
        Err(MerkleError::WrongHashCount { wanted: 3, got: 1 })
    ));
    assert!(matches!(
        merkle::append_leaves(7, &[[1; 32]], &ShortReader),
        Err(MerkleError::WrongHashCount { .. })
    ));
    assert!(matches!(
        merkle::inclusion_proof(8, 8, &log.stored),
        Err(MerkleError::IndexOutOfRange { index: 8, size: 8 })
    ));
    assert!(matches!(
        merkle::consistency_proof(0, 8, &log.stored),
        Err(MerkleError::BadSizes { .. })
    ));
    assert!(matches!(
        merkle::consistency_proof(5, 4, &log.stored),
        Err(MerkleError::BadSizes { .. })
    ));
    assert!(
        merkle::consistency_proof(8, 8, &log.stored)
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        merkle::tree_root(merkle::MAX_TREE_SIZE + 1, &log.stored),
        Err(MerkleError::TreeTooLarge { .. })
    ));
    assert!(matches!(
        merkle::append_leaves(u64::MAX, &[[0; 32]], &log.stored),
        Err(MerkleError::TreeTooLarge { .. })
    ));
    assert!(merkle::stored_hash_index(63, 1).is_err());
    assert!(merkle::stored_hash_index(255, 0).is_err());
}
