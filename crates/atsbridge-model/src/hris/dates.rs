//! The two wall-clock formats of absences. Everywhere else HRIS dates are [`Timestamp`]s at
//! midnight UTC, but an absence's `start_date`/`end_date` are plain `yyyy-MM-dd` strings and
//! its `start_time`/`end_time` are `HH:mm:ss`: they are days and times in the employee's own
//! calendar, with no instant behind them.
//!
//! [`Timestamp`]: crate::timestamp::Timestamp

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::macros::format_description;
use time::{Date, Time};

/// A calendar day, `yyyy-MM-dd`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlainDate(pub Date);

/// A time of day to the second, `HH:mm:ss`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(pub Time);

impl PlainDate {
    /// Exactly `yyyy-MM-dd`; a date-time is refused, so a caller cannot pass one by mistake.
    pub fn parse(s: &str) -> Option<Self> {
        Date::parse(s, format_description!("[year]-[month]-[day]"))
            .ok()
            .map(PlainDate)
    }
}

impl ClockTime {
    /// `HH:mm:ss`, or `HH:mm` (Kombo accepts both on input and always answers with seconds).
    pub fn parse(s: &str) -> Option<Self> {
        Time::parse(s, format_description!("[hour]:[minute]:[second]"))
            .or_else(|_| Time::parse(s, format_description!("[hour]:[minute]")))
            .ok()
            .map(ClockTime)
    }
}

impl fmt::Display for PlainDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(f, "{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    }
}

impl fmt::Debug for PlainDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Debug for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for PlainDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PlainDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("`{s}` is not a plain date (yyyy-MM-dd)"))
        })
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("`{s}` is not a time of day (HH:mm:ss)"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_dates_and_clock_times_keep_their_short_forms() {
        let d: PlainDate = serde_json::from_str("\"2026-08-04\"").unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2026-08-04\"");
        assert!(serde_json::from_str::<PlainDate>("\"2026-08-04T00:00:00.000Z\"").is_err());
        assert!(PlainDate::parse("2026-02-30").is_none());

        let t: ClockTime = serde_json::from_str("\"13:15:00\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"13:15:00\"");
        assert_eq!(ClockTime::parse("09:05").unwrap().to_string(), "09:05:00");
        assert!(ClockTime::parse("25:00:00").is_none());
        assert!(ClockTime::parse("1:15 pm").is_none());
    }
}
