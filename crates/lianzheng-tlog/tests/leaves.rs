//! The `lianzheng/log/v1` leaf encoding and the salted commitment.

use lianzheng_tlog::leaf::{self, LeafError, LeafV1, MAX_LEAF_LEN};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

fn sample() -> LeafV1 {
    LeafV1 {
        kind: 3,
        recorded_at_ms: 0x0102_0304_0506_0708,
        authority: "91110000000000000X".to_owned(),
        schema: "case_event/1".to_owned(),
        commitment: [0xab; 32],
        public_fields: b"{}".to_vec(),
    }
}

#[test]
fn encoding_is_the_documented_layout() {
    let bytes = sample().encode().unwrap();
    let mut want = b"lianzheng/log/v1\n".to_vec();
    want.push(3);
    want.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    want.push(18);
    want.extend_from_slice(b"91110000000000000X");
    want.push(12);
    want.extend_from_slice(b"case_event/1");
    want.extend_from_slice(&[0xab; 32]);
    want.extend_from_slice(&[0, 2]);
    want.extend_from_slice(b"{}");
    assert_eq!(bytes, want);
    assert_eq!(LeafV1::decode(&bytes).unwrap(), sample());
}

#[test]
fn commitment_is_tagged_salted_sha256() {
    let salt = [7u8; 32];
    let mut h = Sha256::new();
    h.update(b"lianzheng/log/commit/v1\n");
    h.update(salt);
    h.update(b"payload");
    let want: [u8; 32] = h.finalize().into();
    assert_eq!(leaf::commitment(&salt, b"payload"), want);
    assert_ne!(leaf::commitment(&[8u8; 32], b"payload"), want);
}

#[test]
fn encode_rejects_bad_lengths() {
    let mut l = sample();
    l.authority.clear();
    assert!(matches!(
        l.encode(),
        Err(LeafError::BadFieldLength {
            field: "authority",
            len: 0
        })
    ));
    let mut l = sample();
    l.schema = "s".repeat(256);
    assert!(matches!(
        l.encode(),
        Err(LeafError::BadFieldLength {
            field: "schema",
            len: 256
        })
    ));
    let mut l = sample();
    l.schema = "s".repeat(255);
    l.authority = "a".repeat(255);
    let fixed = 17 + 1 + 8 + 1 + 255 + 1 + 255 + 32 + 2;
    l.public_fields = vec![0; MAX_LEAF_LEN - fixed];
    assert_eq!(l.encode().unwrap().len(), MAX_LEAF_LEN);
    l.public_fields.push(0);
    assert!(matches!(
        l.encode(),
        Err(LeafError::TooLong { len: 65_536 })
    ));
}

#[test]
fn decode_rejects_malformed_input() {
    let good = sample().encode().unwrap();

    let mut wrong_tag = good.clone();
    wrong_tag[15] = b'2';
    assert_eq!(LeafV1::decode(&wrong_tag), Err(LeafError::WrongTag));

    let mut trailing = good.clone();
    trailing.push(0);
    assert_eq!(
        LeafV1::decode(&trailing),
        Err(LeafError::TrailingBytes { count: 1 })
    );

    for cut in 0..good.len() {
        assert!(
            LeafV1::decode(&good[..cut]).is_err(),
            "prefix of {cut} bytes"
        );
    }

    // Zero-length authority.
    let mut empty_authority = good[..26].to_vec();
    empty_authority.push(0);
    empty_authority.extend_from_slice(&good[27 + 18..]);
    assert_eq!(
        LeafV1::decode(&empty_authority),
        Err(LeafError::BadFieldLength {
            field: "authority",
            len: 0
        })
    );

    // Invalid UTF-8 in the schema.
    let mut bad_utf8 = good.clone();
    bad_utf8[27 + 18 + 1] = 0xff;
    assert_eq!(
        LeafV1::decode(&bad_utf8),
        Err(LeafError::NotUtf8 { field: "schema" })
    );

    // A public_fields length that points past the end.
    let mut long_len = good.clone();
    let at = good.len() - 4;
    long_len[at] = 0xff;
    assert!(matches!(
        LeafV1::decode(&long_len),
        Err(LeafError::Truncated { .. })
    ));

    assert!(matches!(
        LeafV1::decode(&vec![0; MAX_LEAF_LEN + 1]),
        Err(LeafError::TooLong { .. })
    ));
}

fn arb_leaf() -> impl Strategy<Value = LeafV1> {
    (
        any::<u8>(),
        any::<u64>(),
        "[A-Z0-9]{1,40}|\\PC{1,60}",
        "[a-z_]{1,20}/[0-9]{1,3}",
        any::<[u8; 32]>(),
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_filter("names fit in 255 bytes", |(_, _, a, s, _, _)| {
            a.len() <= 255 && s.len() <= 255
        })
        .prop_map(
            |(kind, recorded_at_ms, authority, schema, commitment, public_fields)| LeafV1 {
                kind,
                recorded_at_ms,
                authority,
                schema,
                commitment,
                public_fields,
            },
        )
}

proptest! {
    #[test]
    fn leaf_round_trip(leaf in arb_leaf()) {
        let bytes = leaf.encode().unwrap();
        prop_assert_eq!(LeafV1::decode(&bytes).unwrap(), leaf);
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(leaf) = LeafV1::decode(&bytes) {
            prop_assert_eq!(leaf.encode().unwrap(), bytes);
        }
    }
}
