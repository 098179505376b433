//! The query side shared by the Costs page (HTTP JSON), the gRPC query API
//! (`peekr.v1.QueryService`) and `peekr report --insights`: one function per question, each
//! over a [`Store`] and one project.
//!
//! ```text
//!  HTTP /api/v1/... (dashboard.rs) ─┐
//!  gRPC peekr.v1 (query_grpc.rs)   ─┼─► query::{series, breakdown, top_traces, trace, compare,
//!  peekr report --insights         ─┘           errors, insights, alerts} ─► Store reads
//! ```
//!
//! Money stays integer nano-USD throughout; the only floats are display ratios (shares, error
//! rates, evaluation scores), never summed into money.
//!
//! # Insights
//!
//! Each [`Insight`] says what happened, what to do, and what it would save per day (when a
//! saving can be estimated). The rules, with their thresholds as consts:
//!
//! - **cost per query jump**: a day whose cost per query is at least [`JUMP_RATIO`] times the
//!   average of the 7 days before it; the drivers are the models, operations and span names
//!   whose cost per query grew most between those periods, and the day's most expensive trace
//!   shows it.
//! - **prompt bloat**: sessions of at least [`BLOAT_MIN_TURNS`] queries whose input tokens grow
//!   every turn, on average by at least [`BLOAT_MIN_GROWTH_PCT`]% of the first turn's. The
//!   saving is the cost of the tokens above the first turn's level (each turn's cost scaled by
//!   its share of excess tokens), per affected day.
//! - **model mismatch**: one operation served by two models, where the cheaper one scores at
//!   least [`MISMATCH_SCORE_RATIO_PCT`]% of the expensive one's mean evaluation score
//!   (`gen_ai.evaluation.score.value`). The saving prices the expensive model's tokens at the
//!   cheaper model's cost per token, per day the expensive model ran.
//! - **embedding share**: embeddings above [`EMBEDDING_SHARE_FLAG`] of spend; the saving
//!   assumes half price (batch embedding APIs bill 50%).
//! - **wasted spend**: the cost of failed LLM calls (most of them retried), per active day.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jiff::civil::Date;
use serde::Serialize;

use crate::alerts::{AlertState, CostSpike, CostSpikeEvaluator, QuerySample};
use crate::pricing::Nanos;

use super::store::{
    BreakdownRow, DayCost, Dimension, FilterValues, SpanFilter, SpanGroup, SpanRollupRow, Store,
    StoreError, Totals, TraceSummary, Window, display, per_query, today_utc,
};

/// Default number of days the page and API cover.
pub const DAYS_DEFAULT: u32 = 30;
/// Default number of top traces.
pub const TOP_TRACES_DEFAULT: usize = 10;
/// Most top traces one request may ask for.
pub const TOP_TRACES_MAX: usize = 500;
/// Embedding spend above this share of the total is flagged.
pub const EMBEDDING_SHARE_FLAG: f64 = 0.10;
/// A day's cost per query must reach this multiple of the previous 7 days' to be a jump.
pub const JUMP_RATIO: f64 = 1.5;
/// Fewest queries in a day (and in its baseline) for a jump to count.
pub const JUMP_MIN_QUERIES: i64 = 10;
/// Fewest turns of a session checked for prompt bloat.
pub const BLOAT_MIN_TURNS: usize = 3;
/// Mean growth per turn, in percent of the first turn's input tokens, that counts as bloat.
pub const BLOAT_MIN_GROWTH_PCT: i64 = 50;
/// Most session turns read for the prompt-bloat insight.
pub const BLOAT_MAX_TURNS_READ: usize = 500_000;
/// The cheaper model must score at least this percentage of the expensive one's mean score.
pub const MISMATCH_SCORE_RATIO_PCT: f64 = 97.0;
/// Fewest scored calls per model before scores are compared.
pub const MISMATCH_MIN_SCORED: i64 = 3;

// ===== requests =====

/// Why a query could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// A date that is not `YYYY-MM-DD`.
    #[error("invalid date {0:?}: expected YYYY-MM-DD")]
    InvalidDate(String),
    /// `from` after `to`, or a range over the maximum window.
    #[error("invalid date range: {0}")]
    InvalidRange(String),
    /// An unknown breakdown dimension.
    #[error("unknown breakdown {0:?}: expected model, operation, tenant, service or name")]
    UnknownGroup(String),
    /// No trace with this id in the project.
    #[error("no trace {0:?} in this project")]
    TraceNotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl QueryError {
    /// Whether the caller sent something wrong (as opposed to a server failure).
    #[must_use]
    pub fn is_client_error(&self) -> bool {
        !matches!(self, QueryError::Store(_))
    }
}

/// What every question is asked over: a window of UTC days and a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The days.
    pub window: Window,
    /// Tenant, model, service, operation.
    pub filter: SpanFilter,
}

impl Query {
    /// The last `days` days ending today, unfiltered.
    #[must_use]
    pub fn last_days(days: u32) -> Query {
        Query {
            window: Window::last_days(days),
            filter: SpanFilter::default(),
        }
    }

    /// A window from optional `from` / `to` dates (`YYYY-MM-DD`, inclusive) and `days`:
    /// `to` defaults to today (UTC), `from` to `days` (default 30) days ending at `to`.
    pub fn window(
        from: Option<&str>,
        to: Option<&str>,
        days: Option<u32>,
    ) -> Result<Window, QueryError> {
        let to = match non_empty(to) {
            Some(s) => parse_date(s)?,
            None => today_utc(),
        };
        let days = match non_empty(from) {
            Some(s) => {
                let from = parse_date(s)?;
                if from > to {
                    return Err(QueryError::InvalidRange(format!(
                        "from {from} is after to {to}"
                    )));
                }
                let span = from
                    .until(to)
                    .map_err(|e| QueryError::InvalidRange(e.to_string()))?;
                u32::try_from(span.get_days())
                    .unwrap_or(u32::MAX)
                    .saturating_add(1)
            }
            None => days.unwrap_or(DAYS_DEFAULT),
        };
        if days == 0 || days > super::store::MAX_WINDOW_DAYS {
            return Err(QueryError::InvalidRange(format!(
                "{days} days: expected 1 to {}",
                super::store::MAX_WINDOW_DAYS
            )));
        }
        Ok(Window::ending(to, days))
    }

    /// A filter from optional values; empty strings count as absent.
    #[must_use]
    pub fn filter(
        tenant: Option<&str>,
        model: Option<&str>,
        service: Option<&str>,
        operation: Option<&str>,
    ) -> SpanFilter {
        let own = |s: Option<&str>| non_empty(s).map(str::to_owned);
        SpanFilter {
            tenant: own(tenant),
            model: own(model),
            service: own(service),
            operation: own(operation),
        }
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<Date, QueryError> {
    s.trim()
        .parse()
        .map_err(|_| QueryError::InvalidDate(s.to_owned()))
}

/// Parses a breakdown dimension name.
pub fn parse_group(s: &str) -> Result<SpanGroup, QueryError> {
    SpanGroup::parse(s).ok_or_else(|| QueryError::UnknownGroup(s.to_owned()))
}

// ===== cost per query =====

/// Cost per query per day, with totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// First day.
    #[serde(with = "display")]
    pub from: Date,
    /// Last day.
    #[serde(with = "display")]
    pub to: Date,
    /// Every day of the window, oldest first.
    pub days: Vec<DayCost>,
    /// Totals over the window.
    pub totals: Totals,
}

/// Cost per query per day over `query`.
pub fn series(store: &dyn Store, project: &str, query: &Query) -> Result<Series, QueryError> {
    let days = if query.filter.is_empty() {
        store.cost_per_query(project, query.window)?
    } else {
        store.cost_per_query_filtered(project, query.window, &query.filter)?
    };
    Ok(Series {
        from: query.window.first_day(),
        to: query.window.last_day(),
        totals: Totals::from_days(&days),
        days,
    })
}

// ===== breakdowns =====

/// Spend grouped by one dimension.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breakdown {
    /// The dimension.
    pub by: SpanGroup,
    /// Queries in the window (to turn costs into cost per query).
    pub queries: i64,
    /// Cost over all rows, nano-USD.
    pub total_cost_nanos: i64,
    /// Rows, most expensive first.
    pub rows: Vec<BreakdownRow>,
    /// For the operation breakdown: the share of spend on embeddings.
    pub embedding_share: Option<f64>,
    /// Whether that share is above [`EMBEDDING_SHARE_FLAG`].
    pub embedding_flag: bool,
}

