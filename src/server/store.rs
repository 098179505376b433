//! Where spans are kept: the [`Store`] trait and its SQLite implementation, [`SqliteStore`].
//!
//! The trait is deliberately narrow (DESIGN.md §6): ingest submits a batch of [`SpanRecord`]s
//! for one project, and the CLI, query API and Costs page run a handful of read queries. A
//! shared, distributed store (ClickHouse) can implement the same trait later; nothing outside
//! this module knows about SQLite, except `peekr sql` ([`run_readonly_sql`]), which is an
//! operator tool over the local file by nature.
//!
//! # Writes
//!
//! ```text
//!  gRPC tasks ──submit()──► bounded queue ──► writer thread ──► one transaction per group ──► ack
//!      ▲      (Full at once                   (group commit:         (spans + traces +          │
//!      │       when full)                      many submissions)      rollups together)         │
//!      └──────────────────────── WriteTicket resolves after COMMIT ◄─────────────────────────────┘
//! ```
//!
//! One dedicated thread owns the only write connection. [`Store::submit`] never blocks: when
//! the queue is full it returns [`StoreError::Full`] at once, which the receiver maps to gRPC
//! `UNAVAILABLE` so the exporter retries. The returned [`WriteTicket`] resolves only after the
//! transaction holding the batch has committed, so an acknowledged span is on disk.
//!
//! # Durability
//!
//! The database runs in WAL mode. The default, [`Durability::Process`], uses
//! `synchronous=NORMAL`: a commit appends to the WAL with `write(2)` and does not `fsync`, so
//! the data is in the OS page cache when the ticket resolves. That survives any crash of the
//! *process* (`kill -9`, panic, OOM kill), because the kernel still writes the page cache out;
//! the `tests/store` suite checks this by killing a writer child with SIGKILL. Only a power loss
//! or kernel crash can lose the last transactions, and in WAL mode even then the database is
//! never corrupted. [`Durability::Power`] (`synchronous=FULL`) fsyncs the WAL on every commit
//! and closes that window, at the price of one fsync per group commit.
//!
//! # Idempotency and totals
//!
//! `(project, trace_id, span_id)` is unique. A re-sent span (OTLP exporters retry on
//! `UNAVAILABLE` and timeouts) is ignored: the first write wins, and since the rollups are only
//! updated for rows actually inserted, a retry never double-counts.
//!
//! Every write transaction also maintains, for the spans it inserted:
//!
//! - `traces`: one row per trace with its totals over *all* its spans, whatever service sent
//!   them and in whatever batches or order they arrived;
//! - `daily_queries`: per project and UTC day, the number of queries (root traces) and the cost,
//!   LLM calls and tokens of those traces;
//! - `daily_rollups`: per project, UTC day (of each span's end time), model, operation and
//!   tenant, the spans, LLM calls, cost, tokens and errors.
//!
//! A trace is a query once its root span (no parent) has arrived. It is attributed to the UTC
//! day of the **root span's end time**, and its cost is the sum over every span of the trace,
//! including spans that arrive after the root (their cost is added to the root's day). A trace
//! whose root never arrives is not a query: its spans count in the breakdowns (which are by
//! span day) but not in cost per query. So the 30-day views read only `daily_queries` and
//! `daily_rollups` (tens of thousands of rows at most), never `spans`.
//!
//! Money is integer nano-USD (`i64`) everywhere; `cost_usd` in `spans` is a REAL copy for people
//! writing SQL by hand, never summed by Peekr.

mod dashboard_queries;
mod query;
mod schema;
mod sql;
mod writer;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::thread::JoinHandle;

use jiff::civil::Date;
use rusqlite::Connection;
use serde::Serialize;
use tokio::sync::oneshot;

use super::record::SpanRecord;

pub use dashboard_queries::{
    FilterValues, MAX_FILTER_VALUES, SessionTurn, SpanFilter, SpanGroup, SpanRollupRow,
};
pub use sql::{SqlError, SqlOutput, run_readonly_sql};

