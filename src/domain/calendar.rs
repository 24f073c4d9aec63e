//! Working hours: when reps and managers are at work, in the team's time zone. Task due
//! times are counted in working time ("first contact within 2 hours" given at 17:30 on a
//! Friday is due at 10:30 on Monday), and notices other than approvals wait for the start of
//! the next working period instead of arriving at night (quiet hours).

use std::time::Duration;

use jiff::{Timestamp, Zoned, civil, tz::TimeZone};

/// Minutes in a day.
const DAY_MINUTES: u16 = 24 * 60;

/// The working week in one time zone: the same hours on each working day.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkingHours {
    zone: TimeZone,
    zone_name: String,
    /// Minute of the day work starts, inclusive.
    start: u16,
    /// Minute of the day work ends, exclusive.
    end: u16,
    /// Monday first.
    days: [bool; 7],
}

/// Why a `[work]` setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("unknown time zone `{0}`; use an IANA name such as Asia/Shanghai")]
    Zone(String),
    #[error("`{0}` is not a time of day as HH:MM")]
    Time(String),
    #[error("work must end after it starts")]
    Empty,
    #[error("`{0}` is not a day; use mon, tue, wed, thu, fri, sat, sun")]
    Day(String),
    #[error("at least one working day is needed")]
    NoDays,
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Default for WorkingHours {
    /// Asia/Shanghai, 09:00–18:00, Monday to Friday.
    fn default() -> Self {
        Self::new(
            "Asia/Shanghai",
            "09:00",
            "18:00",
            &["mon", "tue", "wed", "thu", "fri"],
        )
        .expect("the default working hours are valid")
    }
}

impl WorkingHours {
    /// Working hours from `[work]`'s settings: an IANA zone, `HH:MM` start and end, and the
    /// working days by their three-letter English names.
    pub fn new(
        zone: &str,
        start: &str,
        end: &str,
        days: &[impl AsRef<str>],
    ) -> Result<Self, CalendarError> {
        let tz = jiff::tz::db()
            .get(zone)
            .map_err(|_| CalendarError::Zone(zone.to_string()))?;
        let (start, end) = (minute_of_day(start)?, minute_of_day(end)?);
        if end <= start {
            return Err(CalendarError::Empty);
        }
        let mut working = [false; 7];
        for day in days {
            let day = day.as_ref().trim().to_ascii_lowercase();
            let index = DAY_NAMES
                .iter()
                .position(|name| *name == day)
                .ok_or(CalendarError::Day(day))?;
            working[index] = true;
        }
        if !working.contains(&true) {
            return Err(CalendarError::NoDays);
        }
        Ok(Self {
            zone: tz,
            zone_name: zone.to_string(),
            start,
            end,
            days: working,
        })
    }

    /// The IANA name of the time zone.
    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    /// Whether `at` (epoch ms) falls in working hours.
    pub fn is_open(&self, at: i64) -> bool {
        let local = self.local(at);
        self.works_on(local.date()) && (self.start..self.end).contains(&minute_of(&local))
    }

    /// `at` itself when it falls in working hours, else the start of the next working period.
    pub fn next_open(&self, at: i64) -> i64 {
        let local = self.local(at);
        let minute = minute_of(&local);
        if self.works_on(local.date()) {
            if (self.start..self.end).contains(&minute) {
                return at;
            }
            if minute < self.start {
                return self.at_minute(local.date(), self.start);
            }
        }
        // Seven days on at most there is a working day: `new` refuses a week without one.
        let mut day = local.date();
        for _ in 0..7 {
            day = day.tomorrow().unwrap_or(day);
            if self.works_on(day) {
                return self.at_minute(day, self.start);
            }
        }
        at
    }

    /// `at` plus `duration` of working time: the clock runs only in working hours. Zero
    /// working time from outside working hours is the start of the next working period.
    pub fn add(&self, at: i64, duration: Duration) -> i64 {
        let mut left = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        let mut now = self.next_open(at);
        loop {
            let local = self.local(now);
            let period_end = self.at_minute(local.date(), self.end);
            let available = period_end - now;
            if left <= available {
                return now + left;
            }
            left -= available;
            let next = self.next_open(period_end);
            if next <= now {
                // Cannot happen with a valid week; stop rather than loop.
                return now + left;
            }
            now = next;
        }
    }

    /// `at` (epoch ms) as `YYYY-MM-DD HH:MM` in the working time zone, for messages.
    pub fn local_minute(&self, at: i64) -> String {
        self.local(at).strftime("%Y-%m-%d %H:%M").to_string()
    }

    fn local(&self, at: i64) -> Zoned {
        Timestamp::from_millisecond(at)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(self.zone.clone())
    }

    fn works_on(&self, date: civil::Date) -> bool {
        self.days[usize::from(date.weekday().to_monday_zero_offset() as u8)]
    }

    /// Epoch ms of `minute` past midnight on `date`, in the zone; a time skipped by a
    /// daylight-saving change is taken as the instant after the gap.
    fn at_minute(&self, date: civil::Date, minute: u16) -> i64 {
        let minute = minute.min(DAY_MINUTES);
        let midnight = date.to_datetime(civil::Time::midnight());
        let datetime = midnight
            .checked_add(jiff::Span::new().minutes(i64::from(minute)))
            .unwrap_or(midnight);
        self.zone
            .to_ambiguous_zoned(datetime)
            .compatible()
            .map(|zoned| zoned.timestamp().as_millisecond())
            .unwrap_or(0)
    }
}

