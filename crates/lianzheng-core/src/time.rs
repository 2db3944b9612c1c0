//! Time helpers. China keeps one offset, UTC+08:00, without daylight saving since 1991, so local
//! time is a fixed offset and no time-zone database is needed.

use jiff::Timestamp;
use jiff::civil::Date;

/// The offset of China Standard Time in seconds.
pub const OFFSET_SECS: i64 = 8 * 3600;

/// The local (UTC+08:00) date of an instant.
pub fn local_date(ts: Timestamp) -> Date {
    civil_from_days((ts.as_second() + OFFSET_SECS).div_euclid(86_400))
}

/// The local minute of the day (0..1440) of an instant.
pub fn local_minute(ts: Timestamp) -> u16 {
    let m = (ts.as_second() + OFFSET_SECS).rem_euclid(86_400) / 60;
    u16::try_from(m).unwrap_or(0)
}

/// Formats an instant in local time as `2026-02-13 09:30`.
pub fn format_local(ts: Timestamp) -> String {
    let d = local_date(ts);
    let m = local_minute(ts);
    format!("{d} {:02}:{:02}", m / 60, m % 60)
}

/// Formats an instant as RFC 3339 with the +08:00 offset, as GB/T 39046 interfaces expect.
pub fn format_rfc3339(ts: Timestamp) -> String {
    let d = local_date(ts);
    let secs = (ts.as_second() + OFFSET_SECS).rem_euclid(86_400);
    format!(
        "{d}T{:02}:{:02}:{:02}+08:00",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The instant a local date starts (00:00 at UTC+08:00).
pub fn start_of(date: Date) -> Timestamp {
    let days = days_from_civil(date);
    // 00:00 local is 16:00 UTC of the day before.
    let secs = days * 86_400 - 8 * 3_600;
    Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The instant a local date ends (24:00, i.e. the next day's 00:00): a period that "ends at the end
/// of the day" (民法典 Art. 203) is over at this instant.
pub fn end_of(date: Date) -> Timestamp {
    start_of(date) + jiff::SignedDuration::from_hours(24)
}

/// The instant of a local date and minute of the day.
pub fn at_minute(date: Date, minute: u16) -> Timestamp {
    start_of(date) + jiff::SignedDuration::from_mins(i64::from(minute))
}

/// Days since 1970-01-01 (proleptic Gregorian), after Howard Hinnant's `days_from_civil`.
pub fn days_from_civil(d: Date) -> i64 {
    let (y, m, dd) = (
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> Date {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // The arithmetic keeps every part in range for the years this system handles.
    Date::new(y as i16, m as i8, d as i8).unwrap_or(Date::MIN)
}

/// Weekday number, Monday = 1 … Sunday = 7.
pub fn iso_weekday(days: i64) -> i64 {
    // 1970-01-01 was a Thursday (4).
    (days + 3).rem_euclid(7) + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn civil_round_trip() {
        for d in [
            date(2005, 1, 1),
            date(2026, 2, 28),
            date(2000, 2, 29),
            date(2100, 12, 31),
        ] {
            assert_eq!(civil_from_days(days_from_civil(d)), d);
        }
        assert_eq!(days_from_civil(date(1970, 1, 1)), 0);
        assert_eq!(iso_weekday(days_from_civil(date(2026, 2, 14))), 6);
        assert_eq!(local_date(start_of(date(2026, 3, 1))), date(2026, 3, 1));
        assert_eq!(local_date(end_of(date(2026, 3, 1))), date(2026, 3, 2));
    }
}