/// Default data directory of `peekr serve`.
pub const DATA_DIR_DEFAULT: &str = "peekr-data";
/// File name of the database inside the data directory.
pub const DB_FILE_NAME: &str = "peekr.db";
/// Default number of submissions (batches) the write queue holds.
pub const QUEUE_CAPACITY_DEFAULT: usize = 1024;
/// Default number of spans allowed in the write queue at once, summed over submissions.
///
/// This bounds the receiver's memory: at roughly 1 KiB per span with its attributes, 65,536
/// queued spans are about 64 MiB.
pub const MAX_QUEUED_SPANS_DEFAULT: usize = 65_536;
/// Default maximum number of submissions committed in one transaction (group commit).
pub const MAX_GROUP_SUBMISSIONS_DEFAULT: usize = 256;
/// Longest window, in days, the read queries accept; longer windows are clamped.
pub const MAX_WINDOW_DAYS: u32 = 3660;

// ===== errors =====

/// An error from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The write queue is full: ingest is faster than the disk. Retry later (gRPC
    /// `UNAVAILABLE`).
    #[error(
        "store queue is full ({queued_spans} spans queued, limit {max_queued_spans}); retry later"
    )]
    Full {
        /// Spans queued when the submission was refused.
        queued_spans: usize,
        /// The configured limit.
        max_queued_spans: usize,
    },
    /// The store was shut down; nothing more is accepted.
    #[error("store is shut down")]
    Closed,
    /// A batch was submitted with an empty project name.
    #[error("invalid project name {0:?}: must not be empty")]
    InvalidProject(String),
    /// The data directory could not be created.
    #[error("cannot create data directory {}: {error}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The database file could not be opened.
    #[error("cannot open database {}: {error}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        error: rusqlite::Error,
    },
    /// The file system refused WAL mode (for example a network file system), so acknowledged
    /// writes could not be made durable the way Peekr promises.
    #[error("database {} cannot use WAL journal mode (got {mode:?})", path.display())]
    NoWal {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite reported instead.
        mode: String,
    },
    /// The database was written by a newer Peekr; this one does not know its schema.
    #[error(
        "database schema version {found} is newer than this peekr supports ({supported}); upgrade peekr"
    )]
    SchemaTooNew {
        /// Version found in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// A transaction failed; the batches in it were not stored (and not acknowledged).
    #[error("write transaction failed: {0}")]
    Commit(Arc<rusqlite::Error>),
    /// The writer thread could not be started.
    #[error("cannot start the store writer thread: {0}")]
    Spawn(std::io::Error),
    /// Any other SQLite error.
    #[error("sqlite error: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    #[cold]
    #[inline(never)]
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Sqlite(error)
    }
}

// ===== writes =====

/// What a committed submission did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteAck {
    /// Spans in the submission.
    pub spans: usize,
    /// Spans newly stored.
    pub inserted: usize,
    /// Spans ignored because the same `(project, trace_id, span_id)` was already stored
    /// (an exporter retry).
    pub duplicates: usize,
}

/// A submitted batch: a future that resolves once the batch is committed (or failed).
///
/// Dropping the ticket does not cancel the write.
#[derive(Debug)]
#[must_use = "a write is acknowledged only when its ticket resolves"]
pub struct WriteTicket {
    rx: oneshot::Receiver<Result<WriteAck, StoreError>>,
}

impl WriteTicket {
    /// Blocks the current thread until the batch is committed. For synchronous callers (the
    /// CLI, benches).
    ///
    /// # Panics
    ///
    /// Panics if called from within an asynchronous execution context (a tokio runtime
    /// thread); `.await` the ticket there instead.
    pub fn wait(self) -> Result<WriteAck, StoreError> {
        self.rx.blocking_recv().unwrap_or(Err(StoreError::Closed))
    }
}

impl Future for WriteTicket {
    type Output = Result<WriteAck, StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A dropped sender means the writer exited before reaching this batch: not stored.
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|result| result.unwrap_or(Err(StoreError::Closed)))
    }
}

/// How hard a commit works to survive crashes. See the [module docs](self#durability).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: an acknowledged span survives any process crash
    /// (`kill -9`); a power loss may lose the last commits. The default.
    #[default]
    Process,
    /// `synchronous=FULL`: also survives power loss; one fsync per group commit.
    Power,
}

impl Durability {
    fn pragma_value(self) -> &'static str {
        match self {
            Durability::Process => "NORMAL",
            Durability::Power => "FULL",
        }
    }
}

// ===== reads =====

/// A range of whole UTC days, `first_day()..=last_day`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    last_day: Date,
    days: u32,
}

