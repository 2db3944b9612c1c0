//! The demo city: a synthetic 焦作市 with its departments, over a thousand catalog items and a
//! year of cases at realistic volumes, deterministic for a seed and an end date.
//!
//! Every case goes through the same path as the API (`App::submit`), in time order, with the
//! application clock moved along and the deadline sweep run every simulated hour, so every
//! finding in the demo was raised by the real rules. Anomalies are injected at small rates
//! (see [`Rates`]); whatever the rules make of them is what the demo shows.

use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;

use anyhow::{Context, bail};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use lianzheng_app::catalog::{Department, ItemChange};
use lianzheng_app::ingest::Incoming;
use lianzheng_app::views::RatingInput;
use lianzheng_app::{App, Db, ManualClock, Principal, SeededEntropy, Settings};
use lianzheng_core::case::{Actor, Applicant, CaseEvent, EventBody};
use lianzheng_core::catalog::{FeeItem, ItemBody, ItemStatus, Material, StepDef};
use lianzheng_core::codes::{
    ActorRole, CaseKind, Channel, Fen, FinishResult, ItemType, ProcedureType, RatingChannel,
    Satisfaction, ServiceObject, StepAction, TimeUnit, WindowAuth,
};
use lianzheng_core::deadline::TimeLimit;
use lianzheng_core::finding::FindingAction;
use lianzheng_core::time::{at_minute, civil_from_days, days_from_civil, local_date};
use serde::Deserialize;

const CITY: &str = include_str!("../data/demo/city.toml");
const NAMES: &str = include_str!("../data/demo/names.toml");

/// How big a demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Two months at a twentieth of the volume: for tests.
    Small,
    /// A year at the volume of a city's service centres.
    City,
}

impl Scale {
    /// Parses `small` or `city`.
    pub fn parse(s: &str) -> anyhow::Result<Scale> {
        match s {
            "small" => Ok(Scale::Small),
            "city" => Ok(Scale::City),
            other => bail!("--scale `{other}` must be small or city"),
        }
    }

    fn days(self) -> i64 {
        match self {
            Scale::Small => 60,
            Scale::City => 365,
        }
    }

    /// Applications per working day across the city.
    fn per_workday(self) -> f64 {
        match self {
            // 焦作市政务服务中心 handles about 410,000 cases a year (≈ 1,650 per working day).
            Scale::City => 1650.0,
            Scale::Small => 80.0,
        }
    }
}

/// Injected anomaly rates (per case unless noted).
#[derive(Debug, Clone, Copy)]
struct Rates {
    incomplete: f64,
    repeated_correction: f64,
    accepted_missing: f64,
    rejected: f64,
    clock_stop: f64,
    clock_stop_retroactive: f64,
    clock_stop_unapproved: f64,
    extension: f64,
    extension_late: f64,
    fee_over: f64,
    fee_unlisted: f64,
    same_person: f64,
    window_overreach: f64,
    skip_step: f64,
    after_finish: f64,
    backdated: f64,
    returned: f64,
    slow: f64,
    rated: f64,
    supervise_red: f64,
    rectify: f64,
    answer_bad: f64,
}

const RATES: Rates = Rates {
    incomplete: 0.08,
    repeated_correction: 0.002,
    accepted_missing: 0.001,
    rejected: 0.015,
    clock_stop: 0.03,
    clock_stop_retroactive: 0.0005,
    clock_stop_unapproved: 0.0004,
    extension: 0.01,
    extension_late: 0.0003,
    fee_over: 0.001,
    fee_unlisted: 0.0002,
    same_person: 0.0006,
    window_overreach: 0.0005,
    skip_step: 0.0006,
    after_finish: 0.0003,
    backdated: 0.0003,
    returned: 0.03,
    slow: 0.003,
    rated: 0.6,
    supervise_red: 0.6,
    rectify: 0.8,
    answer_bad: 0.85,
};

#[derive(Deserialize)]
struct CityFile {
    department: Vec<DeptDef>,
    item: Vec<ItemDef>,
}

#[derive(Deserialize)]
struct DeptDef {
    code: String,
    credit_code: String,
    name: String,
    short_name: String,
    volume_weight: f64,
    supervision_phone: String,
    windows: u32,
    bad_rating_bias: f64,
    overdue_bias: f64,
}

#[derive(Deserialize)]
struct FeeDef {
    code: String,
    name: String,
    standard_fen: i64,
    #[serde(default)]
    basis: String,
}

#[derive(Deserialize)]
struct ItemDef {
    department: String,
    basic_code: String,
    name: String,
    item_type: String,
    legal_basis: String,
    legal_limit: u32,
    legal_unit: String,
    promised_limit: u32,
    promised_unit: String,
    case_kind: String,
    window_auth: String,
    service_object: String,
    #[serde(default)]
    special_procedures: Vec<String>,
    #[serde(default)]
    variants: Vec<String>,
    volume_weight: f64,
    steps: Vec<StepDef>,
    #[serde(default)]
    fee: Vec<FeeDef>,
    #[serde(default)]
    material: Vec<Material>,
}

#[derive(Deserialize)]
struct SuspensionDef {
    kind: String,
    reason: String,
    basis: String,
}

#[derive(Deserialize)]
struct NamesFile {
    surnames: Vec<String>,
    given_chars: Vec<String>,
    company_words: Vec<String>,
    company_industries: Vec<String>,
    company_forms: Vec<String>,
    rating_comments_good: Vec<String>,
    rating_comments_bad: Vec<String>,
    rejection_reasons: Vec<String>,
    suspension_reasons: Vec<SuspensionDef>,
    step_opinions: Vec<String>,
}

