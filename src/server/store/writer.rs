//! The writer thread: the only connection that writes spans, fed by the bounded queue.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use tokio::sync::oneshot;

use super::schema::{NANOS_PER_DAY, date_from_days, days_from_date};
use super::{RetentionReport, Shared, StoreError, WriteAck};
use crate::server::record::SpanRecord;

/// Most spans gathered into one transaction; bounds the time one commit holds the write lock.
const MAX_GROUP_SPANS: usize = 100_000;
/// How often the writer applies the configured retention.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// A message to the writer.
#[derive(Debug)]
pub(super) enum Msg {
    /// Spans to store.
    Write(Submission),
    /// Delete data older than `days` days before `today`.
    Retain {
        days: u32,
        today: Date,
        reply: SyncSender<Result<RetentionReport, StoreError>>,
    },
    /// Commit what is queued and exit.
    Shutdown,
}

/// One batch for one project, and where to send its acknowledgement.
#[derive(Debug)]
pub(super) struct Submission {
    pub(super) project: String,
    pub(super) spans: Vec<SpanRecord>,
    pub(super) reply: oneshot::Sender<Result<WriteAck, StoreError>>,
}

/// Whether a span counts as an LLM call: the enrichment gave it a cost status, or it carries a
/// cost. Wrapper spans (`invoke_agent`) carry neither.
pub(super) fn is_llm_call(span: &SpanRecord) -> bool {
    span.cost_status.is_some() || span.cost_nanos.is_some()
}

/// OTLP `STATUS_CODE_ERROR`.
const STATUS_ERROR: i32 = 2;

#[derive(Debug)]
pub(super) struct Writer {
    conn: Connection,
    rx: Receiver<Msg>,
    shared: Arc<Shared>,
    max_group: usize,
    retention_days: Option<u32>,
    /// Day number -> `YYYY-MM-DD`, so spans do not format dates one by one.
    day_names: HashMap<i64, String>,
}

impl Writer {
    pub(super) fn new(
        conn: Connection,
        rx: Receiver<Msg>,
        shared: Arc<Shared>,
        max_group: usize,
        retention_days: Option<u32>,
    ) -> Writer {
        Writer {
            conn,
            rx,
            shared,
            max_group,
            retention_days,
            day_names: HashMap::new(),
        }
    }

