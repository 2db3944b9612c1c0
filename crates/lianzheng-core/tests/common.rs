//! Shared helpers: the built-in calendar, local instants, a standard item.

use std::sync::OnceLock;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use lianzheng_core::calendar::Calendar;
use lianzheng_core::time::start_of;

/// The built-in calendar (2005–2026 notices), built once.
pub fn cal() -> &'static Calendar {
    static CAL: OnceLock<Calendar> = OnceLock::new();
    CAL.get_or_init(|| Calendar::builtin().expect("built-in calendar"))
}

/// A local (UTC+08:00) instant: date, hour, minute.
pub fn at(d: Date, h: i64, m: i64) -> Timestamp {
    start_of(d) + SignedDuration::from_mins(h * 60 + m)
}
