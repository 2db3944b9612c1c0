//! Offline receipts (`c2sp.org/tlog-proof@v1`), plain and self-contained.

use crate::common::{FixedRng, MemLog};
use lianzheng_tlog::checkpoint::{Checkpoint, CheckpointError, LogSigner};
use lianzheng_tlog::leaf::{self, LeafV1};
use lianzheng_tlog::merkle;
use lianzheng_tlog::receipt::{Receipt, ReceiptError, ReceiptExtra};

const ORIGIN: &str = "log.lianzheng.example.gov.cn/2026";

struct Fixture {
    signer: LogSigner,
    leaves: Vec<Vec<u8>>,
    extras: Vec<ReceiptExtra>,
    log: MemLog,
    note: String,
}

fn fixture(n: u8) -> Fixture {
    let signer = LogSigner::generate(ORIGIN, &mut FixedRng(3)).unwrap();
    let mut leaves = Vec::new();
    let mut extras = Vec::new();
    for i in 0..n {
        let salt = [i.wrapping_mul(31).wrapping_add(1); 32];
        let payload = format!("{{\"case_id\":\"A-{i}\",\"step\":\"accepted\"}}").into_bytes();
        let leaf = LeafV1 {
            kind: 1,
            recorded_at_ms: 1_767_225_600_000 + u64::from(i),
            authority: "11330100002541234X".to_owned(),
            schema: "case_event/1".to_owned(),
            commitment: leaf::commitment(&salt, &payload),
            public_fields: Vec::new(),
        }
        .encode()
        .unwrap();
        extras.push(ReceiptExtra {
            leaf: leaf.clone(),
            salt,
            payload,
        });
        leaves.push(leaf);
    }
    let mut log = MemLog::default();
    let hashes: Vec<_> = leaves.iter().map(|l| merkle::leaf_hash(l)).collect();
    log.append(&hashes);
    let cp = Checkpoint {
        origin: ORIGIN.to_owned(),
        size: log.size(),
        root: merkle::tree_root(log.size(), &log.stored).unwrap(),
    };
    let note = signer.sign_checkpoint(&cp).unwrap();
    Fixture {
        signer,
        leaves,
        extras,
        log,
        note,
    }
}

impl Fixture {
    fn receipt(&self, index: usize, self_contained: bool) -> Receipt {
        Receipt {
            extra: self_contained.then(|| self.extras[index].to_json()),
            index: index as u64,
            proof: merkle::inclusion_proof(index as u64, self.log.size(), &self.log.stored)
                .unwrap(),
            checkpoint_note: self.note.clone(),
        }
    }
}

#[test]
fn text_layout_and_round_trip() {
    let f = fixture(5);
    let r = f.receipt(2, false);
    let text = r.to_text();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("c2sp.org/tlog-proof@v1"));
    assert_eq!(lines.next(), Some("index 2"));
    assert!(text.contains(&format!("\n\n{}", f.note)));
    assert!(text.ends_with(&f.note));
    assert_eq!(Receipt::parse(&text).unwrap(), r);

    let rc = f.receipt(4, true);
    let text = rc.to_text();
    assert!(text.lines().nth(1).unwrap().starts_with("extra "));
    assert_eq!(Receipt::parse(&text).unwrap(), rc);

    // Single-leaf trees have an empty proof.
    let one = fixture(1);
    let r1 = one.receipt(0, true);
    assert!(r1.proof.is_empty());
    assert_eq!(Receipt::parse(&r1.to_text()).unwrap(), r1);
    r1.verify_self_contained(&one.signer.vkey_text()).unwrap();
}

#[test]
fn every_receipt_verifies() {
    let f = fixture(13);
    let vkey = f.signer.vkey_text();
    for i in 0..f.leaves.len() {
        let r = Receipt::parse(&f.receipt(i, false).to_text()).unwrap();
        let cp = r.verify(&f.leaves[i], &vkey).unwrap();
        assert_eq!((cp.origin.as_str(), cp.size), (ORIGIN, 13));
        // The receipt of one leaf does not prove another.
        assert!(matches!(
            r.verify(&f.leaves[(i + 1) % 13], &vkey),
            Err(ReceiptError::Inclusion(_))
        ));

        let rc = Receipt::parse(&f.receipt(i, true).to_text()).unwrap();
        let record = rc.verify_self_contained(&vkey).unwrap();
        assert_eq!(record.payload, f.extras[i].payload);
        assert_eq!(record.leaf, LeafV1::decode(&f.leaves[i]).unwrap());
        assert_eq!(record.checkpoint, cp);
    }
}