impl Window {
    /// The `days` UTC days ending with `last_day` (inclusive). `days` is clamped to
    /// `1..=`[`MAX_WINDOW_DAYS`].
    #[must_use]
    pub fn ending(last_day: Date, days: u32) -> Window {
        Window {
            last_day,
            days: days.clamp(1, MAX_WINDOW_DAYS),
        }
    }

    /// The `days` UTC days ending today.
    #[must_use]
    pub fn last_days(days: u32) -> Window {
        Window::ending(today_utc(), days)
    }

    /// The last day of the window (inclusive).
    #[must_use]
    pub fn last_day(&self) -> Date {
        self.last_day
    }

    /// The first day of the window (inclusive).
    #[must_use]
    pub fn first_day(&self) -> Date {
        schema::date_from_days(schema::days_from_date(self.last_day) - i64::from(self.days) + 1)
    }

    /// Number of days in the window.
    #[must_use]
    pub fn days(&self) -> u32 {
        self.days
    }

    /// Every day of the window, oldest first.
    pub fn iter_days(&self) -> impl Iterator<Item = Date> {
        let last = schema::days_from_date(self.last_day);
        let first = last - i64::from(self.days) + 1;
        (first..=last).map(schema::date_from_days)
    }
}

/// Today's date in UTC.
#[must_use]
pub fn today_utc() -> Date {
    schema::date_from_days(jiff::Timestamp::now().as_second().div_euclid(86_400))
}

/// Serializes a value through its `Display` (dates as `YYYY-MM-DD`, timestamps as RFC 3339),
/// since jiff is built without its `serde` feature.
pub(crate) mod display {
    pub(crate) fn serialize<T: std::fmt::Display, S: serde::Serializer>(
        value: &T,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub(crate) mod option {
        pub(crate) fn serialize<T: std::fmt::Display, S: serde::Serializer>(
            value: &Option<T>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(value) => s.collect_str(value),
                None => s.serialize_none(),
            }
        }
    }
}

/// Cost per query on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayCost {
    /// The UTC day.
    #[serde(with = "display")]
    pub day: Date,
    /// Queries: traces whose root span ended that day.
    pub queries: i64,
    /// Cost of those traces, over all their spans, in nano-USD.
    pub cost_nanos: i64,
    /// `cost_nanos / queries`, rounded half up; `None` on a day without queries.
    pub cost_per_query_nanos: Option<i64>,
    /// LLM calls in those traces.
    pub llm_calls: i64,
    /// Input tokens in those traces.
    pub tokens_input: i64,
    /// Output tokens in those traces.
    pub tokens_output: i64,
}

/// Cost per query over a whole window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Queries in the window.
    pub queries: i64,
    /// Cost of those queries, nano-USD.
    pub cost_nanos: i64,
    /// `cost_nanos / queries`, rounded half up; `None` without queries.
    pub cost_per_query_nanos: Option<i64>,
    /// LLM calls in those queries.
    pub llm_calls: i64,
    /// Input tokens in those queries.
    pub tokens_input: i64,
    /// Output tokens in those queries.
    pub tokens_output: i64,
}

/// What a [`Store::breakdown`] groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The model reported on each span.
    #[default]
    Model,
    /// `gen_ai.operation.name` (chat, embeddings, ...).
    Operation,
    /// The tenant id on each span.
    Tenant,
}

impl Dimension {
    /// The lower-case name used on the command line and in JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Model => "model",
            Dimension::Operation => "operation",
            Dimension::Tenant => "tenant",
        }
    }
}

impl std::fmt::Display for Dimension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown [`Dimension`] name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown breakdown {0:?}: expected model, operation or tenant")]
pub struct ParseDimensionError(pub String);

impl std::str::FromStr for Dimension {
    type Err = ParseDimensionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "model" => Ok(Dimension::Model),
            "operation" => Ok(Dimension::Operation),
            "tenant" => Ok(Dimension::Tenant),
            other => Err(ParseDimensionError(other.to_owned())),
        }
    }
}

/// One row of a [`Store::breakdown`]: spans grouped by model, operation or tenant, by the UTC
/// day of each span's end time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakdownRow {
    /// The model, operation or tenant; `None` for spans without one.
    pub key: Option<String>,
    /// Cost, nano-USD.
    pub cost_nanos: i64,
    /// This row's fraction of the breakdown's total cost, `0.0..=1.0`, rounded to six
    /// decimals (display only).
    pub share: f64,
    /// LLM calls.
    pub llm_calls: i64,
    /// Spans.
    pub spans: i64,
    /// Input tokens.
    pub tokens_input: i64,
    /// Output tokens.
    pub tokens_output: i64,
    /// Spans with error status.
    pub errors: i64,
    /// Cost of the spans with error status, nano-USD.
    pub error_cost_nanos: i64,
}

