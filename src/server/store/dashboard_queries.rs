//! Filtered reads for the Costs page and the query API (issue 5).
//!
//! The unfiltered 30-day views read the rollups (see [`super::query`]). Once a filter narrows
//! the data to one tenant, model, service or operation, or the page groups by a column the
//! rollups do not keep (service, span name), these queries read `traces` and `spans` instead.
//! They stay scoped to one project like every other read.
//!
//! # Filter semantics
//!
//! - **tenant** narrows both the queries (traces whose tenant matches) and the spans counted;
//! - **model**, **service** and **operation** narrow only the spans counted: cost per query
//!   filtered to a model is that model's share of the cost of every query (so the filtered
//!   series of all models add up to the unfiltered one).
//!
//! Spans belong to the UTC day of their end time (as in `daily_rollups`); queries to the day of
//! their root span's end (as in `daily_queries`).

use std::collections::HashMap;

use rusqlite::Connection;
use rusqlite::types::ToSql;
use serde::Serialize;

use super::query::{day_series, trace_summary};
use super::schema::{NANOS_PER_DAY, date_from_days, days_from_date};
use super::{DayCost, StoreError, TraceSummary, Window, display};

/// Most distinct values [`SqliteStore::filter_values`](super::SqliteStore) returns per column.
pub const MAX_FILTER_VALUES: usize = 200;

/// Which queries and spans a filtered read covers; `None` matches everything. See the
/// [module docs](self) for what each field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SpanFilter {
    /// Tenant id.
    pub tenant: Option<String>,
    /// Model as reported on the span.
    pub model: Option<String>,
    /// `service.name` of the span.
    pub service: Option<String>,
    /// `gen_ai.operation.name`.
    pub operation: Option<String>,
}

impl SpanFilter {
    /// Whether the filter matches everything.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tenant.is_none()
            && self.model.is_none()
            && self.service.is_none()
            && self.operation.is_none()
    }

    /// Whether a span-level filter (model, service, operation) is set.
    #[must_use]
    pub fn narrows_spans(&self) -> bool {
        self.model.is_some() || self.service.is_some() || self.operation.is_some()
    }
}

/// A column [`Store::span_rollup`](super::Store::span_rollup) can group spans by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanGroup {
    /// The model reported on each span.
    Model,
    /// `gen_ai.operation.name`.
    Operation,
    /// The tenant id.
    Tenant,
    /// `service.name`.
    Service,
    /// The span name (`chat gpt-4o`, `embeddings text-embedding-3-small`, ...).
    Name,
}

impl SpanGroup {
    /// The lower-case name used in URLs and JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SpanGroup::Model => "model",
            SpanGroup::Operation => "operation",
            SpanGroup::Tenant => "tenant",
            SpanGroup::Service => "service",
            SpanGroup::Name => "name",
        }
    }

    /// Parses [`SpanGroup::as_str`] names.
    #[must_use]
    pub fn parse(s: &str) -> Option<SpanGroup> {
        match s {
            "model" => Some(SpanGroup::Model),
            "operation" => Some(SpanGroup::Operation),
            "tenant" => Some(SpanGroup::Tenant),
            "service" => Some(SpanGroup::Service),
            "name" | "span_name" => Some(SpanGroup::Name),
            _ => None,
        }
    }

    /// The `spans` column; from the enum, never from input.
    fn column(self) -> &'static str {
        match self {
            SpanGroup::Model => "model",
            SpanGroup::Operation => "operation",
            SpanGroup::Tenant => "tenant_id",
            SpanGroup::Service => "service",
            SpanGroup::Name => "name",
        }
    }
}

/// One query (root trace) of a session, for the prompt-bloat insight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionTurn {
    /// Session id.
    pub session_id: String,
    /// Trace id of this turn.
    pub trace_id: String,
    /// UTC day of the root span's end.
    #[serde(with = "display")]
    pub day: jiff::civil::Date,
    /// Earliest span start of the trace, Unix ns (turns are ordered by it).
    pub start_time_ns: i64,
    /// Input tokens over every span of the trace.
    pub tokens_input: i64,
    /// Output tokens over every span of the trace.
    pub tokens_output: i64,
    /// Cost of the trace, nano-USD.
    pub cost_nanos: i64,
    /// Tenant of the trace.
    pub tenant_id: Option<String>,
}

