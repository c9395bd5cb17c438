//! The session time zone timestamps with a zone are written in, as Spark's
//! `spark.sql.session.timeZone`: `UTC`, a fixed offset (`+05:30`), or a
//! region (`Europe/Paris`, with its daylight saving rules from the tz
//! database). Spark's default is the JVM's zone, the machine's local zone;
//! `local` resolves it the same way (`TZ`, else `/etc/localtime`).

use std::fmt;
use std::str::FromStr;

use chrono::{FixedOffset, NaiveDateTime, Offset, TimeZone};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A time zone timestamps are rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionTimeZone {
    /// A fixed offset from UTC (UTC itself is +00:00).
    Fixed(FixedOffset),
    /// A region of the tz database.
    Region(chrono_tz::Tz),
}

impl Default for SessionTimeZone {
    fn default() -> Self {
        SessionTimeZone::Fixed(FixedOffset::east_opt(0).expect("0 is a valid offset"))
    }
}

impl SessionTimeZone {
    /// `UTC`, `Z`, `+05:30`, `-03:00`, a region such as `Europe/Paris`, or
    /// `local` (the machine's zone, as the JVM finds it: `TZ`, else the
    /// target of `/etc/localtime`, else UTC).
    pub fn parse(text: &str) -> Result<SessionTimeZone, String> {
        match text {
            "local" => Ok(SessionTimeZone::local()),
            "UTC" | "Z" | "GMT" | "Etc/UTC" => Ok(SessionTimeZone::default()),
            _ if text.starts_with(['+', '-']) => {
                let offset: FixedOffset = text
                    .parse()
                    .map_err(|_| format!("'{text}' is not an offset such as +05:30 or -03:00"))?;
                Ok(SessionTimeZone::Fixed(offset))
            }
            _ => text
                .parse::<chrono_tz::Tz>()
                .map(SessionTimeZone::Region)
                .map_err(|_| {
                    format!(
                        "'{text}' is not a time zone: give UTC, an offset such as +05:30, a region \
                     such as Europe/Paris, or local"
                    )
                }),
        }
    }

    /// The machine's zone: `TZ` if it names one, else `/etc/localtime`'s
    /// target under a `zoneinfo` directory, else UTC.
    pub fn local() -> SessionTimeZone {
        let from_environment = std::env::var("TZ")
            .ok()
            .map(|zone| zone.trim_start_matches(':').to_string());
        let from_link = || {
            std::fs::read_link("/etc/localtime")
                .ok()
                .and_then(|target| {
                    let target = target.to_string_lossy().into_owned();
                    target
                        .split_once("zoneinfo/")
                        .map(|(_, zone)| zone.to_string())
                })
        };
        from_environment
            .or_else(from_link)
            .filter(|zone| zone != "local")
            .and_then(|zone| SessionTimeZone::parse(&zone).ok())
            .unwrap_or_default()
    }

    /// Seconds east of UTC at the instant `utc`.
    pub fn offset_seconds(&self, utc: &NaiveDateTime) -> i32 {
        match self {
            SessionTimeZone::Fixed(offset) => offset.local_minus_utc(),
            SessionTimeZone::Region(zone) => {
                zone.offset_from_utc_datetime(utc).fix().local_minus_utc()
            }
        }
    }
}

impl fmt::Display for SessionTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionTimeZone::Fixed(offset) if offset.local_minus_utc() == 0 => f.write_str("UTC"),
            SessionTimeZone::Fixed(offset) => write!(f, "{offset}"),
            SessionTimeZone::Region(zone) => f.write_str(zone.name()),
        }
    }
}

impl FromStr for SessionTimeZone {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        SessionTimeZone::parse(text)
    }
}

impl Serialize for SessionTimeZone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SessionTimeZone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        SessionTimeZone::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_parse_and_print_back() {
        for text in [
            "UTC",
            "+05:30",
            "-03:00",
            "Europe/Paris",
            "America/Sao_Paulo",
        ] {
            let zone = SessionTimeZone::parse(text).unwrap();
            assert_eq!(zone.to_string(), text);
            assert_eq!(zone.to_string().parse::<SessionTimeZone>().unwrap(), zone);
        }
        assert_eq!(
            SessionTimeZone::parse("Z").unwrap(),
            SessionTimeZone::default()
        );
        let error = SessionTimeZone::parse("Mars/Olympus").unwrap_err();
        assert!(error.contains("Mars/Olympus"), "{error}");
        // local is some zone, whatever the machine's.
        let _ = SessionTimeZone::parse("local").unwrap();
    }

    #[test]
    fn regions_follow_daylight_saving() {
        let paris = SessionTimeZone::parse("Europe/Paris").unwrap();
        let winter =
            NaiveDateTime::parse_from_str("2026-01-15 12:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let summer =
            NaiveDateTime::parse_from_str("2026-07-15 12:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(paris.offset_seconds(&winter), 3600);
        assert_eq!(paris.offset_seconds(&summer), 7200);
    }
}