fn minute_of(local: &Zoned) -> u16 {
    u16::from(local.hour() as u8) * 60 + u16::from(local.minute() as u8)
}

/// `HH:MM` (00:00–24:00) as minutes past midnight.
fn minute_of_day(text: &str) -> Result<u16, CalendarError> {
    let bad = || CalendarError::Time(text.to_string());
    let (hours, minutes) = text.trim().split_once(':').ok_or_else(bad)?;
    let (hours, minutes): (u16, u16) = (
        hours.parse().map_err(|_| bad())?,
        minutes.parse().map_err(|_| bad())?,
    );
    let total = hours * 60 + minutes;
    if minutes >= 60 || total > DAY_MINUTES || hours > 24 {
        return Err(bad());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Epoch ms of a China Standard Time wall-clock time.
    fn cst(text: &str) -> i64 {
        let datetime: civil::DateTime = text.parse().unwrap();
        datetime
            .to_zoned(TimeZone::get("Asia/Shanghai").unwrap())
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn open_only_in_hours_on_working_days() {
        let hours = WorkingHours::default();
        // 2026-11-27 is a Friday.
        assert!(hours.is_open(cst("2026-11-27T09:00")));
        assert!(hours.is_open(cst("2026-11-27T17:59")));
        assert!(!hours.is_open(cst("2026-11-27T18:00")));
        assert!(!hours.is_open(cst("2026-11-27T08:59")));
        assert!(!hours.is_open(cst("2026-11-28T10:00")));
    }

    #[test]
    fn next_open_is_the_next_morning_or_monday() {
        let hours = WorkingHours::default();
        let friday_noon = cst("2026-11-27T12:00");
        assert_eq!(hours.next_open(friday_noon), friday_noon);
        assert_eq!(
            hours.next_open(cst("2026-11-27T20:00")),
            cst("2026-11-30T09:00")
        );
        assert_eq!(
            hours.next_open(cst("2026-11-26T07:30")),
            cst("2026-11-26T09:00")
        );
        assert_eq!(
            hours.next_open(cst("2026-11-29T23:59")),
            cst("2026-11-30T09:00")
        );
    }

    #[test]
    fn working_time_carries_over_nights_and_weekends() {
        let hours = WorkingHours::default();
        assert_eq!(
            hours.add(cst("2026-11-26T10:00"), 2 * HOUR),
            cst("2026-11-26T12:00")
        );
        assert_eq!(
            hours.add(cst("2026-11-27T17:30"), 2 * HOUR),
            cst("2026-11-30T10:30")
        );
        assert_eq!(
            hours.add(cst("2026-11-27T22:00"), HOUR),
            cst("2026-11-30T10:00")
        );
        // A whole working day from the start of one is the end of it, not the next morning.
        assert_eq!(
            hours.add(cst("2026-11-26T09:00"), 9 * HOUR),
            cst("2026-11-26T18:00")
        );
        assert_eq!(
            hours.add(cst("2026-11-26T09:00"), 27 * HOUR),
            cst("2026-11-30T18:00")
        );
        assert_eq!(
            hours.add(cst("2026-11-28T10:00"), Duration::ZERO),
            cst("2026-11-30T09:00")
        );
    }

    #[test]
    fn another_zone_with_daylight_saving() {
        let hours = WorkingHours::new("Europe/Berlin", "08:00", "17:00", &["mon", "tue"]).unwrap();
        // 2026-03-30 is the Monday after the clocks went forward: 08:00 CEST is 06:00 UTC.
        let sunday: Timestamp = "2026-03-29T12:00:00Z".parse().unwrap();
        let monday: Timestamp = "2026-03-30T06:00:00Z".parse().unwrap();
        assert_eq!(
            hours.next_open(sunday.as_millisecond()),
            monday.as_millisecond()
        );
        assert_eq!(
            hours.local_minute(monday.as_millisecond()),
            "2026-03-30 08:00"
        );
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        let week = ["mon"];
        assert_eq!(
            WorkingHours::new("Mars/Olympus", "09:00", "18:00", &week),
            Err(CalendarError::Zone("Mars/Olympus".into()))
        );
        assert_eq!(
            WorkingHours::new("UTC", "9", "18:00", &week),
            Err(CalendarError::Time("9".into()))
        );
        assert_eq!(
            WorkingHours::new("UTC", "09:60", "18:00", &week),
            Err(CalendarError::Time("09:60".into()))
        );
        assert_eq!(
            WorkingHours::new("UTC", "18:00", "09:00", &week),
            Err(CalendarError::Empty)
        );
        assert_eq!(
            WorkingHours::new("UTC", "09:00", "18:00", &["someday"]),
            Err(CalendarError::Day("someday".into()))
        );
        let none: [&str; 0] = [];
        assert_eq!(
            WorkingHours::new("UTC", "09:00", "18:00", &none),
            Err(CalendarError::NoDays)
        );
        assert!(WorkingHours::new("UTC", "00:00", "24:00", &week).is_ok());
    }
}