/// Sums over the spans of one UTC day (of each span's end) and one combination of the grouped
/// columns: what [`Store::span_rollup`](super::Store::span_rollup) returns. Columns that were not
/// grouped are `None`, as are absent values of grouped ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SpanRollupRow {
    /// The UTC day.
    #[serde(with = "display")]
    pub day: jiff::civil::Date,
    /// Model, when grouped by it.
    pub model: Option<String>,
    /// Operation, when grouped by it.
    pub operation: Option<String>,
    /// Tenant, when grouped by it.
    pub tenant: Option<String>,
    /// Service, when grouped by it.
    pub service: Option<String>,
    /// Span name, when grouped by it.
    pub name: Option<String>,
    /// Spans.
    pub spans: i64,
    /// LLM calls (spans with a cost status or a cost).
    pub llm_calls: i64,
    /// Cost, nano-USD.
    pub cost_nanos: i64,
    /// Input tokens.
    pub tokens_input: i64,
    /// Output tokens.
    pub tokens_output: i64,
    /// Spans with error status.
    pub errors: i64,
    /// LLM calls with error status.
    pub llm_errors: i64,
    /// Cost of the spans with error status, nano-USD.
    pub error_cost_nanos: i64,
    /// Failed spans followed, in the same trace, by a later span of the same name: retries.
    pub retried_calls: i64,
    /// Cost of those, nano-USD.
    pub retried_cost_nanos: i64,
    /// Spans with a numeric `gen_ai.evaluation.score.value`.
    pub scored_calls: i64,
    /// Their cost, nano-USD.
    pub scored_cost_nanos: i64,
    /// Their input tokens.
    pub scored_tokens_input: i64,
    /// Their output tokens.
    pub scored_tokens_output: i64,
    /// Sum of their scores (comparison and display only; never money).
    pub score_sum: f64,
}

/// Distinct values present in a window, to fill the page's filter menus.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FilterValues {
    /// Tenants.
    pub tenants: Vec<String>,
    /// Models.
    pub models: Vec<String>,
    /// Services.
    pub services: Vec<String>,
    /// Operations.
    pub operations: Vec<String>,
}

// ===== SQL helpers =====

/// Named parameters of one statement; only those the SQL mentions are bound (rusqlite refuses
/// unknown names).
struct Binds<'a> {
    values: Vec<(&'static str, Box<dyn ToSql + 'a>)>,
}

impl<'a> Binds<'a> {
    fn new(project: &'a str, window: Window, filter: &'a SpanFilter) -> Binds<'a> {
        let first = days_from_date(window.first_day());
        let last = days_from_date(window.last_day());
        Binds {
            values: vec![
                (":project", Box::new(project)),
                (":first_day", Box::new(window.first_day().to_string())),
                (":last_day", Box::new(window.last_day().to_string())),
                (":first_ns", Box::new(first.saturating_mul(NANOS_PER_DAY))),
                (
                    ":end_ns",
                    Box::new((last + 1).saturating_mul(NANOS_PER_DAY)),
                ),
                (":tenant", Box::new(filter.tenant.as_deref())),
                (":model", Box::new(filter.model.as_deref())),
                (":service", Box::new(filter.service.as_deref())),
                (":operation", Box::new(filter.operation.as_deref())),
            ],
        }
    }

    fn with(mut self, name: &'static str, value: impl ToSql + 'a) -> Self {
        self.values.push((name, Box::new(value)));
        self
    }

    fn for_sql(&self, sql: &str) -> Vec<(&str, &dyn ToSql)> {
        self.values
            .iter()
            .filter(|(name, _)| contains_param(sql, name))
            .map(|(name, value)| (*name, value.as_ref() as &dyn ToSql))
            .collect()
    }
}

