//! The demo city: a synthetic 焦作市 with its departments, over a thousand catalog items and a
//! year of cases at realistic volumes, deterministic for a seed and an end date.
//!
//! Every case goes through the same path as the API (`App::submit`), in time order, with the
//! application clock moved along: the data exchange platform pushes the departments' events
//! every simulated hour (the province's once a day, `--push-hours`) and the deadline sweep runs
//! after each push, so every finding in the demo was raised by the real rules. Anomalies are
//! injected at small rates (see [`Rates`]); whatever the rules make of them is what the demo
//! shows.
//!
//! Interleaved with the cases, on the same clock: complaints filed by the public, the hotline and
//! the 12345 platform, triaged by the 政务服务中心, handled by the departments (a few late, a few
//! extended) and rated by the complainants; and the enterprise monitoring points, registered at
//! the start and asked each quarter (each month at the small scale) to rate the departments they
//! deal with. These draw from a generator of their own, so the cases are the same as without them.

use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;

use anyhow::{Context, bail};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use lianzheng_app::catalog::{Department, ItemChange};
use lianzheng_app::complaints::{Complainant, ComplaintAction, ComplaintInput, Location};
use lianzheng_app::ingest::Incoming;
use lianzheng_app::monitoring::{MONITORING_OFFICE, PointInput, RoundInput};
use lianzheng_app::views::{CaseRating, RatingInput};
use lianzheng_app::{App, Db, ManualClock, Principal, SeededEntropy, Settings};
use lianzheng_core::case::{Actor, Applicant, CaseEvent, EventBody};
use lianzheng_core::catalog::{FeeItem, ItemBody, ItemStatus, Material, StepDef};
use lianzheng_core::codes::{
    ActorRole, CaseKind, Channel, Fen, FinishResult, ItemType, ProcedureType, RatingChannel,
    Satisfaction, ServiceObject, StepAction, TimeUnit, WindowAuth,
};
use lianzheng_core::complaint::{Category, ComplaintChannel, Finding, Rating, Subject};
use lianzheng_core::deadline::TimeLimit;
use lianzheng_core::finding::FindingAction;
use lianzheng_core::monitoring::{DepartmentRating, INDICATORS};
use lianzheng_core::time::{at_minute, civil_from_days, days_from_civil, end_of, local_date};
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
    /// A year at a province's volume (about ten million cases: the city's catalog at 24 times
    /// its volume), for the production benchmarks.
    Province,
}

impl Scale {
    /// Parses `small`, `city` or `province`.
    pub fn parse(s: &str) -> anyhow::Result<Scale> {
        match s {
            "small" => Ok(Scale::Small),
            "city" => Ok(Scale::City),
            "province" => Ok(Scale::Province),
            other => bail!("--scale `{other}` must be small, city or province"),
        }
    }

    fn days(self) -> i64 {
        match self {
            Scale::Small => 60,
            Scale::City | Scale::Province => 365,
        }
    }

    /// Applications per working day across the city.
    fn per_workday(self) -> f64 {
        match self {
            // 焦作市政务服务中心 handles about 410,000 cases a year (≈ 1,650 per working day).
            Scale::City => 1650.0,
            Scale::Small => 80.0,
            // 10.1 million cases a year.
            Scale::Province => 40_000.0,
        }
    }

    /// Complaints per 1,000 cases. A city sees 1–3 (about 1,000 a year at 410,000 cases); the
    /// small demo files several times more, so that its two months show every path a complaint
    /// can take (late, extended, declined, reopened, 乱收费 and not).
    fn complaints_per_1000_cases(self) -> f64 {
        match self {
            Scale::City | Scale::Province => 2.2,
            Scale::Small => 15.0,
        }
    }

    /// How often the data exchange platform pushes the departments' events, in hours: a city's
    /// every hour; a province's, gathering seventeen cities' systems, once a day (T+1), which
    /// also builds its data set in half the time (`BENCHMARKS.md`).
    pub fn push_hours(self) -> i64 {
        match self {
            Scale::Small | Scale::City => 1,
            Scale::Province => 24,
        }
    }

    /// Survey rounds of the monitoring points: quarterly in a city year; monthly in the small
    /// demo, so that a round opens and closes within its two months.
    fn monthly_rounds(self) -> bool {
        self == Scale::Small
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
    complaints: Vec<ComplaintDef>,
    complaint_answers: Vec<AnswerDef>,
    complaint_decline_reasons: Vec<String>,
    monitoring_sectors: Vec<SectorDef>,
    survey_comments_good: Vec<String>,
    survey_comments_bad: Vec<String>,
}

#[derive(Deserialize)]
struct ComplaintDef {
    category: String,
    subject: String,
    title: String,
    text: String,
}

#[derive(Deserialize)]
struct AnswerDef {
    outcome: String,
    #[serde(default)]
    category: String,
    text: String,
}

#[derive(Deserialize)]
struct SectorDef {
    sector: String,
    weight: f64,
    industries: Vec<String>,
    departments: Vec<String>,
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

    /// A standard normal draw (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(1e-12);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// The next card of a shuffled deck, refilled from `full` when it runs out: the shares of
    /// `full` hold exactly over every run of its length, however small the demo.
    fn deal<T: Copy>(&mut self, deck: &mut Vec<T>, full: &[T]) -> T {
        if deck.is_empty() {
            deck.extend_from_slice(full);
            for i in (1..deck.len()).rev() {
                let j = self.below(i + 1);
                deck.swap(i, j);
            }
        }
        deck.pop().unwrap_or(full[0])
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
    /// A step of the complaint planned as number `idx`.
    Complaint {
        idx: usize,
        step: Box<ComplaintStep>,
    },
    /// A step of the monitoring points.
    Monitoring(Box<MonitoringStep>),
}

/// What happens to a complaint, in order.
enum ComplaintStep {
    /// Filed on a channel by its principal.
    File {
        principal: Principal,
        input: Box<ComplaintInput>,
    },
    /// 分办 by the 政务服务中心's complaint desk, by the category's route.
    Triage,
    /// By the department it was assigned to.
    Act(ComplaintAction),
    /// 批准延期 by the 监察局.
    ApproveExtension,
    /// By the complainant, with the query code.
    Rate(Rating),
    /// 办结 by the 监察局 of an answer the complainant did not rate.
    Close,
}

/// What happens to the monitoring points.
enum MonitoringStep {
    /// The points are registered.
    Register,
    /// A survey round opens.
    OpenRound { period: String },
    /// A point answers: with its token, or on paper entered by staff.
    Respond {
        request: String,
        token: Option<String>,
        ratings: Vec<DepartmentRating>,
    },
    /// The round closes.
    CloseRound { period: String },
}

/// A case the complaints may name.
struct CaseRef {
    case_no: String,
    dept: usize,
    item: usize,
    at: Timestamp,
}

/// A case that was charged a fee.
struct FeeRef {
    case_no: String,
    dept: usize,
    item: usize,
    fee_code: String,
    fee_name: String,
    standard: i64,
    charged: i64,
    at: Timestamp,
}

/// How a complaint is handled (dealt from a deck, see [`Rng::deal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    InTime,
    Declined,
    LateAccept,
    LateAnswer,
    Extended,
}

/// Out of every 40 complaints.
const FATES: [(Fate, usize); 5] = [
    (Fate::InTime, 31),
    (Fate::Declined, 2),
    (Fate::LateAccept, 2),
    (Fate::LateAnswer, 3),
    (Fate::Extended, 2),
];

/// Out of every 33 complaints, by category code: 办事效率 and 服务态度 most, 乱收费 a few,
/// 吃拿卡要/违纪 rare.
const CATEGORIES: [(&str, usize); 6] = [
    ("XL", 12),
    ("TD", 9),
    ("SF", 3),
    ("YS", 3),
    ("WJ", 1),
    ("QT", 5),
];

/// The fee complaints in turn: above the catalog standard (G003), within it (no finding), not in
/// the catalog (G003).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FeeKind {
    Above,
    Within,
    Unlisted,
}