    /// Serves the queue until [`Msg::Shutdown`] or until every sender is gone.
    pub(super) fn run(mut self) {
        let mut next_retention = self.retention_days.map(|_| Instant::now());
        loop {
            let msg = if let Some(at) = next_retention {
                let now = Instant::now();
                if now >= at {
                    self.scheduled_retention();
                    next_retention = Some(now + RETENTION_EVERY);
                    continue;
                }
                match self.rx.recv_timeout(at - now) {
                    Ok(msg) => msg,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            } else {
                match self.rx.recv() {
                    Ok(msg) => msg,
                    Err(_) => return,
                }
            };
            if !self.handle(msg) {
                self.drain();
                return;
            }
        }
    }

    /// Handles one message (gathering a group for a write). Returns `false` on shutdown.
    fn handle(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Write(first) => {
                let mut group = vec![first];
                let mut spans = group[0].spans.len();
                let mut next = None;
                while group.len() < self.max_group && spans < MAX_GROUP_SPANS {
                    match self.rx.try_recv() {
                        Ok(Msg::Write(sub)) => {
                            spans += sub.spans.len();
                            group.push(sub);
                        }
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                self.commit_group(group);
                next.is_none_or(|msg| self.handle(msg))
            }
            Msg::Retain { days, today, reply } => {
                let result = self.retain(days, today).map_err(StoreError::from);
                let _ = reply.send(result);
                true
            }
            Msg::Shutdown => false,
        }
    }

    /// After shutdown: commits whatever is still queued, then returns.
    fn drain(&mut self) {
        loop {
            match self.rx.try_recv() {
                Ok(Msg::Shutdown) => {}
                Ok(msg) => {
                    self.handle(msg);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
            }
        }
    }

    fn scheduled_retention(&mut self) {
        let Some(days) = self.retention_days else {
            return;
        };
        match self.retain(days, super::today_utc()) {
            Ok(report) => tracing::info!(
                name: "Store.Retention",
                days,
                spans = report.spans,
                traces = report.traces,
                rollups = report.rollups,
                "deleted data older than the retention window"
            ),
            Err(error) => {
                tracing::warn!(name: "Store.RetentionFailed", %error, "retention pass failed")
            }
        }
    }

    /// Commits a group in one transaction. If it fails, retries each submission alone so one
    /// bad batch cannot sink the others.
    fn commit_group(&mut self, group: Vec<Submission>) {
        let queued: usize = group.iter().map(|sub| sub.spans.len()).sum();
        let result = self.apply(&group);
        // Free the queue space before acknowledging, so a caller that resubmits right after
        // its ack finds room.
        self.shared.queued_spans.fetch_sub(queued, Ordering::AcqRel);
        match result {
            Ok(acks) => {
                for (sub, ack) in group.into_iter().zip(acks) {
                    let _ = sub.reply.send(Ok(ack));
                }
            }
            Err(error) if group.len() == 1 => {
                tracing::warn!(name: "Store.CommitFailed", %error, "write transaction failed");
                let error = Arc::new(error);
                for sub in group {
                    let _ = sub.reply.send(Err(StoreError::Commit(Arc::clone(&error))));
                }
            }
            Err(_) => {
                for sub in group {
                    let result = self
                        .apply(std::slice::from_ref(&sub))
                        .map(|mut acks| acks.pop().unwrap_or_default())
                        .map_err(|error| {
                            tracing::warn!(name: "Store.CommitFailed", %error, "write transaction failed");
                            StoreError::Commit(Arc::new(error))
                        });
                    let _ = sub.reply.send(result);
                }
            }
        }
    }

    /// Inserts the spans of `subs` and updates traces and rollups, all in one transaction.
    fn apply(&mut self, subs: &[Submission]) -> rusqlite::Result<Vec<WriteAck>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut deltas = Deltas::default();
        let mut acks = Vec::with_capacity(subs.len());
        {
            let mut insert = tx.prepare_cached(INSERT_SPAN)?;
            for sub in subs {
                let mut ack = WriteAck {
                    spans: sub.spans.len(),
                    ..WriteAck::default()
                };
                for span in &sub.spans {
                    let cost_usd = span.cost_nanos.map(|nanos| nanos as f64 / 1e9);
                    let inserted = insert.execute(params![
                        sub.project,
                        span.trace_id,
                        span.span_id,
                        span.parent_span_id,
                        span.name,
                        span.service,
                        span.start_time_ns,
                        span.end_time_ns,
                        span.status_code,
                        span.operation,
                        span.provider,
                        span.model,
                        span.tokens_input,
                        span.tokens_output,
                        span.tokens_total(),
                        span.cache_read_tokens,
                        span.cache_write_tokens,
                        span.reasoning_tokens,
                        cost_usd,
                        span.cost_nanos,
                        span.cost_status,
                        span.session_id,
                        span.tenant_id,
                        span.attributes,
                    ])?;
                    if inserted == 1 {
                        ack.inserted += 1;
                        deltas.add(&sub.project, span);
                    } else {
                        ack.duplicates += 1;
                    }
                }
                acks.push(ack);
            }
        }
        deltas.flush(&tx, &mut self.day_names)?;
        tx.commit()?;
        Ok(acks)
    }

    /// Deletes everything before `today - (days - 1)`, in every project.
    fn retain(&mut self, days: u32, today: Date) -> rusqlite::Result<RetentionReport> {
        let cutoff = days_from_date(today) - i64::from(days.max(1)) + 1;
        let cutoff_day = date_from_days(cutoff);
        let cutoff_name = cutoff_day.to_string();
        let cutoff_ns = cutoff.saturating_mul(NANOS_PER_DAY);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let spans = tx.execute("DELETE FROM spans WHERE end_time < ?1", [cutoff_ns])?;
        // A trace goes once all its spans are gone. One whose root ended before the cutoff but
        // with a child ending after it stays until the next pass; its day's rollups are gone.
        let traces = tx.execute("DELETE FROM traces WHERE end_time < ?1", [cutoff_ns])?;
        let rollups = tx.execute("DELETE FROM daily_queries WHERE day < ?1", [&cutoff_name])?
            + tx.execute("DELETE FROM daily_rollups WHERE day < ?1", [&cutoff_name])?;
        tx.commit()?;
        Ok(RetentionReport {
            cutoff_day: Some(cutoff_day),
            spans,
            traces,
            rollups,
        })
    }
}

const INSERT_SPAN: &str = "
    INSERT INTO spans (
        project, trace_id, span_id, parent_span_id, name, service, start_time, end_time,
        status_code, operation, provider, model, tokens_input, tokens_output, tokens_total,
        cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, cost_nanos,
        cost_status, session_id, tenant_id, attributes
    ) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
              ?19, ?20, ?21, ?22, ?23, ?24)
    ON CONFLICT (project, trace_id, span_id) DO NOTHING";

// ===== per-transaction deltas =====

/// Sums over a set of spans.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    spans: i64,
    llm_calls: i64,
    cost_nanos: i64,
    tokens_input: i64,
    tokens_output: i64,
    errors: i64,
    error_cost_nanos: i64,
}

