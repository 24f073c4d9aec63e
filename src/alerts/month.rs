//! The calendar month of a moment in the team's time zone: what a monthly target is measured
//! over and which day of it `day_of_month` counts.

use jiff::{Timestamp, tz::TimeZone};

use crate::domain::calendar::WorkingHours;

/// A month as the team lives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Month {
    /// `YYYY-MM`.
    pub label: String,
    /// The day of the month `at` falls on, from 1.
    pub day: u32,
    /// Days in the month.
    pub days: u32,
    /// The month's first moment and the next month's, epoch ms.
    pub from: i64,
    pub until: i64,
}

/// The month `at` (epoch ms) falls in, in `hours`' time zone.
pub(super) fn month_of(hours: &WorkingHours, at: i64) -> Month {
    // The zone was resolved when the working hours were built; UTC only if that changed.
    let zone = jiff::tz::db()
        .get(hours.zone_name())
        .unwrap_or(TimeZone::UTC);
    let date = Timestamp::from_millisecond(at)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(zone.clone())
        .date();
    let first = date.first_of_month();
    let next = date.last_of_month().tomorrow().unwrap_or(first);
    let start = |day: jiff::civil::Date| {
        day.to_zoned(zone.clone())
            .map_or(at, |z| z.timestamp().as_millisecond())
    };
    Month {
        label: date.strftime("%Y-%m").to_string(),
        day: date.day().unsigned_abs().into(),
        days: date.days_in_month().unsigned_abs().into(),
        from: start(first),
        until: start(next),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-20 00:30 in Shanghai is 2026-11-19 16:30 UTC.
    const NOV_20_0030_CST: i64 = 1_795_105_800_000;

    #[test]
    fn a_month_is_read_in_the_team_time_zone() {
        let month = month_of(&WorkingHours::default(), NOV_20_0030_CST);
        assert_eq!(month.label, "2026-11");
        assert_eq!((month.day, month.days), (20, 30));
        // 2026-11-01 00:00 and 2026-12-01 00:00 in Shanghai.
        assert_eq!(month.from, 1_793_462_400_000);
        assert_eq!(month.until, 1_796_054_400_000);
        let utc = WorkingHours::new("UTC", "09:00", "18:00", &["mon"]).unwrap();
        assert_eq!(month_of(&utc, NOV_20_0030_CST).day, 19);
    }

    #[test]
    fn february_and_december_end_where_they_should() {
        let hours = WorkingHours::default();
        let feb = month_of(&hours, 1_803_772_800_000); // 2027-02-28 00:00 UTC
        assert_eq!((feb.label.as_str(), feb.days), ("2027-02", 28));
        let dec = month_of(&hours, 1_798_675_200_000); // 2026-12-31 00:00 UTC
        assert_eq!(dec.label, "2026-12");
        assert_eq!(dec.until - dec.from, 31 * 86_400_000);
    }
}