/// Spend by `by` over `query`.
pub fn breakdown(
    store: &dyn Store,
    project: &str,
    query: &Query,
    by: SpanGroup,
) -> Result<Breakdown, QueryError> {
    let rollup = match by {
        SpanGroup::Model => Some(Dimension::Model),
        SpanGroup::Operation => Some(Dimension::Operation),
        SpanGroup::Tenant => Some(Dimension::Tenant),
        SpanGroup::Service | SpanGroup::Name => None,
    };
    // The rollups answer the unfiltered model/operation/tenant views at any data size.
    let rows = match rollup {
        Some(dim) if query.filter.is_empty() => store.breakdown(project, query.window, dim)?,
        _ => {
            Facts::read(store, project, query.window, &query.filter, &[by])?.group(by, query.window)
        }
    };
    let queries = queries_in(store, project, query)?;
    Ok(make_breakdown(by, queries, rows))
}

// ===== span facts =====

/// Span sums per day and group, read in one pass ([`Store::span_rollup`]) and grouped in
/// memory, so one page load scans the spans once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    window: Option<Window>,
    by: Vec<SpanGroup>,
    rows: Vec<SpanRollupRow>,
}

impl Facts {
    /// Reads the sums over `window`, grouped by `by`.
    pub fn read(
        store: &dyn Store,
        project: &str,
        window: Window,
        filter: &SpanFilter,
        by: &[SpanGroup],
    ) -> Result<Facts, QueryError> {
        Ok(Facts {
            window: Some(window),
            by: by.to_vec(),
            rows: store.span_rollup(project, window, filter, by)?,
        })
    }

    /// Whether these facts cover `window` and are grouped by `by`.
    fn covers(&self, window: Window, by: &[SpanGroup]) -> bool {
        self.window.is_some_and(|w| {
            w.first_day() <= window.first_day() && w.last_day() >= window.last_day()
        }) && by.iter().all(|g| self.by.contains(g))
    }

    fn rows_in(&self, window: Window) -> impl Iterator<Item = &SpanRollupRow> {
        let (first, last) = (window.first_day(), window.last_day());
        self.rows
            .iter()
            .filter(move |r| r.day >= first && r.day <= last)
    }

    /// Breakdown rows by `by` over `window`, most expensive first; only groups with LLM calls
    /// or cost, as [`Store::breakdown`] returns them.
    #[must_use]
    pub fn group(&self, by: SpanGroup, window: Window) -> Vec<BreakdownRow> {
        let mut groups: HashMap<Option<&str>, BreakdownRow> = HashMap::new();
        for r in self.rows_in(window) {
            let key = group_key(r, by);
            let g = groups.entry(key).or_insert_with(|| BreakdownRow {
                key: key.map(str::to_owned),
                cost_nanos: 0,
                share: 0.0,
                llm_calls: 0,
                spans: 0,
                tokens_input: 0,
                tokens_output: 0,
                errors: 0,
                error_cost_nanos: 0,
            });
            g.cost_nanos = g.cost_nanos.saturating_add(r.cost_nanos);
            g.llm_calls = g.llm_calls.saturating_add(r.llm_calls);
            g.spans = g.spans.saturating_add(r.spans);
            g.tokens_input = g.tokens_input.saturating_add(r.tokens_input);
            g.tokens_output = g.tokens_output.saturating_add(r.tokens_output);
            g.errors = g.errors.saturating_add(r.errors);
            g.error_cost_nanos = g.error_cost_nanos.saturating_add(r.error_cost_nanos);
        }
        let mut rows: Vec<BreakdownRow> = groups
            .into_values()
            .filter(|r| r.llm_calls > 0 || r.cost_nanos != 0)
            .collect();
        rows.sort_by(|a, b| {
            b.cost_nanos
                .cmp(&a.cost_nanos)
                .then_with(|| a.key.cmp(&b.key))
        });
        let total: i128 = rows.iter().map(|r| i128::from(r.cost_nanos)).sum();
        if total != 0 {
            for r in &mut rows {
                // Integer parts per million, as the store's breakdown rounds them.
                let ppm = (i128::from(r.cost_nanos) * 2_000_000 + total) / (2 * total);
                r.share = ppm as f64 / 1e6;
            }
        }
        rows
    }

    /// Error and retry totals over `window`.
    fn error_stats(&self, window: Window) -> ErrorStats {
        self.rows_in(window)
            .fold(ErrorStats::default(), |s, r| ErrorStats {
                llm_calls: s.llm_calls.saturating_add(r.llm_calls),
                errors: s.errors.saturating_add(r.llm_errors),
                error_cost_nanos: s.error_cost_nanos.saturating_add(r.error_cost_nanos),
                retried_calls: s.retried_calls.saturating_add(r.retried_calls),
                retried_cost_nanos: s.retried_cost_nanos.saturating_add(r.retried_cost_nanos),
            })
    }
}

fn group_key(r: &SpanRollupRow, by: SpanGroup) -> Option<&str> {
    match by {
        SpanGroup::Model => r.model.as_deref(),
        SpanGroup::Operation => r.operation.as_deref(),
        SpanGroup::Tenant => r.tenant.as_deref(),
        SpanGroup::Service => r.service.as_deref(),
        SpanGroup::Name => r.name.as_deref(),
    }
}

fn make_breakdown(by: SpanGroup, queries: i64, rows: Vec<BreakdownRow>) -> Breakdown {
    let total_cost_nanos = rows
        .iter()
        .fold(0_i64, |t, r| t.saturating_add(r.cost_nanos));
    let embedding_share = (by == SpanGroup::Operation).then(|| {
        rows.iter()
            .filter(|r| r.key.as_deref().is_some_and(is_embedding_operation))
            .map(|r| r.share)
            .sum::<f64>()
    });
    Breakdown {
        by,
        queries,
        total_cost_nanos,
        embedding_flag: embedding_share.is_some_and(|s| s > EMBEDDING_SHARE_FLAG),
        embedding_share,
        rows,
    }
}

fn is_embedding_operation(op: &str) -> bool {
    op == "embeddings" || op.eq_ignore_ascii_case("embedding")
}

fn queries_in(store: &dyn Store, project: &str, query: &Query) -> Result<i64, QueryError> {
    Ok(series(store, project, query)?.totals.queries)
}

// ===== traces =====