impl Sums {
    fn of(span: &SpanRecord) -> Sums {
        let cost = span.cost_nanos.unwrap_or(0);
        let error = span.status_code == STATUS_ERROR;
        Sums {
            spans: 1,
            llm_calls: i64::from(is_llm_call(span)),
            cost_nanos: cost,
            tokens_input: span.tokens_input,
            tokens_output: span.tokens_output,
            errors: i64::from(error),
            error_cost_nanos: if error { cost } else { 0 },
        }
    }

    fn add(&mut self, other: Sums) {
        self.spans = self.spans.saturating_add(other.spans);
        self.llm_calls = self.llm_calls.saturating_add(other.llm_calls);
        self.cost_nanos = self.cost_nanos.saturating_add(other.cost_nanos);
        self.tokens_input = self.tokens_input.saturating_add(other.tokens_input);
        self.tokens_output = self.tokens_output.saturating_add(other.tokens_output);
        self.errors = self.errors.saturating_add(other.errors);
        self.error_cost_nanos = self.error_cost_nanos.saturating_add(other.error_cost_nanos);
    }
}

/// The root span of a trace, as seen in this transaction.
#[derive(Debug, Clone, Copy)]
struct Root<'a> {
    day: i64,
    name: &'a str,
    service: &'a str,
    tenant: Option<&'a str>,
    session: Option<&'a str>,
}

/// What this transaction adds to one trace.
#[derive(Debug, Clone, Copy)]
struct TraceDelta<'a> {
    sums: Sums,
    start: i64,
    end: i64,
    root: Option<Root<'a>>,
    tenant: Option<&'a str>,
    session: Option<&'a str>,
}

/// (project, day number, model, operation, tenant)
type RollupKey<'a> = (&'a str, i64, &'a str, &'a str, &'a str);

/// Aggregates of the spans inserted in one transaction, keyed by borrowed strings so adding a
/// span allocates nothing.
#[derive(Debug, Default)]
struct Deltas<'a> {
    rollups: HashMap<RollupKey<'a>, Sums>,
    traces: HashMap<(&'a str, &'a str), TraceDelta<'a>>,
}

