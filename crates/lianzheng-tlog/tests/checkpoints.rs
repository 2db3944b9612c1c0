//! Checkpoints: C2SP examples (`testdata/c2sp-examples.json`), the real `sum.golang.org`
//! checkpoint and the `transparency-dev/formats` cases (`testdata/checkpoint-vectors.json`),
//! strict body parsing, and signing.

use crate::common::{FixedRng, b64, hex32, load_json, str_of};
use lianzheng_tlog::checkpoint::{
    Checkpoint, CheckpointError, LogSigner, open_note, parse_verifier_key, verify_checkpoint,
};
use lianzheng_tlog::merkle;

fn c2sp() -> serde_json::Value {
    load_json("c2sp-examples.json")
}

fn formats() -> serde_json::Value {
    load_json("checkpoint-vectors.json")
}

/// A verifier key that signed none of the vectors, to open notes "with no known key".
fn stranger() -> String {
    LogSigner::generate("stranger.example", &mut FixedRng(9))
        .unwrap()
        .vkey_text()
}

#[test]
fn c2sp_signed_note_examples() {
    let v = c2sp();
    let sn = &v["signed_note"];

    // The introductory note parses (its text contains an empty line; the last one separates
    // the signatures) but no published key verifies it.
    let intro = &sn["introductory_example"];
    let note = str_of(intro, "signed_note");
    assert!(matches!(
        open_note(note, &[&stranger()]),
        Err(CheckpointError::NoKnownSignature)
    ));
    let sig_line = note.strip_prefix(str_of(intro, "text")).unwrap();
    let sig = b64(sig_line.trim_end().rsplit(' ').next().unwrap());
    assert_eq!(
        hex::encode(&sig[..4]),
        str_of(&intro["signatures"][0], "key_id")
    );
    assert_eq!(sig.len() - 4, 64);

    // The example.com/foo vkey verifies its note.
    let ex = &sn["verifier_key_example"];
    let (name, id) = parse_verifier_key(str_of(ex, "vkey")).unwrap();
    assert_eq!(name, "example.com/foo");
    assert_eq!(format!("{id:08x}"), str_of(ex, "key_id"));
    let opened = open_note(str_of(ex, "signed_note"), &[str_of(ex, "vkey")]).unwrap();
    assert_eq!(opened.text, str_of(ex, "text"));
    assert_eq!(opened.verified.len(), 1);
    assert_eq!(opened.verified[0].key_id, id);
    // The public key in the vkey is the one in the vector.
    let key = b64(str_of(ex, "vkey").splitn(3, '+').nth(2).unwrap());
    assert_eq!(key[0], 0x01);
    assert_eq!(hex::encode(&key[1..]), str_of(ex, "public_key_hex"));
}

#[test]
fn c2sp_checkpoint_and_cosignature_examples() {
    let v = c2sp();
    let ex = &v["tlog_checkpoint"]["example"];
    let cp = Checkpoint::parse(str_of(ex, "text")).unwrap();
    assert_eq!(cp.origin, str_of(ex, "origin"));
    assert_eq!(cp.size, ex["tree_size"].as_u64().unwrap());
    assert_eq!(cp.root, hex32(str_of(ex, "root_hash_hex")));
    assert_eq!(cp.to_text().unwrap(), str_of(ex, "text"));
    // No key is published: the note parses, nothing verifies.
    assert!(matches!(
        verify_checkpoint(str_of(ex, "signed_note"), &stranger()),
        Err(CheckpointError::NoKnownSignature)
    ));

    // The cosigned checkpoint: a log signature and a 72-byte `cosignature/v1` signature,
    // both by keys we do not know; unknown signatures are ignored, not errors.
    let co = &v["tlog_cosignature_example"];
    let note = str_of(co, "signed_note");
    assert!(matches!(
        verify_checkpoint(note, &stranger()),
        Err(CheckpointError::NoKnownSignature)
    ));
    let witness_line = note.lines().last().unwrap();
    let sig = b64(witness_line.rsplit(' ').next().unwrap());
    assert_eq!(
        hex::encode(&sig[..4]),
        str_of(&co["signatures"][1], "key_id")
    );
    assert_eq!(sig.len() - 4, 72);
    let timestamp = u64::from_be_bytes(sig[4..12].try_into().unwrap());
    assert_eq!(
        timestamp,
        co["witness_signature_timestamp"].as_u64().unwrap()
    );
    assert_eq!(
        format!("cosignature/v1\ntime {timestamp}\n{}", str_of(ex, "text")),
        str_of(co, "witness_signed_message")
    );
}

