//! The complaint rule corpus, in the style of `corpus.rs`. Each `tests/corpus/complaints/*.json`
//! fixture holds a `description`, an optional `rule_pack` (TOML) and `steps`, each either
//! - an event: `event` (ComplaintEvent JSON; `complaint_no` filled in when left out),
//!   `recorded_at` (default: `occurred_at`), and the exact `findings` (`[code, scope]`) the
//!   event rules return, or `refused` (`no_such_complaint`, `exists`, `not_allowed`,
//!   `deadline_passed`, `no_extension`, `no_reopen`, `invalid`); optionally the `status` after it;
//! - a sweep: `now`, optionally `pending` (`[code, scope, due_at]`), and the `fires` due at `now`
//!   with the exact `findings` of their `time_outcome`.
//!
//! Every complaint rule (`G…` in `RULES`) must fire somewhere in the corpus.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use lianzheng_core::catalog::ItemBody;
use lianzheng_core::codes::Fen;
use lianzheng_core::complaint::{
    self, Complaint, ComplaintEvent, FeeFlag, Limits, Refusal, check_fee,
};
use lianzheng_core::rules::{Outcome, RULES, RulePack};
use serde::Deserialize;

use crate::common::cal;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    description: String,
    #[serde(default)]
    rule_pack: Option<String>,
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    event: Option<serde_json::Value>,
    #[serde(default)]
    recorded_at: Option<Timestamp>,
    #[serde(default)]
    refused: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    now: Option<Timestamp>,
    #[serde(default)]
    pending: Option<Vec<(String, String, Timestamp)>>,
    #[serde(default)]
    fires: Vec<(String, String)>,
    #[serde(default)]
    findings: Vec<(String, String)>,
}

fn refusal_code(r: &Refusal) -> &'static str {
    match r {
        Refusal::NoSuchComplaint(_) => "no_such_complaint",
        Refusal::Exists(_) => "exists",
        Refusal::NotAllowed { .. } => "not_allowed",
        Refusal::DeadlinePassed(_) => "deadline_passed",
        Refusal::NoExtension => "no_extension",
        Refusal::NoReopen => "no_reopen",
        Refusal::Invalid(_) => "invalid",
    }
}

fn hits(out: &Outcome) -> Vec<(String, String)> {
    let mut v: Vec<_> = out
        .hits
        .iter()
        .map(|h| (h.code.to_string(), h.scope.clone()))
        .collect();
    v.sort();
    v
}