/// The most expensive queries over `query`.
pub fn top_traces(
    store: &dyn Store,
    project: &str,
    query: &Query,
    limit: usize,
) -> Result<Vec<TraceSummary>, QueryError> {
    let limit = limit.clamp(1, TOP_TRACES_MAX);
    Ok(if query.filter.is_empty() {
        store.top_traces(project, query.window, limit)?
    } else {
        store.top_traces_filtered(project, query.window, &query.filter, limit)?
    })
}

/// One trace as a waterfall.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceDetail {
    /// Trace id.
    pub trace_id: String,
    /// Name of the root span (first span when no root arrived).
    pub root_name: String,
    /// Earliest span start, Unix ns.
    pub start_time_ns: i64,
    /// Latest span end minus the earliest start, ns.
    pub duration_ns: i64,
    /// Cost over every span, nano-USD.
    pub cost_nanos: i64,
    /// Input tokens over every span.
    pub tokens_input: i64,
    /// Output tokens over every span.
    pub tokens_output: i64,
    /// Tenant (first span that has one).
    pub tenant_id: Option<String>,
    /// Session (first span that has one).
    pub session_id: Option<String>,
    /// Every span, depth first from the root, siblings by start time.
    pub spans: Vec<SpanView>,
}

/// One span of a [`TraceDetail`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanView {
    /// Span id.
    pub span_id: String,
    /// Parent span id.
    pub parent_span_id: Option<String>,
    /// Nesting depth, 0 for the root.
    pub depth: u32,
    /// Span name.
    pub name: String,
    /// Service.
    pub service: String,
    /// Start, ns after the trace's start.
    pub start_offset_ns: i64,
    /// Duration, ns.
    pub duration_ns: i64,
    /// OTLP status code (2 = error).
    pub status_code: i32,
    /// Operation.
    pub operation: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Input tokens.
    pub tokens_input: i64,
    /// Output tokens.
    pub tokens_output: i64,
    /// Cache-read input tokens.
    pub cache_read_tokens: i64,
    /// Cost, nano-USD; `None` for spans without one.
    pub cost_nanos: Option<i64>,
    /// `peekr.cost.status`.
    pub cost_status: Option<String>,
    /// This span's share of the trace's cost (display only).
    pub share: f64,
    /// Mean cost of spans with the same name over the 30 days ending the trace's day,
    /// nano-USD: what this call usually costs.
    pub typical_cost_nanos: Option<i64>,
    /// `gen_ai.evaluation.score.value`, when present.
    pub evaluation_score: Option<f64>,
}

/// The waterfall of one trace.
pub fn trace(store: &dyn Store, project: &str, trace_id: &str) -> Result<TraceDetail, QueryError> {
    let trace_id = trace_id.trim().to_ascii_lowercase();
    let spans = store.trace_spans(project, &trace_id)?;
    if spans.is_empty() {
        return Err(QueryError::TraceNotFound(trace_id));
    }
    let start = spans.iter().map(|s| s.start_time_ns).min().unwrap_or(0);
    let end = spans.iter().map(|s| s.end_time_ns).max().unwrap_or(start);
    let cost: i64 = spans
        .iter()
        .fold(0, |t, s| t.saturating_add(s.cost_nanos.unwrap_or(0)));
    // What each span name usually costs, over the 30 days ending the trace's last day.
    let day = super::store::Window::ending(day_of_ns(end), DAYS_DEFAULT);
    let typical: HashMap<String, i64> = Facts::read(
        store,
        project,
        day,
        &SpanFilter::default(),
        &[SpanGroup::Name],
    )?
    .group(SpanGroup::Name, day)
    .into_iter()
    .filter_map(|r| Some((r.key?, per_query(r.cost_nanos, r.llm_calls.max(r.spans))?)))
    .collect();

    // Depth-first order: children under their parent, siblings by start time (the store
    // returns spans by start time already).
    let ids: std::collections::HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    let mut children: HashMap<Option<&str>, Vec<usize>> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        // A span whose parent is missing (not yet arrived, or remote) is shown at the top.
        let parent = s.parent_span_id.as_deref().filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(i);
    }
    let mut order = Vec::with_capacity(spans.len());
    let mut stack: Vec<(usize, u32)> = children
        .get(&None)
        .map(|v| v.iter().rev().map(|&i| (i, 0)).collect())
        .unwrap_or_default();
    let mut seen = vec![false; spans.len()];
    while let Some((i, depth)) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        order.push((i, depth));
        if let Some(kids) = children.get(&Some(spans[i].span_id.as_str())) {
            stack.extend(kids.iter().rev().map(|&k| (k, depth + 1)));
        }
    }
    // Cycles (broken instrumentation) leave spans unvisited: list them at the top level.
    order.extend((0..spans.len()).filter(|&i| !seen[i]).map(|i| (i, 0)));

    let root = spans.iter().find(|s| s.is_root()).unwrap_or(&spans[0]);
    let views = order
        .into_iter()
        .map(|(i, depth)| {
            let s = &spans[i];
            SpanView {
                span_id: s.span_id.clone(),
                parent_span_id: s.parent_span_id.clone(),
                depth,
                name: s.name.clone(),
                service: s.service.clone(),
                start_offset_ns: s.start_time_ns.saturating_sub(start),
                duration_ns: s.end_time_ns.saturating_sub(s.start_time_ns),
                status_code: s.status_code,
                operation: s.operation.clone(),
                model: s.model.clone(),
                tokens_input: s.tokens_input,
                tokens_output: s.tokens_output,
                cache_read_tokens: s.cache_read_tokens,
                cost_nanos: s.cost_nanos,
                cost_status: s.cost_status.clone(),
                share: ratio(s.cost_nanos.unwrap_or(0), cost),
                typical_cost_nanos: s.cost_nanos.and_then(|_| typical.get(&s.name).copied()),
                evaluation_score: evaluation_score(&s.attributes),
            }
        })
        .collect();
    Ok(TraceDetail {
        trace_id,
        root_name: root.name.clone(),
        start_time_ns: start,
        duration_ns: end.saturating_sub(start),
        cost_nanos: cost,
        tokens_input: spans.iter().map(|s| s.tokens_input).sum(),
        tokens_output: spans.iter().map(|s| s.tokens_output).sum(),
        tenant_id: spans.iter().find_map(|s| s.tenant_id.clone()),
        session_id: spans.iter().find_map(|s| s.session_id.clone()),
        spans: views,
    })
}

fn evaluation_score(attributes: &str) -> Option<f64> {
    let json: serde_json::Value = serde_json::from_str(attributes).ok()?;
    json.get("gen_ai.evaluation.score.value")?.as_f64()
}

fn day_of_ns(ns: i64) -> Date {
    let days = ns.div_euclid(86_400 * 1_000_000_000);
    Date::constant(1970, 1, 1)
        .checked_add(jiff::Span::new().days(days))
        .unwrap_or(Date::MIN)
}

/// `part / total` for display; 0 when the total is 0.
fn ratio(part: i64, total: i64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 / total as f64
    }
}

// ===== compare =====

/// Two periods compared: what changed cost per query most.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The recent period.
    pub current: PeriodTotals,
    /// The period it is compared with.
    pub baseline: PeriodTotals,
    /// Operations, largest change in cost per query first.
    pub by_operation: Vec<Change>,
    /// Models, largest change first.
    pub by_model: Vec<Change>,
    /// Span names, largest change first.
    pub by_name: Vec<Change>,
}