/// One trace with its totals over all its spans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceSummary {
    /// Trace id.
    pub trace_id: String,
    /// UTC day of the root span's end; `None` while the root has not arrived.
    #[serde(with = "display::option")]
    pub day: Option<Date>,
    /// Name of the root span.
    pub root_name: Option<String>,
    /// Service of the root span.
    pub service: Option<String>,
    /// Earliest span start, Unix ns.
    pub start_time_ns: i64,
    /// Latest span end, Unix ns.
    pub end_time_ns: i64,
    /// Cost, nano-USD.
    pub cost_nanos: i64,
    /// LLM calls.
    pub llm_calls: i64,
    /// Input tokens.
    pub tokens_input: i64,
    /// Output tokens.
    pub tokens_output: i64,
    /// Spans stored for the trace.
    pub spans: i64,
    /// Spans with error status.
    pub errors: i64,
    /// Tenant (of the root, else of the first span that had one).
    pub tenant_id: Option<String>,
    /// Session (of the root, else of the first span that had one).
    pub session_id: Option<String>,
}

/// What a retention pass deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetentionReport {
    /// First day kept; everything before it was deleted.
    pub cutoff_day: Option<Date>,
    /// Spans deleted.
    pub spans: usize,
    /// Trace rows deleted.
    pub traces: usize,
    /// Rollup rows (both daily tables) deleted.
    pub rollups: usize,
}

// ===== the trait =====

/// Where the receiver keeps spans and what the CLI and Costs page read.
///
/// Every read is scoped to one project: a project never sees another's data. Reads block on
/// I/O; from async code call them through `tokio::task::spawn_blocking`.
pub trait Store: Send + Sync + 'static {
    /// Queues `spans` of `project` for writing. Never blocks: a full queue is
    /// [`StoreError::Full`] at once. The ticket resolves after the batch is committed.
    fn submit(&self, project: &str, spans: Vec<SpanRecord>) -> Result<WriteTicket, StoreError>;

    /// Stops accepting writes, commits everything already accepted, and waits for that.
    /// Blocks; idempotent.
    fn close(&self) -> Result<(), StoreError>;

    /// Projects with data, sorted.
    fn projects(&self) -> Result<Vec<String>, StoreError>;

    /// Cost per query for every day of `window`, oldest first (days without queries included).
    fn cost_per_query(&self, project: &str, window: Window) -> Result<Vec<DayCost>, StoreError>;

    /// Cost per query over the whole `window`.
    fn totals(&self, project: &str, window: Window) -> Result<Totals, StoreError> {
        Ok(Totals::from_days(&self.cost_per_query(project, window)?))
    }

    /// Cost, calls and tokens by `by` over `window`, most expensive first. Only groups with
    /// LLM calls or cost appear.
    fn breakdown(
        &self,
        project: &str,
        window: Window,
        by: Dimension,
    ) -> Result<Vec<BreakdownRow>, StoreError>;

    /// The `limit` most expensive queries (root traces) whose root ended in `window`.
    fn top_traces(
        &self,
        project: &str,
        window: Window,
        limit: usize,
    ) -> Result<Vec<TraceSummary>, StoreError>;

    /// The stored spans of one trace, by start time.
    fn trace_spans(&self, project: &str, trace_id: &str) -> Result<Vec<SpanRecord>, StoreError>;

    /// Deletes data older than `days` UTC days: everything before `today - (days - 1)`, so
    /// `days = 30` keeps exactly what a 30-day report shows. Applies to every project.
    fn delete_older_than(&self, days: u32) -> Result<RetentionReport, StoreError>;

    // ----- filtered reads for the Costs page and query API (issue 5) -----
    //
    // The unfiltered views above read the rollups. These read `traces` and `spans`, so they
    // accept a [`SpanFilter`] and group by columns the rollups do not keep. Filter semantics
    // are in `store/dashboard_queries.rs`: tenant narrows queries and spans; model, service
    // and operation narrow only the spans whose cost counts.

    /// [`Store::cost_per_query`] with `filter` applied, every day of `window`, oldest first.
    fn cost_per_query_filtered(
        &self,
        project: &str,
        window: Window,
        filter: &SpanFilter,
    ) -> Result<Vec<DayCost>, StoreError>;

    /// Sums over the spans matching `filter` that ended in `window`, per UTC day and per
    /// combination of the `by` columns (any [`SpanGroup`], including service and span name),
    /// with errors, retries and evaluation scores: one pass that answers every breakdown,
    /// period comparison and insight of a page load.
    fn span_rollup(
        &self,
        project: &str,
        window: Window,
        filter: &SpanFilter,
        by: &[SpanGroup],
    ) -> Result<Vec<SpanRollupRow>, StoreError>;

    /// [`Store::top_traces`] restricted to queries of the filter's tenant that contain a span
    /// matching its model, service and operation.
    fn top_traces_filtered(
        &self,
        project: &str,
        window: Window,
        filter: &SpanFilter,
        limit: usize,
    ) -> Result<Vec<TraceSummary>, StoreError>;

    /// Queries that carry a session id, ordered by session then start time (at most `limit`
    /// rows): the turns of each conversation.
    fn session_turns(
        &self,
        project: &str,
        window: Window,
        filter: &SpanFilter,
        limit: usize,
    ) -> Result<Vec<SessionTurn>, StoreError>;

    /// Distinct tenants, models, services and operations in `window` (for filter menus).
    fn filter_values(&self, project: &str, window: Window) -> Result<FilterValues, StoreError>;
}

