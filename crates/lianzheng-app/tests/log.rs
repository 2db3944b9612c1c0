//! The tamper-evident record: every event is a leaf; the audit finds edits, inserts, deletes and
//! reorderings made behind the application's back; erasure keeps every proof valid; receipts
//! verify offline; proofs verify against signed checkpoints.

use lianzheng_app::db::Value;
use lianzheng_tlog::checkpoint::{LogSigner, verify_checkpoint};
use lianzheng_tlog::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use lianzheng_tlog::receipt::Receipt;

use crate::common::{Env, admin, both};

fn signer() -> LogSigner {
    let mut rng = rand_core::OsRng;
    LogSigner::generate("test.lianzheng.example/log", &mut rng).unwrap()
}

/// Three finished cases, a checkpoint.
fn history(env: &Env, s: &LogSigner) -> String {
    let code = env.open_case("L1");
    env.finish_case("L1", "l1");
    env.open_case("L2");
    env.open_case("L3");
    env.finish_case("L3", "l1");
    env.app.checkpoint(s).unwrap().expect("a new checkpoint");
    code
}

fn exec(env: &Env, sql: &str, params: &[Value]) {
    env.app
        .db
        .write(|tx| tx.exec(sql, params).map(|_| ()))
        .unwrap();
}

fn audit_seqs(env: &Env, s: &LogSigner) -> Vec<i64> {
    let r = env.app.audit(Some(&s.vkey_text())).unwrap();
    r.problems.iter().map(|p| p.seq).collect()
}

#[test]
fn a_clean_record_audits_clean_and_every_event_is_a_leaf() {
    both("log_clean", |env| {
        let s = signer();
        history(env, &s);
        let r = env.app.audit(Some(&s.vkey_text())).unwrap();
        assert!(r.is_clean(), "{}: {:?}", env.backend, r.problems);
        let events = env.count("SELECT COUNT(*) FROM events", &[]);
        assert_eq!(r.events as i64, events);
        assert_eq!(r.leaves as i64, events);
        assert_eq!(r.checkpoint_size, Some(events as u64));
        // Nothing new: no new checkpoint.
        assert!(env.app.checkpoint(&s).unwrap().is_none());
    });
}

#[test]
fn direct_sql_edits_inserts_deletes_and_reorders_are_reported() {
    both("log_tamper", |env| {
        let s = signer();
        history(env, &s);
        let n = env.count("SELECT COUNT(*) FROM events", &[]);
        // Edit a timestamp (the classic: make an overdue step look on time).
        exec(
            env,
            "UPDATE events SET occurred_at = occurred_at - 86400000 WHERE seq = 5",
            &[],
        );
        assert_eq!(audit_seqs(env, &s), vec![5], "{}", env.backend);
        exec(
            env,
            "UPDATE events SET occurred_at = occurred_at + 86400000 WHERE seq = 5",
            &[],
        );
        assert!(audit_seqs(env, &s).is_empty(), "{}: restored", env.backend);
        // Edit a payload.
        exec(
            env,
            "UPDATE events SET payload = replace(payload, 'granted', 'denied') WHERE kind = 'finish' AND subject_id = 'L1'",
            &[],
        );
        let seq = env.count(
            "SELECT seq FROM events WHERE kind = 'finish' AND subject_id = 'L1'",
            &[],
        );
        assert_eq!(audit_seqs(env, &s), vec![seq], "{}", env.backend);
        exec(
            env,
            "UPDATE events SET payload = replace(payload, 'denied', 'granted') WHERE seq = ?",
            &[seq.into()],
        );
        // Delete an overdue case's event.
        let last = env.count("SELECT MAX(seq) FROM events", &[]);
        exec(env, "DELETE FROM events WHERE seq = 7", &[]);
        assert_eq!(audit_seqs(env, &s), vec![7], "{}", env.backend);
        // Delete the newest event: the sequence ends early.
        exec(env, "DELETE FROM events WHERE seq = ?", &[last.into()]);
        assert_eq!(audit_seqs(env, &s), vec![7, last], "{}", env.backend);
        // Insert a record that never went through the log.
        exec(
            env,
            "INSERT INTO events (seq, subject_type, subject_id, kind, department, actor, occurred_at, recorded_at, source, payload, salt) VALUES (?, 'case', 'L2', 'finish', 'SCJG', 'x', 0, 0, 'sql', '{}', NULL)",
            &[(n + 1).into()],
        );
        let seqs = audit_seqs(env, &s);
        assert!(seqs.contains(&(n + 1)), "{}: {seqs:?}", env.backend);
    });
}