/// A period's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodTotals {
    /// First day.
    #[serde(with = "display")]
    pub from: Date,
    /// Last day.
    #[serde(with = "display")]
    pub to: Date,
    /// Queries.
    pub queries: i64,
    /// Cost, nano-USD.
    pub cost_nanos: i64,
    /// Cost per query, nano-USD.
    pub cost_per_query_nanos: Option<i64>,
}

/// How one group's cost per query changed between the periods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The operation, model or span name.
    pub key: Option<String>,
    /// Cost in the baseline, nano-USD.
    pub baseline_cost_nanos: i64,
    /// Cost in the current period, nano-USD.
    pub current_cost_nanos: i64,
    /// Baseline cost ÷ baseline queries, nano-USD (0 without queries).
    pub baseline_per_query_nanos: i64,
    /// Current cost ÷ current queries, nano-USD (0 without queries).
    pub current_per_query_nanos: i64,
    /// `current_per_query_nanos - baseline_per_query_nanos`.
    pub delta_per_query_nanos: i64,
}

/// The default periods: yesterday (relative to `today`) against the same weekday a week
/// earlier.
#[must_use]
pub fn default_periods(today: Date) -> (Window, Window) {
    let yesterday = today.yesterday().unwrap_or(today);
    let week_before = yesterday
        .checked_sub(jiff::Span::new().days(7))
        .unwrap_or(yesterday);
    (Window::ending(yesterday, 1), Window::ending(week_before, 1))
}

/// Compares `current` with `baseline` under `filter`.
pub fn compare(
    store: &dyn Store,
    project: &str,
    filter: &SpanFilter,
    current: Window,
    baseline: Window,
) -> Result<Comparison, QueryError> {
    compare_with(store, project, filter, current, baseline, None)
}

const COMPARE_GROUPS: [SpanGroup; 3] = [SpanGroup::Operation, SpanGroup::Model, SpanGroup::Name];

/// [`compare`], reusing `facts` when they cover both periods.
fn compare_with(
    store: &dyn Store,
    project: &str,
    filter: &SpanFilter,
    current: Window,
    baseline: Window,
    facts: Option<&Facts>,
) -> Result<Comparison, QueryError> {
    let q = |window| Query {
        window,
        filter: filter.clone(),
    };
    let totals = |query: &Query| -> Result<PeriodTotals, QueryError> {
        let t = series(store, project, query)?.totals;
        Ok(PeriodTotals {
            from: query.window.first_day(),
            to: query.window.last_day(),
            queries: t.queries,
            cost_nanos: t.cost_nanos,
            cost_per_query_nanos: t.cost_per_query_nanos,
        })
    };
    let (current_totals, baseline_totals) = (totals(&q(current))?, totals(&q(baseline))?);
    let read;
    let facts = match facts {
        Some(f) if f.covers(current, &COMPARE_GROUPS) && f.covers(baseline, &COMPARE_GROUPS) => f,
        _ => {
            let first = current.first_day().min(baseline.first_day());
            let last = current.last_day().max(baseline.last_day());
            let days = first.until(last).map_or(1, |s| s.get_days() + 1);
            read = Facts::read(
                store,
                project,
                Window::ending(last, u32::try_from(days).unwrap_or(1)),
                filter,
                &COMPARE_GROUPS,
            )?;
            &read
        }
    };
    let changes = |by: SpanGroup| {
        changes(
            &facts.group(by, baseline),
            &facts.group(by, current),
            baseline_totals.queries,
            current_totals.queries,
        )
    };
    Ok(Comparison {
        by_operation: changes(SpanGroup::Operation),
        by_model: changes(SpanGroup::Model),
        by_name: changes(SpanGroup::Name),
        current: current_totals,
        baseline: baseline_totals,
    })
}

fn changes(
    baseline: &[BreakdownRow],
    current: &[BreakdownRow],
    baseline_queries: i64,
    current_queries: i64,
) -> Vec<Change> {
    let mut keys: Vec<Option<String>> = baseline
        .iter()
        .chain(current)
        .map(|r| r.key.clone())
        .collect();
    keys.sort();
    keys.dedup();
    let cost = |rows: &[BreakdownRow], key: &Option<String>| {
        rows.iter()
            .find(|r| &r.key == key)
            .map_or(0, |r| r.cost_nanos)
    };
    let mut out: Vec<Change> = keys
        .into_iter()
        .map(|key| {
            let (b, c) = (cost(baseline, &key), cost(current, &key));
            let bq = per_query(b, baseline_queries).unwrap_or(0);
            let cq = per_query(c, current_queries).unwrap_or(0);
            Change {
                key,
                baseline_cost_nanos: b,
                current_cost_nanos: c,
                baseline_per_query_nanos: bq,
                current_per_query_nanos: cq,
                delta_per_query_nanos: cq.saturating_sub(bq),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.delta_per_query_nanos
            .unsigned_abs()
            .cmp(&a.delta_per_query_nanos.unsigned_abs())
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

// ===== errors =====

/// Failed and retried LLM calls and what they cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ErrorStats {
    /// LLM calls.
    pub llm_calls: i64,
    /// LLM calls with error status.
    pub errors: i64,
    /// Their cost, nano-USD.
    pub error_cost_nanos: i64,
    /// Failed calls followed, in the same trace, by a later span of the same name: retries.
    pub retried_calls: i64,
    /// Cost of those, nano-USD.
    pub retried_cost_nanos: i64,
}

/// Errors, retries and their cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorReport {
    /// The counts and costs.
    #[serde(flatten)]
    pub stats: ErrorStats,
    /// `errors / llm_calls` (display only).
    pub error_rate: f64,
    /// Models with failed calls.
    pub by_model: Vec<BreakdownRow>,
}

/// Errors and retries over `query`.
pub fn errors(store: &dyn Store, project: &str, query: &Query) -> Result<ErrorReport, QueryError> {
    let facts = Facts::read(
        store,
        project,
        query.window,
        &query.filter,
        &[SpanGroup::Model],
    )?;
    Ok(errors_from(&facts, query.window))
}

fn errors_from(facts: &Facts, window: Window) -> ErrorReport {
    let stats = facts.error_stats(window);
    ErrorReport {
        error_rate: ratio(stats.errors, stats.llm_calls),
        stats,
        by_model: facts
            .group(SpanGroup::Model, window)
            .into_iter()
            .filter(|r| r.errors > 0)
            .collect(),
    }
}

// ===== insights =====

/// What an insight is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InsightKind {
    /// Cost per query jumped on one day.
    CostPerQueryJump,
    /// Input tokens grow turn over turn within sessions.
    PromptBloat,
    /// An expensive model does what a cheaper one does as well.
    ModelMismatch,
    /// Embeddings take a large share of spend.
    EmbeddingShare,
    /// Failed and retried calls cost money.
    WastedSpend,
}

impl InsightKind {
    /// The snake_case name used in JSON and the proto.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            InsightKind::CostPerQueryJump => "cost_per_query_jump",
            InsightKind::PromptBloat => "prompt_bloat",
            InsightKind::ModelMismatch => "model_mismatch",
            InsightKind::EmbeddingShare => "embedding_share",
            InsightKind::WastedSpend => "wasted_spend",
        }
    }
}