impl Totals {
    /// Sums a day series.
    #[must_use]
    pub fn from_days(days: &[DayCost]) -> Totals {
        let mut totals = days.iter().fold(Totals::default(), |t, d| Totals {
            queries: t.queries.saturating_add(d.queries),
            cost_nanos: t.cost_nanos.saturating_add(d.cost_nanos),
            cost_per_query_nanos: None,
            llm_calls: t.llm_calls.saturating_add(d.llm_calls),
            tokens_input: t.tokens_input.saturating_add(d.tokens_input),
            tokens_output: t.tokens_output.saturating_add(d.tokens_output),
        });
        totals.cost_per_query_nanos = per_query(totals.cost_nanos, totals.queries);
        totals
    }
}

/// `cost / queries` rounded half away from zero, `None` without queries.
pub(crate) fn per_query(cost_nanos: i64, queries: i64) -> Option<i64> {
    if queries <= 0 {
        return None;
    }
    let (cost, queries) = (i128::from(cost_nanos), i128::from(queries));
    let rounded = (2 * cost + cost.signum() * queries) / (2 * queries);
    Some(i64::try_from(rounded).unwrap_or(i64::MAX))
}

// ===== SqliteStore =====

/// Settings of a [`SqliteStore`].
#[derive(Debug, Clone)]
#[must_use]
pub struct SqliteStoreConfig {
    path: PathBuf,
    queue_capacity: usize,
    max_queued_spans: usize,
    max_group_submissions: usize,
    durability: Durability,
    retention_days: Option<u32>,
}

impl Default for SqliteStoreConfig {
    /// `./peekr-data/peekr.db`, with the `*_DEFAULT` limits and no retention.
    fn default() -> Self {
        SqliteStoreConfig::in_dir(DATA_DIR_DEFAULT)
    }
}

impl SqliteStoreConfig {
    /// A store at the database file `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SqliteStoreConfig {
            path: path.into(),
            queue_capacity: QUEUE_CAPACITY_DEFAULT,
            max_queued_spans: MAX_QUEUED_SPANS_DEFAULT,
            max_group_submissions: MAX_GROUP_SUBMISSIONS_DEFAULT,
            durability: Durability::default(),
            retention_days: None,
        }
    }

    /// A store at `data_dir/peekr.db`.
    pub fn in_dir(data_dir: impl AsRef<Path>) -> Self {
        SqliteStoreConfig::new(data_dir.as_ref().join(DB_FILE_NAME))
    }

    /// Number of submissions the write queue holds (at least 1). Default
    /// [`QUEUE_CAPACITY_DEFAULT`].
    pub fn with_queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Number of spans the write queue holds, summed over submissions. A single submission
    /// larger than this is still accepted when the queue is empty. Default
    /// [`MAX_QUEUED_SPANS_DEFAULT`].
    pub fn with_max_queued_spans(mut self, spans: usize) -> Self {
        self.max_queued_spans = spans.max(1);
        self
    }

    /// Most submissions committed in one transaction (at least 1). Default
    /// [`MAX_GROUP_SUBMISSIONS_DEFAULT`].
    pub fn with_max_group_submissions(mut self, submissions: usize) -> Self {
        self.max_group_submissions = submissions.max(1);
        self
    }

    /// Crash safety of commits. Default [`Durability::Process`].
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Keep this many UTC days (at least 1); the writer deletes older data at start and then
    /// hourly. Default: keep everything.
    pub fn with_retention_days(mut self, days: Option<u32>) -> Self {
        self.retention_days = days.map(|d| d.max(1));
        self
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// State shared by submitters and the writer thread.
#[derive(Debug)]
struct Shared {
    queued_spans: AtomicUsize,
    max_queued_spans: usize,
    closed: AtomicBool,
}

/// The SQLite [`Store`]: one writer thread behind a bounded queue, and a small pool of read
/// connections. See the [module docs](self).
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    tx: SyncSender<writer::Msg>,
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
}

