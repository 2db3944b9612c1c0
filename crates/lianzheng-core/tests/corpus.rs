//! The rule corpus (cedar-testing style). Each `tests/corpus/*.json` fixture holds:
//!
//! - `item`: the catalog version (ItemBody JSON) the case is under;
//! - `rule_pack` (optional): rule-pack TOML overriding the defaults;
//! - `case_no` (optional, default `C1`): filled into events that leave it out;
//! - `steps`: in order, each either
//!   - an event: `event` (CaseEvent JSON), `recorded_at` (default: `occurred_at`), and the
//!     exact `findings` (`[code, scope]` pairs) and `withdrawals` the event rules return, or
//!     `refused` (`no_such_case`, `case_exists`, `not_allowed`, `unknown_step`, `no_procedure`,
//!     `invalid`) for an event the state machine refuses; optionally the `status` after it;
//!   - a sweep: `now`, and optionally `pending` (`[code, scope, due_at]` of every time rule
//!     still pending at `now`, from `RulePack::desired_deadlines`), then the `fires` due at
//!     `now` in order, with the exact `findings` and `withdrawals` of their `time_outcome`.
//!
//! Lists left out are empty, so every step also asserts that no other rule fires.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use lianzheng_core::case::{self, Case, CaseEvent, Context, Refusal};
use lianzheng_core::catalog::ItemBody;
use lianzheng_core::deadline::BusinessHours;
use lianzheng_core::rules::{EventContext, Outcome, RulePack};
use serde::Deserialize;

use crate::common::cal;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    description: String,
    item: ItemBody,
    #[serde(default)]
    rule_pack: Option<String>,
    #[serde(default)]
    case_no: Option<String>,
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
    #[serde(default)]
    withdrawals: Vec<(String, String)>,
}

fn refusal_code(r: &Refusal) -> &'static str {
    match r {
        Refusal::NoSuchCase(_) => "no_such_case",
        Refusal::CaseExists(_) => "case_exists",
        Refusal::NotAllowed { .. } => "not_allowed",
        Refusal::UnknownStep(_) => "unknown_step",
        Refusal::NoProcedure => "no_procedure",
        Refusal::Invalid(_) => "invalid",
    }
}

/// `(code, scope)` pairs.
type Pairs = Vec<(String, String)>;

fn pairs(out: &Outcome) -> (Pairs, Pairs) {
    (
        out.hits
            .iter()
            .map(|h| (h.code.to_string(), h.scope.clone()))
            .collect(),
        out.withdrawals
            .iter()
            .map(|w| (w.code.to_string(), w.scope.clone()))
            .collect(),
    )
}

fn sorted(mut v: Pairs) -> Pairs {
    v.sort();
    v
}