/// One finding, what to do about it, and what that would save.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Insight {
    /// The rule that found it.
    pub kind: InsightKind,
    /// One line: what happened.
    pub title: String,
    /// The numbers behind it.
    pub detail: String,
    /// What to do.
    pub action: String,
    /// Estimated saving per day if the action is taken, nano-USD.
    pub saving_per_day_nanos: Option<i64>,
    /// The day it is about, if one.
    #[serde(with = "display::option")]
    pub day: Option<Date>,
    /// A trace that shows it.
    pub trace_id: Option<String>,
    /// Supporting rows (sessions, models, drivers): label and value.
    pub items: Vec<InsightItem>,
}

/// A supporting row of an [`Insight`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InsightItem {
    /// What the row is (a session id, a model, a driver).
    pub label: String,
    /// Its numbers, for people.
    pub value: String,
}

/// Every insight over `query`, largest saving first (jumps first of all: they explain the
/// chart).
pub fn insights(
    store: &dyn Store,
    project: &str,
    query: &Query,
) -> Result<Vec<Insight>, QueryError> {
    let series = series(store, project, query)?;
    let facts = Facts::read(store, project, query.window, &query.filter, &FACT_GROUPS)?;
    let ops = make_breakdown(
        SpanGroup::Operation,
        series.totals.queries,
        facts.group(SpanGroup::Operation, query.window),
    );
    insights_from(store, project, query, &series, &facts, &ops)
}

/// What one page load groups the spans by.
const FACT_GROUPS: [SpanGroup; 4] = [
    SpanGroup::Operation,
    SpanGroup::Model,
    SpanGroup::Service,
    SpanGroup::Name,
];

/// [`insights`] reusing what the caller already read.
fn insights_from(
    store: &dyn Store,
    project: &str,
    query: &Query,
    series: &Series,
    facts: &Facts,
    ops: &Breakdown,
) -> Result<Vec<Insight>, QueryError> {
    let active_days = series.days.iter().filter(|d| d.queries > 0).count().max(1) as i64;
    let mut out = Vec::new();
    out.extend(jump_insights(store, project, query, series, facts)?);
    let mut rest = Vec::new();
    rest.extend(prompt_bloat(store, project, query)?);
    rest.extend(model_mismatch(facts, query.window));
    rest.extend(embedding_share(ops, active_days));
    rest.extend(wasted_spend(&errors_from(facts, query.window), active_days));
    rest.sort_by_key(|i| std::cmp::Reverse(i.saving_per_day_nanos.unwrap_or(0)));
    out.extend(rest);
    Ok(out)
}

fn jump_insights(
    store: &dyn Store,
    project: &str,
    query: &Query,
    series: &Series,
    facts: &Facts,
) -> Result<Vec<Insight>, QueryError> {
    // Candidate days: cost per query ≥ JUMP_RATIO × the 7 days before (in integers: cost·n_b·10
    // ≥ 15·cost_b·n). Only the first day of a run of jumping days is a jump.
    let days = &series.days;
    let mut jumps: Vec<(usize, i64, i64)> = Vec::new();
    let mut in_run = false;
    for i in 0..days.len() {
        let d = &days[i];
        let lo = i.saturating_sub(7);
        let base = Totals::from_days(&days[lo..i]);
        let jumped = d.queries >= JUMP_MIN_QUERIES
            && base.queries >= JUMP_MIN_QUERIES
            && base.cost_nanos > 0
            && i128::from(d.cost_nanos) * i128::from(base.queries) * 10
                >= i128::from(base.cost_nanos)
                    * i128::from(d.queries)
                    * (JUMP_RATIO * 10.0) as i128;
        if jumped && !in_run {
            jumps.push((
                i,
                d.cost_per_query_nanos.unwrap_or(0),
                base.cost_per_query_nanos.unwrap_or(0),
            ));
        }
        in_run = jumped || (in_run && d.queries == 0);
    }
    let last_cpq = days.iter().rev().find_map(|d| d.cost_per_query_nanos);
    let mut out = Vec::new();
    for (i, cpq, base_cpq) in jumps {
        let day = days[i].day;
        let baseline = Window::ending(
            days[i.saturating_sub(1)].day,
            u32::try_from(i - i.saturating_sub(7)).unwrap_or(7).max(1),
        );
        let cmp = compare_with(
            store,
            project,
            &query.filter,
            Window::ending(day, 1),
            baseline,
            Some(facts),
        )?;
        let top = top_traces(
            store,
            project,
            &Query {
                window: Window::ending(day, 1),
                filter: query.filter.clone(),
            },
            1,
        )?;
        let mut items = Vec::new();
        let driver = |label: &str, changes: &[Change], items: &mut Vec<InsightItem>| {
            if let Some(c) = changes.first().filter(|c| c.delta_per_query_nanos > 0) {
                items.push(InsightItem {
                    label: format!("{label} {}", c.key.as_deref().unwrap_or("(none)")),
                    value: format!(
                        "{} → {} per query ({:+})",
                        cents(c.baseline_per_query_nanos),
                        cents(c.current_per_query_nanos),
                        SignedCents(c.delta_per_query_nanos)
                    ),
                });
            }
        };
        driver("model", &cmp.by_model, &mut items);
        driver("operation", &cmp.by_operation, &mut items);
        driver("span", &cmp.by_name, &mut items);
        let model = cmp
            .by_model
            .first()
            .and_then(|c| c.key.clone())
            .unwrap_or_else(|| "(none)".into());
        let op = cmp
            .by_operation
            .first()
            .and_then(|c| c.key.clone())
            .unwrap_or_else(|| "(none)".into());
        // Still elevated on every later day: reverting would save the difference on every
        // query.
        let elevated =
            |cpq: i64| i128::from(cpq) * 10 >= i128::from(base_cpq) * (JUMP_RATIO * 10.0) as i128;
        let ongoing = days[i..]
            .iter()
            .filter_map(|d| d.cost_per_query_nanos)
            .all(elevated);
        let per_day_queries = per_query(
            series.totals.queries,
            days.iter().filter(|d| d.queries > 0).count() as i64,
        )
        .unwrap_or(0);
        let saving = ongoing.then(|| {
            last_cpq
                .unwrap_or(0)
                .saturating_sub(base_cpq)
                .saturating_mul(per_day_queries)
        });
        out.push(Insight {
            kind: InsightKind::CostPerQueryJump,
            title: format!("Cost per query rose on {day}: {} → {} (×{:.1})", cents(base_cpq), cents(cpq), ratio(cpq, base_cpq)),
            detail: format!(
                "Against the {} days before, the biggest change is model {model} and operation {op}. {}",
                baseline.days(),
                if ongoing { "It is still at that level." } else { "It has since come back down." }
            ),
            action: if ongoing {
                format!("Open the top trace of {day} to see which call got more expensive; if the {model} change was not intended, revert it.")
            } else {
                format!("Open the top trace of {day} to see what happened; add a cost-per-query alert so the next one is caught the same day.")
            },
            saving_per_day_nanos: saving,
            day: Some(day),
            trace_id: top.first().map(|t| t.trace_id.clone()),
            items,
        });
    }
    Ok(out)
}

