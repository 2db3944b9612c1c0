//! Go `golang.org/x/mod/sumdb/note` vectors (`testdata/signed-note-vectors.json`) through
//! [`LogSigner`], [`open_note`] and [`parse_verifier_key`].

use crate::common::{FixedRng, b64, load_json, str_of};
use lianzheng_tlog::checkpoint::{
    CheckpointError, LogSigner, NoteSignature, open_note, parse_verifier_key,
};

fn vectors() -> serde_json::Value {
    load_json("signed-note-vectors.json")
}

fn strings(v: &serde_json::Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap()).collect())
        .unwrap_or_default()
}

fn sig_of(v: &serde_json::Value) -> NoteSignature {
    let raw = b64(str_of(v, "base64"));
    let key_id = u32::from_str_radix(str_of(v, "key_hash"), 16).unwrap();
    assert_eq!(raw[..4], key_id.to_be_bytes());
    NoteSignature {
        name: str_of(v, "name").to_owned(),
        key_id,
        signature: raw[4..].to_vec(),
    }
}

fn sigs_of(v: &serde_json::Value) -> Vec<NoteSignature> {
    v.as_array()
        .map(|a| a.iter().map(sig_of).collect())
        .unwrap_or_default()
}

#[test]
fn keys_round_trip() {
    let v = vectors();
    for key in v["keys"].as_array().unwrap() {
        let signer = LogSigner::from_skey(str_of(key, "skey")).unwrap();
        assert_eq!(signer.skey_text(), str_of(key, "skey"));
        assert_eq!(signer.vkey_text(), str_of(key, "vkey"));
        assert_eq!(signer.name(), str_of(key, "name"));
        assert_eq!(format!("{:08x}", signer.key_id()), str_of(key, "key_hash"));
        // The debug form never shows the secret.
        assert!(!format!("{signer:?}").contains(&str_of(key, "skey")[30..]));
    }
    // EnochRoot's key is what generation from an all-zero random source gives.
    let enoch = LogSigner::generate("EnochRoot", &mut FixedRng(0)).unwrap();
    assert_eq!(
        enoch.vkey_text(),
        "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
    );
}

#[test]
fn sign_and_open_cases() {
    let v = vectors();
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 26);
    for case in cases {
        let name = str_of(case, "case");
        match str_of(case, "operation") {
            "sign" => check_sign_case(name, case),
            "open" => check_open_case(name, case),
            op => panic!("{name}: unknown operation {op}"),
        }
    }
}

fn check_sign_case(name: &str, case: &serde_json::Value) {
    let text = str_of(case, "text");
    match name {
        // The output is byte for byte that of Go (Ed25519 signatures are deterministic).
        // Replacing a stale signature by the same key gives the same note as signing afresh.
        "sign/peter" | "sign/replace-existing-signature" => {
            let signer = LogSigner::from_skey(str_of(case, "skey")).unwrap();
            assert_eq!(
                signer.sign_note(text).unwrap(),
                str_of(case, "signed_note"),
                "{name}"
            );
        }
        "sign/add-second-signature" => {
            // Adding EnochRoot's signature to PeterNeumann's note appends EnochRoot's line.
            let enoch = LogSigner::from_skey(str_of(case, "skey")).unwrap();
            let enoch_note = enoch.sign_note(text).unwrap();
            let enoch_line = enoch_note.strip_prefix(&format!("{text}\n")).unwrap();
            let existing = sig_of(&case["existing_sigs"][0]);
            let peter_line = format!(
                "— {} {}\n",
                existing.name,
                str_of(&case["existing_sigs"][0], "base64")
            );
            assert_eq!(
                format!("{text}\n{peter_line}{enoch_line}"),
                str_of(case, "signed_note"),
                "{name}"
            );
        }
        "sign/text-without-final-newline" => {
            let signer = LogSigner::from_skey(str_of(case, "skey")).unwrap();
            assert!(matches!(
                signer.sign_note(text),
                Err(CheckpointError::MalformedNote)
            ));
        }
        "sign/signer-with-invalid-name" => {
            assert!(matches!(
                LogSigner::generate(name_of(case), &mut FixedRng(1)),
                Err(CheckpointError::InvalidKeyName { .. })
            ));
        }
        // These two pass Go `note.Signature` structs whose key hash disagrees with their
        // base64 or whose name is invalid. Our signer only signs fresh text, and in note text
        // such signatures cannot be written down (the key id is read from the base64), so
        // the open cases below cover the text forms.
        "sign/existing-signature-bad-name" | "sign/existing-signature-hash-mismatch" => {}
        other => panic!("unknown sign case `{other}`"),
    }
}