/// A small deterministic generator (xoshiro256**), so the demo needs no extra crate.
struct Rng([u64; 4]);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut s = seed;
        let mut next = || {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng([next(), next(), next(), next()])
    }

    fn u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    fn f64(&mut self) -> f64 {
        (self.u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.u64() % n as u64) as usize
        }
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + (self.u64() % (hi - lo + 1) as u64) as i64
        }
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        v.get(self.below(v.len()))
    }

    /// Poisson-distributed count with mean `lambda` (normal approximation above 30).
    fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda > 30.0 {
            let u1 = self.f64().max(1e-12);
            let u2 = self.f64();
            let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            return (lambda + z * lambda.sqrt()).round().max(0.0) as u64;
        }
        let l = (-lambda).exp();
        let (mut k, mut p) = (0u64, 1.0);
        loop {
            p *= self.f64();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }
}

/// A weighted choice table.
struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    fn new(weights: impl Iterator<Item = f64>) -> Weighted {
        let mut acc = 0.0;
        let cumulative = weights
            .map(|w| {
                acc += w.max(0.0);
                acc
            })
            .collect();
        Weighted { cumulative }
    }

    fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.f64() * total;
        self.cumulative
            .partition_point(|c| *c <= x)
            .min(self.cumulative.len().saturating_sub(1))
    }
}

struct DemoItem {
    code: String,
    dept: usize,
    body: ItemBody,
}

/// Something scheduled at an instant.
enum Action {
    Event {
        dept: String,
        event: Box<CaseEvent>,
    },
    Rate {
        case_no: String,
        satisfaction: Satisfaction,
        channel: RatingChannel,
        comment: String,
    },
    Answer {
        case_no: String,
        dept: String,
    },
    Rectify {
        finding: i64,
        dept: String,
    },
}

struct Scheduled {
    at: Timestamp,
    order: u64,
    action: Action,
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.order) == (o.at, o.order)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    /// Earliest first in a max-heap.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (o.at, o.order).cmp(&(self.at, self.order))
    }
}

struct Sim<'a> {
    rng: Rng,
    names: &'a NamesFile,
    depts: &'a [DeptDef],
    items: Vec<DemoItem>,
    heap: BinaryHeap<Scheduled>,
    order: u64,
    seq: HashMap<(String, Date), u32>,
}

impl Sim<'_> {
    fn push(&mut self, at: Timestamp, action: Action) {
        self.order += 1;
        self.heap.push(Scheduled {
            at,
            order: self.order,
            action,
        });
    }

    fn person(&mut self) -> String {
        let s = self
            .rng
            .pick(&self.names.surnames)
            .cloned()
            .unwrap_or_else(|| "王".into());
        let n = if self.rng.chance(0.7) { 2 } else { 1 };
        let mut name = s;
        for _ in 0..n {
            name.push_str(
                self.rng
                    .pick(&self.names.given_chars)
                    .map_or("明", String::as_str),
            );
        }
        name
    }

    fn company(&mut self) -> String {
        let w = self
            .rng
            .pick(&self.names.company_words)
            .cloned()
            .unwrap_or_default();
        let i = self
            .rng
            .pick(&self.names.company_industries)
            .cloned()
            .unwrap_or_default();
        let f = self
            .rng
            .pick(&self.names.company_forms)
            .cloned()
            .unwrap_or_else(|| "有限公司".into());
        format!("焦作市{w}{i}{f}")
    }

    fn id_number(&mut self) -> String {
        let region = [
            "410802", "410803", "410804", "410811", "410821", "410822", "410823", "410825",
            "410882", "410883",
        ];
        let r = self.rng.pick(&region).copied().unwrap_or("410802");
        let birth = civil_from_days(
            days_from_civil(Date::constant(1950, 1, 1)) + self.rng.range(0, 365 * 55),
        );
        let body = format!(
            "{r}{:04}{:02}{:02}{:03}",
            birth.year(),
            birth.month(),
            birth.day(),
            self.rng.range(1, 999)
        );
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = body
            .bytes()
            .zip(weights)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        let check = ["1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2"][(sum % 11) as usize];
        format!("{body}{check}")
    }

    fn credit_code(&mut self) -> String {
        const CS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
        let weights = [
            1u32, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
        ];
        let mut s = String::from("91410800");
        for _ in 0..9 {
            s.push(char::from(CS[self.rng.below(31)]));
        }
        let sum: u32 = s
            .bytes()
            .zip(weights)
            .map(|(b, w)| CS.iter().position(|c| *c == b).unwrap_or(0) as u32 * w)
            .sum();
        let check = (31 - sum % 31) % 31;
        s.push(char::from(CS[check as usize]));
        s
    }
}

