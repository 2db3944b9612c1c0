//! Event ingestion: any bytes as a JSON batch of case events, through the same shape check the
//! server applies, then the case state machine, the event rules and the deadlines. Nothing may
//! panic; a refused event leaves the case as it was.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lianzheng_core::calendar::Calendar;
use lianzheng_core::case::{self, Case, CaseEvent, Context};
use lianzheng_core::catalog::ItemBody;
use lianzheng_core::deadline::BusinessHours;
use lianzheng_core::rules::{EventContext, RulePack};

const ITEM: &str = r#"{"name":"食品经营许可","basic_code":"000123","item_type":"01","department":"SCJG",
"legal_limit":{"amount":20,"unit":"WD"},"promised_limit":{"amount":5,"unit":"WD"},"case_kind":"2",
"window_auth":"handle","fees":[{"code":"GB","name":"工本费","standard_fen":1000}],
"materials":[{"name":"申请书"},{"name":"营业执照"}],
"steps":[{"name":"承办","limit_days":2},{"name":"审核","limit_days":2},{"name":"批准"}],
"special_procedures":["现场勘验"]}"#;

struct Fixed {
    item: ItemBody,
    calendar: Calendar,
    pack: RulePack,
    hours: BusinessHours,
}

fn fixed() -> &'static Fixed {
    static F: OnceLock<Fixed> = OnceLock::new();
    F.get_or_init(|| Fixed {
        item: serde_json::from_str(ITEM).unwrap_or_else(|e| panic!("item: {e}")),
        calendar: Calendar::builtin().unwrap_or_else(|e| panic!("calendar: {e}")),
        pack: RulePack::default(),
        hours: BusinessHours::default(),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(events) = serde_json::from_slice::<Vec<CaseEvent>>(data) else {
        return;
    };
    let f = fixed();
    let now: jiff::Timestamp = "2026-11-27T12:00:00+08:00".parse().unwrap_or_default();
    let mut case: Option<Case> = None;
    for ev in events.iter().take(64) {
        if lianzheng_app::ingest::shape_check(ev, now).is_err() {
            continue;
        }
        let ctx = Context {
            calendar: &f.calendar,
            hours: &f.hours,
            recorded_at: now,
            correction_notice_days: 5,
            max_extension_days: 60,
        };
        let before = case.clone();
        match case::apply(case.as_ref(), ev, &f.item, 1, &ctx) {
            Ok(after) => {
                let _ = f.pack.evaluate_event(&EventContext {
                    before: case.as_ref(),
                    after: &after,
                    event: ev,
                    item: &f.item,
                    recorded_at: now,
                    calendar: &f.calendar,
                    hours: &f.hours,
                });
                let _ = f
                    .pack
                    .desired_deadlines(&after, &f.item, &f.calendar, &f.hours, now);
                case = Some(after);
            }
            Err(_) => assert_eq!(case, before, "a refused event changed the case"),
        }
    }
});