impl<'a> Deltas<'a> {
    fn add(&mut self, project: &'a str, span: &'a SpanRecord) {
        let sums = Sums::of(span);
        let day = span.end_time_ns.div_euclid(NANOS_PER_DAY);
        let key = (
            project,
            day,
            span.model.as_deref().unwrap_or(""),
            span.operation.as_deref().unwrap_or(""),
            span.tenant_id.as_deref().unwrap_or(""),
        );
        self.rollups.entry(key).or_default().add(sums);

        let root = span.is_root().then_some(Root {
            day,
            name: &span.name,
            service: &span.service,
            tenant: span.tenant_id.as_deref(),
            session: span.session_id.as_deref(),
        });
        let trace = self
            .traces
            .entry((project, &span.trace_id))
            .or_insert(TraceDelta {
                sums: Sums::default(),
                start: span.start_time_ns,
                end: span.end_time_ns,
                root: None,
                tenant: None,
                session: None,
            });
        trace.sums.add(sums);
        trace.start = trace.start.min(span.start_time_ns);
        trace.end = trace.end.max(span.end_time_ns);
        // A second parentless span in one trace is broken instrumentation: the first root
        // wins and the other counts as an ordinary span.
        if trace.root.is_none() {
            trace.root = root;
        }
        trace.tenant = trace.tenant.or(span.tenant_id.as_deref());
        trace.session = trace.session.or(span.session_id.as_deref());
    }

    /// Writes the deltas: rollups, traces, and the per-day query totals the traces imply.
    fn flush(
        self,
        tx: &Transaction<'_>,
        day_names: &mut HashMap<i64, String>,
    ) -> rusqlite::Result<()> {
        let mut day_name = |day: i64| -> String {
            day_names
                .entry(day)
                .or_insert_with(|| date_from_days(day).to_string())
                .clone()
        };

        let mut upsert_rollup = tx.prepare_cached(UPSERT_ROLLUP)?;
        for ((project, day, model, operation, tenant), s) in self.rollups {
            upsert_rollup.execute(params![
                project,
                day_name(day),
                model,
                operation,
                tenant,
                s.spans,
                s.llm_calls,
                s.cost_nanos,
                s.tokens_input,
                s.tokens_output,
                s.errors,
                s.error_cost_nanos,
            ])?;
        }

        // (project, day) -> (queries, sums) to add to daily_queries.
        let mut queries: HashMap<(&str, String), (i64, Sums)> = HashMap::new();
        let mut select = tx.prepare_cached(SELECT_TRACE)?;
        let mut insert = tx.prepare_cached(INSERT_TRACE)?;
        let mut update = tx.prepare_cached(UPDATE_TRACE)?;
        for ((project, trace_id), delta) in self.traces {
            let existing = select
                .query_row(params![project, trace_id], |row| {
                    Ok(TraceRow {
                        day: row.get(0)?,
                        root_name: row.get(1)?,
                        service: row.get(2)?,
                        tenant: row.get(3)?,
                        session: row.get(4)?,
                        sums: Sums {
                            cost_nanos: row.get(5)?,
                            llm_calls: row.get(6)?,
                            tokens_input: row.get(7)?,
                            tokens_output: row.get(8)?,
                            spans: row.get(9)?,
                            errors: row.get(10)?,
                            error_cost_nanos: 0,
                        },
                        start: row.get(11)?,
                        end: row.get(12)?,
                    })
                })
                .optional()?;
            let existed = existing.is_some();
            let had_root = existing.as_ref().is_some_and(|row| row.day.is_some());
            let mut row = existing.unwrap_or(TraceRow {
                day: None,
                root_name: None,
                service: None,
                tenant: None,
                session: None,
                sums: Sums::default(),
                start: delta.start,
                end: delta.end,
            });
            let before = row.sums;
            row.sums.add(delta.sums);
            row.start = row.start.min(delta.start);
            row.end = row.end.max(delta.end);
            match (had_root, delta.root) {
                // Known query: the new spans' cost lands on the root's day.
                (true, _) => {
                    if let Some(day) = row.day.clone() {
                        queries.entry((project, day)).or_default().1.add(delta.sums);
                    }
                }
                // The root arrives: the trace becomes a query, with everything seen so far.
                (false, Some(root)) => {
                    let day = day_name(root.day);
                    let entry = queries.entry((project, day.clone())).or_default();
                    entry.0 += 1;
                    entry.1.add(before);
                    entry.1.add(delta.sums);
                    row.day = Some(day);
                    row.root_name = Some(root.name.to_owned());
                    row.service = Some(root.service.to_owned());
                    if let Some(tenant) = root.tenant {
                        row.tenant = Some(tenant.to_owned());
                    }
                    if let Some(session) = root.session {
                        row.session = Some(session.to_owned());
                    }
                }
                (false, None) => {}
            }
            if row.tenant.is_none() {
                row.tenant = delta.tenant.map(str::to_owned);
            }
            if row.session.is_none() {
                row.session = delta.session.map(str::to_owned);
            }
            let values = params![
                project,
                trace_id,
                row.day,
                row.day.is_some(),
                row.root_name,
                row.service,
                row.start,
                row.end,
                row.sums.cost_nanos,
                row.sums.llm_calls,
                row.sums.tokens_input,
                row.sums.tokens_output,
                row.sums.spans,
                row.sums.errors,
                row.tenant,
                row.session,
            ];
            if existed {
                update.execute(values)?;
            } else {
                insert.execute(values)?;
            }
        }

        let mut upsert_queries = tx.prepare_cached(UPSERT_QUERIES)?;
        for ((project, day), (n, s)) in queries {
            upsert_queries.execute(params![
                project,
                day,
                n,
                s.cost_nanos,
                s.llm_calls,
                s.tokens_input,
                s.tokens_output,
                s.spans,
                s.errors,
            ])?;
        }
        Ok(())
    }
}