fn parse_body(def: &ItemDef, dept: &DeptDef, variant: Option<&str>) -> anyhow::Result<ItemBody> {
    let name = match variant {
        Some(v) => format!("{}（{v}）", def.name),
        None => def.name.clone(),
    };
    Ok(ItemBody {
        name,
        basic_code: def.basic_code.clone(),
        item_type: ItemType::parse(&def.item_type)?,
        department: def.department.clone(),
        legal_basis: def.legal_basis.clone(),
        legal_limit: TimeLimit {
            amount: def.legal_limit,
            unit: TimeUnit::parse(&def.legal_unit)?,
        },
        promised_limit: TimeLimit {
            amount: def.promised_limit,
            unit: TimeUnit::parse(&def.promised_unit)?,
        },
        case_kind: CaseKind::parse(&def.case_kind)?,
        service_object: ServiceObject::parse(&def.service_object)?,
        window_auth: WindowAuth::parse(&def.window_auth)?,
        fees: def
            .fee
            .iter()
            .map(|f| FeeItem {
                code: f.code.clone(),
                name: f.name.clone(),
                standard_fen: Fen(f.standard_fen),
                basis: f.basis.clone(),
            })
            .collect(),
        materials: def.material.clone(),
        steps: if def.steps.is_empty() {
            lianzheng_core::catalog::default_steps()
        } else {
            def.steps.clone()
        },
        special_procedures: def.special_procedures.clone(),
        supervision_phone: dept.supervision_phone.clone(),
        conditions: String::new(),
        online_required: false,
    })
}

/// Builds the demo database. Returns a summary to print.
pub fn build(
    url: &str,
    seed: u64,
    scale: Scale,
    until: Date,
    signer: Option<&lianzheng_tlog::checkpoint::LogSigner>,
) -> anyhow::Result<String> {
    let started = std::time::Instant::now();
    if let Some(path) = url.strip_prefix("sqlite://") {
        for suffix in ["", "-wal", "-shm"] {
            let p = format!("{path}{suffix}");
            if std::path::Path::new(&p).exists() {
                std::fs::remove_file(&p)
                    .with_context(|| format!("removing old demo database {p}"))?;
            }
        }
    }
    let db = Db::open(url)?;
    db.migrate()?;
    db.set_bulk_load(true)?;
    let empty = db.read(|tx| {
        Ok::<_, lianzheng_app::AppError>(
            tx.query_opt("SELECT COUNT(*) FROM events", &[])?
                .map_or(0, |r| r.int(0)),
        )
    })?;
    if empty > 0 {
        bail!(
            "database {} already holds {empty} events; the demo needs an empty database",
            crate::config::redact_url(url)
        );
    }
    let first_day = civil_from_days(days_from_civil(until) - scale.days() + 1);
    let clock = Arc::new(ManualClock::new(
        at_minute(first_day, 0) - SignedDuration::from_hours(24 * 7),
    ));
    let app = App::new(
        db,
        clock.clone(),
        Arc::new(SeededEntropy::new(seed)),
        Settings {
            max_batch: 100_000,
            ..Settings::default()
        },
    )?;
    let admin = Principal::Admin {
        name: "demo".into(),
    };
    let supervisor = Principal::Supervisor {
        name: "监察局".into(),
    };

    let city: CityFile = toml::from_str(CITY).context("data/demo/city.toml")?;
    let names: NamesFile = toml::from_str(NAMES).context("data/demo/names.toml")?;
    let deps: Vec<Department> = city
        .department
        .iter()
        .map(|d| Department {
            code: d.code.clone(),
            credit_code: d.credit_code.clone(),
            name: d.name.clone(),
            short_name: d.short_name.clone(),
            phone: d.supervision_phone.clone(),
        })
        .collect();
    app.upsert_departments(&admin, &deps)?;

    // The catalog: each base item, expanded into its variants.
    let mut items = Vec::new();
    let mut item_weights = Vec::new();
    let mut changes = Vec::new();
    for def in &city.item {
        let Some(di) = city
            .department
            .iter()
            .position(|d| d.code == def.department)
        else {
            continue;
        };
        let dept = &city.department[di];
        let variants: Vec<Option<&str>> = if def.variants.is_empty() {
            vec![None]
        } else {
            def.variants.iter().map(|v| Some(v.as_str())).collect()
        };
        let n = variants.len() as f64;
        for (vi, v) in variants.iter().enumerate() {
            let code = match v {
                Some(_) => format!("{}3{}{:02}", dept.credit_code, def.basic_code, vi + 1),
                None => format!("{}3{}", dept.credit_code, def.basic_code),
            };
            let body = parse_body(def, dept, *v)?;
            changes.push(ItemChange {
                code: code.clone(),
                effective_date: civil_from_days(days_from_civil(first_day) - 30),
                reason: "2008年行政审批项目清理后保留并公布".into(),
                status: ItemStatus::Active,
                body: body.clone(),
            });
            item_weights.push(dept.volume_weight * def.volume_weight / n);
            items.push(DemoItem {
                code,
                dept: di,
                body,
            });
        }
    }
    let report = app.save_items(&admin, changes)?;
    if !report.errors.is_empty() {
        bail!("demo catalog has bad rows: {:?}", report.errors.first());
    }
    let item_pick = Weighted::new(item_weights.into_iter());

    let mut sim = Sim {
        rng: Rng::new(seed),
        names: &names,
        depts: &city.department,
        items,
        heap: BinaryHeap::new(),
        order: 0,
        seq: HashMap::new(),
    };
    let cal = app.calendar();
    let mut query_codes: HashMap<String, String> = HashMap::new();
    let mut counts = Counts::default();

    let last = days_from_civil(until);
    let mut day = days_from_civil(first_day);
    let mut buffer: BTreeMap<String, Vec<Result<Incoming, String>>> = BTreeMap::new();
    while day <= last {
        let date = civil_from_days(day);
        let working = cal.is_workday(date).value;
        let volume = if working {
            scale.per_workday()
        } else {
            scale.per_workday() * 0.04
        };
        let n = sim.rng.poisson(volume);
        for _ in 0..n {
            let idx = item_pick.pick(&mut sim.rng);
            plan_case(&mut sim, idx, date, &cal, &mut counts);
        }
        // Process the day hour by hour: events due in the hour go in one batch per department,
        // then the clock moves to the end of the hour and the sweep fires what is due.
        for hour in 0..24 {
            let end = at_minute(date, (hour + 1) * 60);
            while let Some(top) = sim.heap.peek() {
                if top.at >= end {
                    break;
                }
                let Some(s) = sim.heap.pop() else { break };
                match s.action {
                    Action::Event { dept, event } => {
                        buffer.entry(dept).or_default().push(Ok(Incoming {
                            event_id: None,
                            event: *event,
                        }))
                    }
                    other => {
                        flush(
                            &app,
                            &clock,
                            s.at,
                            &mut buffer,
                            &mut query_codes,
                            &mut counts,
                        )?;
                        clock.set(s.at);
                        run_action(
                            &app,
                            &mut sim,
                            other,
                            &mut query_codes,
                            &supervisor,
                            &mut counts,
                        )?;
                    }
                }
            }
            flush(
                &app,
                &clock,
                end,
                &mut buffer,
                &mut query_codes,
                &mut counts,
            )?;
            clock.set(end);
            let r = app.sweep(2000)?;
            counts.crossed += r.crossed;
            // The supervision bureau reviews new red cards once a day, at 17:00.
            if hour == 16 {
                supervise(&app, &mut sim, &supervisor, end, &mut counts)?;
            }
        }
        // A checkpoint a day; the server signs them every second.
        if let Some(signer) = signer {
            app.checkpoint(signer)?;
        }
        day += 1;
        if (day - days_from_civil(first_day)) % 30 == 0 {
            tracing::info!(date = %date, cases = counts.cases, events = counts.accepted, "demo progress");
        }
    }
    app.db.set_bulk_load(false)?;
    let stats = app.department_stats()?;
    let red: i64 = stats.iter().map(|d| d.red_open).sum();
    let yellow: i64 = stats.iter().map(|d| d.yellow_open).sum();
    let findings = app.db.read(|tx| {
        Ok::<_, lianzheng_app::AppError>(
            tx.query_opt("SELECT COUNT(*) FROM findings", &[])?
                .map_or(0, |r| r.int(0)),
        )
    })?;
    let items = app.db.read(|tx| {
        Ok::<_, lianzheng_app::AppError>(
            tx.query_opt("SELECT COUNT(*) FROM items", &[])?
                .map_or(0, |r| r.int(0)),
        )
    })?;
    let sample = app.db.read(|tx| {
        Ok::<_, lianzheng_app::AppError>(
            tx.query_opt("SELECT p.case_no, p.query_code FROM case_parties p JOIN cases c ON c.case_no = p.case_no WHERE c.status = 'delivered' AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.case_no = c.case_no) ORDER BY c.registered_at DESC LIMIT 1", &[])?
                .map(|r| (r.text(0), r.text(1))),
        )
    })?;
    let mut out = format!(
        "demo city 焦作市 built in {:.1} s: {} departments, {items} items, {} cases ({} events accepted, {} rejected by the state machine), {} ratings ({} 差评), {findings} findings ({red} red and {yellow} yellow open), {} deadlines crossed; days {first_day} to {until}, seed {seed}",
        started.elapsed().as_secs_f64(),
        deps.len(),
        counts.cases,
        counts.accepted,
        counts.rejected,
        counts.ratings,
        counts.bad_ratings,
        counts.crossed,
    );
    if let Some((no, code)) = sample {
        out.push_str(&format!(
            "\ntry the public case query: case number {no}, query code {code}"
        ));
    }
    Ok(out)
}