const FEE_KINDS: [FeeKind; 5] = [
    FeeKind::Above,
    FeeKind::Within,
    FeeKind::Above,
    FeeKind::Unlisted,
    FeeKind::Within,
];

/// A complaint once filed.
struct FiledRef {
    no: String,
    code: String,
    assigned: Option<String>,
}

/// The state of the complaints and monitoring points of a run.
struct Civic {
    /// Their own generator, so that the cases do not depend on them.
    rng: Rng,
    recent: VecDeque<CaseRef>,
    fees: VecDeque<FeeRef>,
    filed: Vec<Option<FiledRef>>,
    fates: Vec<Fate>,
    categories: Vec<&'static str>,
    fee_complaints: usize,
    /// Registered points and the departments each deals with.
    points: Vec<(String, Vec<String>)>,
    /// Actions refused by the use cases (none expected).
    refused: usize,
}

const RECENT_CASES: usize = 20_000;
const RECENT_FEES: usize = 5_000;

/// Appends `v`, dropping the oldest entry once `cap` are held.
fn push_bounded<T>(q: &mut VecDeque<T>, cap: usize, v: T) {
    if q.len() >= cap {
        q.pop_front();
    }
    q.push_back(v);
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
    civic: Civic,
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
        person_name(&mut self.rng, self.names)
    }

    fn company(&mut self) -> String {
        company_name(
            &mut self.rng,
            self.names,
            &self.names.company_industries,
            false,
        )
    }

    fn id_number(&mut self) -> String {
        id_number(&mut self.rng)
    }

    fn credit_code(&mut self) -> String {
        credit_code(&mut self.rng)
    }
}

fn person_name(rng: &mut Rng, names: &NamesFile) -> String {
    let s = rng
        .pick(&names.surnames)
        .cloned()
        .unwrap_or_else(|| "王".into());
    let n = if rng.chance(0.7) { 2 } else { 1 };
    let mut name = s;
    for _ in 0..n {
        name.push_str(rng.pick(&names.given_chars).map_or("明", String::as_str));
    }
    name
}

/// A company name, e.g. 焦作市宏达商贸有限公司; `incorporated` keeps to the company forms (no
/// 个体工商户 trade names).
fn company_name(
    rng: &mut Rng,
    names: &NamesFile,
    industries: &[String],
    incorporated: bool,
) -> String {
    let w = rng.pick(&names.company_words).cloned().unwrap_or_default();
    let i = rng.pick(industries).cloned().unwrap_or_default();
    let f = if incorporated {
        let forms: Vec<&String> = names
            .company_forms
            .iter()
            .filter(|f| f.ends_with("公司"))
            .collect();
        forms
            .get(rng.below(forms.len()))
            .map_or_else(|| "有限公司".to_string(), |f| (*f).clone())
    } else {
        rng.pick(&names.company_forms)
            .cloned()
            .unwrap_or_else(|| "有限公司".into())
    };
    format!("焦作市{w}{i}{f}")
}