fn prompt_bloat(
    store: &dyn Store,
    project: &str,
    query: &Query,
) -> Result<Option<Insight>, QueryError> {
    let turns = store.session_turns(project, query.window, &query.filter, BLOAT_MAX_TURNS_READ)?;
    let mut sessions_checked = 0_i64;
    let mut bloated: Vec<(String, usize, i64, i64, i64, String)> = Vec::new(); // id, turns, first, last, excess cost, a trace
    let mut excess_total = 0_i64;
    let mut growth_total = 0_i64; // tokens per turn, summed over bloated sessions
    let mut days = std::collections::BTreeSet::new();
    for session in turns.chunk_by(|a, b| a.session_id == b.session_id) {
        if session.len() < BLOAT_MIN_TURNS {
            continue;
        }
        sessions_checked += 1;
        let first = session[0].tokens_input;
        let last = session[session.len() - 1].tokens_input;
        let growing = session
            .windows(2)
            .all(|w| w[1].tokens_input > w[0].tokens_input);
        let steps = session.len() as i64 - 1;
        let growth = (last - first) / steps;
        if !growing || first <= 0 || growth * 100 < first * BLOAT_MIN_GROWTH_PCT {
            continue;
        }
        // Each later turn's excess tokens, costed at that turn's own cost per token.
        let mut excess = 0_i64;
        for t in &session[1..] {
            let tokens = t.tokens_input.saturating_add(t.tokens_output).max(1);
            let extra = (t.tokens_input - first).max(0);
            excess = excess.saturating_add(
                i64::try_from(i128::from(t.cost_nanos) * i128::from(extra) / i128::from(tokens))
                    .unwrap_or(i64::MAX),
            );
            days.insert(t.day);
        }
        excess_total = excess_total.saturating_add(excess);
        growth_total = growth_total.saturating_add(growth);
        let worst = session
            .iter()
            .max_by_key(|t| t.cost_nanos)
            .map(|t| t.trace_id.clone())
            .unwrap_or_default();
        bloated.push((
            session[0].session_id.clone(),
            session.len(),
            first,
            last,
            excess,
            worst,
        ));
    }
    if bloated.is_empty() {
        return Ok(None);
    }
    let n = bloated.len() as i64;
    let per_day = excess_total / (days.len().max(1) as i64);
    let (first_day, last_day) = (days.first().copied(), days.last().copied());
    bloated.sort_by(|a, b| b.4.cmp(&a.4).then_with(|| a.0.cmp(&b.0)));
    let items = bloated
        .iter()
        .take(5)
        .map(|(id, turns, first, last, excess, _)| InsightItem {
            label: format!("session {id}"),
            value: format!(
                "{turns} turns, input {} → {} tokens, {} above the first turn",
                thousands(*first),
                thousands(*last),
                usd(*excess)
            ),
        })
        .collect();
    Ok(Some(Insight {
        kind: InsightKind::PromptBloat,
        title: format!("Prompt bloat: input tokens grow turn over turn in {n} of {sessions_checked} sessions"),
        detail: format!(
            "In those sessions each turn sends about {} more input tokens than the last (from {} to {}); the tokens above each session's first turn cost {} in all.",
            thousands(growth_total / n),
            first_day.map_or_else(String::new, |d| d.to_string()),
            last_day.map_or_else(String::new, |d| d.to_string()),
            usd(excess_total)
        ),
        action: "Cap the conversation history sent with each turn (keep the last few turns, summarize older ones) or use prompt caching for the stable prefix.".into(),
        saving_per_day_nanos: Some(per_day),
        day: first_day,
        trace_id: bloated.first().map(|b| b.5.clone()),
        items,
    }))
}

/// LLM calls of one model for one operation.
#[derive(Debug, Clone, Default)]
struct ModelCalls {
    operation: Option<String>,
    model: String,
    calls: i64,
    cost_nanos: i64,
    tokens: i64,
    days: std::collections::BTreeSet<Date>,
    scored_calls: i64,
    scored_cost_nanos: i64,
    scored_tokens: i64,
    score_sum: f64,
}

fn model_calls(facts: &Facts, window: Window) -> Vec<ModelCalls> {
    let mut by: std::collections::BTreeMap<(Option<&str>, &str), ModelCalls> =
        std::collections::BTreeMap::new();
    for r in facts.rows_in(window).filter(|r| r.llm_calls > 0) {
        let Some(model) = r.model.as_deref() else {
            continue;
        };
        let m = by
            .entry((r.operation.as_deref(), model))
            .or_insert_with(|| ModelCalls {
                operation: r.operation.clone(),
                model: model.to_owned(),
                ..ModelCalls::default()
            });
        m.calls += r.llm_calls;
        m.cost_nanos = m.cost_nanos.saturating_add(r.cost_nanos);
        m.tokens = m
            .tokens
            .saturating_add(r.tokens_input)
            .saturating_add(r.tokens_output);
        m.days.insert(r.day);
        m.scored_calls += r.scored_calls;
        m.scored_cost_nanos = m.scored_cost_nanos.saturating_add(r.scored_cost_nanos);
        m.scored_tokens = m
            .scored_tokens
            .saturating_add(r.scored_tokens_input)
            .saturating_add(r.scored_tokens_output);
        m.score_sum += r.score_sum;
    }
    by.into_values().collect()
}

/// One model's side of a model-mismatch comparison.
struct Candidate<'a> {
    model: &'a str,
    calls: i64,
    cost_nanos: i64,
    tokens: i64,
    /// Mean evaluation score, when scores are compared.
    score: Option<f64>,
    days: i64,
}

impl Candidate<'_> {
    /// Cost per million tokens, nano-USD (the ranking key).
    fn per_mtok(&self) -> i128 {
        i128::from(self.cost_nanos) * 1_000_000 / i128::from(self.tokens.max(1))
    }
}

fn model_mismatch(facts: &Facts, window: Window) -> Vec<Insight> {
    let calls = model_calls(facts, window);
    let mut out = Vec::new();
    for op_calls in calls.chunk_by(|a, b| a.operation == b.operation) {
        if op_calls.len() < 2 {
            continue;
        }
        // Compare like with like: the scored calls when at least two models have enough.
        let use_scores = op_calls
            .iter()
            .filter(|c| c.scored_calls >= MISMATCH_MIN_SCORED)
            .count()
            >= 2;
        let stats: Vec<Candidate<'_>> = op_calls
            .iter()
            .filter(|c| !use_scores || c.scored_calls >= MISMATCH_MIN_SCORED)
            .map(|c| Candidate {
                model: c.model.as_str(),
                calls: if use_scores { c.scored_calls } else { c.calls },
                cost_nanos: if use_scores {
                    c.scored_cost_nanos
                } else {
                    c.cost_nanos
                },
                tokens: if use_scores {
                    c.scored_tokens
                } else {
                    c.tokens
                },
                score: use_scores.then(|| c.score_sum / c.scored_calls as f64),
                days: c.days.len() as i64,
            })
            .filter(|c| c.calls > 0 && c.tokens > 0)
            .collect();
        // The most and least expensive per token.
        let (Some(exp), Some(cheap)) = (
            stats.iter().max_by_key(|c| c.per_mtok()),
            stats.iter().min_by_key(|c| c.per_mtok()),
        ) else {
            continue;
        };
        if exp.model == cheap.model || exp.per_mtok() <= cheap.per_mtok() {
            continue;
        }
        if let (Some(se), Some(sc)) = (exp.score, cheap.score)
            && sc * 100.0 < se * MISMATCH_SCORE_RATIO_PCT
        {
            continue;
        }
        // The expensive model's tokens at the cheap model's price per token.
        let at_cheap = i64::try_from(
            i128::from(exp.tokens) * i128::from(cheap.cost_nanos) / i128::from(cheap.tokens),
        )
        .unwrap_or(i64::MAX);
        let saving = exp.cost_nanos.saturating_sub(at_cheap);
        let per_day = saving / exp.days.max(1);
        let op = op_calls[0]
            .operation
            .clone()
            .unwrap_or_else(|| "(none)".into());
        let score_text = match (exp.score, cheap.score) {
            (Some(se), Some(sc)) => format!(
                "Mean evaluation score: {} {sc:.3}, {} {se:.3}.",
                cheap.model, exp.model
            ),
            _ => "No evaluation scores on these spans: check quality before switching.".into(),
        };
        let times = exp.per_mtok() as f64 / cheap.per_mtok().max(1) as f64;
        let same = if exp.score.is_some() {
            " and scores about the same"
        } else {
            ""
        };
        out.push(Insight {
            kind: InsightKind::ModelMismatch,
            title: format!("{op}: {} costs {times:.1}× {} per token{same}", exp.model, cheap.model),
            detail: format!(
                "{} {} calls cost {} ({} per call); the same tokens on {} would cost {}. {score_text}",
                thousands(exp.calls),
                exp.model,
                usd(exp.cost_nanos),
                usd(exp.cost_nanos / exp.calls.max(1)),
                cheap.model,
                usd(at_cheap)
            ),
            action: format!(
                "Route {op} calls back to {} (or A/B it on a slice of traffic) while the scores hold.",
                cheap.model
            ),
            saving_per_day_nanos: Some(per_day),
            day: None,
            trace_id: None,
            items: stats
                .iter()
                .map(|c| InsightItem {
                    label: format!("model {}", c.model),
                    value: format!(
                        "{} calls, {} per 1M tokens{}",
                        thousands(c.calls),
                        usd(i64::try_from(c.per_mtok()).unwrap_or(i64::MAX)),
                        c.score.map_or_else(String::new, |x| format!(", score {x:.3}"))
                    ),
                })
                .collect(),
        });
    }
    out
}