#[derive(Default)]
struct Counts {
    cases: usize,
    accepted: usize,
    rejected: usize,
    ratings: usize,
    bad_ratings: usize,
    crossed: usize,
}

fn flush(
    app: &App,
    clock: &ManualClock,
    at: Timestamp,
    buffer: &mut BTreeMap<String, Vec<Result<Incoming, String>>>,
    query_codes: &mut HashMap<String, String>,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    if buffer.values().all(Vec::is_empty) {
        return Ok(());
    }
    // Recorded a little after the last event of the batch, as a department system would push.
    let latest = buffer
        .values()
        .flatten()
        .filter_map(|e| e.as_ref().ok())
        .map(|e| e.event.occurred_at)
        .max()
        .unwrap_or(at);
    clock.set(latest.max(clock_now(clock)));
    // The city's data exchange platform pushes every department's events, one batch an hour.
    let principal = Principal::Admin {
        name: "key:数据交换平台".into(),
    };
    let events: Vec<Result<Incoming, String>> =
        std::mem::take(buffer).into_values().flatten().collect();
    {
        for r in app.submit(&principal, events)? {
            if r.status == "accepted" {
                counts.accepted += 1;
                if let Some(code) = r.query_code {
                    counts.cases += 1;
                    let _ = code;
                }
            } else {
                counts.rejected += 1;
                if let Some(e) = &r.error {
                    tracing::debug!(code = %e.code, message = %e.message, "demo event rejected");
                }
            }
        }
    }
    let _ = query_codes;
    Ok(())
}

/// The first column of the first row of a query with one text parameter.
fn text_of(app: &App, sql: &str, param: &str) -> anyhow::Result<Option<String>> {
    Ok(app.db.read(|tx| {
        Ok::<_, lianzheng_app::AppError>(tx.query_opt(sql, &[param.into()])?.map(|r| r.text(0)))
    })?)
}

