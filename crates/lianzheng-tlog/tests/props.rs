//! Property tests: random leaves appended in random batches through the incremental builder;
//! every root, inclusion proof and consistency proof is checked against the RFC 6962
//! definitions; tile sets grow consistently; receipts round-trip.

use crate::common::{MemLog, naive_consistency, naive_path, naive_root};
use lianzheng_tlog::merkle::{self, Hash};
use lianzheng_tlog::receipt::Receipt;
use lianzheng_tlog::tiles::{changed_tiles, tiles_for_tree};
use proptest::prelude::*;
use std::collections::BTreeSet;

fn arb_batches() -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
    proptest::collection::vec(
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..24), 1..17),
        1..10,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn builder_roots_and_proofs(batches in arb_batches(), flip in any::<(usize, u8)>()) {
        let mut log = MemLog::default();
        let mut sizes = Vec::new();
        for batch in &batches {
            let hashes: Vec<Hash> = batch.iter().map(|l| merkle::leaf_hash(l)).collect();
            log.append(&hashes);
            sizes.push(log.size());
            prop_assert_eq!(
                merkle::tree_root(log.size(), &log.stored).unwrap(),
                naive_root(&log.leaves)
            );
        }

        // Inclusion: every leaf of every size the tree had after a batch.
        for &size in &sizes {
            let leaves = &log.leaves[..size as usize];
            let root = naive_root(leaves);
            for index in 0..size {
                let proof = merkle::inclusion_proof(index, size, &log.stored).unwrap();
                prop_assert_eq!(&proof, &naive_path(index as usize, leaves));
                prop_assert!(merkle::verify_inclusion(index, size, &leaves[index as usize], &proof, &root).is_ok());
                if !proof.is_empty() {
                    let mut bad = proof.clone();
                    let at = flip.0 % bad.len();
                    bad[at][usize::from(flip.1) % 32] ^= 1 << (flip.1 % 8);
                    prop_assert!(merkle::verify_inclusion(index, size, &leaves[index as usize], &bad, &root).is_err());
                }
            }
        }

        // Consistency: between every pair of those sizes.
        for &size1 in &sizes {
            for &size2 in sizes.iter().filter(|&&s| s >= size1) {
                let proof = merkle::consistency_proof(size1, size2, &log.stored).unwrap();
                prop_assert_eq!(&proof, &naive_consistency(size1 as usize, &log.leaves[..size2 as usize]));
                let root1 = naive_root(&log.leaves[..size1 as usize]);
                let root2 = naive_root(&log.leaves[..size2 as usize]);
                prop_assert!(merkle::verify_consistency(size1, size2, &root1, &root2, &proof).is_ok());
                if size1 < size2 {
                    prop_assert!(merkle::verify_consistency(size1, size2, &root2, &root1, &proof).is_err());
                    let mut bad = proof.clone();
                    let at = flip.0 % bad.len();
                    bad[at][usize::from(flip.1) % 32] ^= 1 << (flip.1 % 8);
                    prop_assert!(merkle::verify_consistency(size1, size2, &root1, &root2, &bad).is_err());
                }
            }
        }
    }

    #[test]
    fn changed_tiles_is_the_difference_of_tile_sets(old in 0u64..200_000, grow in 0u64..70_000) {
        let new = old + grow;
        let before: BTreeSet<_> = tiles_for_tree(old).into_iter().collect();
        let after: BTreeSet<_> = tiles_for_tree(new).into_iter().collect();
        let changed: BTreeSet<_> = changed_tiles(old, new).unwrap().into_iter().collect();
        prop_assert_eq!(changed, after.difference(&before).copied().collect::<BTreeSet<_>>());
    }

    #[test]
    fn receipt_text_round_trip(
        extra in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
        index in any::<u64>(),
        proof in proptest::collection::vec(any::<[u8; 32]>(), 0..40),
    ) {
        // Any syntactically valid signed checkpoint will do for the text form.
        let note = "example.com/log\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} example.com/log AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
        let r = Receipt { extra, index, proof, checkpoint_note: note.to_owned() };
        prop_assert_eq!(Receipt::parse(&r.to_text()).unwrap(), r);
    }
}
