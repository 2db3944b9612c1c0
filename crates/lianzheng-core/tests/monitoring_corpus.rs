//! The monitoring-point rules from a corpus (same style as `corpus.rs`). Each
//! `tests/corpus/monitoring/*.json` fixture holds:
//!
//! - `rule_pack` (optional): rule-pack TOML overriding the defaults;
//! - `min_publish` (optional, default 3): responses below which a department is suppressed;
//! - `rounds`: closed rounds, each with its `responses` (department ratings), the expected
//!   `rollup` (`[department, n, suppressed, overall or null]`) and the exact E001 `findings`
//!   (`[code, department]`);
//! - `chases`: deadlines of survey requests passing, each with the request's `status` and
//!   `chased` count, the expected `action` (`nothing`, `remind`, `escalate`) and the exact
//!   `findings` (`[code, scope]`).
//!
//! Every monitoring rule (code `E…`) must fire somewhere, so the corpus stays honest.

use std::path::{Path, PathBuf};

use lianzheng_core::monitoring::{
    Chase, DepartmentRating, RequestStatus, chase, low_scores, roll_up, validate_response,
};
use lianzheng_core::rules::{RULES, RulePack};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    description: String,
    #[serde(default)]
    rule_pack: Option<String>,
    #[serde(default)]
    min_publish: Option<u32>,
    #[serde(default)]
    rounds: Vec<Round>,
    #[serde(default)]
    chases: Vec<ChaseStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Round {
    round: String,
    responses: Vec<DepartmentRating>,
    rollup: Vec<(String, u32, bool, Option<f64>)>,
    #[serde(default)]
    findings: Vec<(String, String)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChaseStep {
    request: String,
    status: RequestStatus,
    chased: u32,
    action: String,
    #[serde(default)]
    findings: Vec<(String, String)>,
}

fn run(path: &Path) -> Vec<String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let fx: Fixture =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: bad fixture: {e}"));
    assert!(!fx.description.trim().is_empty(), "{name}: describe it");
    let pack = match &fx.rule_pack {
        Some(t) => RulePack::from_toml(t).unwrap_or_else(|e| panic!("{name}: rule pack: {e}")),
        None => RulePack::default(),
    };
    let k = fx.min_publish.unwrap_or(3);
    let mut seen = Vec::new();
    for r in &fx.rounds {
        for resp in &r.responses {
            let asked = vec![resp.department.clone()];
            validate_response(&asked, std::slice::from_ref(resp))
                .unwrap_or_else(|e| panic!("{name} {}: invalid response: {e}", r.round));
        }
        let rollup = roll_up(&r.responses, k);
        let got: Vec<(String, u32, bool, Option<f64>)> = rollup
            .iter()
            .map(|d| (d.department.clone(), d.n, d.suppressed, d.overall))
            .collect();
        assert_eq!(got, r.rollup, "{name} {}: roll-up", r.round);
        let hits = low_scores(&pack, &r.round, &rollup);
        let got: Vec<(String, String)> = hits
            .iter()
            .map(|(d, h)| (h.code.to_string(), d.clone()))
            .collect();
        assert_eq!(got, r.findings, "{name} {}: findings", r.round);
        for (_, h) in &hits {
            assert_eq!(h.scope, r.round);
            assert!(!h.message.is_empty());
            assert_eq!(h.level, pack.level(h.code));
        }
        seen.extend(got.into_iter().map(|f| f.0));
    }
    for c in &fx.chases {
        let out = chase(&pack, &c.request, "某企业", c.status, c.chased);
        let (action, findings) = match &out {
            Chase::Nothing => ("nothing", vec![]),
            Chase::Remind { hit, .. } => {
                ("remind", vec![(hit.code.to_string(), hit.scope.clone())])
            }
            Chase::Escalate { .. } => ("escalate", vec![]),
        };
        assert_eq!(action, c.action, "{name} {}: action", c.request);
        assert_eq!(findings, c.findings, "{name} {}: findings", c.request);
        seen.extend(findings.into_iter().map(|f| f.0));
    }
    seen
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/monitoring");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn monitoring_rule_corpus() {
    let files = fixtures();
    assert!(!files.is_empty(), "the monitoring corpus is missing");
    let mut seen = std::collections::BTreeSet::new();
    for f in &files {
        seen.extend(run(f));
    }
    let missing: Vec<&str> = RULES
        .iter()
        .map(|r| r.code)
        .filter(|c| c.starts_with('E') && !seen.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "monitoring rules never fired by the corpus: {missing:?}"
    );
}
