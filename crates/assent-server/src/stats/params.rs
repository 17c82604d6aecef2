//! The query string every statistic takes: the period, the interval, filters (one parameter
//! per dimension, e.g. `browser=Firefox&country=FR`), and the output format.
//!
//! `period` is `today`, `yesterday`, `7d`, `30d` (default), `90d`, `12mo`, or `custom` with
//! `from` and `to` (`YYYY-MM-DD`, both included). Days are UTC.

use assent_store::stats::{Dimension, Filter, FunnelStep, Interval, StatsQuery};
use jiff::civil::Date;
use serde::Serialize;

use super::error::StatsError;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// The longest period one request may cover.
const MAX_DAYS: i64 = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// The period, as the answer repeats it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    pub from: String,
    pub to: String,
    pub from_ms: i64,
    pub to_ms: i64,
}

/// A parsed stats request.
#[derive(Debug)]
pub struct Params {
    pub period: Period,
    pub interval: Interval,
    pub filters: Vec<Filter>,
    pub format: Format,
    pub limit: usize,
    /// `event=` for event properties.
    pub event: Option<String>,
    /// `step=page:/cart` or `step=event:Order Completed`, in order.
    pub steps: Vec<FunnelStep>,
}

impl Params {
    pub fn query(&self, project: &str) -> StatsQuery {
        StatsQuery {
            project: project.to_string(),
            from_ms: self.period.from_ms,
            to_ms: self.period.to_ms,
            filters: self.filters.clone(),
        }
    }

    /// Reads a query string (`now_ms` is when "today" is).
    pub fn parse(raw: &str, now_ms: i64) -> Result<Params, StatsError> {
        let mut one: std::collections::HashMap<String, String> = Default::default();
        let mut steps = Vec::new();
        let mut filters = Vec::new();
        let mut event = None;
        for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
            let (key, value) = (key.into_owned(), value.into_owned());
            if key == "step" {
                steps.push(step(&value)?);
                continue;
            }
            if key == "event" && event.is_none() {
                event = Some(value.clone());
            }
            let known = [
                "period", "from", "to", "interval", "format", "limit", "event",
            ];
            let dimension = Dimension::parse(&key);
            if !known.contains(&key.as_str()) && dimension.is_none() {
                let names: Vec<&str> = Dimension::ALL.iter().map(|d| d.name()).collect();
                return Err(StatsError::invalid(
                    "query",
                    format!(
                        "unknown parameter `{key}`: use period, from, to, interval, format, limit, step, or a filter ({})",
                        names.join(", ")
                    ),
                ));
            }
            if one.insert(key.clone(), value.clone()).is_some() {
                return Err(StatsError::invalid(
                    "query",
                    format!("parameter `{key}` is given twice"),
                ));
            }
            if let Some(dimension) = dimension {
                filters.push(Filter { dimension, value });
            }
        }
        // `event` is both a filter and the event whose properties are asked for; as a filter
        // it only applies where it filters (not to its own property list).
        let period = period(&one, now_ms)?;
        let days = (period.to_ms - period.from_ms) / DAY_MS;
        let interval = match one.get("interval").map(String::as_str) {
            None if days <= 2 => Interval::Hour,
            None if days <= 92 => Interval::Day,
            None => Interval::Week,
            Some("hour") if days <= 31 => Interval::Hour,
            Some("hour") => {
                return Err(StatsError::invalid(
                    "interval",
                    "interval=hour is for periods of up to 31 days; use day or week",
                ))
            }
            Some("day") => Interval::Day,
            Some("week") => Interval::Week,
            Some(other) => {
                return Err(StatsError::invalid(
                    "interval",
                    format!("interval {other:?} is not hour, day or week"),
                ))
            }
        };
        let format = match one.get("format").map(String::as_str) {
            None | Some("json") => Format::Json,
            Some("csv") => Format::Csv,
            Some(other) => {
                return Err(StatsError::invalid(
                    "format",
                    format!("format {other:?} is not json or csv"),
                ))
            }
        };
        let limit = match one.get("limit") {
            None => 10,
            Some(n) => match n.parse::<usize>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => {
                    return Err(StatsError::invalid(
                        "limit",
                        format!("limit {n:?} is not a number from 1 to 1000"),
                    ))
                }
            },
        };
        Ok(Params {
            period,
            interval,
            filters,
            format,
            limit,
            event,
            steps,
        })
    }
}