fn run_fixture(path: &Path) -> Vec<String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let fx: Fixture =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: bad fixture: {e}"));
    assert!(!fx.description.trim().is_empty(), "{name}: describe it");
    let pack = match &fx.rule_pack {
        Some(t) => RulePack::from_toml(t).unwrap_or_else(|e| panic!("{name}: rule pack: {e}")),
        None => RulePack::default(),
    };
    let mut state: Option<Complaint> = None;
    let mut seen = Vec::new();
    for (i, step) in fx.steps.iter().enumerate() {
        let here = format!(
            "{name} step {i}{}",
            step.note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
        if let Some(raw) = &step.event {
            let mut raw = raw.clone();
            if let Some(obj) = raw.as_object_mut() {
                obj.entry("complaint_no")
                    .or_insert_with(|| serde_json::Value::String("TS1".into()));
                obj.entry("actor")
                    .or_insert_with(|| serde_json::Value::String("staff1".into()));
            }
            let ev: ComplaintEvent =
                serde_json::from_value(raw).unwrap_or_else(|e| panic!("{here}: bad event: {e}"));
            let now = step.recorded_at.unwrap_or(ev.occurred_at);
            let limits = Limits::from_pack(&pack, cal(), now);
            let before = state.clone();
            match (
                complaint::apply(before.as_ref(), &ev, &limits),
                &step.refused,
            ) {
                (Ok(after), None) => {
                    let out = complaint::evaluate_event(&pack, &after, &ev);
                    let mut want = step.findings.clone();
                    want.sort();
                    assert_eq!(hits(&out), want, "{here}: findings");
                    for h in &out.hits {
                        assert!(!h.message.is_empty(), "{here}: {} has no message", h.code);
                    }
                    seen.extend(out.hits.iter().map(|h| h.code.to_string()));
                    if let Some(s) = &step.status {
                        assert_eq!(after.status.code(), s, "{here}: status");
                    }
                    state = Some(after);
                }
                (Ok(after), Some(want)) => {
                    panic!("{here}: expected refusal `{want}`, got {:?}", after.status)
                }
                (Err(r), Some(want)) => {
                    assert_eq!(refusal_code(&r), want, "{here}: refusal {r}");
                    assert!(r.to_string().is_ascii() || !r.to_string().is_empty());
                }
                (Err(r), None) => panic!("{here}: refused: {r}"),
            }
        } else if let Some(now) = step.now {
            let c = state
                .as_mut()
                .unwrap_or_else(|| panic!("{here}: a sweep needs a complaint"));
            let desired = complaint::desired_deadlines(&pack, c);
            if let Some(want) = &step.pending {
                let mut got: Vec<_> = desired
                    .iter()
                    .map(|d| (d.code.to_string(), d.scope.clone(), d.due_at))
                    .collect();
                let mut want = want.clone();
                got.sort();
                want.sort();
                assert_eq!(got, want, "{here}: pending");
            }
            let mut fired = Vec::new();
            let mut found = Vec::new();
            for d in desired.into_iter().filter(|d| d.due_at <= now) {
                let out = complaint::time_outcome(&pack, d.code, &d.scope, c);
                c.fired.insert((d.code.to_string(), d.scope.clone()));
                fired.push((d.code.to_string(), d.scope.clone()));
                found.extend(
                    out.hits
                        .iter()
                        .map(|h| (h.code.to_string(), h.scope.clone())),
                );
            }
            assert_eq!(fired, step.fires, "{here}: fired");
            found.sort();
            let mut want = step.findings.clone();
            want.sort();
            assert_eq!(found, want, "{here}: findings");
            seen.extend(found.into_iter().map(|h| h.0));
        } else {
            panic!("{here}: a step needs `event` or `now`");
        }
    }
    seen
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/complaints");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn complaint_rule_corpus() {
    let files = fixtures();
    assert!(files.len() >= 4, "the complaint corpus is missing");
    let mut seen = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for f in &files {
        match std::panic::catch_unwind(|| run_fixture(f)) {
            Ok(codes) => seen.extend(codes),
            Err(e) => failures.push(
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .unwrap_or_default(),
            ),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let missing: Vec<&str> = RULES
        .iter()
        .map(|r| r.code)
        .filter(|c| c.starts_with('G') && !seen.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "complaint rules never fired: {missing:?}"
    );
}

#[test]
fn the_fee_check_flags_fees_outside_the_catalog_or_above_the_standard() {
    let item: ItemBody = serde_json::from_value(serde_json::json!({
        "name": "食品经营许可", "basic_code": "000123", "item_type": "01", "department": "SCJG",
        "legal_limit": {"amount": 20, "unit": "WD"}, "promised_limit": {"amount": 5, "unit": "WD"},
        "case_kind": "2", "window_auth": "handle",
        "fees": [{"code": "GB", "name": "工本费", "standard_fen": 1000}]
    }))
    .unwrap();
    assert_eq!(check_fee(&item, "GB", Fen(1000), 0), None);
    assert_eq!(check_fee(&item, "工本费", Fen(900), 0), None);
    assert_eq!(
        check_fee(&item, "GB", Fen(1500), 0),
        Some(FeeFlag::AboveStandard {
            standard_fen: Fen(1000)
        })
    );
    assert_eq!(check_fee(&item, "GB", Fen(1050), 10), None, "tolerance");
    assert_eq!(
        check_fee(&item, "加急费", Fen(5000), 0),
        Some(FeeFlag::NotInCatalog)
    );
    let free = ItemBody {
        fees: vec![],
        ..item
    };
    assert_eq!(
        check_fee(&free, "GB", Fen(1000), 0),
        Some(FeeFlag::NotInCatalog)
    );
}
