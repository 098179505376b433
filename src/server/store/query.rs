//! The read queries. Each takes a project and never reads another project's rows.
//!
//! The window queries read the rollup tables (`daily_queries`, `daily_rollups`), a few rows
//! per day, so they cost the same at ten thousand or ten million stored spans.

use std::collections::HashMap;

use rusqlite::{Connection, Row, params};

use super::{BreakdownRow, DayCost, Dimension, StoreError, TraceSummary, Window, per_query};
use crate::server::record::SpanRecord;

pub(super) fn projects(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT project FROM (SELECT DISTINCT project FROM daily_rollups)
         UNION SELECT project FROM (SELECT DISTINCT project FROM traces)
         ORDER BY 1",
    )?;
    let rows = stmt.query_map([], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn cost_per_query(
    conn: &Connection,
    project: &str,
    window: Window,
) -> Result<Vec<DayCost>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT day, queries, cost_nanos, llm_calls, tokens_input, tokens_output
         FROM daily_queries WHERE project = ?1 AND day BETWEEN ?2 AND ?3",
    )?;
    let rows = stmt.query_map(
        params![
            project,
            window.first_day().to_string(),
            window.last_day().to_string()
        ],
        |row| {
            Ok((
                row.get::<_, String>(0)?,
                [
                    row.get::<_, i64>(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ],
            ))
        },
    )?;
    let by_day: HashMap<String, [i64; 5]> = rows.collect::<Result<_, _>>()?;
    Ok(day_series(window, &by_day))
}

/// One [`DayCost`] per day of `window`, from per-day sums keyed by `YYYY-MM-DD`
/// (`[queries, cost_nanos, llm_calls, tokens_input, tokens_output]`); days without a row are
/// zero.
pub(super) fn day_series(window: Window, by_day: &HashMap<String, [i64; 5]>) -> Vec<DayCost> {
    window
        .iter_days()
        .map(|day| {
            let [queries, cost_nanos, llm_calls, tokens_input, tokens_output] =
                by_day.get(&day.to_string()).copied().unwrap_or_default();
            DayCost {
                day,
                queries,
                cost_nanos,
                cost_per_query_nanos: per_query(cost_nanos, queries),
                llm_calls,
                tokens_input,
                tokens_output,
            }
        })
        .collect()
}

pub(super) fn breakdown(
    conn: &Connection,
    project: &str,
    window: Window,
    by: Dimension,
) -> Result<Vec<BreakdownRow>, StoreError> {
    // The column comes from the enum, never from input.
    let column = match by {
        Dimension::Model => "model",
        Dimension::Operation => "operation",
        Dimension::Tenant => "tenant",
    };
    let sql = format!(
        "SELECT {column}, SUM(cost_nanos), SUM(llm_calls), SUM(spans), SUM(tokens_input),
                SUM(tokens_output), SUM(errors), SUM(error_cost_nanos)
         FROM daily_rollups WHERE project = ?1 AND day BETWEEN ?2 AND ?3
         GROUP BY {column}
         HAVING SUM(llm_calls) > 0 OR SUM(cost_nanos) <> 0
         ORDER BY 2 DESC, 1"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            project,
            window.first_day().to_string(),
            window.last_day().to_string()
        ],
        |row| {
            let key: String = row.get(0)?;
            Ok(BreakdownRow {
                key: (!key.is_empty()).then_some(key),
                cost_nanos: row.get(1)?,
                share: 0.0,
                llm_calls: row.get(2)?,
                spans: row.get(3)?,
                tokens_input: row.get(4)?,
                tokens_output: row.get(5)?,
                errors: row.get(6)?,
                error_cost_nanos: row.get(7)?,
            })
        },
    )?;
    let mut rows: Vec<BreakdownRow> = rows.collect::<Result<_, _>>()?;
    let total: i128 = rows.iter().map(|row| i128::from(row.cost_nanos)).sum();
    if total != 0 {
        for row in &mut rows {
            // Display only: rounded to parts per million in integers, so the JSON carries
            // short, stable numbers.
            let ppm = (i128::from(row.cost_nanos) * 2_000_000 + total) / (2 * total);
            row.share = ppm as f64 / 1e6;
        }
    }
    Ok(rows)
}

pub(super) fn top_traces(
    conn: &Connection,
    project: &str,
    window: Window,
    limit: usize,
) -> Result<Vec<TraceSummary>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT trace_id, day, root_name, service, start_time, end_time, cost_nanos, llm_calls,
                tokens_input, tokens_output, spans, errors, tenant_id, session_id
         FROM traces INDEXED BY traces_cost
         WHERE project = ?1 AND has_root = 1 AND day BETWEEN ?2 AND ?3
         ORDER BY cost_nanos DESC, trace_id
         LIMIT ?4",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(
        params![
            project,
            window.first_day().to_string(),
            window.last_day().to_string(),
            limit
        ],
        trace_summary,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Reads a [`TraceSummary`] from the 14 `traces` columns every trace query selects, in order.
pub(super) fn trace_summary(row: &Row<'_>) -> rusqlite::Result<TraceSummary> {
    let day: Option<String> = row.get(1)?;
    Ok(TraceSummary {
        trace_id: row.get(0)?,
        day: day.and_then(|day| day.parse().ok()),
        root_name: row.get(2)?,
        service: row.get(3)?,
        start_time_ns: row.get(4)?,
        end_time_ns: row.get(5)?,
        cost_nanos: row.get(6)?,
        llm_calls: row.get(7)?,
        tokens_input: row.get(8)?,
        tokens_output: row.get(9)?,
        spans: row.get(10)?,
        errors: row.get(11)?,
        tenant_id: row.get(12)?,
        session_id: row.get(13)?,
    })
}

pub(super) fn trace_spans(
    conn: &Connection,
    project: &str,
    trace_id: &str,
) -> Result<Vec<SpanRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT trace_id, span_id, parent_span_id, name, service, start_time, end_time,
                status_code, operation, provider, model, tokens_input, tokens_output,
                cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nanos,
                cost_status, session_id, tenant_id, attributes
         FROM spans WHERE project = ?1 AND trace_id = ?2
         ORDER BY start_time, span_id",
    )?;
    let rows = stmt.query_map(params![project, trace_id], |row| {
        Ok(SpanRecord {
            trace_id: row.get(0)?,
            span_id: row.get(1)?,
            parent_span_id: row.get(2)?,
            name: row.get(3)?,
            service: row.get(4)?,
            start_time_ns: row.get(5)?,
            end_time_ns: row.get(6)?,
            status_code: row.get(7)?,
            operation: row.get(8)?,
            provider: row.get(9)?,
            model: row.get(10)?,
            tokens_input: row.get(11)?,
            tokens_output: row.get(12)?,
            cache_read_tokens: row.get(13)?,
            cache_write_tokens: row.get(14)?,
            reasoning_tokens: row.get(15)?,
            cost_nanos: row.get(16)?,
            cost_status: row.get(17)?,
            session_id: row.get(18)?,
            tenant_id: row.get(19)?,
            attributes: row.get(20)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