fn id_number(rng: &mut Rng) -> String {
    let region = [
        "410802", "410803", "410804", "410811", "410821", "410822", "410823", "410825", "410882",
        "410883",
    ];
    let r = rng.pick(&region).copied().unwrap_or("410802");
    let birth =
        civil_from_days(days_from_civil(Date::constant(1950, 1, 1)) + rng.range(0, 365 * 55));
    let body = format!(
        "{r}{:04}{:02}{:02}{:03}",
        birth.year(),
        birth.month(),
        birth.day(),
        rng.range(1, 999)
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

/// A valid 统一社会信用代码 of an enterprise registered in 焦作 (GB 32100).
fn credit_code(rng: &mut Rng) -> String {
    const CS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let weights = [
        1u32, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let mut s = String::from("91410800");
    for _ in 0..9 {
        s.push(char::from(CS[rng.below(31)]));
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
    days: Option<i64>,
    push_hours: i64,
    signer: Option<&lianzheng_tlog::checkpoint::LogSigner>,
) -> anyhow::Result<String> {
    let started = std::time::Instant::now();
    if !(1..=24).contains(&push_hours) || 24 % push_hours != 0 {
        bail!("--push-hours must divide a day: 1, 2, 3, 4, 6, 8, 12 or 24");
    }
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
    let days = days.unwrap_or(scale.days());
    if days < 1 {
        bail!("--days must be at least 1");
    }
    let first_day = civil_from_days(days_from_civil(until) - days + 1);
    let clock = Arc::new(ManualClock::new(
        at_minute(first_day, 0) - SignedDuration::from_hours(24 * 7),
    ));
    let app = App::new(
        db,
        clock.clone(),
        Arc::new(SeededEntropy::new(seed)),
        Settings {
            max_batch: PUSH_BATCH,
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
        civic: Civic::new(seed),
    };
    let cal = app.calendar();
    // Complaints name departments by their volume and their citizens' ratings; the 监察局 and
    // any other department without items is only ever a handler.
    let complaint_depts = Weighted::new(city.department.iter().map(|d| {
        if sim
            .items
            .iter()
            .any(|it| sim.depts.get(it.dept).is_some_and(|x| x.code == d.code))
        {
            d.volume_weight * d.bad_rating_bias
        } else {
            0.0
        }
    }));
    // The monitoring points are registered on the first working day; the rounds follow.
    let registered = cal.add_workdays(first_day, 0).value;
    sim.push(
        instant(registered, 9 * 60),
        Action::Monitoring(Box::new(MonitoringStep::Register)),
    );
    for (day, period) in round_days(&cal, registered, until, scale) {
        sim.push(
            instant(day, 9 * 60 + 30),
            Action::Monitoring(Box::new(MonitoringStep::OpenRound { period })),
        );
    }
    let mut counts = Counts::default();
    let mut progress = Progress::new(days);
    // Time spent in the application (ingest, sweep, console actions, checkpoints) as opposed to
    // planning the simulation: the build's rate is the database path's unless this is small.
    let mut in_app = std::time::Duration::ZERO;
    // Cases with events in `buffer`, not yet pushed.
    let mut pending: std::collections::HashSet<String> = std::collections::HashSet::new();
    // With pushes less often than hourly, actions that would wait for a push are kept here and
    // run, in their order, right after it.
    let mut deferred: Vec<Action> = Vec::new();

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
        plan_complaints(&mut sim, date, working, scale, &cal, &complaint_depts);
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
                        pending.insert(event.case_no.clone());
                        buffer.entry(dept).or_default().push(Ok(Incoming {
                            event_id: None,
                            event: *event,
                        }))
                    }
                    other => {
                        let t = std::time::Instant::now();
                        // A citizen's rating or a department's answer waits for the hour's
                        // push only when it concerns a case with events in it; anything else
                        // sees everything pushed so far.
                        let waits = match &other {
                            Action::Rate { case_no, .. } | Action::Answer { case_no, .. } => {
                                pending.contains(case_no)
                            }
                            _ => true,
                        };
                        // With pushes less often than hourly, the 好差评 system's ratings come
                        // with the push too, and are written together after it.
                        let pushed = waits || matches!(other, Action::Rate { .. });
                        if pushed && push_hours > 1 {
                            deferred.push(other);
                            continue;
                        }
                        if waits {
                            flush(&app, &clock, s.at, &mut buffer, &mut counts)?;
                            pending.clear();
                        }
                        clock.set(s.at.max(clock_now(&clock)));
                        run_action(&app, &mut sim, other, &supervisor, &mut counts)?;
                        in_app += t.elapsed();
                    }
                }
            }
            let t = std::time::Instant::now();
            // Between pushes the platform does not know the hour's events, so the sweep runs
            // after a push: it would otherwise cross deadlines that unpushed events have met.
            if i64::from(hour + 1) % push_hours == 0 {
                // An hourly push follows the hour's last event; a longer period's push comes at
                // its end (the daily one at midnight).
                if push_hours > 1 {
                    clock.set(end);
                }
                flush(&app, &clock, end, &mut buffer, &mut counts)?;
                pending.clear();
                clock.set(end);
                run_deferred(&app, &mut sim, &mut deferred, &supervisor, &mut counts)?;
                let r = app.sweep(2000)?;
                counts.crossed += r.crossed;
            }
            clock.set(end);
            // PostgreSQL: the deadline rows and cases churn; where autovacuum is off or
            // behind, their dead versions are cleaned, and stale statistics gathered, here
            // before they slow the load down.
            for v in app.db.vacuum_churned()? {
                tracing::debug!(
                    table = v.table,
                    dead = v.dead,
                    seconds = v.seconds,
                    "{}",
                    v.action()
                );
            }
            // The supervision bureau reviews new red cards once a day, at 17:00.
            if hour == 16 {
                supervise(&app, &mut sim, &supervisor, end, &mut counts)?;
            }
            in_app += t.elapsed();
        }
        // A checkpoint a day; the server signs them every second.
        let t = std::time::Instant::now();
        if let Some(signer) = signer {
            app.checkpoint(signer)?;
        }
        // The writer's cache follows the database's size.
        app.db.set_bulk_load(true)?;
        in_app += t.elapsed();
        day += 1;
        progress.day(
            day - days_from_civil(first_day),
            date,
            &counts,
            started.elapsed(),
            in_app,
        );
    }
    progress.finish();
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
    let total = started.elapsed().as_secs_f64();
    let mut out = format!(
        "demo city 焦作市 built in {total:.1} s ({:.1} s, {:.0}%, in the application's ingest, sweep and actions; {:.0} events/s overall): {} departments, {items} items, {} cases ({} events accepted, {} rejected by the state machine), {} ratings ({} 差评), {findings} findings ({red} red and {yellow} yellow open), {} deadlines crossed; days {first_day} to {until}, seed {seed}",
        in_app.as_secs_f64(),
        100.0 * in_app.as_secs_f64() / total.max(1e-9),
        counts.accepted as f64 / total.max(1e-9),
        deps.len(),
        counts.cases,
        counts.accepted,
        counts.rejected,
        counts.ratings,
        counts.bad_ratings,
        counts.crossed,
    );
    out.push('\n');
    out.push_str(&civic_summary(&app, sim.civic.refused)?);
    if let Some((no, code)) = sample {
        out.push_str(&format!(
            "\ntry the public case query: case number {no}, query code {code}"
        ));
    }
    Ok(out)
}

/// Progress of a long build on standard error: a bar on a terminal, a line every tenth of the
/// run otherwise (a log file).
struct Progress {
    days: i64,
    bar: Option<indicatif::ProgressBar>,
    shown: i64,
}