/// A `traces` row being merged.
#[derive(Debug)]
struct TraceRow {
    day: Option<String>,
    root_name: Option<String>,
    service: Option<String>,
    tenant: Option<String>,
    session: Option<String>,
    sums: Sums,
    start: i64,
    end: i64,
}

const UPSERT_ROLLUP: &str = "
    INSERT INTO daily_rollups (project, day, model, operation, tenant, spans, llm_calls,
        cost_nanos, tokens_input, tokens_output, errors, error_cost_nanos)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
    ON CONFLICT (project, day, model, operation, tenant) DO UPDATE SET
        spans = spans + excluded.spans,
        llm_calls = llm_calls + excluded.llm_calls,
        cost_nanos = cost_nanos + excluded.cost_nanos,
        tokens_input = tokens_input + excluded.tokens_input,
        tokens_output = tokens_output + excluded.tokens_output,
        errors = errors + excluded.errors,
        error_cost_nanos = error_cost_nanos + excluded.error_cost_nanos";

const UPSERT_QUERIES: &str = "
    INSERT INTO daily_queries (project, day, queries, cost_nanos, llm_calls, tokens_input,
        tokens_output, spans, errors)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
    ON CONFLICT (project, day) DO UPDATE SET
        queries = queries + excluded.queries,
        cost_nanos = cost_nanos + excluded.cost_nanos,
        llm_calls = llm_calls + excluded.llm_calls,
        tokens_input = tokens_input + excluded.tokens_input,
        tokens_output = tokens_output + excluded.tokens_output,
        spans = spans + excluded.spans,
        errors = errors + excluded.errors";

const SELECT_TRACE: &str = "
    SELECT day, root_name, service, tenant_id, session_id, cost_nanos, llm_calls, tokens_input,
           tokens_output, spans, errors, start_time, end_time
    FROM traces WHERE project = ?1 AND trace_id = ?2";

const INSERT_TRACE: &str = "
    INSERT INTO traces (project, trace_id, day, has_root, root_name, service, start_time,
        end_time, cost_nanos, llm_calls, tokens_input, tokens_output, spans, errors, tenant_id,
        session_id)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

const UPDATE_TRACE: &str = "
    UPDATE traces SET day = ?3, has_root = ?4, root_name = ?5, service = ?6, start_time = ?7,
        end_time = ?8, cost_nanos = ?9, llm_calls = ?10, tokens_input = ?11,
        tokens_output = ?12, spans = ?13, errors = ?14, tenant_id = ?15, session_id = ?16
    WHERE project = ?1 AND trace_id = ?2";
