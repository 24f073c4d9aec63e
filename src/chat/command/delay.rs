//! How far `snooze` puts a task off: a number and a unit, `30m`, `2h`, `1.5h`, `1d`, or in
//! Chinese `30分钟`, `2小时`, `1天`.

use std::time::Duration;

/// The shortest delay: less is no delay anyone means.
const MIN: Duration = Duration::from_secs(60);

/// The longest delay: a task put off further should be cancelled or given a new due time by
/// whoever plans the work, not pushed from the chat.
const MAX: Duration = Duration::from_secs(30 * 24 * 3600);

const MINUTE: f64 = 60.0;
const HOUR: f64 = 3600.0;
const DAY: f64 = 24.0 * 3600.0;

/// Units, lower-case, with what one of them is and whether it counts working time.
const UNITS: &[(&str, f64, bool)] = &[
    ("m", MINUTE, true),
    ("min", MINUTE, true),
    ("mins", MINUTE, true),
    ("minute", MINUTE, true),
    ("minutes", MINUTE, true),
    ("分", MINUTE, true),
    ("分钟", MINUTE, true),
    ("h", HOUR, true),
    ("hr", HOUR, true),
    ("hrs", HOUR, true),
    ("hour", HOUR, true),
    ("hours", HOUR, true),
    ("小时", HOUR, true),
    ("个小时", HOUR, true),
    ("钟头", HOUR, true),
    ("个钟头", HOUR, true),
    ("d", DAY, false),
    ("day", DAY, false),
    ("days", DAY, false),
    ("天", DAY, false),
    ("日", DAY, false),
];

/// A delay as the rep wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delay {
    /// Minutes or hours: working time, as due times are counted ("2 hours" at 17:30 on a
    /// Friday is 10:30 on Monday).
    Working(Duration),
    /// Days: calendar time (24 hours a day), then the next working moment if that falls
    /// outside working hours ("1 day" on Friday afternoon is Monday morning).
    Days(Duration),
}

impl Delay {
    /// `word` as a delay from one minute to thirty days; `None` when it is not one.
    pub fn parse(word: &str) -> Option<Self> {
        let word = word.to_lowercase();
        let split = word
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(word.len());
        let (number, unit) = word.split_at(split);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, "0"));
        if !is_digits(whole) || !is_digits(fraction) {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        let &(_, seconds, working) = UNITS.iter().find(|(name, ..)| *name == unit)?;
        let length =
            Duration::from_secs_f64((value * seconds).round().min(MAX.as_secs_f64() + 1.0));
        if !(MIN..=MAX).contains(&length) {
            return None;
        }
        Some(if working {
            Self::Working(length)
        } else {
            Self::Days(length)
        })
    }
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn minutes(n: u64) -> Duration {
        Duration::from_secs(n * 60)
    }

    #[test]
    fn minutes_and_hours_are_working_time_and_days_calendar_time() {
        for (word, delay) in [
            ("30m", Delay::Working(minutes(30))),
            ("30min", Delay::Working(minutes(30))),
            ("30分钟", Delay::Working(minutes(30))),
            ("45分", Delay::Working(minutes(45))),
            ("2h", Delay::Working(minutes(120))),
            ("2H", Delay::Working(minutes(120))),
            ("1.5h", Delay::Working(minutes(90))),
            ("2小时", Delay::Working(minutes(120))),
            ("2个小时", Delay::Working(minutes(120))),
            ("0.5hours", Delay::Working(minutes(30))),
            ("1d", Delay::Days(minutes(24 * 60))),
            ("1天", Delay::Days(minutes(24 * 60))),
            ("1.5days", Delay::Days(minutes(36 * 60))),
            ("30d", Delay::Days(MAX)),
            ("720h", Delay::Working(MAX)),
            ("1m", Delay::Working(MIN)),
        ] {
            assert_eq!(Delay::parse(word), Some(delay), "{word}");
        }
    }

    #[test]
    fn anything_else_or_out_of_bounds_is_no_delay() {
        for word in [
            "",
            "2",
            "h",
            "2x",
            "2 h",
            "-2h",
            "+2h",
            "1e2h",
            ".5h",
            "5.h",
            "1.2.3h",
            "2hh",
            "二小时",
            "0m",
            "0.5m",
            "31d",
            "721h",
            "43201m",
            "99999999999999999999d",
        ] {
            assert_eq!(Delay::parse(word), None, "{word}");
        }
    }
}