fn clock_now(clock: &ManualClock) -> Timestamp {
    use lianzheng_app::Clock;
    clock.now()
}

fn run_action(
    app: &App,
    sim: &mut Sim<'_>,
    action: Action,
    _codes: &mut HashMap<String, String>,
    _supervisor: &Principal,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    match action {
        Action::Event { .. } => {}
        Action::Rate {
            case_no,
            satisfaction,
            channel,
            comment,
        } => {
            let code = text_of(
                app,
                "SELECT query_code FROM case_parties WHERE case_no = ?",
                &case_no,
            )?;
            let Some(code) = code else { return Ok(()) };
            let indicators = if channel.is_online() {
                lianzheng_app::views::ONLINE_INDICATORS
            } else {
                lianzheng_app::views::OFFLINE_INDICATORS
            };
            let score = satisfaction.number();
            let input = RatingInput {
                satisfaction,
                channel,
                indicators: indicators
                    .iter()
                    .map(|k| ((*k).to_string(), score))
                    .collect(),
                comment,
            };
            if let Ok(finding) = app.rate_case(&case_no, &code, input) {
                counts.ratings += 1;
                if finding.is_some() {
                    counts.bad_ratings += 1;
                    let dept = text_of(
                        app,
                        "SELECT department FROM cases WHERE case_no = ?",
                        &case_no,
                    )?;
                    if let Some(dept) = dept
                        && sim.rng.chance(RATES.answer_bad)
                    {
                        let at = app.now() + SignedDuration::from_hours(sim.rng.range(20, 24 * 9));
                        sim.push(at, Action::Answer { case_no, dept });
                    }
                }
            }
        }
        Action::Answer { case_no, dept } => {
            let p = Principal::Department {
                name: format!("{dept}-负责人"),
                department: dept,
            };
            let _ = app.answer_rating(
                &p,
                &case_no,
                "已电话回访申请人，说明情况并致歉；已对窗口人员进行批评教育，整改服务流程。",
            );
        }
        Action::Rectify { finding, dept } => {
            let p = Principal::Department {
                name: format!("{dept}-负责人"),
                department: dept,
            };
            let text = "已按督办要求完成整改：补办相关手续，对责任人进行约谈，并完善内部流程。"
                .to_string();
            if app
                .act_on_finding(&p, finding, FindingAction::Rectify { text })
                .is_ok()
                && sim.rng.chance(0.9)
            {
                let at = app.now() + SignedDuration::from_hours(sim.rng.range(24, 24 * 6));
                sim.push(
                    at,
                    Action::Rectify {
                        finding: -finding,
                        dept: String::new(),
                    },
                );
            }
        }
    }
    Ok(())
}

/// The supervision bureau issues 督办 on a share of the red cards opened since yesterday; most
/// departments rectify in time, some do not (and are escalated by the sweep); rectified
/// findings are closed.
fn supervise(
    app: &App,
    sim: &mut Sim<'_>,
    supervisor: &Principal,
    now: Timestamp,
    _counts: &mut Counts,
) -> anyhow::Result<()> {
    let since = now - SignedDuration::from_hours(24);
    let rows = app.db.read(|tx| {
        Ok::<_, lianzheng_app::AppError>(tx.query(
            "SELECT id, department FROM findings WHERE level = '3' AND status = 'open' AND subject_type = 'case' AND opened_at > ? ORDER BY id",
            &[since.as_millisecond().into()],
        )?)
    })?;
    let cal = app.calendar();
    for r in rows {
        if !sim.rng.chance(RATES.supervise_red) {
            continue;
        }
        let (id, dept) = (r.int(0), r.text(1));
        let due = lianzheng_core::time::end_of(cal.add_workdays(local_date(now), 5).value);
        let order = "请于5个工作日内查明原因、完成整改并反馈".to_string();
        if app
            .act_on_finding(
                supervisor,
                id,
                FindingAction::Supervise { order, due_at: due },
            )
            .is_ok()
            && sim.rng.chance(RATES.rectify)
        {
            let at = now + SignedDuration::from_hours(sim.rng.range(20, 24 * 6));
            sim.push(at, Action::Rectify { finding: id, dept });
        }
    }
    // Close what was rectified (negative ids mark a review due).
    let rectified = app.db.read(|tx| {
        Ok::<_, lianzheng_app::AppError>(tx.query("SELECT id FROM findings WHERE status = 'rectified' AND subject_type = 'case' AND updated_at < ? ORDER BY id LIMIT 200", &[since.as_millisecond().into()])?)
    })?;
    for r in rectified {
        let _ = app.act_on_finding(
            supervisor,
            r.int(0),
            FindingAction::Close {
                conclusion: "整改到位，同意办结".into(),
            },
        );
    }
    Ok(())
}

fn instant(date: Date, minute: i64) -> Timestamp {
    at_minute(
        date,
        u16::try_from(minute.clamp(0, 24 * 60 - 1)).unwrap_or(0),
    )
}

/// A moment during office hours `workdays` working days after `from`'s date.
fn office_time(
    sim: &mut Sim<'_>,
    cal: &lianzheng_core::calendar::Calendar,
    from: Timestamp,
    workdays: u32,
) -> Timestamp {
    let d = cal.add_workdays(local_date(from), workdays).value;
    let t = instant(d, sim.rng.range(8 * 60 + 40, 17 * 60 + 20));
    if t <= from {
        from + SignedDuration::from_mins(sim.rng.range(5, 90))
    } else {
        t
    }
}