#[test]
fn swapped_records_and_a_rewritten_log_are_reported() {
    both("log_reorder", |env| {
        let s = signer();
        history(env, &s);
        // Swap two records' contents (a reordering).
        env.app
            .db
            .write(|tx| {
                let a = tx
                    .query_opt("SELECT payload, occurred_at FROM events WHERE seq = 3", &[])?
                    .unwrap();
                let b = tx
                    .query_opt("SELECT payload, occurred_at FROM events WHERE seq = 4", &[])?
                    .unwrap();
                tx.exec(
                    "UPDATE events SET payload = ?, occurred_at = ? WHERE seq = 3",
                    &[b.text(0).into(), b.int(1).into()],
                )?;
                tx.exec(
                    "UPDATE events SET payload = ?, occurred_at = ? WHERE seq = 4",
                    &[a.text(0).into(), a.int(1).into()],
                )?;
                Ok::<_, lianzheng_app::DbError>(())
            })
            .unwrap();
        let seqs = audit_seqs(env, &s);
        assert!(
            seqs.contains(&3) && seqs.contains(&4),
            "{}: {seqs:?}",
            env.backend
        );
        // Someone with database access rewrites a leaf to match an edit: the signed root breaks.
        exec(
            env,
            "UPDATE log_leaves SET leaf = ? WHERE idx = 0",
            &[Value::Blob(b"forged".to_vec())],
        );
        let r = env.app.audit(Some(&s.vkey_text())).unwrap();
        assert!(
            r.problems
                .iter()
                .any(|p| p.seq == 0 && p.problem.contains("signed root")),
            "{}: {:?}",
            env.backend,
            r.problems
        );
    });
}

#[test]
fn erasure_keeps_proofs_valid_and_is_accounted_for() {
    both("log_erase", |env| {
        let s = signer();
        let code = history(env, &s);
        // A receipt given before the erasure still verifies after it.
        let seq = env.count("SELECT MIN(seq) FROM events WHERE subject_id = 'L1'", &[]);
        let before = env.app.case_receipt("L1", &code, seq).unwrap();
        let n = env
            .app
            .erase_case(
                &admin(),
                "L1",
                "《个人信息保护法》第四十七条：申请人撤回同意",
            )
            .unwrap();
        assert!(n >= 3);
        env.app.checkpoint(&s).unwrap();
        let r = env.app.audit(Some(&s.vkey_text())).unwrap();
        assert!(r.is_clean(), "{}: {:?}", env.backend, r.problems);
        assert_eq!(r.erased as usize, n);
        let receipt = Receipt::parse(&before).unwrap();
        assert!(receipt.verify_self_contained(&s.vkey_text()).is_ok());
        // The applicant's data is gone; the public view says so.
        assert!(env.app.case_receipt("L1", &code, seq).is_err());
        // Erasing without a basis, or as a department, is refused.
        assert!(env.app.erase_case(&admin(), "L3", " ").is_err());
        assert!(
            env.app
                .erase_case(&crate::common::dept("SCJG"), "L3", "x")
                .is_err()
        );
        // An erasure not on record is tampering.
        exec(
            env,
            "UPDATE events SET salt = NULL WHERE subject_id = 'L3' AND kind = 'apply'",
            &[],
        );
        assert_eq!(audit_seqs(env, &s).len(), 1, "{}", env.backend);
    });
}