fn embedding_share(ops: &Breakdown, active_days: i64) -> Option<Insight> {
    if !ops.embedding_flag {
        return None;
    }
    let share = ops.embedding_share.unwrap_or(0.0);
    let cost: i64 = ops
        .rows
        .iter()
        .filter(|r| r.key.as_deref().is_some_and(is_embedding_operation))
        .map(|r| r.cost_nanos)
        .sum();
    let per_day = cost / active_days;
    Some(Insight {
        kind: InsightKind::EmbeddingShare,
        title: format!("Embeddings are {:.0}% of spend", share * 100.0),
        detail: format!("{} on embeddings in this window, {} per day.", usd(cost), usd(per_day)),
        action: "Cache embeddings of repeated text, embed documents once at ingest rather than per query, and batch offline embedding jobs (batch APIs bill half price).".into(),
        saving_per_day_nanos: Some(per_day / 2),
        day: None,
        trace_id: None,
        items: Vec::new(),
    })
}

fn wasted_spend(report: &ErrorReport, active_days: i64) -> Option<Insight> {
    let s = report.stats;
    if s.errors == 0 {
        return None;
    }
    Some(Insight {
        kind: InsightKind::WastedSpend,
        title: format!("Failed LLM calls cost {} ({:.1}% of calls failed)", usd(s.error_cost_nanos), report.error_rate * 100.0),
        detail: format!(
            "{} of {} LLM calls failed and were billed anyway; {} of them were retried, paying twice ({}).",
            thousands(s.errors),
            thousands(s.llm_calls),
            thousands(s.retried_calls),
            usd(s.retried_cost_nanos)
        ),
        action: "Find the cause of the failures (error.type on the failed spans), set client timeouts below the provider's, and retry with backoff only on retryable errors.".into(),
        saving_per_day_nanos: Some(s.error_cost_nanos / active_days),
        day: None,
        trace_id: None,
        items: report
            .by_model
            .iter()
            .map(|r| InsightItem {
                label: format!("model {}", r.key.as_deref().unwrap_or("(none)")),
                value: format!("{} failed calls, {}", thousands(r.errors), usd(r.error_cost_nanos)),
            })
            .collect(),
    })
}

// ===== alerts =====

/// A cost-per-query spike found by replaying the [`CostSpike`] rule over the stored days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEvent {
    /// The day it fired or resolved.
    #[serde(with = "display")]
    pub day: Date,
    /// `firing` or `resolved`.
    pub state: &'static str,
    /// Queries on that day.
    pub queries: u64,
    /// Cost per query on that day, nano-USD.
    pub cost_per_query_nanos: i64,
    /// Cost per query over the 7 days before, nano-USD.
    pub baseline_cost_per_query_nanos: i64,
    /// The day's cost per query ÷ the baseline's (display only).
    pub ratio: f64,
    /// The rule's multiplier.
    pub multiplier: f64,
}

/// The daily cost-spike rule the page and API replay: a day at twice the previous week.
pub fn daily_spike_rule() -> CostSpike {
    let day = Duration::from_secs(86_400);
    CostSpike::new(crate::alerts::MULTIPLIER_DEFAULT)
        .with_name("daily_cost_per_query")
        .with_window(day)
        .with_baseline(7 * day)
        .with_resolution(day)
        .with_cooldown(day)
        .with_min_queries(JUMP_MIN_QUERIES as u64, 5 * JUMP_MIN_QUERIES as u64)
}

/// Replays [`daily_spike_rule`] over `query`'s days (the week before the window is read as
/// the first baseline).
pub fn alerts(
    store: &dyn Store,
    project: &str,
    query: &Query,
) -> Result<Vec<AlertEvent>, QueryError> {
    let extended = Query {
        window: Window::ending(
            query.window.last_day(),
            query.window.days().saturating_add(7),
        ),
        filter: query.filter.clone(),
    };
    let days = series(store, project, &extended)?.days;
    let rule = daily_spike_rule();
    let multiplier = rule.multiplier();
    let mut eval = CostSpikeEvaluator::new(rule);
    let first = query.window.first_day();
    let mut out = Vec::new();
    for d in &days {
        let secs = d.day.duration_since(Date::constant(1970, 1, 1)).as_secs();
        let start = UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0));
        if d.queries > 0 {
            eval.record(&QuerySample {
                at: start,
                tenant: None,
                operation: None,
                queries: u64::try_from(d.queries).unwrap_or(0),
                cost: Nanos(d.cost_nanos),
            });
        }
        let now: SystemTime = start + Duration::from_secs(86_399);
        for a in eval.evaluate(now) {
            if d.day < first {
                continue;
            }
            out.push(AlertEvent {
                day: d.day,
                state: match a.state {
                    AlertState::Firing => "firing",
                    AlertState::Resolved => "resolved",
                },
                queries: a.window.queries,
                cost_per_query_nanos: a.window.cost_per_query().0,
                baseline_cost_per_query_nanos: a.baseline.cost_per_query().0,
                ratio: a.ratio,
                multiplier,
            });
        }
    }
    Ok(out)
}

// ===== the page's one request =====

/// Everything the Costs page shows, in one response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    /// The project.
    pub project: String,
    /// The filter applied.
    pub filter: SpanFilter,
    /// Cost per query per day.
    pub series: Series,
    /// By operation.
    pub by_operation: Breakdown,
    /// By model.
    pub by_model: Breakdown,
    /// By tenant.
    pub by_tenant: Breakdown,
    /// By service.
    pub by_service: Breakdown,
    /// The most expensive queries.
    pub top_traces: Vec<TraceSummary>,
    /// The window's last day but one against a week before it (yesterday against a week ago,
    /// when the window ends today).
    pub compare: Comparison,
    /// Errors and retries.
    pub errors: ErrorReport,
    /// Insights.
    pub insights: Vec<Insight>,
    /// Replayed cost-spike alerts.
    pub alerts: Vec<AlertEvent>,
    /// Values for the filter menus.
    pub filter_values: FilterValues,
}