/// Plans one case: all its events and its rating, scheduled in the heap.
fn plan_case(
    sim: &mut Sim<'_>,
    idx: usize,
    date: Date,
    cal: &lianzheng_core::calendar::Calendar,
    counts: &mut Counts,
) {
    let Some(item) = sim.items.get(idx) else {
        return;
    };
    let (code, di, body) = (item.code.clone(), item.dept, item.body.clone());
    let dept = &sim.depts[di];
    let (dcode, windows, bad_bias, late_bias) = (
        dept.code.clone(),
        dept.windows.max(1),
        dept.bad_rating_bias,
        dept.overdue_bias,
    );
    let n = sim.seq.entry((dcode.clone(), date)).or_insert(0);
    *n += 1;
    let case_no = format!(
        "{}{:02}{:02}{}{:05}",
        date.year(),
        date.month(),
        date.day(),
        dcode,
        n
    );
    let _ = counts;

    let r = &mut sim.rng;
    let window_no = r.range(1, i64::from(windows));
    let window = format!("{dcode}-W{window_no:02}");
    let clerk = Actor {
        id: format!("{dcode}-C{window_no:02}"),
        name: String::new(),
        role: ActorRole::Window,
    };
    let officer = Actor {
        id: format!("{dcode}-O{:02}", r.range(1, 12)),
        name: String::new(),
        role: ActorRole::Officer,
    };
    let reviewer = Actor {
        id: format!("{dcode}-R{:02}", r.range(1, 4)),
        name: String::new(),
        role: ActorRole::Officer,
    };
    let leader = Actor {
        id: format!("{dcode}-L1"),
        name: String::new(),
        role: ActorRole::Leader,
    };
    let channel = match r.f64() {
        x if x < 0.6 => Channel::Window,
        x if x < 0.93 => Channel::Online,
        _ => Channel::Mobile,
    };
    let enterprise = body.service_object != ServiceObject::NaturalPerson;
    let applicant = if enterprise {
        let name = sim.company();
        Applicant {
            name,
            id_type: "001".into(),
            id_no: sim.credit_code(),
            phone: format!("139{:08}", sim.rng.range(0, 99_999_999)),
        }
    } else {
        let name = sim.person();
        Applicant {
            name,
            id_type: "111".into(),
            id_no: sim.id_number(),
            phone: format!(
                "13{}{:08}",
                sim.rng.range(0, 9),
                sim.rng.range(0, 99_999_999)
            ),
        }
    };
    let r = &mut sim.rng;
    // Windows take 即办件 until 16:00 so that they can be finished the same day.
    let last_minute = if body.case_kind == CaseKind::Immediate {
        16 * 60
    } else {
        17 * 60
    };
    let start = instant(date, r.range(8 * 60 + 30, last_minute));
    let required: Vec<String> = body.required_materials().map(str::to_string).collect();
    let incomplete = !required.is_empty() && r.chance(RATES.incomplete);
    let mut materials = required.clone();
    let missing: Vec<String> = if incomplete {
        vec![materials.remove(r.below(materials.len()))]
    } else {
        Vec::new()
    };
    let online_actor = Actor {
        id: "网上办事大厅".into(),
        name: String::new(),
        role: ActorRole::System,
    };
    let reg_actor = if channel == Channel::Window {
        clerk.clone()
    } else {
        online_actor
    };
    let mut events: Vec<(Timestamp, CaseEvent)> = Vec::new();
    let ev = |at: Timestamp, actor: &Actor, b: EventBody| {
        (
            at,
            CaseEvent {
                case_no: case_no.clone(),
                occurred_at: at,
                actor: actor.clone(),
                body: b,
            },
        )
    };
    events.push(ev(
        start,
        &reg_actor,
        EventBody::Apply {
            item_code: code.clone(),
            channel,
            applicant,
            materials: materials.clone(),
            window: (channel == Channel::Window).then(|| window.clone()),
            project_code: None,
        },
    ));
    let mut t = start;
    // A few minutes later, within office hours: work left at closing time resumes the next
    // working morning.
    let step = |t: Timestamp, mins: (i64, i64), r: &mut Rng| {
        let x = t + SignedDuration::from_mins(r.range(mins.0, mins.1));
        let minute = i64::from(lianzheng_core::time::local_minute(x));
        if minute > 17 * 60 + 30 || !cal.is_workday(local_date(x)).value {
            let next = cal.add_workdays(local_date(x), 1).value;
            instant(next, 8 * 60 + 40 + minute % 50)
        } else {
            x
        }
    };
    if incomplete {
        t = step(t, (3, 40), r);
        events.push(ev(
            t,
            &clerk,
            EventBody::CorrectionNotice {
                missing: missing.clone(),
            },
        ));
        if sim.rng.chance(RATES.repeated_correction * 5.0) {
            t = office_time(sim, cal, t, 1);
            events.push(ev(
                t,
                &clerk,
                EventBody::CorrectionNotice {
                    missing: missing.clone(),
                },
            ));
        }
        if !sim.rng.chance(RATES.accepted_missing * 5.0) {
            let d = sim.rng.range(1, 3) as u32;
            t = office_time(sim, cal, t, d);
            events.push(ev(
                t,
                &reg_actor,
                EventBody::CorrectionSubmitted {
                    materials: missing.clone(),
                },
            ));
        }
    }
    let r = &mut sim.rng;
    if r.chance(RATES.rejected) {
        t = step(t, (10, 120), r);
        let reason = r
            .pick(&sim.names.rejection_reasons)
            .cloned()
            .unwrap_or_else(|| "不属于本机关职权范围".into());
        events.push(ev(t, &clerk, EventBody::Reject { reason }));
        schedule(sim, &dcode, events);
        return;
    }
    let accept_at = if channel == Channel::Window {
        step(t, (5, 30), r)
    } else {
        let d = r.range(0, 1) as u32;
        office_time(sim, cal, t, d)
    };
    let acceptor = clerk.clone();
    events.push(ev(
        accept_at,
        &acceptor,
        EventBody::Accept {
            document_no: Some(format!("受理〔{}〕{}号", date.year(), case_no)),
        },
    ));
    t = accept_at;
    let r = &mut sim.rng;
    let immediate = body.case_kind == CaseKind::Immediate;
    let handle_at_window = body.window_auth == WindowAuth::AcceptAndHandle;
    let slow = r.chance(RATES.slow * late_bias);
    let opinion = |r: &mut Rng| r.pick(&sim.names.step_opinions).cloned();
    // Fees at acceptance.
    if let Some(fee) = body.fees.first() {
        let r = &mut sim.rng;
        let amount = if r.chance(RATES.fee_over * 5.0) {
            fee.standard_fen.0 + fee.standard_fen.0 / 2 + 1000
        } else {
            fee.standard_fen.0
        };
        t = step(t, (1, 10), r);
        events.push(ev(
            t,
            &clerk,
            EventBody::Fee {
                fee_code: fee.code.clone(),
                amount_fen: Fen(amount.max(1)),
            },
        ));
    } else if sim.rng.chance(RATES.fee_unlisted) {
        t = step(t, (1, 10), &mut sim.rng);
        events.push(ev(
            t,
            &clerk,
            EventBody::Fee {
                fee_code: "资料费".into(),
                amount_fen: Fen(5000),
            },
        ));
    }
    let steps = body.steps.clone();
    let nsteps = steps.len();
    let skip = sim.rng.chance(RATES.skip_step) && nsteps > 1;
    let skip_idx = if skip {
        sim.rng.below(nsteps - 1)
    } else {
        usize::MAX
    };
    let same_person = sim.rng.chance(RATES.same_person);
    let overreach = !handle_at_window && sim.rng.chance(RATES.window_overreach);
    let returned = sim.rng.chance(RATES.returned);
    let mut clock_stop_done = false;
    let mut extension_done = false;
    let promised = body.promised_limit.amount;
    for (i, s) in steps.iter().enumerate() {
        if i == skip_idx {
            continue;
        }
        let last_step = i + 1 == nsteps;
        let actor = if (immediate && handle_at_window) || (overreach && i == 0) {
            clerk.clone()
        } else if last_step {
            if same_person {
                acceptor.clone()
            } else {
                leader.clone()
            }
        } else if i == 0 {
            officer.clone()
        } else {
            reviewer.clone()
        };
        // Time spent on the step: within its limit mostly; slow cases overrun.
        let r = &mut sim.rng;
        if immediate {
            t = step(t, (3, 15), r);
        } else {
            let limit = s.limit_days.max(1);
            // Most steps take well under their limit; slow cases overrun it.
            let days = if slow {
                limit + r.range(1, 4) as u32
            } else {
                r.range(0, i64::from(limit / 2)) as u32
            };
            t = office_time(sim, cal, t, days);
        }
        // A special procedure during the first step of some promised cases.
        if i == 0 && !immediate && !clock_stop_done && sim.rng.chance(RATES.clock_stop) {
            clock_stop_done = true;
            let kinds: Vec<String> = if body.special_procedures.is_empty() {
                vec!["专家评审".into()]
            } else {
                body.special_procedures.clone()
            };
            let kind = sim
                .rng
                .pick(&kinds)
                .cloned()
                .unwrap_or_else(|| "专家评审".into());
            let def = sim.names.suspension_reasons.iter().find(|d| d.kind == kind);
            let reason = def.map_or_else(|| format!("依法需要{kind}"), |d| d.reason.clone());
            let basis = def.map_or_else(
                || "《行政许可法》第四十五条".to_string(),
                |d| d.basis.clone(),
            );
            let unapproved = sim
                .rng
                .chance(RATES.clock_stop_unapproved / RATES.clock_stop);
            let retro = sim
                .rng
                .chance(RATES.clock_stop_retroactive / RATES.clock_stop);
            let stop_at = if retro {
                t - SignedDuration::from_hours(72)
            } else {
                t
            };
            let body_start = EventBody::ProcedureStart {
                procedure_type: ProcedureType::ClockStop,
                name: kind,
                reason: Some(reason),
                basis: (!unapproved).then_some(basis),
                approver: (!unapproved).then(|| leader.id.clone()),
                days: None,
            };
            events.push((
                t,
                CaseEvent {
                    case_no: case_no.clone(),
                    occurred_at: stop_at.max(accept_at),
                    actor: officer.clone(),
                    body: body_start,
                },
            ));
            let len = sim.rng.range(2, 15) as u32;
            t = office_time(sim, cal, t, len);
            events.push(ev(
                t,
                &officer,
                EventBody::ProcedureEnd {
                    result: Some("已完成，结论同意".into()),
                },
            ));
        }
        if i == 0
            && !immediate
            && !extension_done
            && promised > 2
            && sim.rng.chance(RATES.extension)
        {
            extension_done = true;
            let late = sim.rng.chance(RATES.extension_late / RATES.extension);
            let when = if late {
                office_time(sim, cal, accept_at, promised + 2)
            } else {
                t
            };
            if late && when > t {
                t = when;
            }
            events.push(ev(
                when,
                &leader,
                EventBody::ProcedureStart {
                    procedure_type: ProcedureType::Extension,
                    name: "延长审批".into(),
                    reason: Some("情况复杂，需进一步审查".into()),
                    basis: Some("《行政许可法》第四十二条".into()),
                    approver: Some(leader.id.clone()),
                    days: Some(10),
                },
            ));
        }
        if returned && i == 1 {
            let op = opinion(&mut sim.rng);
            events.push(ev(
                t,
                &actor,
                EventBody::Step {
                    step: s.name.clone(),
                    action: StepAction::Return,
                    opinion: op,
                },
            ));
            let prev = &steps[0];
            t = office_time(sim, cal, t, 1);
            events.push(ev(
                t,
                &officer,
                EventBody::Step {
                    step: prev.name.clone(),
                    action: StepAction::Pass,
                    opinion: Some("已按退回意见补充审查".into()),
                },
            ));
            if sim.rng.chance(0.03) {
                t = office_time(sim, cal, t, 1);
                events.push(ev(
                    t,
                    &actor,
                    EventBody::Step {
                        step: s.name.clone(),
                        action: StepAction::Return,
                        opinion: Some("仍需补充".into()),
                    },
                ));
                t = office_time(sim, cal, t, 1);
                events.push(ev(
                    t,
                    &officer,
                    EventBody::Step {
                        step: prev.name.clone(),
                        action: StepAction::Pass,
                        opinion: Some("已补充".into()),
                    },
                ));
            }
            t = office_time(sim, cal, t, 1);
        }
        let op = opinion(&mut sim.rng);
        events.push(ev(
            t,
            &actor,
            EventBody::Step {
                step: s.name.clone(),
                action: StepAction::Pass,
                opinion: op,
            },
        ));
    }
    let r = &mut sim.rng;
    let finish_actor = if immediate && handle_at_window {
        clerk.clone()
    } else if same_person {
        acceptor.clone()
    } else {
        leader.clone()
    };
    t = if immediate {
        step(t, (2, 12), r)
    } else {
        step(t, (5, 90), r)
    };
    let backdated = r.chance(RATES.backdated);
    let finish_at = if backdated {
        start - SignedDuration::from_hours(30)
    } else {
        t
    };
    let result = if r.chance(0.97) {
        FinishResult::Granted
    } else {
        FinishResult::Denied
    };
    events.push((
        t,
        CaseEvent {
            case_no: case_no.clone(),
            occurred_at: finish_at,
            actor: finish_actor,
            body: EventBody::Finish {
                result,
                certificate_no: Some(format!("证〔{}〕{:06}号", date.year(), r.range(1, 999_999))),
            },
        },
    ));
    if !immediate {
        let d = sim.rng.range(0, 2) as u32;
        t = office_time(sim, cal, t, d);
        events.push(ev(
            t,
            &clerk,
            EventBody::Deliver {
                method: Some(
                    if sim.rng.chance(0.5) {
                        "窗口领取"
                    } else {
                        "邮寄送达"
                    }
                    .into(),
                ),
            },
        ));
    }
    if sim.rng.chance(RATES.after_finish) {
        t = office_time(sim, cal, t, 2);
        events.push(ev(
            t,
            &officer,
            EventBody::Step {
                step: steps
                    .last()
                    .map_or_else(|| "批准".into(), |s| s.name.clone()),
                action: StepAction::Pass,
                opinion: Some("补录".into()),
            },
        ));
    }
    // The rating, a few hours to a few days after the end.
    let r = &mut sim.rng;
    if r.chance(RATES.rated) {
        let x = r.f64();
        let bad1 = 0.0008 * bad_bias;
        let bad2 = 0.0006 * bad_bias;
        let satisfaction = if x < bad2 {
            Satisfaction::VeryDissatisfied
        } else if x < bad1 + bad2 {
            Satisfaction::Dissatisfied
        } else if x < bad1 + bad2 + 0.012 {
            Satisfaction::Fair
        } else if x < bad1 + bad2 + 0.09 {
            Satisfaction::Satisfied
        } else {
            Satisfaction::VerySatisfied
        };
        let comments = if satisfaction.is_bad() {
            &sim.names.rating_comments_bad
        } else {
            &sim.names.rating_comments_good
        };
        let comment = if satisfaction.is_bad() || r.chance(0.2) {
            r.pick(comments).cloned().unwrap_or_default()
        } else {
            String::new()
        };
        let channel = match channel {
            Channel::Window => {
                if r.chance(0.7) {
                    RatingChannel::HallTablet
                } else {
                    RatingChannel::QrCode
                }
            }
            Channel::Online => RatingChannel::Pc,
            _ => RatingChannel::Mobile,
        };
        let at = t + SignedDuration::from_mins(r.range(10, 60 * 24 * 3));
        sim.push(
            at,
            Action::Rate {
                case_no: case_no.clone(),
                satisfaction,
                channel,
                comment,
            },
        );
    }
    schedule(sim, &dcode, events);
}

fn schedule(sim: &mut Sim<'_>, dept: &str, events: Vec<(Timestamp, CaseEvent)>) {
    // Events are pushed when the department's system would send them (the first element),
    // which for back-dated anomalies differs from `occurred_at`. Keep their order per case.
    let mut last = Timestamp::MIN;
    for (at, e) in events {
        let at = at.max(last);
        last = at;
        sim.push(
            at,
            Action::Event {
                dept: dept.to_string(),
                event: Box::new(e),
            },
        );
    }
}