/// Runs one fixture; returns the rule codes it saw fire.
fn run_fixture(path: &Path) -> Vec<String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let fx: Fixture =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: bad fixture: {e}"));
    assert!(
        !fx.description.trim().is_empty(),
        "{name}: describe the fixture"
    );
    let pack = match &fx.rule_pack {
        Some(t) => RulePack::from_toml(t).unwrap_or_else(|e| panic!("{name}: rule pack: {e}")),
        None => RulePack::default(),
    };
    let hours = BusinessHours::default();
    let case_no = fx.case_no.clone().unwrap_or_else(|| "C1".to_string());
    let mut case: Option<Case> = None;
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
                obj.entry("case_no")
                    .or_insert_with(|| serde_json::Value::String(case_no.clone()));
            }
            let event: CaseEvent =
                serde_json::from_value(raw).unwrap_or_else(|e| panic!("{here}: bad event: {e}"));
            let recorded_at = step.recorded_at.unwrap_or(event.occurred_at);
            let ctx = Context {
                calendar: cal(),
                hours: &hours,
                recorded_at,
                correction_notice_days: pack.int("P010", "days"),
                max_extension_days: pack.int("S004", "max_days").max(1),
            };
            let before = case.clone();
            match (
                case::apply(before.as_ref(), &event, &fx.item, 1, &ctx),
                &step.refused,
            ) {
                (Ok(after), None) => {
                    let out = pack.evaluate_event(&EventContext {
                        before: before.as_ref(),
                        after: &after,
                        event: &event,
                        item: &fx.item,
                        recorded_at,
                        calendar: cal(),
                        hours: &hours,
                    });
                    let (hits, withdrawals) = pairs(&out);
                    assert_eq!(
                        sorted(hits.clone()),
                        sorted(step.findings.clone()),
                        "{here}: findings"
                    );
                    assert_eq!(
                        sorted(withdrawals),
                        sorted(step.withdrawals.clone()),
                        "{here}: withdrawals"
                    );
                    for h in &out.hits {
                        assert!(!h.message.is_empty(), "{here}: {} has no message", h.code);
                        assert_eq!(h.level, pack.level(h.code), "{here}: {} level", h.code);
                    }
                    seen.extend(hits.into_iter().map(|h| h.0));
                    if let Some(s) = &step.status {
                        assert_eq!(after.status.code(), s, "{here}: status");
                    }
                    case = Some(after);
                }
                (Ok(after), Some(want)) => panic!(
                    "{here}: expected refusal `{want}`, got status {:?}",
                    after.status
                ),
                (Err(r), Some(want)) => {
                    assert_eq!(refusal_code(&r), want, "{here}: refusal {r}");
                    assert_eq!(case, before, "{here}: a refusal leaves the case unchanged");
                }
                (Err(r), None) => panic!("{here}: refused: {r}"),
            }
        } else if let Some(now) = step.now {
            let c = case
                .as_mut()
                .unwrap_or_else(|| panic!("{here}: a sweep needs a case"));
            let desired = pack.desired_deadlines(c, &fx.item, cal(), &hours, now);
            if let Some(want) = &step.pending {
                let got: Vec<(String, String, Timestamp)> = desired
                    .iter()
                    .map(|d| (d.code.to_string(), d.scope.clone(), d.due_at))
                    .collect();
                let mut want = want.clone();
                let mut got_sorted = got.clone();
                want.sort();
                got_sorted.sort();
                assert_eq!(got_sorted, want, "{here}: pending time rules");
            }
            // The sweep: fire what is due, earliest first, re-checking against the case as it
            // is after each firing (as the application does).
            let mut due: Vec<_> = desired.into_iter().filter(|d| d.due_at <= now).collect();
            due.sort_by_key(|d| d.due_at);
            let (mut fired, mut hits, mut withdrawals) = (Vec::new(), Vec::new(), Vec::new());
            for d in due {
                let still = pack
                    .desired_deadlines(c, &fx.item, cal(), &hours, now)
                    .into_iter()
                    .any(|x| x.code == d.code && x.scope == d.scope && x.due_at <= now);
                if !still {
                    continue;
                }
                let out = pack.time_outcome(d.code, &d.scope, c);
                c.fired.insert((d.code.to_string(), d.scope.clone()));
                fired.push((d.code.to_string(), d.scope.clone()));
                let (h, w) = pairs(&out);
                hits.extend(h);
                withdrawals.extend(w);
            }
            assert_eq!(fired, step.fires, "{here}: time rules fired");
            assert_eq!(
                sorted(hits.clone()),
                sorted(step.findings.clone()),
                "{here}: findings"
            );
            assert_eq!(
                sorted(withdrawals),
                sorted(step.withdrawals.clone()),
                "{here}: withdrawals"
            );
            seen.extend(hits.into_iter().map(|h| h.0));
        } else {
            panic!("{here}: a step needs `event` or `now`");
        }
    }
    seen
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn rule_corpus() {
    let files = fixtures();
    assert!(files.len() >= 20, "the corpus is missing");
    let mut failures = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for f in &files {
        match std::panic::catch_unwind(|| run_fixture(f)) {
            Ok(codes) => seen.extend(codes),
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .unwrap_or_default();
                failures.push(msg);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
    // Every event rule and every case time rule fires somewhere in the corpus.
    let want = [
        "P001", "P002", "P003", "P004", "P005", "P006", "P007", "P008", "P009", "P010", "F001",
        "F002", "S001", "S002", "S003", "S004", "S005", "A001", "A002", "A003", "A004", "A005",
        "A006", "A007",
    ];
    let missing: Vec<&str> = want
        .iter()
        .copied()
        .filter(|c| !seen.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "rules never fired by the corpus: {missing:?}"
    );
}