impl Progress {
    fn new(days: i64) -> Progress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(days.max(0) as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} days {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            days,
            bar,
            shown: 0,
        }
    }

    fn day(
        &mut self,
        done: i64,
        date: Date,
        counts: &Counts,
        elapsed: std::time::Duration,
        in_app: std::time::Duration,
    ) {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let msg = format!(
            "({date}) {} cases, {} events, {:.0} events/s, {:.0}% in the application",
            counts.cases,
            counts.accepted,
            counts.accepted as f64 / secs,
            100.0 * in_app.as_secs_f64() / secs,
        );
        if let Some(bar) = &self.bar {
            bar.set_position(done.max(0) as u64);
            bar.set_message(msg);
        } else if done == self.days || done - self.shown >= (self.days / 10).max(1) {
            self.shown = done;
            eprintln!("{done}/{} days {msg}", self.days);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
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
    let mut events = std::mem::take(buffer).into_values().flatten();
    // A push of many hours goes in batches of the size the application accepts, in order.
    loop {
        let batch: Vec<Result<Incoming, String>> = events.by_ref().take(PUSH_BATCH).collect();
        if batch.is_empty() {
            return Ok(());
        }
        submit_batch(app, &principal, batch, counts)?;
    }
}

/// The largest batch of a push (the demo's `Settings::max_batch`).
const PUSH_BATCH: usize = 100_000;

/// The most ratings written in one transaction after a push (the writer holds their cases).
const RATING_BATCH: usize = 10_000;

fn submit_batch(
    app: &App,
    principal: &Principal,
    events: Vec<Result<Incoming, String>>,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    for r in app.submit(principal, events)? {
        if r.status == "accepted" {
            counts.accepted += 1;
            // A new case is answered with its query code.
            if r.query_code.is_some() {
                counts.cases += 1;
            }
        } else {
            counts.rejected += 1;
            if let Some(e) = &r.error {
                tracing::debug!(code = %e.code, message = %e.message, "demo event rejected");
            }
        }
    }
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

/// The actions kept for a push, in their order; each run of ratings is written in one
/// transaction (up to [`RATING_BATCH`] ratings), with their query codes read together.
fn run_deferred(
    app: &App,
    sim: &mut Sim<'_>,
    deferred: &mut Vec<Action>,
    supervisor: &Principal,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    let mut ratings = Vec::new();
    for action in deferred.drain(..) {
        if let Action::Rate {
            case_no,
            satisfaction,
            channel,
            comment,
        } = action
        {
            ratings.push((case_no, rating_input(satisfaction, channel, comment)));
            continue;
        }
        rate_together(app, sim, std::mem::take(&mut ratings), counts)?;
        run_action(app, sim, action, supervisor, counts)?;
    }
    rate_together(app, sim, ratings, counts)
}

/// Ratings written together: see [`run_deferred`].
fn rate_together(
    app: &App,
    sim: &mut Sim<'_>,
    ratings: Vec<(String, RatingInput)>,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    let mut ratings = ratings.into_iter().peekable();
    while ratings.peek().is_some() {
        let chunk: Vec<(String, RatingInput)> = ratings.by_ref().take(RATING_BATCH).collect();
        let mut codes = HashMap::new();
        for part in chunk.chunks(500) {
            let marks = lianzheng_app::db::marks(part.len());
            let keys: Vec<lianzheng_app::db::Value> =
                part.iter().map(|(no, _)| no.as_str().into()).collect();
            app.db.read(|tx| {
                for r in tx.query(
                    &format!(
                        "SELECT case_no, query_code FROM case_parties WHERE case_no IN ({marks})"
                    ),
                    &keys,
                )? {
                    codes.insert(r.text(0), r.text(1));
                }
                Ok::<_, lianzheng_app::AppError>(())
            })?;
        }
        let batch: Vec<CaseRating> = chunk
            .into_iter()
            .filter_map(|(case_no, input)| {
                let query_code = codes.get(&case_no)?.clone();
                Some(CaseRating {
                    case_no,
                    query_code,
                    input,
                })
            })
            .collect();
        let results = app.rate_cases(&batch)?;
        for (r, result) in batch.into_iter().zip(results) {
            rated(app, sim, r.case_no, result, counts)?;
        }
    }
    Ok(())
}

/// What the simulated applicant gives: every indicator of the channel scored as the rating.
fn rating_input(
    satisfaction: Satisfaction,
    channel: RatingChannel,
    comment: String,
) -> RatingInput {
    let indicators = if channel.is_online() {
        lianzheng_app::views::ONLINE_INDICATORS
    } else {
        lianzheng_app::views::OFFLINE_INDICATORS
    };
    let score = satisfaction.number();
    RatingInput {
        satisfaction,
        channel,
        indicators: indicators
            .iter()
            .map(|k| ((*k).to_string(), score))
            .collect(),
        comment,
    }
}

/// Counts a rating, and plans the department's answer to some of the 差评.
fn rated(
    app: &App,
    sim: &mut Sim<'_>,
    case_no: String,
    result: Result<Option<i64>, lianzheng_app::AppError>,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    let Ok(finding) = result else { return Ok(()) };
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
    Ok(())
}

fn run_action(
    app: &App,
    sim: &mut Sim<'_>,
    action: Action,
    supervisor: &Principal,
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
            let input = rating_input(satisfaction, channel, comment);
            let result = app.rate_case(&case_no, &code, input);
            rated(app, sim, case_no, result, counts)?;
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
        Action::Complaint { idx, step } => complaint_step(app, sim, idx, *step, supervisor),
        Action::Monitoring(step) => monitoring_step(app, sim, *step)?,
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
    push_bounded(
        &mut sim.civic.recent,
        RECENT_CASES,
        CaseRef {
            case_no: case_no.clone(),
            dept: di,
            item: idx,
            at: start,
        },
    );
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
        push_bounded(
            &mut sim.civic.fees,
            RECENT_FEES,
            FeeRef {
                case_no: case_no.clone(),
                dept: di,
                item: idx,
                fee_code: fee.code.clone(),
                fee_name: fee.name.clone(),
                standard: fee.standard_fen.0,
                charged: amount.max(1),
                at: t,
            },
        );
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

/// The shares of a `(value, count)` table as a deck.
fn expand<T: Copy>(table: &[(T, usize)]) -> Vec<T> {
    table
        .iter()
        .flat_map(|(v, n)| std::iter::repeat_n(*v, *n))
        .collect()
}

impl Civic {
    fn new(seed: u64) -> Civic {
        Civic {
            rng: Rng::new(seed ^ 0x6369_7669_632D_6A7A),
            recent: VecDeque::new(),
            fees: VecDeque::new(),
            filed: Vec::new(),
            fates: Vec::new(),
            categories: Vec::new(),
            fee_complaints: 0,
            points: Vec::new(),
            refused: 0,
        }
    }

    /// A case registered before `before`, by its index in `recent`.
    fn case_before(&mut self, before: Timestamp) -> Option<usize> {
        let k = self.recent.partition_point(|c| c.at < before);
        let i = self.rng.below(k);
        self.recent.get(i).filter(|c| c.at < before).map(|_| i)
    }

    /// A fee charged before `before`, by its index in `fees`.
    fn fee_before(&mut self, before: Timestamp) -> Option<usize> {
        let k = self.fees.partition_point(|c| c.at < before);
        let i = self.rng.below(k);
        self.fees.get(i).filter(|c| c.at < before).map(|_| i)
    }
}

/// A moment in office hours (08:40–17:20) `workdays` working days after `from`'s date, later
/// than `from`; work left after hours goes to the next working morning.
fn office_after(
    rng: &mut Rng,
    cal: &lianzheng_core::calendar::Calendar,
    from: Timestamp,
    workdays: u32,
) -> Timestamp {
    let (open, close) = (8 * 60 + 40, 17 * 60 + 20);
    let mut d = cal.add_workdays(local_date(from), workdays).value;
    let mut lo = open;
    if d == local_date(from) {
        lo = lo.max(i64::from(lianzheng_core::time::local_minute(from)) + 20);
        if lo > close {
            d = cal.add_workdays(d, 1).value;
            lo = open;
        }
    }
    instant(d, rng.range(lo, close))
}

/// [`office_after`] a random number of working days in `days` (inclusive).
fn office_within(
    rng: &mut Rng,
    cal: &lianzheng_core::calendar::Calendar,
    from: Timestamp,
    days: (u32, u32),
) -> Timestamp {
    let n = rng.range(i64::from(days.0), i64::from(days.1)) as u32;
    office_after(rng, cal, from, n)
}

fn push_complaint(sim: &mut Sim<'_>, at: Timestamp, idx: usize, step: ComplaintStep) {
    sim.push(
        at,
        Action::Complaint {
            idx,
            step: Box::new(step),
        },
    );
}

fn yuan(fen: i64) -> String {
    if fen % 100 == 0 {
        format!("{}", fen / 100)
    } else {
        format!("{}.{:02}", fen / 100, fen % 100)
    }
}

/// Plans the complaints filed on `date`: filing, triage, handling, answer and rating, each
/// scheduled at its time.
fn plan_complaints(
    sim: &mut Sim<'_>,
    date: Date,
    working: bool,
    scale: Scale,
    cal: &lianzheng_core::calendar::Calendar,
    dept_pick: &Weighted,
) {
    let lambda = scale.per_workday() * scale.complaints_per_1000_cases() / 1000.0
        * if working { 1.0 } else { 0.3 };
    let n = sim.civic.rng.poisson(lambda);
    for _ in 0..n {
        plan_complaint(sim, date, working, cal, dept_pick);
    }
}

fn plan_complaint(
    sim: &mut Sim<'_>,
    date: Date,
    working: bool,
    cal: &lianzheng_core::calendar::Calendar,
    dept_pick: &Weighted,
) {
    let names = sim.names;
    let c = &mut sim.civic;
    let code = c.rng.deal(&mut c.categories, &expand(&CATEGORIES));
    let Ok(category) = Category::parse(code) else {
        return;
    };
    let fee_kind = (category == Category::Fee).then(|| {
        c.fee_complaints += 1;
        FEE_KINDS[(c.fee_complaints - 1) % FEE_KINDS.len()]
    });
    let defs: Vec<&ComplaintDef> = names
        .complaints
        .iter()
        .filter(|d| d.category == code)
        .filter(|d| match fee_kind {
            Some(FeeKind::Unlisted) => d.subject == "fee_unlisted",
            Some(_) => d.subject == "fee",
            None => true,
        })
        .collect();
    let Some(def) = defs.get(c.rng.below(defs.len())).copied() else {
        return;
    };
    let r = c.rng.f64();
    let channel = if r < 0.45 || (!working && r < 0.85) {
        ComplaintChannel::Portal
    } else if r < 0.85 {
        ComplaintChannel::Hotline
    } else {
        ComplaintChannel::Api
    };
    let minute = match channel {
        ComplaintChannel::Hotline => c.rng.range(8 * 60 + 30, 17 * 60 + 30),
        ComplaintChannel::Api => c.rng.range(8 * 60, 20 * 60),
        _ => c.rng.range(7 * 60, 23 * 60),
    };
    let filed_at = instant(date, minute);
    let before = filed_at - SignedDuration::from_hours(24);
    // What it is about, and the department complained about.
    let mut case_no = String::new();
    let mut fee_name = String::new();
    let mut amount = 0i64;
    let (dept, subject) = match def.subject.as_str() {
        "case" => match c.case_before(before) {
            Some(i) => {
                let cr = &c.recent[i];
                case_no = cr.case_no.clone();
                (
                    cr.dept,
                    Subject::Case {
                        case_no: cr.case_no.clone(),
                    },
                )
            }
            None => (dept_pick.pick(&mut c.rng), Subject::Department),
        },
        "fee" => {
            let Some(i) = c.fee_before(before) else {
                return;
            };
            let f = &c.fees[i];
            amount = if fee_kind == Some(FeeKind::Above) {
                if f.charged > f.standard {
                    f.charged
                } else {
                    (f.standard * 3 / 2 + 99) / 100 * 100
                }
            } else {
                f.charged.min(f.standard)
            };
            case_no = f.case_no.clone();
            fee_name = f.fee_name.clone();
            let Some(item) = sim.items.get(f.item) else {
                return;
            };
            (
                f.dept,
                Subject::Fee {
                    item_code: item.code.clone(),
                    fee_code: f.fee_code.clone(),
                    amount_fen: Fen(amount),
                },
            )
        }
        "fee_unlisted" => {
            // A case of an item that charges nothing.
            let mut found = None;
            for _ in 0..20 {
                if let Some(i) = c.case_before(before)
                    && sim
                        .items
                        .get(c.recent[i].item)
                        .is_some_and(|it| it.body.fees.is_empty())
                {
                    found = Some(i);
                    break;
                }
            }
            let Some(i) = found else {
                return;
            };
            let cr = &c.recent[i];
            let Some(item) = sim.items.get(cr.item) else {
                return;
            };
            fee_name = c
                .rng
                .pick(&["资料费", "表格费", "加急费", "咨询服务费"])
                .copied()
                .unwrap_or("资料费")
                .to_string();
            amount = c.rng.range(2, 20) * 1000;
            case_no = cr.case_no.clone();
            (
                cr.dept,
                Subject::Fee {
                    item_code: item.code.clone(),
                    fee_code: fee_name.clone(),
                    amount_fen: Fen(amount),
                },
            )
        }
        "person" => {
            let d = dept_pick.pick(&mut c.rng);
            let windows = sim.depts.get(d).map_or(1, |x| x.windows.max(1));
            let staff = format!(
                "{}-C{:02}",
                sim.depts.get(d).map_or("", |x| x.code.as_str()),
                c.rng.range(1, i64::from(windows))
            );
            (d, Subject::Person { staff })
        }
        "conduct" => (dept_pick.pick(&mut c.rng), Subject::Conduct),
        _ => (dept_pick.pick(&mut c.rng), Subject::Department),
    };
    let Some(d) = sim.depts.get(dept) else {
        return;
    };
    let staff = match &subject {
        Subject::Person { staff } => staff.clone(),
        _ => String::new(),
    };
    let fill = |s: &str| {
        s.replace("{部门}", &d.short_name)
            .replace("{办件}", &case_no)
            .replace("{工号}", &staff)
            .replace("{收费}", &fee_name)
            .replace("{金额}", &yuan(amount))
    };
    let (title, content) = (fill(&def.title), fill(&def.text));
    let complainant = c.rng.chance(0.6).then(|| {
        let name = if category == Category::Business {
            company_name(&mut c.rng, names, &names.company_industries, true)
        } else {
            person_name(&mut c.rng, names)
        };
        let phone = format!("13{}{:08}", c.rng.range(0, 9), c.rng.range(0, 99_999_999));
        let id_no = if category != Category::Business && c.rng.chance(0.5) {
            id_number(&mut c.rng)
        } else {
            String::new()
        };
        Complainant {
            name,
            phone,
            id_no,
            contact: String::new(),
        }
    });
    let location = Location {
        address: Some(format!("{}办事大厅", d.name)),
        lat: Some(35.215 + c.rng.range(-300, 300) as f64 / 10_000.0),
        long: Some(113.242 + c.rng.range(-400, 400) as f64 / 10_000.0),
    };
    let principal = match channel {
        ComplaintChannel::Hotline => Principal::Supervisor {
            name: "政风行风热线".into(),
        },
        ComplaintChannel::Api => Principal::Admin {
            name: "key:12345政务服务便民热线".into(),
        },
        _ => Principal::Public,
    };
    let input = ComplaintInput {
        category,
        channel,
        department: d.code.clone(),
        subject,
        title: Some(title),
        content,
        complainant,
        location,
        media_url: None,
    };
    let fate = c.rng.deal(&mut c.fates, &expand(&FATES));
    // What the investigation finds, and how the complainant takes it.
    let x = c.rng.f64();
    let outcome = match (category, fee_kind) {
        (_, Some(FeeKind::Within)) => Finding::Unfounded,
        (_, Some(_)) if x < 0.8 => Finding::Sustained,
        (_, Some(_)) => Finding::Partly,
        (Category::Misconduct, _) if x < 0.3 => Finding::Sustained,
        (Category::Misconduct, _) if x < 0.6 => Finding::Partly,
        (Category::Misconduct, _) => Finding::Unfounded,
        _ if x < 0.45 => Finding::Sustained,
        _ if x < 0.75 => Finding::Partly,
        _ => Finding::Unfounded,
    };
    let answer = |rng: &mut Rng, outcome: Finding| {
        let pool = |cat: &str| -> Vec<&AnswerDef> {
            names
                .complaint_answers
                .iter()
                .filter(|a| a.outcome == outcome.code() && a.category == cat)
                .collect()
        };
        let mut v = pool(code);
        if v.is_empty() {
            v = pool("");
        }
        v.get(rng.below(v.len())).map_or_else(
            || "已调查处理并答复投诉人。".to_string(),
            |a| a.text.clone(),
        )
    };

    let idx = c.filed.len();
    c.filed.push(None);
    let rng = &mut c.rng;
    let mut steps: Vec<(Timestamp, ComplaintStep)> = vec![(
        filed_at,
        ComplaintStep::File {
            principal,
            input: Box::new(input),
        },
    )];
    // 分办: the hotline and the 12345 platform the same day; the website's queue by the next.
    let triage_days = if channel == ComplaintChannel::Portal {
        rng.range(0, 1) as u32
    } else {
        0
    };
    let late_triage = fate == Fate::LateAccept && rng.chance(0.5);
    let triage_at = if late_triage {
        office_within(rng, cal, filed_at, (6, 7))
    } else {
        office_after(rng, cal, filed_at, triage_days)
    };
    steps.push((triage_at, ComplaintStep::Triage));
    if fate == Fate::Declined {
        let reason = rng
            .pick(&names.complaint_decline_reasons)
            .cloned()
            .unwrap_or_else(|| "不属于投诉受理范围".into());
        let at = office_within(rng, cal, triage_at, (0, 2));
        steps.push((at, ComplaintStep::Act(ComplaintAction::Decline { reason })));
        schedule_complaint(sim, idx, steps);
        return;
    }
    let accept_at = match fate {
        Fate::LateAccept if late_triage => office_after(rng, cal, triage_at, 0),
        Fate::LateAccept => office_within(rng, cal, filed_at, (6, 8)),
        _ => office_within(rng, cal, triage_at, (0, 3)),
    }
    .max(triage_at + SignedDuration::from_mins(10));
    steps.push((accept_at, ComplaintStep::Act(ComplaintAction::Accept)));
    let answer_at = match fate {
        Fate::LateAnswer => office_within(rng, cal, accept_at, (16, 21)),
        Fate::Extended => {
            let asked = office_within(rng, cal, accept_at, (8, 11));
            steps.push((
                asked,
                ComplaintStep::Act(ComplaintAction::RequestExtension {
                    days: 10,
                    reason: "需调取相关办件档案并约谈当事工作人员，调查需要延长".into(),
                }),
            ));
            let approved = office_after(rng, cal, asked, 1);
            steps.push((approved, ComplaintStep::ApproveExtension));
            office_within(rng, cal, accept_at, (17, 23))
        }
        _ => office_within(rng, cal, accept_at, (2, 13)),
    };
    let text = answer(rng, outcome);
    steps.push((
        answer_at,
        ComplaintStep::Act(ComplaintAction::Answer { text, outcome }),
    ));
    // The complainant rates most answers: 不满意 reopens the complaint once.
    let rate = |rng: &mut Rng, shares: (f64, f64)| {
        let x = rng.f64();
        if x < shares.0 {
            Rating::Satisfied
        } else if x < shares.0 + shares.1 {
            Rating::Fair
        } else {
            Rating::Dissatisfied
        }
    };
    let mut shares = match outcome {
        Finding::Sustained => (0.75, 0.20),
        Finding::Partly => (0.50, 0.36),
        Finding::Unfounded => (0.35, 0.42),
    };
    if fate == Fate::LateAnswer {
        shares = (shares.0 - 0.1, shares.1);
    }
    if rng.chance(0.8) {
        let rated_at = answer_at + SignedDuration::from_mins(rng.range(90, 60 * 24 * 4));
        let first = rate(rng, shares);
        steps.push((rated_at, ComplaintStep::Rate(first)));
        if first == Rating::Dissatisfied {
            let again = office_within(rng, cal, rated_at, (3, 10));
            let outcome = if outcome == Finding::Unfounded && rng.chance(0.3) {
                Finding::Partly
            } else {
                outcome
            };
            let text = format!("经重新调查：{}", answer(rng, outcome));
            steps.push((
                again,
                ComplaintStep::Act(ComplaintAction::Answer { text, outcome }),
            ));
            if rng.chance(0.8) {
                let at = again + SignedDuration::from_mins(rng.range(90, 60 * 24 * 4));
                steps.push((at, ComplaintStep::Rate(rate(rng, (0.25, 0.55)))));
            }
        }
    } else if rng.chance(0.6) {
        // Not rated: the 监察局 closes it after two weeks.
        steps.push((office_after(rng, cal, answer_at, 10), ComplaintStep::Close));
    }
    schedule_complaint(sim, idx, steps);
}

fn schedule_complaint(sim: &mut Sim<'_>, idx: usize, steps: Vec<(Timestamp, ComplaintStep)>) {
    let mut last = Timestamp::MIN;
    for (at, step) in steps {
        // Strictly in order, a minute apart at least.
        let at = at.max(last + SignedDuration::from_mins(1));
        last = at;
        push_complaint(sim, at, idx, step);
    }
}

/// Runs one step of a complaint through the use case its actor would call.
fn complaint_step(
    app: &App,
    sim: &mut Sim<'_>,
    idx: usize,
    step: ComplaintStep,
    supervisor: &Principal,
) {
    let result = match step {
        ComplaintStep::File { principal, input } => {
            app.file_complaint(&principal, *input).map(|f| {
                if let Some(slot) = sim.civic.filed.get_mut(idx) {
                    *slot = Some(FiledRef {
                        no: f.complaint_no,
                        code: f.query_code,
                        assigned: None,
                    });
                }
            })
        }
        step => {
            // Nothing follows a refused filing (counted when it was refused).
            let Some(f) = sim.civic.filed.get_mut(idx).and_then(Option::as_mut) else {
                return;
            };
            match step {
                ComplaintStep::File { .. } => Ok(()),
                ComplaintStep::Triage => {
                    let desk = Principal::Department {
                        name: "政务服务中心投诉受理台".into(),
                        department: app.settings.complaint_routing.service_centre.clone(),
                    };
                    let triage = ComplaintAction::Triage {
                        department: None,
                        route: None,
                    };
                    app.act_on_complaint(&desk, &f.no, triage)
                        .map(|row| f.assigned = row.assigned)
                }
                ComplaintStep::Act(action) => {
                    let department = f.assigned.clone().unwrap_or_default();
                    let p = Principal::Department {
                        name: format!("{department}-投诉承办"),
                        department,
                    };
                    app.act_on_complaint(&p, &f.no, action).map(|_| ())
                }
                ComplaintStep::ApproveExtension => app
                    .act_on_complaint(supervisor, &f.no, ComplaintAction::ApproveExtension)
                    .map(|_| ()),
                ComplaintStep::Rate(s) => app.rate_complaint(&f.no, &f.code, s).map(|_| ()),
                ComplaintStep::Close => app
                    .act_on_complaint(
                        supervisor,
                        &f.no,
                        ComplaintAction::Close {
                            reason: "投诉人逾期未评价，予以办结".into(),
                        },
                    )
                    .map(|_| ()),
            }
        }
    };
    if let Err(e) = result {
        sim.civic.refused += 1;
        tracing::warn!(complaint = idx, error = %e, "demo complaint step refused");
    }
}

/// The first working day of each quarter's last month (each month at the small scale) after
/// the points are registered: the survey rounds and their periods.
fn round_days(
    cal: &lianzheng_core::calendar::Calendar,
    registered: Date,
    until: Date,
    scale: Scale,
) -> Vec<(Date, String)> {
    let mut out = Vec::new();
    let (mut y, mut m) = (registered.year(), registered.month());
    while (y, m) <= (until.year(), until.month()) {
        if scale.monthly_rounds() || m % 3 == 0 {
            let day = cal.add_workdays(jiff::civil::date(y, m, 1), 0).value;
            if day > registered && day <= until {
                let period = if scale.monthly_rounds() {
                    format!("{y}-{m:02}")
                } else {
                    format!("{y}Q{}", m / 3)
                };
                out.push((day, period));
            }
        }
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

/// How enterprises rate a department (1–5): lower where citizens rate it badly and where it
/// runs late (the city's biases).
fn enterprise_quality(d: &DeptDef) -> f64 {
    (4.5 - 0.9 * (d.bad_rating_bias - 1.0) - 0.35 * (d.overdue_bias - 1.0)).max(1.5)
}

/// Runs one step of the monitoring points.
fn monitoring_step(app: &App, sim: &mut Sim<'_>, step: MonitoringStep) -> anyhow::Result<()> {
    let office = Principal::Supervisor {
        name: MONITORING_OFFICE.into(),
    };
    let names = sim.names;
    let cal = app.calendar();
    let result = match step {
        MonitoringStep::Register => {
            let max = app.monitoring_settings()?.max_points;
            let sectors = &names.monitoring_sectors;
            let pick = Weighted::new(sectors.iter().map(|s| s.weight));
            let known: std::collections::HashSet<&str> =
                sim.depts.iter().map(|d| d.code.as_str()).collect();
            if let Some(bad) = sectors
                .iter()
                .flat_map(|s| &s.departments)
                .find(|d| !known.contains(d.as_str()))
            {
                bail!("names.toml: monitoring_sectors names department `{bad}`, not in city.toml");
            }
            let c = &mut sim.civic;
            let mut seen = std::collections::HashSet::new();
            for _ in 0..max {
                let Some(s) = sectors.get(pick.pick(&mut c.rng)) else {
                    break;
                };
                let mut name = company_name(&mut c.rng, names, &s.industries, true);
                while !seen.insert(name.clone()) {
                    name = company_name(&mut c.rng, names, &s.industries, true);
                }
                // The first two departments every such enterprise deals with, then a few more.
                let k = c.rng.range(3, 6.min(s.departments.len() as i64)) as usize;
                let mut departments: Vec<String> = s.departments.iter().take(2).cloned().collect();
                let mut rest: Vec<&String> = s.departments.iter().skip(2).collect();
                while departments.len() < k && !rest.is_empty() {
                    departments.push(rest.remove(c.rng.below(rest.len())).clone());
                }
                let input = PointInput {
                    name,
                    credit_code: credit_code(&mut c.rng),
                    sector: s.sector.clone(),
                    contact_person: person_name(&mut c.rng, names),
                    contact_phone: format!(
                        "13{}{:08}",
                        c.rng.range(0, 9),
                        c.rng.range(0, 99_999_999)
                    ),
                    registered_on: None,
                };
                match app.register_point(&office, input) {
                    Ok(p) => c.points.push((p.id, departments)),
                    Err(e) => {
                        c.refused += 1;
                        tracing::warn!(error = %e, "demo monitoring point refused");
                    }
                }
            }
            Ok(())
        }
        MonitoringStep::OpenRound { period } => {
            let assignments: BTreeMap<String, Vec<String>> =
                sim.civic.points.iter().cloned().collect();
            let input = RoundInput {
                period: period.clone(),
                due_workdays: 10,
                departments: Vec::new(),
                assignments,
            };
            app.open_round(&office, input).map(|opened| {
                let now = app.now();
                let due = end_of(cal.add_workdays(local_date(now), 10).value);
                let c = &mut sim.civic;
                // This quarter's showing of each department, around its usual.
                let mut showing: HashMap<&str, f64> = HashMap::new();
                for d in sim.depts {
                    showing.insert(
                        d.code.as_str(),
                        enterprise_quality(d) + 0.25 * c.rng.normal(),
                    );
                }
                let mut planned = Vec::new();
                for req in opened.requests {
                    let Some((_, departments)) = c.points.iter().find(|(p, _)| *p == req.point)
                    else {
                        continue;
                    };
                    // Most answer in time; some late, after the reminder; a few never.
                    let x = c.rng.f64();
                    let (at, by_staff) = if x < 0.88 {
                        let at = office_within(&mut c.rng, &cal, now, (0, 9));
                        (at, c.rng.chance(0.2))
                    } else if x < 0.96 {
                        let at = office_within(&mut c.rng, &cal, due, (0, 3));
                        (at, c.rng.chance(0.6))
                    } else {
                        continue;
                    };
                    let ratings = departments
                        .iter()
                        .map(|d| {
                            let q = showing.get(d.as_str()).copied().unwrap_or(4.0);
                            let overall = (q + 0.8 * c.rng.normal()).round().clamp(1.0, 5.0) as u8;
                            let scores = INDICATORS
                                .iter()
                                .map(|n| {
                                    let v = if c.rng.chance(0.5) {
                                        i64::from(overall)
                                    } else {
                                        i64::from(overall) + c.rng.range(-1, 1)
                                    };
                                    ((*n).to_string(), v.clamp(1, 5) as u8)
                                })
                                .collect();
                            let comment = if !c.rng.chance(0.25) {
                                String::new()
                            } else if overall >= 4 {
                                c.rng
                                    .pick(&names.survey_comments_good)
                                    .cloned()
                                    .unwrap_or_default()
                            } else if overall <= 2 {
                                c.rng
                                    .pick(&names.survey_comments_bad)
                                    .cloned()
                                    .unwrap_or_default()
                            } else {
                                String::new()
                            };
                            DepartmentRating {
                                department: d.clone(),
                                scores,
                                overall,
                                comment,
                            }
                        })
                        .collect();
                    planned.push((
                        at,
                        MonitoringStep::Respond {
                            request: req.request,
                            token: (!by_staff).then_some(req.token),
                            ratings,
                        },
                    ));
                }
                // The round closes a week after its due date, once the late answers are in.
                let close_at = instant(cal.add_workdays(local_date(due), 4).value, 17 * 60 + 45);
                planned.push((close_at, MonitoringStep::CloseRound { period }));
                for (at, step) in planned {
                    sim.push(at, Action::Monitoring(Box::new(step)));
                }
            })
        }
        MonitoringStep::Respond {
            request,
            token,
            ratings,
        } => match token {
            Some(t) => app.respond_with_token(&request, &t, ratings).map(|_| ()),
            None => app.enter_response(&office, &request, ratings).map(|_| ()),
        },
        MonitoringStep::CloseRound { period } => app.close_round(&office, &period).map(|_| ()),
    };
    if let Err(e) = result {
        sim.civic.refused += 1;
        tracing::warn!(error = %e, "demo monitoring step refused");
    }
    Ok(())
}

/// The complaints and monitoring lines of the summary, counted in the database.
fn civic_summary(app: &App, refused: usize) -> anyhow::Result<String> {
    let n = |sql: &str| -> anyhow::Result<i64> {
        Ok(app.db.read(|tx| {
            Ok::<_, lianzheng_app::AppError>(tx.query_opt(sql, &[])?.map_or(0, |r| r.int(0)))
        })?)
    };
    let complaints = |cond: &str| n(&format!("SELECT COUNT(*) FROM complaints WHERE {cond}"));
    let findings = |code: &str| {
        n(&format!(
            "SELECT COUNT(*) FROM findings WHERE code = '{code}'"
        ))
    };
    let events = |kind: &str| {
        n(&format!(
            "SELECT COUNT(*) FROM events WHERE subject_type = 'complaint' AND kind = '{kind}'"
        ))
    };
    let requests = |cond: &str| {
        n(&format!(
            "SELECT COUNT(*) FROM survey_requests WHERE {cond}"
        ))
    };
    let mut out = format!(
        "complaints: {} filed ({} real-name; {} 网站, {} 热线, {} API; {} to 监察局), {} answered in time and {} late, {} extended, {} declined, {} still open; {} G001 and {} G002 findings; {} of {} 乱收费 complaints flagged (G003); {} rated, {} 不满意 ({} reopened)",
        complaints("1 = 1")?,
        complaints("real_name = 1")?,
        complaints("channel = 'web'")?,
        complaints("channel = 'hotline'")?,
        complaints("channel = 'api'")?,
        complaints("route = 'supervision'")?,
        complaints("answered_in_time = 1")?,
        complaints("answered_in_time = 0")?,
        events("extension_approved")?,
        complaints("status = 'declined'")?,
        complaints("status IN ('filed', 'assigned', 'accepted')")?,
        findings("G001")?,
        findings("G002")?,
        complaints("fee_flag IS NOT NULL")?,
        complaints("category = 'SF'")?,
        events("rated")?,
        findings("G004")?,
        complaints("reopened > 0")?,
    );
    out.push_str(&format!(
        "\nmonitoring points: {} points, {} rounds ({} closed), {} of {} requests answered ({} late), {} department ratings, {} E001 and {} E002 findings",
        n("SELECT COUNT(*) FROM monitoring_points")?,
        n("SELECT COUNT(*) FROM survey_rounds")?,
        n("SELECT COUNT(*) FROM survey_rounds WHERE status = 'closed'")?,
        requests("status = 'answered'")?,
        requests("1 = 1")?,
        requests("answered_late = 1")?,
        n("SELECT COUNT(*) FROM survey_responses")?,
        findings("E001")?,
        findings("E002")?,
    ));
    if refused > 0 {
        out.push_str(&format!("; {refused} demo actions refused"));
    }
    Ok(out)
}