fn name_of(case: &serde_json::Value) -> &str {
    str_of(case, "name")
}

fn check_open_case(name: &str, case: &serde_json::Value) {
    let vkeys = strings(&case["verifiers"]);
    let Some(note) = case["signed_note"].as_str() else {
        // Invalid UTF-8 cannot reach our API, which takes `&str`.
        assert_eq!(name, "open/malformed/invalid-utf8");
        assert!(String::from_utf8(b64(str_of(case, "signed_note_base64"))).is_err());
        return;
    };
    let result = open_note(note, &vkeys);
    if case["valid"].as_bool().unwrap() {
        let opened = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(opened.text, str_of(case, "text"), "{name}");
        assert_eq!(opened.verified, sigs_of(&case["expected_sigs"]), "{name}");
        assert_eq!(
            opened.unverified,
            sigs_of(&case["expected_unverified_sigs"]),
            "{name}"
        );
        return;
    }
    let expected = case
        .get("expected_error_with_ordinary_key_list")
        .and_then(|e| e.as_str())
        .unwrap_or_else(|| str_of(case, "expected_error"));
    let err = result.expect_err(name);
    let matches = match expected {
        "malformed note" => matches!(err, CheckpointError::MalformedNote),
        "note has no verifiable signatures" => matches!(err, CheckpointError::NoKnownSignature),
        "ambiguous key EnochRoot+af0cfe78" => matches!(
            err,
            CheckpointError::AmbiguousKey { ref name, key_id: 0xaf0c_fe78 } if name == "EnochRoot"
        ),
        "invalid signature for key PeterNeumann+c74f20a3" => matches!(
            err,
            CheckpointError::BadSignature { ref name, key_id: 0xc74f_20a3 } if name == "PeterNeumann"
        ),
        other => panic!("{name}: unmapped expected error `{other}`"),
    };
    assert!(matches, "{name}: expected `{expected}`, got {err:?}");
}

#[test]
fn one_hundred_signatures_are_accepted_one_hundred_and_one_are_not() {
    let v = vectors();
    let peter = &v["keys"][0];
    let signer = LogSigner::from_skey(str_of(peter, "skey")).unwrap();
    let note = signer.sign_note("hello\n").unwrap();
    let line = note.strip_prefix("hello\n\n").unwrap();
    let hundred = format!("hello\n\n{}", line.repeat(100));
    assert_eq!(
        open_note(&hundred, &[str_of(peter, "vkey")])
            .unwrap()
            .verified
            .len(),
        1
    );
    let too_many = format!("hello\n\n{}", line.repeat(101));
    assert!(matches!(
        open_note(&too_many, &[str_of(peter, "vkey")]),
        Err(CheckpointError::MalformedNote)
    ));
}

#[test]
fn key_parsing() {
    let v = vectors();
    let k = &v["key_parsing"];
    for vkey in strings(&k["valid_vkeys"]) {
        let (name, id) = parse_verifier_key(vkey).unwrap();
        assert_eq!(format!("{name}+{id:08x}"), vkey.rsplit_once('+').unwrap().0);
    }
    for skey in strings(&k["valid_skeys"]) {
        LogSigner::from_skey(skey).unwrap();
    }
    for bad in k["invalid_vkeys"].as_array().unwrap() {
        assert!(parse_verifier_key(str_of(bad, "vkey")).is_err(), "{bad}");
    }
    for bad in strings(&k["invalid_vkeys_single_byte_increment"]) {
        assert!(parse_verifier_key(bad).is_err(), "{bad}");
    }
    for bad in strings(&k["invalid_skeys_single_byte_increment"]) {
        assert!(LogSigner::from_skey(bad).is_err(), "{bad}");
    }
    // Every proper substring of a valid key is rejected.
    let vkey = strings(&k["valid_vkeys"])[0];
    let skey = strings(&k["valid_skeys"])[0];
    for (key, parse) in [
        (
            vkey,
            &(|s: &str| parse_verifier_key(s).is_ok()) as &dyn Fn(&str) -> bool,
        ),
        (skey, &|s: &str| LogSigner::from_skey(s).is_ok()),
    ] {
        for i in 0..key.len() {
            for j in i + 1..=key.len() {
                if (i, j) != (0, key.len()) {
                    assert!(!parse(&key[i..j]), "accepted substring `{}`", &key[i..j]);
                }
            }
        }
    }
    // A sign in the hex key id is not hex (Rust's integer parser would accept it).
    assert!(
        parse_verifier_key("PeterNeumann++74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            .is_err()
    );
}
