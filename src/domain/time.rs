//! Times as people read them in cards and messages: `YYYY-MM-DD HH:MM` in China Standard Time
//! (UTC+8, no daylight saving), where WeCom and DingTalk users are; and as machines read them,
//! RFC 3339 in UTC.

/// The offset of China Standard Time from UTC, in milliseconds.
pub const CST_OFFSET_MS: i64 = 8 * 3600 * 1000;
/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The China Standard Time day `at` (epoch ms) falls on, counted from 1970-01-01; the same
/// number SQL gets from `(at + CST_OFFSET_MS) / DAY_MS` for times after 1970.
pub fn local_day(at: i64) -> i64 {
    (at + CST_OFFSET_MS).div_euclid(DAY_MS)
}

/// A day counted as by [`local_day`], as `YYYY-MM-DD`.
pub fn day_date(day: i64) -> String {
    let (year, month, day) = civil_from_days(day);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `at` (epoch ms) as `YYYY-MM-DD HH:MM` in China Standard Time.
pub fn local_minute(at: i64) -> String {
    let local = at + CST_OFFSET_MS;
    let days = local.div_euclid(86_400_000);
    let minute_of_day = local.rem_euclid(86_400_000) / 60_000;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        minute_of_day / 60,
        minute_of_day % 60
    )
}

/// `at` (epoch ms) as an RFC 3339 UTC timestamp with milliseconds, `YYYY-MM-DDTHH:MM:SS.mmmZ`,
/// for machines (webhook bodies) rather than people.
pub fn utc_rfc3339(at: i64) -> String {
    let days = at.div_euclid(86_400_000);
    let ms_of_day = at.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (seconds, ms) = (ms_of_day / 1000, ms_of_day % 1000);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::{day_date, local_day, local_minute, utc_rfc3339};

    #[test]
    fn formats_in_china_standard_time() {
        assert_eq!(local_minute(0), "1970-01-01 08:00");
        // 2026-11-27 06:02 UTC.
        assert_eq!(local_minute(1_795_759_320_000), "2026-11-27 14:02");
        // A leap day, just before midnight local time.
        assert_eq!(local_minute(1_709_222_340_000), "2024-02-29 23:59");
        assert_eq!(local_minute(-1), "1970-01-01 07:59");
    }

    #[test]
    fn days_begin_at_midnight_china_standard_time() {
        // 2026-11-26 15:59:59.999 UTC is the last moment of the 26th in Shanghai.
        let before = 1_795_708_799_999;
        assert_eq!(day_date(local_day(before)), "2026-11-26");
        assert_eq!(day_date(local_day(before + 1)), "2026-11-27");
        assert_eq!(day_date(local_day(0)), "1970-01-01");
        assert_eq!(day_date(local_day(-super::CST_OFFSET_MS - 1)), "1969-12-31");
    }

    #[test]
    fn formats_utc_for_machines() {
        assert_eq!(utc_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc_rfc3339(1_795_773_946_123), "2026-11-27T10:05:46.123Z");
        assert_eq!(utc_rfc3339(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
        assert_eq!(utc_rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }
}