#[test]
fn receipts_verify_offline_and_proofs_against_checkpoints() {
    both("log_receipt", |env| {
        let s = signer();
        let code = history(env, &s);
        let cp1 = env.app.latest_checkpoint().unwrap().unwrap();
        let seq = env.count(
            "SELECT MAX(seq) FROM events WHERE subject_id = 'L1' AND subject_type = 'case'",
            &[],
        );
        let text = env.app.case_receipt("L1", &code, seq).unwrap();
        let receipt = Receipt::parse(&text).unwrap();
        let rec = receipt.verify_self_contained(&s.vkey_text()).unwrap();
        assert_eq!(rec.checkpoint.size, cp1.size);
        assert!(String::from_utf8_lossy(&rec.payload).contains("\"subject_id\":\"L1\""));
        // A flipped byte fails; a wrong code is refused like an unknown case.
        let mut bad = text.clone().into_bytes();
        let pos = bad
            .iter()
            .rposition(|b| *b == b'=')
            .unwrap_or(bad.len() / 2)
            - 3;
        bad[pos] ^= 1;
        assert!(
            Receipt::parse(&String::from_utf8_lossy(&bad))
                .map_or(true, |r| r.verify_self_contained(&s.vkey_text()).is_err())
        );
        assert!(env.app.case_receipt("L1", "00000000", seq).is_err());
        assert!(env.app.case_receipt("L2", &code, seq).is_err());
        // More events, a second checkpoint: consistent with the first; inclusion of every leaf.
        env.open_case("L4");
        let cp2 = env.app.checkpoint(&s).unwrap().unwrap();
        let c1 = verify_checkpoint(&cp1.note, &s.vkey_text()).unwrap();
        let c2 = verify_checkpoint(&cp2.note, &s.vkey_text()).unwrap();
        let proof = env.app.consistency_proof(c1.size, c2.size).unwrap();
        verify_consistency(c1.size, c2.size, &c1.root, &c2.root, &proof).unwrap();
        for i in 0..c2.size {
            let leaf = env
                .app
                .db
                .read(|tx| {
                    tx.query_opt(
                        "SELECT leaf FROM log_leaves WHERE idx = ?",
                        &[(i as i64).into()],
                    )
                })
                .unwrap()
                .unwrap()
                .blob(0);
            let p = env.app.inclusion_proof(i, c2.size).unwrap();
            verify_inclusion(i, c2.size, &leaf_hash(&leaf), &p, &c2.root).unwrap();
        }
        // Tiles: the level-0 partial tile holds the leaf hashes; the entry bundle the leaves.
        let (tile, full) = env.app.tile(&format!("tile/0/000.p/{}", c2.size)).unwrap();
        assert!(!full);
        assert_eq!(tile.len() as u64, 32 * c2.size);
        let (bundle, _) = env
            .app
            .tile(&format!("tile/entries/000.p/{}", c2.size))
            .unwrap();
        assert!(bundle.len() > 100);
        assert!(
            env.app
                .tile(&format!("tile/0/000.p/{}", c2.size + 1))
                .is_err(),
            "beyond the checkpoint"
        );
    });
}

/// The canonical bytes are exactly those of a JSON object with sorted keys, as `serde_json`
/// writes one: the encoding every stored commitment was made with.
mod canonical {
    use lianzheng_app::log::EventFields;
    use proptest::prelude::*;

    fn oracle(f: &EventFields) -> Vec<u8> {
        let v = serde_json::json!({
            "seq": f.seq, "subject_type": f.subject_type, "subject_id": f.subject_id,
            "kind": f.kind, "department": f.department, "actor": f.actor,
            "occurred_at": f.occurred_at, "recorded_at": f.recorded_at, "source": f.source,
            "source_event_id": f.source_event_id, "payload": f.payload,
        });
        let sorted: std::collections::BTreeMap<String, serde_json::Value> =
            serde_json::from_value(v).expect("an object");
        serde_json::to_vec(&sorted).expect("serializes")
    }

    fn fields() -> impl Strategy<Value = EventFields> {
        let text = "(\\PC|[\"\\\\\n\t\u{0}\u{1f}\u{7f}]){0,24}";
        (
            any::<i64>(),
            (text, text, text, text, text),
            (any::<i64>(), any::<i64>(), text),
            proptest::option::of(text),
            "(\\PC|[\"\\\\\n]){0,200}",
        )
            .prop_map(
                |(seq, (t, id, k, d, a), (o, r, src), sid, payload)| EventFields {
                    seq,
                    subject_type: t,
                    subject_id: id,
                    kind: k,
                    department: d,
                    actor: a,
                    occurred_at: o,
                    recorded_at: r,
                    source: src,
                    source_event_id: sid,
                    payload,
                },
            )
    }

    proptest! {
        #[test]
        fn canonical_bytes_are_sorted_key_json(f in fields()) {
            prop_assert_eq!(f.canonical(), oracle(&f));
            let public: serde_json::Value =
                serde_json::from_slice(&f.leaf(&[7; 32]).public_fields).expect("public fields are JSON");
            prop_assert_eq!(
                public,
                serde_json::json!({"d": f.department, "k": f.kind, "t": f.subject_type})
            );
        }
    }

    #[test]
    fn a_known_record_keeps_its_bytes() {
        let f = EventFields {
            seq: 42,
            subject_type: "case".into(),
            subject_id: "20261126SCJG00001".into(),
            kind: "accepted".into(),
            department: "SCJG".into(),
            actor: "SCJG-C01".into(),
            occurred_at: 1_790_000_000_000,
            recorded_at: 1_790_000_060_000,
            source: "key:窗口\"系统\"".into(),
            source_event_id: None,
            payload: r#"{"a":"受理"}"#.into(),
        };
        assert_eq!(
            String::from_utf8(f.canonical()).expect("UTF-8"),
            r#"{"actor":"SCJG-C01","department":"SCJG","kind":"accepted","occurred_at":1790000000000,"payload":"{\"a\":\"受理\"}","recorded_at":1790000060000,"seq":42,"source":"key:窗口\"系统\"","source_event_id":null,"subject_id":"20261126SCJG00001","subject_type":"case"}"#
        );
    }
}