fn step(value: &str) -> Result<FunnelStep, StatsError> {
    match value.split_once(':') {
        Some(("page", name)) if !name.is_empty() => Ok(FunnelStep::Page(name.to_string())),
        Some(("event", name)) if !name.is_empty() => Ok(FunnelStep::Event(name.to_string())),
        _ => Err(StatsError::invalid(
            "step",
            format!("step {value:?} is not page:<path> or event:<name>, e.g. step=page:/cart"),
        )),
    }
}

fn date(value: &str, field: &'static str) -> Result<i64, StatsError> {
    let date: Date = value.parse().map_err(|_| {
        StatsError::invalid(
            field,
            format!("{field} {value:?} is not a date like 2026-11-30"),
        )
    })?;
    let start = date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| StatsError::invalid(field, e.to_string()))?;
    Ok(start.timestamp().as_millisecond())
}

fn day_text(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn period(
    params: &std::collections::HashMap<String, String>,
    now_ms: i64,
) -> Result<Period, StatsError> {
    let today = now_ms.div_euclid(DAY_MS) * DAY_MS;
    let last_days = |n: i64| (today - (n - 1) * DAY_MS, today + DAY_MS);
    let (from_ms, to_ms) = match params.get("period").map(String::as_str) {
        Some("today") => last_days(1),
        Some("yesterday") => (today - DAY_MS, today),
        Some("7d") => last_days(7),
        None | Some("30d") => last_days(30),
        Some("90d") => last_days(90),
        Some("12mo") => last_days(365),
        Some("custom") => {
            let from = params.get("from").ok_or_else(|| {
                StatsError::invalid("from", "period=custom needs from=YYYY-MM-DD")
            })?;
            let to = params
                .get("to")
                .ok_or_else(|| StatsError::invalid("to", "period=custom needs to=YYYY-MM-DD"))?;
            let (from, to) = (date(from, "from")?, date(to, "to")? + DAY_MS);
            if to <= from {
                return Err(StatsError::invalid("to", "to is before from"));
            }
            if (to - from) / DAY_MS > MAX_DAYS {
                return Err(StatsError::invalid(
                    "to",
                    format!("a period covers at most {MAX_DAYS} days"),
                ));
            }
            (from, to)
        }
        Some(other) => {
            return Err(StatsError::invalid(
                "period",
                format!("period {other:?} is not today, yesterday, 7d, 30d, 90d, 12mo or custom"),
            ))
        }
    };
    if params.get("period").map(String::as_str) != Some("custom")
        && (params.contains_key("from") || params.contains_key("to"))
    {
        return Err(StatsError::invalid(
            "from",
            "from and to need period=custom",
        ));
    }
    Ok(Period {
        from: day_text(from_ms),
        to: day_text(to_ms - DAY_MS),
        from_ms,
        to_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_083_200_000 + 5 * 3_600_000; // 2026-12-01T05:00Z

    #[test]
    fn a_period_is_whole_utc_days_ending_today() {
        let p = Params::parse("period=7d&browser=Firefox", NOW).unwrap();
        assert_eq!(
            (p.period.from.as_str(), p.period.to.as_str()),
            ("2026-11-25", "2026-12-01")
        );
        assert_eq!(p.interval, Interval::Day);
        assert_eq!(p.filters[0].dimension, Dimension::Browser);
        let custom = Params::parse("period=custom&from=2026-11-01&to=2026-11-01", NOW).unwrap();
        assert_eq!(custom.period.to_ms - custom.period.from_ms, DAY_MS);
        assert_eq!(custom.interval, Interval::Hour);
    }

    #[test]
    fn mistakes_name_their_parameter() {
        let field = |q: &str| match Params::parse(q, NOW).unwrap_err() {
            StatsError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field("period=week"), "period");
        assert_eq!(field("period=custom&from=2026-13-01&to=2026-11-02"), "from");
        assert_eq!(field("interval=minute"), "interval");
        assert_eq!(field("colour=red"), "query");
        assert_eq!(field("browser=a&browser=b"), "query");
        assert_eq!(field("step=cart"), "step");
        assert_eq!(field("limit=0"), "limit");
    }
}