/// Whether `sql` mentions the parameter `name` (not merely a longer name it prefixes).
fn contains_param(sql: &str, name: &str) -> bool {
    sql.match_indices(name).any(|(at, _)| {
        !sql[at + name.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Span conditions of a filter, on a `spans` table aliased `s`.
const SPAN_FILTER: &str = "(:tenant IS NULL OR s.tenant_id = :tenant)
     AND (:model IS NULL OR s.model = :model)
     AND (:service IS NULL OR s.service = :service)
     AND (:operation IS NULL OR s.operation = :operation)";

/// A span is an LLM call when enrichment gave it a cost status or it carries a cost (the
/// writer's `is_llm_call`).
const IS_LLM: &str = "(s.cost_status IS NOT NULL OR s.cost_nanos IS NOT NULL)";

// ===== the queries =====

pub(super) fn cost_per_query_filtered(
    conn: &Connection,
    project: &str,
    window: Window,
    filter: &SpanFilter,
) -> Result<Vec<DayCost>, StoreError> {
    let binds = Binds::new(project, window, filter);
    // Queries of the window (narrowed by tenant only), with their whole cost.
    let sql = "SELECT day, COUNT(*), SUM(cost_nanos), SUM(llm_calls), SUM(tokens_input),
                      SUM(tokens_output)
               FROM traces
               WHERE project = :project AND has_root = 1 AND day BETWEEN :first_day AND :last_day
                 AND (:tenant IS NULL OR tenant_id = :tenant)
               GROUP BY day";
    let mut by_day: HashMap<String, [i64; 5]> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(binds.for_sql(sql).as_slice(), |row| {
            Ok((
                row.get::<_, String>(0)?,
                [
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ],
            ))
        })?;
        for row in rows {
            let (day, sums) = row?;
            by_day.insert(day, sums);
        }
    }
    if filter.narrows_spans() {
        // Only the matching spans' cost counts; the queries stay the same.
        for sums in by_day.values_mut() {
            sums[1..].fill(0);
        }
        let sql = format!(
            "SELECT t.day, SUM(COALESCE(s.cost_nanos, 0)), SUM({IS_LLM}), SUM(s.tokens_input),
                    SUM(s.tokens_output)
             FROM traces t JOIN spans s ON s.project = t.project AND s.trace_id = t.trace_id
             WHERE t.project = :project AND t.has_root = 1
               AND t.day BETWEEN :first_day AND :last_day
               AND (:tenant IS NULL OR t.tenant_id = :tenant) AND {SPAN_FILTER}
             GROUP BY t.day"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(binds.for_sql(&sql).as_slice(), |row| {
            Ok((
                row.get::<_, String>(0)?,
                [row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?],
            ))
        })?;
        for row in rows {
            let (day, sums): (String, [i64; 4]) = row?;
            if let Some(entry) = by_day.get_mut(&day) {
                entry[1..].copy_from_slice(&sums);
            }
        }
    }
    Ok(day_series(window, &by_day))
}

pub(super) fn span_rollup(
    conn: &Connection,
    project: &str,
    window: Window,
    filter: &SpanFilter,
    by: &[SpanGroup],
) -> Result<Vec<SpanRollupRow>, StoreError> {
    // One pass over the window's spans answers every breakdown, comparison and insight of a
    // page load; the grouped columns come from the enum, never from input.
    let col = |g: SpanGroup| {
        if by.contains(&g) {
            format!("s.{}", g.column())
        } else {
            "NULL".to_owned()
        }
    };
    let (model, operation, tenant, service, name) = (
        col(SpanGroup::Model),
        col(SpanGroup::Operation),
        col(SpanGroup::Tenant),
        col(SpanGroup::Service),
        col(SpanGroup::Name),
    );
    // `instr` before `json_extract`: parsing every span's JSON would dominate the scan. The
    // retry lookup (an index probe) runs only for failed spans.
    let sql = format!(
        "SELECT day, model, operation, tenant, service, name, COUNT(*), SUM(llm), SUM(cost),
                SUM(tokens_input), SUM(tokens_output), SUM(err), SUM(err AND llm),
                SUM(CASE WHEN err THEN cost ELSE 0 END), SUM(retried),
                SUM(CASE WHEN retried THEN cost ELSE 0 END), COUNT(score),
                SUM(CASE WHEN score IS NOT NULL THEN cost ELSE 0 END),
                SUM(CASE WHEN score IS NOT NULL THEN tokens_input ELSE 0 END),
                SUM(CASE WHEN score IS NOT NULL THEN tokens_output ELSE 0 END),
                TOTAL(score)
         FROM (SELECT *, CASE WHEN typeof(raw_score) IN ('integer', 'real') THEN raw_score END
                         AS score
               FROM (SELECT s.end_time / {NANOS_PER_DAY} AS day, {model} AS model,
                            {operation} AS operation, {tenant} AS tenant, {service} AS service,
                            {name} AS name, COALESCE(s.cost_nanos, 0) AS cost,
                            {IS_LLM} AS llm, s.status_code = 2 AS err,
                            s.tokens_input, s.tokens_output,
                            CASE WHEN s.status_code = 2 THEN EXISTS (
                                SELECT 1 FROM spans r
                                WHERE r.project = s.project AND r.trace_id = s.trace_id
                                  AND r.name = s.name AND r.span_id <> s.span_id
                                  AND r.start_time >= s.start_time)
                                 ELSE 0 END AS retried,
                            CASE WHEN instr(s.attributes, 'gen_ai.evaluation.score.value') > 0
                                 THEN json_extract(s.attributes,
                                                   '$.\"gen_ai.evaluation.score.value\"')
                            END AS raw_score
                     FROM spans s
                     WHERE s.project = :project AND s.end_time >= :first_ns
                       AND s.end_time < :end_ns AND {SPAN_FILTER}))
         GROUP BY day, model, operation, tenant, service, name
         ORDER BY day, model, operation, tenant, service, name"
    );
    let binds = Binds::new(project, window, filter);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(binds.for_sql(&sql).as_slice(), |row| {
        let text = |i: usize| -> rusqlite::Result<Option<String>> {
            Ok(row.get::<_, Option<String>>(i)?.filter(|v| !v.is_empty()))
        };
        Ok(SpanRollupRow {
            day: date_from_days(row.get(0)?),
            model: text(1)?,
            operation: text(2)?,
            tenant: text(3)?,
            service: text(4)?,
            name: text(5)?,
            spans: row.get(6)?,
            llm_calls: row.get(7)?,
            cost_nanos: row.get(8)?,
            tokens_input: row.get(9)?,
            tokens_output: row.get(10)?,
            errors: row.get(11)?,
            llm_errors: row.get(12)?,
            error_cost_nanos: row.get(13)?,
            retried_calls: row.get(14)?,
            retried_cost_nanos: row.get(15)?,
            scored_calls: row.get(16)?,
            scored_cost_nanos: row.get(17)?,
            scored_tokens_input: row.get(18)?,
            scored_tokens_output: row.get(19)?,
            score_sum: row.get(20)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn top_traces_filtered(
    conn: &Connection,
    project: &str,
    window: Window,
    filter: &SpanFilter,
    limit: usize,
) -> Result<Vec<TraceSummary>, StoreError> {
    let span_match = if filter.narrows_spans() {
        format!(
            "AND EXISTS (SELECT 1 FROM spans s WHERE s.project = t.project
                          AND s.trace_id = t.trace_id AND {SPAN_FILTER})"
        )
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT t.trace_id, t.day, t.root_name, t.service, t.start_time, t.end_time,
                t.cost_nanos, t.llm_calls, t.tokens_input, t.tokens_output, t.spans, t.errors,
                t.tenant_id, t.session_id
         FROM traces t
         WHERE t.project = :project AND t.has_root = 1 AND t.day BETWEEN :first_day AND :last_day
           AND (:tenant IS NULL OR t.tenant_id = :tenant) {span_match}
         ORDER BY t.cost_nanos DESC, t.trace_id
         LIMIT :limit"
    );
    let binds = Binds::new(project, window, filter)
        .with(":limit", i64::try_from(limit).unwrap_or(i64::MAX));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(binds.for_sql(&sql).as_slice(), trace_summary)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn session_turns(
    conn: &Connection,
    project: &str,
    window: Window,
    filter: &SpanFilter,
    limit: usize,
) -> Result<Vec<SessionTurn>, StoreError> {
    let sql = "SELECT session_id, trace_id, day, start_time, tokens_input, tokens_output,
                      cost_nanos, tenant_id
               FROM traces
               WHERE project = :project AND has_root = 1 AND session_id IS NOT NULL
                 AND day BETWEEN :first_day AND :last_day
                 AND (:tenant IS NULL OR tenant_id = :tenant)
               ORDER BY session_id, start_time, trace_id
               LIMIT :limit";
    let binds = Binds::new(project, window, filter)
        .with(":limit", i64::try_from(limit).unwrap_or(i64::MAX));
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(binds.for_sql(sql).as_slice(), |row| {
        let day: String = row.get(2)?;
        Ok(SessionTurn {
            session_id: row.get(0)?,
            trace_id: row.get(1)?,
            day: day.parse().unwrap_or(jiff::civil::Date::MIN),
            start_time_ns: row.get(3)?,
            tokens_input: row.get(4)?,
            tokens_output: row.get(5)?,
            cost_nanos: row.get(6)?,
            tenant_id: row.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn filter_values(
    conn: &Connection,
    project: &str,
    window: Window,
) -> Result<FilterValues, StoreError> {
    let filter = SpanFilter::default();
    let binds = Binds::new(project, window, &filter).with(":max", MAX_FILTER_VALUES as i64);
    let column = |sql: &str| -> Result<Vec<String>, StoreError> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(binds.for_sql(sql).as_slice(), |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    // Tenants, models and operations come from the rollups (a few rows per day); services
    // are not in the rollups, so they come from the traces' root spans.
    let rollup = |col: &str| {
        format!(
            "SELECT DISTINCT {col} FROM daily_rollups
             WHERE project = :project AND day BETWEEN :first_day AND :last_day AND {col} <> ''
             ORDER BY 1 LIMIT :max"
        )
    };
    Ok(FilterValues {
        tenants: column(&rollup("tenant"))?,
        models: column(&rollup("model"))?,
        operations: column(&rollup("operation"))?,
        services: column(
            "SELECT DISTINCT service FROM traces
             WHERE project = :project AND day BETWEEN :first_day AND :last_day
               AND service IS NOT NULL AND service <> ''
             ORDER BY 1 LIMIT :max",
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_matched_by_whole_name() {
        assert!(contains_param("a = :first_day", ":first_day"));
        assert!(!contains_param("a = :first_day", ":first"));
        assert!(contains_param("(:tenant IS NULL)", ":tenant"));
    }
}