#[test]
fn flipped_bits_fail() {
    let f = fixture(9);
    let vkey = f.signer.vkey_text();
    let r = f.receipt(6, true);
    r.verify(&f.leaves[6], &vkey).unwrap();

    // Every bit of every proof hash matters.
    for h in 0..r.proof.len() {
        for bit in 0..256 {
            let mut bad = r.clone();
            bad.proof[h][bit / 8] ^= 1 << (bit % 8);
            assert!(
                bad.verify(&f.leaves[6], &vkey).is_err(),
                "hash {h} bit {bit}"
            );
        }
    }
    // And every bit of the leaf.
    for bit in 0..f.leaves[6].len() * 8 {
        let mut leaf = f.leaves[6].clone();
        leaf[bit / 8] ^= 1 << (bit % 8);
        assert!(r.verify(&leaf, &vkey).is_err(), "leaf bit {bit}");
    }
    let mut bad = r.clone();
    bad.index = 7;
    assert!(matches!(
        bad.verify(&f.leaves[6], &vkey),
        Err(ReceiptError::Inclusion(_))
    ));
    let mut bad = r.clone();
    bad.proof.pop();
    assert!(bad.verify(&f.leaves[6], &vkey).is_err());

    // A flipped bit in the checkpoint's root breaks its signature.
    let body = format!("{}\n", f.note.split("\n\n").next().unwrap());
    let cp = Checkpoint::parse(&body).unwrap();
    let mut root = cp.root;
    root[0] ^= 1;
    let forged = f
        .note
        .replacen(&body, &Checkpoint { root, ..cp }.to_text().unwrap(), 1);
    let mut bad = r.clone();
    bad.checkpoint_note = forged;
    assert!(matches!(
        bad.verify(&f.leaves[6], &vkey),
        Err(ReceiptError::Checkpoint(
            CheckpointError::BadSignature { .. }
        ))
    ));
    // Another log's key does not verify it.
    let other = LogSigner::generate(ORIGIN, &mut FixedRng(4)).unwrap();
    assert!(matches!(
        r.verify(&f.leaves[6], &other.vkey_text()),
        Err(ReceiptError::Checkpoint(CheckpointError::NoKnownSignature))
    ));
}

#[test]
fn self_contained_receipts_check_the_commitment() {
    let f = fixture(4);
    let vkey = f.signer.vkey_text();
    let good = f.receipt(1, true);
    good.verify_self_contained(&vkey).unwrap();

    let verify_with = |extra: &ReceiptExtra| {
        Receipt {
            extra: Some(extra.to_json()),
            ..good.clone()
        }
        .verify_self_contained(&vkey)
    };
    // An edited payload no longer matches the leaf's commitment, nor does another salt.
    let mut extra = f.extras[1].clone();
    extra.payload[0] ^= 1;
    assert!(matches!(
        verify_with(&extra),
        Err(ReceiptError::CommitmentMismatch)
    ));
    let mut extra = f.extras[1].clone();
    extra.salt[31] ^= 0x80;
    assert!(matches!(
        verify_with(&extra),
        Err(ReceiptError::CommitmentMismatch)
    ));
    // Another leaf with its own matching salt and payload is not at this index.
    assert!(matches!(
        verify_with(&f.extras[2]),
        Err(ReceiptError::Inclusion(_))
    ));
    let garbage_leaf = ReceiptExtra {
        leaf: b"garbage".to_vec(),
        ..f.extras[1].clone()
    };
    assert!(matches!(
        verify_with(&garbage_leaf),
        Err(ReceiptError::Leaf(_))
    ));

    let none = Receipt {
        extra: None,
        ..good.clone()
    };
    assert!(matches!(
        none.verify_self_contained(&vkey),
        Err(ReceiptError::NoExtra)
    ));
    for json in [
        &b"not json"[..],
        br#"{"leaf":"AA==","salt":"AA==","payload":""}"#,
        br#"{"leaf":"AA==","payload":""}"#,
        br#"{"leaf":"!","salt":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","payload":""}"#,
        br#"{"leaf":"","salt":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","payload":"","x":1}"#,
    ] {
        let bad = Receipt {
            extra: Some(json.to_vec()),
            ..good.clone()
        };
        assert!(
            matches!(
                bad.verify_self_contained(&vkey),
                Err(ReceiptError::MalformedExtra { .. })
            ),
            "{}",
            String::from_utf8_lossy(json)
        );
    }
    assert_eq!(
        ReceiptExtra::from_json(&f.extras[3].to_json()).unwrap(),
        f.extras[3]
    );
}

#[test]
fn strict_parsing() {
    let f = fixture(3);
    let good = f.receipt(0, true).to_text();
    assert!(Receipt::parse(&good).is_ok());
    let proof_line = good.lines().nth(3).unwrap().to_owned();
    let bad = [
        String::new(),
        good.replacen("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2", 1),
        good.replacen("index 0", "index 00", 1),
        good.replacen("index 0", "index -0", 1),
        good.replacen("index 0", "index", 1),
        good.replacen("index 0", "Index 0", 1),
        good.replacen("extra ", "extra !", 1),
        good.replacen("extra ", "extras ", 1),
        good.replacen(&proof_line, &proof_line[..40], 1),
        good.replacen(&proof_line, &format!("{proof_line} "), 1),
        good.replacen(&format!("{proof_line}\n"), &format!("{proof_line}\n\n"), 1),
        good.replacen(
            &format!("{proof_line}\n"),
            &format!("{proof_line}\n{proof_line}\n").repeat(33),
            1,
        ),
        good.replace(&f.note, ""),
        good.replace(&f.note, "not a note\n"),
        good.replace(&f.note, &f.note[..f.note.len() - 1]),
        good.split("\n\n").next().unwrap().to_owned(),
        good.replacen("\n", "\r\n", 1),
    ];
    for text in &bad {
        assert!(Receipt::parse(text).is_err(), "accepted:\n{text}");
    }
    // The checkpoint is kept verbatim, cosignatures and all.
    let witness = LogSigner::generate("witness.example/w1", &mut FixedRng(8)).unwrap();
    let body = f.note.split("\n\n").next().unwrap();
    let w = witness.sign_note(&format!("{body}\n")).unwrap();
    let cosigned = format!("{}{}", f.note, w.rsplit_once("\n\n").unwrap().1);
    let r = Receipt {
        checkpoint_note: cosigned.clone(),
        ..f.receipt(0, true)
    };
    let parsed = Receipt::parse(&r.to_text()).unwrap();
    assert_eq!(parsed.checkpoint_note, cosigned);
    parsed.verify_self_contained(&f.signer.vkey_text()).unwrap();
}