/// Read connections kept open for reuse.
const READER_POOL_SIZE: usize = 4;

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database and starts the writer thread.
    pub fn open(config: SqliteStoreConfig) -> Result<SqliteStore, StoreError> {
        let conn = schema::open_read_write(&config.path, config.durability)?;
        let (tx, rx) = mpsc::sync_channel(config.queue_capacity);
        let shared = Arc::new(Shared {
            queued_spans: AtomicUsize::new(0),
            max_queued_spans: config.max_queued_spans,
            closed: AtomicBool::new(false),
        });
        let writer = writer::Writer::new(
            conn,
            rx,
            Arc::clone(&shared),
            config.max_group_submissions,
            config.retention_days,
        );
        let handle = std::thread::Builder::new()
            .name("peekr-store-writer".into())
            .spawn(move || writer.run())
            .map_err(StoreError::Spawn)?;
        Ok(SqliteStore {
            path: config.path,
            tx,
            shared,
            writer: Mutex::new(Some(handle)),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// Opens the database file at `path` with default settings.
    pub fn open_path(path: impl Into<PathBuf>) -> Result<SqliteStore, StoreError> {
        SqliteStore::open(SqliteStoreConfig::new(path))
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Submits `spans` and waits for the commit: `submit(project, spans)?.await`.
    pub async fn write(
        &self,
        project: &str,
        spans: Vec<SpanRecord>,
    ) -> Result<WriteAck, StoreError> {
        self.submit(project, spans)?.await
    }

    /// Runs one read-only SQL statement on this store's file; see [`run_readonly_sql`].
    pub fn sql(&self, statement: &str, max_rows: Option<usize>) -> Result<SqlOutput, SqlError> {
        run_readonly_sql(&self.path, statement, max_rows)
    }

    /// Runs `f` on a pooled read connection.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => schema::open_reader(&self.path)?,
        };
        let result = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < READER_POOL_SIZE {
            pool.push(conn);
        }
        result
    }

    /// Sends a control message, waiting for queue space (control messages are rare and must
    /// not be refused).
    ///
    /// The reply comes over a std channel, so this blocks like any read (and, unlike a tokio
    /// `blocking_recv`, does not panic when called on a runtime thread).
    fn control<T>(
        &self,
        make: impl FnOnce(SyncSender<Result<T, StoreError>>) -> writer::Msg,
    ) -> Result<T, StoreError> {
        let (reply, rx) = mpsc::sync_channel(1);
        self.tx.send(make(reply)).map_err(|_| StoreError::Closed)?;
        rx.recv().unwrap_or(Err(StoreError::Closed))
    }
}

impl Store for SqliteStore {
    fn submit(&self, project: &str, spans: Vec<SpanRecord>) -> Result<WriteTicket, StoreError> {
        if project.is_empty() {
            return Err(StoreError::InvalidProject(project.to_owned()));
        }
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let n = spans.len();
        // Reserve room for the spans first; an oversized batch is let in alone so it cannot be
        // refused forever.
        let before = self.shared.queued_spans.fetch_add(n, Ordering::AcqRel);
        if before > 0 && before.saturating_add(n) > self.shared.max_queued_spans {
            self.shared.queued_spans.fetch_sub(n, Ordering::AcqRel);
            return Err(StoreError::Full {
                queued_spans: before,
                max_queued_spans: self.shared.max_queued_spans,
            });
        }
        let (reply, rx) = oneshot::channel();
        let msg = writer::Msg::Write(writer::Submission {
            project: project.to_owned(),
            spans,
            reply,
        });
        match self.tx.try_send(msg) {
            Ok(()) => Ok(WriteTicket { rx }),
            Err(error) => {
                self.shared.queued_spans.fetch_sub(n, Ordering::AcqRel);
                match error {
                    TrySendError::Full(_) => Err(StoreError::Full {
                        queued_spans: before,
                        max_queued_spans: self.shared.max_queued_spans,
                    }),
                    TrySendError::Disconnected(_) => Err(StoreError::Closed),
                }
            }
        }
    }

    fn close(&self) -> Result<(), StoreError> {
        self.shared.closed.store(true, Ordering::Release);
        let handle = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(handle) = handle else {
            return Ok(());
        };
        // Queued behind every accepted submission, so the writer commits them all first.
        let _ = self.tx.send(writer::Msg::Shutdown);
        if handle.join().is_err() {
            tracing::error!(name: "Store.WriterPanicked", "store writer thread panicked");
        }
        Ok(())
    }

    fn projects(&self) -> Result<Vec<String>, StoreError> {
        self.read(query::projects)
    }

    fn cost_per_query(&self, project: &str, window: Window) -> Result<Vec<DayCost>, StoreError> {
        self.read(|conn| query::cost_per_query(conn, project, window))
    }

    fn breakdown(
        &self,
        project: &str,
        window: Window,
        by: Dimension,
    ) -> Result<Vec<BreakdownRow>, StoreError> {
        self.read(|conn| query::breakdown(conn, project, window, by))
    }

    fn top_traces(
        &self,
        project: &str,
        window: Window,
        limit: usize,
    ) -> Result<Vec<TraceSummary>, StoreError> {
        self.read(|conn| query::top_traces(conn, project, window, limit))
    }

    fn trace_spans(&self, project: &str, trace_id: &str) -> Result<Vec<SpanRecord>, StoreError> {
        self.read(|conn| query::trace_spans(conn, project, trace_id))
    }

    fn delete_older_than(&self, days: u32) -> Result<RetentionReport, StoreError> {
        let days = days.max(1);
        let today = today_utc();
        self.control(|reply| writer::Msg::Retain { days, today, reply })
    }

    fn cost_per_query_filtered(
        &self,
        project: &str,
        window: Window,
        filter: &SpanFilter,
    ) -> Result<Vec<DayCost>, StoreError> {
        self.read(|conn| dashboard_queries::cost_per_query_filtered(conn, project, window, filter))
    }

    fn span_rollup(
        &self,
        project: &str,
        window: Window,
        filter: &SpanFilter,
        by: &[SpanGroup],
    ) -> Result<Vec<SpanRollupRow>, StoreError> {
        self.read(|conn| dashboard_queries::span_rollup(conn, project, window, filter, by))
    }

    fn top_traces_filtered(
        &self,
        project: &str,
        window: Window,
        filter: &SpanFilter,
        limit: usize,
    ) -> Result<Vec<TraceSummary>, StoreError> {
        self.read(|conn| {
            dashboard_queries::top_traces_filtered(conn, project, window, filter, limit)
        })
    }

    fn session_turns(
        &self,
        project: &str,
        window: Window,
        filter: &SpanFilter,
        limit: usize,
    ) -> Result<Vec<SessionTurn>, StoreError> {
        self.read(|conn| dashboard_queries::session_turns(conn, project, window, filter, limit))
    }

    fn filter_values(&self, project: &str, window: Window) -> Result<FilterValues, StoreError> {
        self.read(|conn| dashboard_queries::filter_values(conn, project, window))
    }
}

impl SqliteStore {
    /// [`Store::delete_older_than`] relative to a given `today` instead of the clock.
    pub fn delete_older_than_at(
        &self,
        days: u32,
        today: Date,
    ) -> Result<RetentionReport, StoreError> {
        let days = days.max(1);
        self.control(|reply| writer::Msg::Retain { days, today, reply })
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// Opens a read-write connection to the database at `path`, creating and migrating it. For the
/// other parts of the server that keep their own rows in the same file (API keys).
pub(crate) fn open_connection(
    path: &Path,
    durability: Durability,
) -> Result<Connection, StoreError> {
    schema::open_read_write(path, durability)
}
