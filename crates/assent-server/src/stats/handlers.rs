//! The statistics endpoints: each parses the query string, asks the store one question, and
//! answers in JSON or (`format=csv`) CSV.

use assent_store::stats::{
    Choices, ConsentStats, Dimension, Funnel, Interval, Point, PrivacyActivity, TopList, Totals,
};
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::access::Access;
use super::csv_export::{ratio, Table};
use super::error::StatsError;
use super::ledger_check::LedgerCheck;
use super::params::{Format, Params, Period};
use crate::App;

fn params(raw: Option<String>) -> Result<Params, StatsError> {
    Params::parse(raw.as_deref().unwrap_or_default(), crate::now_ms())
}

fn json<T: Serialize>(value: T) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Json(value)).into_response()
}

fn day_or_hour(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%MZ").to_string())
        .unwrap_or_default()
}

/// Traffic totals with the ratios a reader wants.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TotalsView {
    #[serde(flatten)]
    totals: Totals,
    views_per_visit: f64,
    bounce_rate: f64,
    mean_duration_ms: f64,
}

impl From<Totals> for TotalsView {
    fn from(totals: Totals) -> TotalsView {
        TotalsView {
            views_per_visit: totals.views_per_visit(),
            bounce_rate: totals.bounce_rate(),
            mean_duration_ms: totals.mean_duration_ms(),
            totals,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TrafficAnswer {
    project: String,
    period: Period,
    interval: Interval,
    totals: TotalsView,
    /// The period of the same length just before.
    previous: TotalsView,
    series: Vec<Point<Totals>>,
    previous_series: Vec<Point<Totals>>,
}

/// `GET /v1/stats/traffic`
pub async fn traffic(
    access: Access,
    State(app): State<App>,
    RawQuery(raw): RawQuery,
) -> Result<Response, StatsError> {
    let p = params(raw)?;
    let query = p.query(&access.project.id);
    let now = app.store.stats_traffic(query.clone(), p.interval).await?;
    let before = app
        .store
        .stats_traffic(query.previous(), p.interval)
        .await?;
    if p.format == Format::Csv {
        let mut t = Table::new(
            "traffic",
            &[
                "start",
                "visitors",
                "visits",
                "pageviews",
                "events",
                "views_per_visit",
                "bounce_rate",
                "mean_duration_s",
            ],
        );
        for point in &now.series {
            let v = &point.value;
            t.row([
                day_or_hour(point.start_ms),
                v.visitors.to_string(),
                v.visits.to_string(),
                v.pageviews.to_string(),
                v.events.to_string(),
                ratio(v.views_per_visit()),
                ratio(v.bounce_rate()),
                format!("{:.1}", v.mean_duration_ms() / 1000.0),
            ]);
        }
        return Ok(t.into_response());
    }
    Ok(json(TrafficAnswer {
        project: access.project.id.to_string(),
        period: p.period,
        interval: p.interval,
        totals: now.totals.into(),
        previous: before.totals.into(),
        series: now.series,
        previous_series: before.series,
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TopAnswer {
    period: Period,
    #[serde(flatten)]
    list: TopList,
}

/// `GET /v1/stats/top/{dimension}`
pub async fn top(
    access: Access,
    State(app): State<App>,
    Path(dimension): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, StatsError> {
    let dimension = Dimension::parse(&dimension).ok_or_else(|| {
        let names: Vec<&str> = Dimension::ALL.iter().map(|d| d.name()).collect();
        StatsError::invalid(
            "dimension",
            format!("no top list {dimension:?}; there are: {}", names.join(", ")),
        )
    })?;
    let p = params(raw)?;
    let list = app
        .store
        .stats_top(p.query(&access.project.id), dimension, p.limit)
        .await?;
    if p.format == Format::Csv {
        let mut t = Table::new(
            dimension.name(),
            &[
                dimension.name(),
                "visitors",
                "visits",
                "pageviews",
                "events",
                "bounce_rate",
                "mean_duration_s",
            ],
        );
        for r in &list.rows {
            let visits = r.visits.max(1) as f64;
            t.row([
                r.value.clone(),
                r.visitors.to_string(),
                r.visits.to_string(),
                r.pageviews.to_string(),
                r.events.to_string(),
                ratio(r.bounces as f64 / visits),
                format!("{:.1}", r.duration_ms as f64 / visits / 1000.0),
            ]);
        }
        return Ok(t.into_response());
    }
    Ok(json(TopAnswer {
        period: p.period,
        list,
    }))
}

/// `GET /v1/stats/properties?event=NAME`
pub async fn properties(
    access: Access,
    State(app): State<App>,
    RawQuery(raw): RawQuery,
) -> Result<Response, StatsError> {
    let p = params(raw)?;
    let event = p.event.clone().ok_or_else(|| {
        StatsError::invalid("event", "name the custom event: event=Order Completed")
    })?;
    let rows = app
        .store
        .stats_event_properties(p.query(&access.project.id), event.clone(), p.limit)
        .await?;
    if p.format == Format::Csv {
        let mut t = Table::new(
            "properties",
            &["event", "property", "value", "visitors", "events"],
        );
        for r in &rows {
            t.row([
                event.clone(),
                r.property.clone(),
                r.value.clone(),
                r.visitors.to_string(),
                r.events.to_string(),
            ]);
        }
        return Ok(t.into_response());
    }
    Ok(json(serde_json::json!({
        "period": p.period, "event": event, "rows": rows,
    })))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FunnelAnswer {
    period: Period,
    #[serde(flatten)]
    funnel: Funnel,
}

/// `GET /v1/stats/funnel?step=page:/&step=event:Order%20Completed`
pub async fn funnel(
    access: Access,
    State(app): State<App>,
    RawQuery(raw): RawQuery,
) -> Result<Response, StatsError> {
    let p = params(raw)?;
    if !(2..=5).contains(&p.steps.len()) {
        return Err(StatsError::invalid(
            "step",
            format!(
                "a funnel has 2 to 5 steps (step=page:/ or step=event:Name, in order); {} given",
                p.steps.len()
            ),
        ));
    }
    let funnel = app
        .store
        .stats_funnel(p.query(&access.project.id), p.steps.clone())
        .await?;
    if p.format == Format::Csv {
        let mut t = Table::new(
            "funnel",
            &[
                "step",
                "kind",
                "name",
                "visits",
                "conversion_from_first",
                "drop_off_from_previous",
            ],
        );
        let first = funnel.steps.first().map_or(0, |s| s.visits).max(1) as f64;
        let mut previous = None;
        for (i, s) in funnel.steps.iter().enumerate() {
            let (kind, name) = match &s.step {
                assent_store::stats::FunnelStep::Page(n) => ("page", n),
                assent_store::stats::FunnelStep::Event(n) => ("event", n),
            };
            let drop = previous.map_or(0.0, |p: u64| 1.0 - s.visits as f64 / p.max(1) as f64);
            t.row([
                (i + 1).to_string(),
                kind.to_string(),
                name.clone(),
                s.visits.to_string(),
                ratio(s.visits as f64 / first),
                ratio(drop),
            ]);
            previous = Some(s.visits);
        }
        return Ok(t.into_response());
    }
    Ok(json(FunnelAnswer {
        period: p.period,
        funnel,
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConsentAnswer {
    period: Period,
    interval: Interval,
    #[serde(flatten)]
    stats: ConsentStats,
}

/// `GET /v1/stats/consent`
pub async fn consent(
    access: Access,
    State(app): State<App>,
    RawQuery(raw): RawQuery,
) -> Result<Response, StatsError> {
    let p = params(raw)?;
    let stats = app
        .store
        .stats_consent(p.query(&access.project.id), p.interval)
        .await?;
    if p.format == Format::Csv {
        return Ok(consent_csv(&stats));
    }
    Ok(json(ConsentAnswer {
        period: p.period,
        interval: p.interval,
        stats,
    }))
}

/// The consent panel as one table: a `table` column says which part of the panel a row is.
fn consent_csv(stats: &ConsentStats) -> Response {
    let mut t = Table::new(
        "consent",
        &[
            "table",
            "name",
            "granted",
            "denied",
            "not_answered",
            "unknown",
            "choices",
            "accept_all",
            "reject_all",
            "custom",
            "opt_outs",
            "opt_ins",
        ],
    );
    let mut row = |table: &str, name: &str, states: [Option<u64>; 4], choices: Option<&Choices>| {
        let cell = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        let c = choices.map(|c| {
            [
                c.total,
                c.accept_all,
                c.reject_all,
                c.custom,
                c.opt_outs,
                c.opt_ins,
            ]
        });
        let mut cells = vec![table.to_string(), name.to_string()];
        cells.extend(states.into_iter().map(cell));
        cells.extend((0..6).map(|i| cell(c.map(|c| c[i]))));
        t.row(cells);
    };
    for c in &stats.categories {
        let states = [
            Some(c.granted),
            Some(c.denied),
            Some(c.not_answered),
            Some(c.unknown),
        ];
        row("visitors_by_category", &c.category, states, None);
    }
    for c in &stats.choices_by_category {
        row(
            "choices_by_category",
            &c.category,
            [Some(c.granted), Some(c.denied), None, None],
            None,
        );
    }
    row("choices", "all", [None; 4], Some(&stats.choices));
    for g in &stats.by_source {
        row("choices_by_source", &g.name, [None; 4], Some(&g.choices));
    }
    for g in &stats.by_revision {
        row("choices_by_revision", &g.name, [None; 4], Some(&g.choices));
    }
    for point in &stats.series {
        let v = &point.value;
        let states = [
            Some(v.granted),
            Some(v.denied),
            Some(v.not_answered),
            Some(v.unknown),
        ];
        row(
            "analytics_by_time",
            &day_or_hour(point.start_ms),
            states,
            Some(&v.choices),
        );
    }
    row(
        "signals",
        "gpc_visitors",
        [Some(stats.gpc_visitors), None, None, None],
        None,
    );
    row(
        "signals",
        "gpc_choices",
        [Some(stats.gpc_choices), None, None, None],
        None,
    );
    row(
        "signals",
        "dnt_visitors",
        [Some(stats.dnt_visitors), None, None, None],
        None,
    );
    row(
        "events",
        "all",
        [Some(stats.events), None, None, None],
        None,
    );
    row(
        "events",
        "without_identifiers",
        [Some(stats.events_without_identifiers), None, None, None],
        None,
    );
    t.into_response()
}

/// What each kind of data is kept for, and when its oldest day goes.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RetentionLine {
    kind: &'static str,
    /// `None`: kept until deleted.
    keep_days: Option<u32>,
    /// For events: when the oldest stored day is deleted.
    next_expiry_ms: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PrivacyAnswer {
    period: Period,
    interval: Interval,
    #[serde(flatten)]
    activity: PrivacyActivity,
    ledger: Option<LedgerCheck>,
    retention: Vec<RetentionLine>,
}

/// `GET /v1/stats/privacy`
pub async fn privacy(
    access: Access,
    State(app): State<App>,
    RawQuery(raw): RawQuery,
) -> Result<Response, StatsError> {
    let p = params(raw)?;
    let mut query = p.query(&access.project.id);
    query.filters.clear();
    let activity = app.store.stats_privacy(query, p.interval).await?;
    if p.format == Format::Csv {
        let mut t = Table::new(
            "privacy",
            &[
                "start",
                "deletions",
                "exports",
                "retention_runs",
                "replay_views",
                "events_deleted",
                "suppressed",
            ],
        );
        for point in &activity.series {
            let v = &point.value;
            t.row([
                day_or_hour(point.start_ms),
                v.deletions.to_string(),
                v.exports.to_string(),
                v.retention_runs.to_string(),
                v.replay_views.to_string(),
                v.events_deleted.to_string(),
                v.suppressed.to_string(),
            ]);
        }
        return Ok(t.into_response());
    }
    let r = &access.project.retention;
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    // Retention deletes a day's partition once the whole day has passed the period.
    let events_expiry = r
        .events_days
        .zip(activity.oldest_events_ms)
        .map(|(days, oldest)| oldest + (i64::from(days) + 1) * DAY_MS);
    let retention = vec![
        RetentionLine {
            kind: "events",
            keep_days: r.events_days,
            next_expiry_ms: events_expiry,
        },
        RetentionLine {
            kind: "consent",
            keep_days: r.consent_days,
            next_expiry_ms: None,
        },
        RetentionLine {
            kind: "replays",
            keep_days: Some(r.replays_days),
            next_expiry_ms: None,
        },
        RetentionLine {
            kind: "identity_links",
            keep_days: r.identity_links_days,
            next_expiry_ms: None,
        },
    ];
    Ok(json(PrivacyAnswer {
        period: p.period,
        interval: p.interval,
        activity,
        ledger: app.ledger_status.last(),
        retention,
    }))
}