/// Everything the Costs page shows over `query`.
pub fn dashboard(store: &dyn Store, project: &str, query: &Query) -> Result<Dashboard, QueryError> {
    let (current, baseline) = default_periods(query.window.last_day());
    let series = series(store, project, query)?;
    // One pass over the spans, covering the comparison's baseline too.
    let first = query.window.first_day().min(baseline.first_day());
    let days = first
        .until(query.window.last_day())
        .map_or(1, |s| s.get_days() + 1);
    let facts = Facts::read(
        store,
        project,
        Window::ending(query.window.last_day(), u32::try_from(days).unwrap_or(1)),
        &query.filter,
        &FACT_GROUPS,
    )?;
    let (w, q) = (query.window, series.totals.queries);
    let by_operation = make_breakdown(
        SpanGroup::Operation,
        q,
        facts.group(SpanGroup::Operation, w),
    );
    let by_tenant = if query.filter.is_empty() {
        store.breakdown(project, w, Dimension::Tenant)?
    } else {
        Facts::read(store, project, w, &query.filter, &[SpanGroup::Tenant])?
            .group(SpanGroup::Tenant, w)
    };
    let errors = errors_from(&facts, w);
    let insights = insights_from(store, project, query, &series, &facts, &by_operation)?;
    Ok(Dashboard {
        project: project.to_owned(),
        filter: query.filter.clone(),
        by_model: make_breakdown(SpanGroup::Model, q, facts.group(SpanGroup::Model, w)),
        by_tenant: make_breakdown(SpanGroup::Tenant, q, by_tenant),
        by_service: make_breakdown(SpanGroup::Service, q, facts.group(SpanGroup::Service, w)),
        top_traces: top_traces(store, project, query, TOP_TRACES_DEFAULT)?,
        compare: compare_with(
            store,
            project,
            &query.filter,
            current,
            baseline,
            Some(&facts),
        )?,
        alerts: alerts(store, project, query)?,
        filter_values: store.filter_values(project, query.window)?,
        series,
        by_operation,
        errors,
        insights,
    })
}

// ===== formatting for insight text =====

fn usd(nanos: i64) -> String {
    super::report::usd(nanos, 2)
}

fn cents(nanos: i64) -> String {
    super::report::cents(nanos)
}

struct SignedCents(i64);

impl std::fmt::Display for SignedCents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 >= 0 { "+" } else { "-" };
        write!(f, "{sign}{}", cents(self.0.saturating_abs()))
    }
}

fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + 4);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ===== insights as text (`peekr report --insights`) =====

/// The insights as the human text `peekr report --insights` prints.
#[must_use]
pub fn render_insights(project: &str, window: Window, insights: &[Insight]) -> String {
    let mut out = format!(
        "insights, project {project}, {} to {}\n",
        window.first_day(),
        window.last_day()
    );
    if insights.is_empty() {
        out.push_str(
            "\nnothing to report: cost per query is steady and no waste pattern was found\n",
        );
        return out;
    }
    for (n, i) in insights.iter().enumerate() {
        out.push_str(&format!("\n{}. [{}] {}\n", n + 1, i.kind.as_str(), i.title));
        out.push_str(&format!("   {}\n", i.detail));
        out.push_str(&format!("   do: {}\n", i.action));
        if let Some(s) = i.saving_per_day_nanos {
            out.push_str(&format!("   saves about {} per day\n", usd(s)));
        }
        if let Some(t) = &i.trace_id {
            out.push_str(&format!("   trace: {t}\n"));
        }
        for item in &i.items {
            out.push_str(&format!("   - {}: {}\n", item.label, item.value));
        }
    }
    out
}

/// `peekr report --insights`: the insights over `options.days` days for `options.project`
/// (default: the store's only project), as text, or as a JSON array with `options.json`.
pub fn insights_report(
    store: &dyn Store,
    options: &super::report::ReportOptions,
) -> Result<String, super::report::ReportError> {
    use super::report::ReportError;
    if options.days == 0 || options.days > super::store::MAX_WINDOW_DAYS {
        return Err(ReportError::InvalidDays(options.days));
    }
    let project = match &options.project {
        Some(project) => project.clone(),
        None => {
            let mut projects = store.projects()?;
            match projects.len() {
                0 => return Err(ReportError::NoProjects),
                1 => projects.remove(0),
                _ => return Err(ReportError::ChooseProject(projects)),
            }
        }
    };
    let query = Query {
        window: Window::ending(options.today.unwrap_or_else(today_utc), options.days),
        filter: SpanFilter::default(),
    };
    let list = insights(store, &project, &query).map_err(|e| match e {
        QueryError::Store(e) => ReportError::Store(e),
        _ => ReportError::InvalidDays(options.days),
    })?;
    if options.json {
        let mut json = serde_json::to_string_pretty(&list).map_err(ReportError::Json)?;
        json.push('\n');
        Ok(json)
    } else {
        Ok(render_insights(&project, query.window, &list))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_parsed_from_dates_or_days() {
        let w = Query::window(Some("2026-01-01"), Some("2026-01-30"), None).unwrap();
        assert_eq!(
            (w.first_day().to_string(), w.days()),
            ("2026-01-01".to_owned(), 30)
        );
        let w = Query::window(None, Some("2026-01-30"), Some(7)).unwrap();
        assert_eq!(w.first_day().to_string(), "2026-01-24");
        assert!(matches!(
            Query::window(Some("2026-02-01"), Some("2026-01-30"), None),
            Err(QueryError::InvalidRange(_))
        ));
        assert!(matches!(
            Query::window(Some("yesterday"), None, None),
            Err(QueryError::InvalidDate(_))
        ));
        assert!(matches!(
            Query::window(None, None, Some(0)),
            Err(QueryError::InvalidRange(_))
        ));
    }

    #[test]
    fn default_periods_are_yesterday_and_a_week_before() {
        let (cur, base) = default_periods(Date::constant(2026, 3, 10));
        assert_eq!(cur.first_day().to_string(), "2026-03-09");
        assert_eq!(base.first_day().to_string(), "2026-03-02");
        assert_eq!((cur.days(), base.days()), (1, 1));
    }

    #[test]
    fn changes_rank_by_the_largest_move_in_cost_per_query() {
        let row = |k: &str, c: i64| BreakdownRow {
            key: Some(k.into()),
            cost_nanos: c,
            share: 0.0,
            llm_calls: 1,
            spans: 1,
            tokens_input: 0,
            tokens_output: 0,
            errors: 0,
            error_cost_nanos: 0,
        };
        let out = changes(
            &[row("a", 100), row("b", 1_000)],
            &[row("a", 900), row("c", 50)],
            10,
            10,
        );
        let keys: Vec<_> = out
            .iter()
            .map(|c| (c.key.clone().unwrap(), c.delta_per_query_nanos))
            .collect();
        assert_eq!(
            keys,
            vec![("b".into(), -100), ("a".into(), 80), ("c".into(), 5)]
        );
    }

    #[test]
    fn day_of_ns_is_the_utc_day() {
        assert_eq!(day_of_ns(0).to_string(), "1970-01-01");
        assert_eq!(
            day_of_ns(86_400 * 1_000_000_000 * 365 - 1).to_string(),
            "1970-12-31"
        );
    }
}