#[test]
fn sum_golang_org_checkpoint_verifies() {
    let v = formats();
    let s = &v["sum_golang_org"];
    let cp = verify_checkpoint(str_of(s, "checkpoint"), str_of(s, "vkey")).unwrap();
    assert_eq!(cp.origin, "go.sum database tree");
    assert_eq!(cp.size, 6_476_701);
    assert_eq!(cp.root, hex32(str_of(s, "root_hash_hex")));
    // The origin is the caller's to check: the "wrong logID" case differs from it.
    for case in s["parse_cases"].as_array().unwrap() {
        assert_eq!(
            cp.origin == str_of(case, "expected_origin"),
            case["valid"].as_bool().unwrap()
        );
    }

    // A flipped bit in the signature rejects the note: a known key's signature failed.
    let note = str_of(s, "checkpoint").replace("Az3grsLX85Gz", "Az3grsLX85Gy");
    assert!(matches!(
        verify_checkpoint(&note, str_of(s, "vkey")),
        Err(CheckpointError::BadSignature { .. })
    ));
}

#[test]
fn extra_and_unknown_signatures() {
    let v = formats();
    let s = &v["sum_golang_org"];
    let extra = &v["sum_golang_org_with_extra_signatures"];
    let vkeys: Vec<&str> = std::iter::once(str_of(s, "vkey"))
        .chain(
            extra["extra_signers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| str_of(e, "vkey")),
        )
        .collect();
    let three = str_of(extra, "checkpoint_with_three_extra_signatures");
    assert_eq!(open_note(three, &vkeys).unwrap().verified.len(), 4);
    let five = str_of(extra, "checkpoint_with_five_extra_signatures");
    let opened = open_note(five, &vkeys).unwrap();
    assert_eq!(opened.verified.len(), 4);
    let unknown: Vec<&str> = opened.unverified.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(unknown, ["random1", "random2"]);
    // With only the log key, the witnesses and the random lines are all ignored.
    let cp = verify_checkpoint(five, str_of(s, "vkey")).unwrap();
    assert_eq!(cp.size, 6_476_701);
}

#[test]
fn transparency_dev_parse_checkpoint_cases() {
    let v = formats();
    let keys = v["test_keys"]["keys"].as_array().unwrap();
    for key in keys {
        let signer = LogSigner::from_skey(str_of(key, "skey")).unwrap();
        assert_eq!(signer.vkey_text(), str_of(key, "vkey"));
    }
    let pc = &v["parse_checkpoint_cases"];
    let log_vkey = str_of(pc, "log_vkey");
    let mut known = vec![log_vkey];
    known.extend(
        pc["other_vkeys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap()),
    );
    let body = str_of(pc, "checkpoint_body");
    let log = LogSigner::from_skey(str_of(&keys[0], "skey")).unwrap();
    let log_line = log
        .sign_note(body)
        .unwrap()
        .strip_prefix(&format!("{body}\n"))
        .unwrap()
        .to_owned();

    for case in pc["cases"].as_array().unwrap() {
        let desc = str_of(case, "desc");
        let note = str_of(case, "signed_note");
        let opened = open_note(note, &known);
        let verified = opened.as_ref().map_or(0, |o| o.verified.len());
        assert_eq!(
            verified as u64,
            case["expected_verified_sig_count"].as_u64().unwrap(),
            "{desc}"
        );
        let has_log_sig = verify_checkpoint(note, log_vkey);
        // Every note whose body is the checkpoint and which the log signed carries our own,
        // byte-identical Log signature line.
        if note.starts_with(body) && note.contains("— Log ") {
            assert!(note.contains(&log_line), "{desc}");
        }
        match str_of(case, "desc") {
            "no sigs" => assert!(matches!(opened, Err(CheckpointError::MalformedNote))),
            "just known" => {
                assert!(matches!(
                    has_log_sig,
                    Err(CheckpointError::NoKnownSignature)
                ));
            }
            "bad body good sigs" => assert!(matches!(
                has_log_sig,
                Err(CheckpointError::Malformed { .. })
            )),
            // The body's root is the 6-byte "abcdef": valid for transparency-dev, which takes
            // any hash length, but not a SHA-256 root, which our strict parser requires.
            _ => assert!(
                matches!(
                    has_log_sig,
                    Err(CheckpointError::Malformed {
                        reason: "root hash is not base64 of 32 bytes"
                    })
                ),
                "{desc}: {has_log_sig:?}"
            ),
        }
    }
}

#[test]
fn transparency_dev_body_cases() {
    let v = formats();
    let cases = &v["checkpoint_body_cases"];
    for case in cases["unmarshal_cases"].as_array().unwrap() {
        let desc = str_of(case, "desc");
        let result = Checkpoint::parse(str_of(case, "body"));
        // None of these roots is 32 bytes, so our strict parser rejects every case; the valid
        // ones with trailing data are also rejected for their extension lines.
        assert!(result.is_err(), "{desc}");
    }
    let moon = &cases["extension_example"];
    let body = str_of(moon, "body");
    assert!(matches!(
        Checkpoint::parse(body),
        Err(CheckpointError::ExtensionLines)
    ));
    // With a 32-byte root the same body is rejected only because of its extension lines.
    let root = base64_of(&[7; 32]);
    let body32 = body.replace("aXQncyBhIHJvb3QgaGFzaA==", &root);
    assert!(matches!(
        Checkpoint::parse(&body32),
        Err(CheckpointError::ExtensionLines)
    ));
    let without_ext: String = body32.lines().take(3).map(|l| format!("{l}\n")).collect();
    let cp = Checkpoint::parse(&without_ext).unwrap();
    assert_eq!((cp.origin.as_str(), cp.size), ("Moon Log", 4_027_504));
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn strict_body_parsing() {
    let root = base64_of(&merkle::leaf_hash(b"root"));
    let good = format!("example.com/log\n42\n{root}\n");
    assert_eq!(Checkpoint::parse(&good).unwrap().size, 42);
    assert_eq!(
        Checkpoint::parse(&format!("o\n0\n{root}\n")).unwrap().size,
        0
    );
    let bad = [
        format!("example.com/log\n42\n{root}"),    // no final newline
        format!("\n42\n{root}\n"),                 // empty origin
        format!("example.com/log\n042\n{root}\n"), // leading zero
        format!("example.com/log\n+42\n{root}\n"), // sign
        format!("example.com/log\n-1\n{root}\n"),  // negative
        format!("example.com/log\n 42\n{root}\n"), // space
        format!("example.com/log\n18446744073709551616\n{root}\n"), // overflow
        format!("example.com/log\n42\n{}\n", &root[..43]), // no padding
        format!("example.com/log\n42\n{}\n", base64_of(&[1; 31])), // 31 bytes
        format!("example.com/log\n42\n{root}\n\n"), // empty extension line
        "example.com/log\n42\n".to_owned(),        // two lines
        "example.com/log\n42\nThisIsn'tBase64\n".to_owned(),
        // Non-canonical base64: the last character carries nonzero padding bits.
        format!(
            "example.com/log\n42\n{}\n",
            root.replace("=", "").chars().take(42).collect::<String>() + "B="
        ),
    ];
    for text in &bad {
        assert!(Checkpoint::parse(text).is_err(), "accepted {text:?}");
    }
    let with_newline = Checkpoint {
        origin: "a\nb".to_owned(),
        size: 1,
        root: [0; 32],
    };
    assert!(with_newline.to_text().is_err());
    let empty = Checkpoint {
        origin: String::new(),
        size: 1,
        root: [0; 32],
    };
    assert!(empty.to_text().is_err());
}

#[test]
fn sign_and_verify_round_trip() {
    let origin = "log.lianzheng.example.gov.cn/2026";
    let signer = LogSigner::generate(origin, &mut FixedRng(42)).unwrap();
    let reloaded = LogSigner::from_skey(&signer.skey_text()).unwrap();
    assert_eq!(reloaded.vkey_text(), signer.vkey_text());

    let cp = Checkpoint {
        origin: origin.to_owned(),
        size: 70_000,
        root: merkle::leaf_hash(b"r"),
    };
    let note = signer.sign_checkpoint(&cp).unwrap();
    assert_eq!(
        note,
        reloaded.sign_checkpoint(&cp).unwrap(),
        "Ed25519 is deterministic"
    );
    assert!(note.starts_with(&cp.to_text().unwrap()));
    assert_eq!(verify_checkpoint(&note, &signer.vkey_text()).unwrap(), cp);

    // A key signs only its own log's checkpoints.
    let other = Checkpoint {
        origin: "other.example/log".to_owned(),
        ..cp.clone()
    };
    assert!(matches!(
        signer.sign_checkpoint(&other),
        Err(CheckpointError::OriginMismatch { .. })
    ));
    // Another key with the same name does not verify it, and is not "known" either (its
    // key id differs), so the note has no known signature.
    let impostor = LogSigner::generate(origin, &mut FixedRng(43)).unwrap();
    assert!(matches!(
        verify_checkpoint(&note, &impostor.vkey_text()),
        Err(CheckpointError::NoKnownSignature)
    ));
    // Tampering with the body breaks the signature.
    let tampered = note.replacen("70000", "70001", 1);
    assert!(matches!(
        verify_checkpoint(&tampered, &signer.vkey_text()),
        Err(CheckpointError::BadSignature { .. })
    ));
    // A witness cosignature by an unknown key is ignored.
    let witness = LogSigner::generate("witness.example/w1", &mut FixedRng(44)).unwrap();
    let w_line = witness.sign_note(&cp.to_text().unwrap()).unwrap();
    let w_line = w_line.rsplit_once("\n\n").unwrap().1;
    let cosigned = format!("{note}{w_line}");
    assert_eq!(
        verify_checkpoint(&cosigned, &signer.vkey_text()).unwrap(),
        cp
    );
    assert_eq!(
        open_note(&cosigned, &[&signer.vkey_text(), &witness.vkey_text()])
            .unwrap()
            .verified
            .len(),
        2
    );

    for bad_name in ["", "has space", "a+b", "tab\there"] {
        assert!(
            LogSigner::generate(bad_name, &mut FixedRng(1)).is_err(),
            "{bad_name:?}"
        );
    }
}
