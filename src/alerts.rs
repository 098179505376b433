//! Alerts on cost per query: [`CostSpike`].
//!
//! A [`CostSpike`] fires when the average cost per query (one query = one root trace) over a
//! recent **window** reaches `multiplier` times the average over the preceding **baseline**
//! (7 days by default). The exact formula, with its edge cases, is in `docs/alerts.md`; in short,
//! at evaluation time `t`, for each scope key (the whole project, each tenant or each operation):
//!
//! ```text
//! window   W = the `window` of time ending at t          (queries n_W, cost C_W)
//! baseline B = the `baseline` of time just before W       (queries n_B, cost C_B)
//!
//! fires    when n_W ≥ min_window_queries, n_B ≥ min_baseline_queries, C_B > 0,
//!               C_W / n_W ≥ multiplier × C_B / n_B   (compared exactly, in integers),
//!               the key is not already firing, and the cool-down since it last fired is over
//! resolves when it is firing, n_W and n_B meet the same minimums, and C_W / n_W < multiplier × C_B / n_B
//! ```
//!
//! In a program, pass the rule to [`InstrumentBuilder::with_alert`](crate::InstrumentBuilder):
//! the processor hands each local root span's totals to an [`AlertObserver`] through a bounded
//! channel (never blocking the span path; a full queue drops the sample and counts it), and a
//! background thread evaluates the rule and calls the [`AlertSink`]s.
//!
//! ```text
//!  root span ends ─► CostProcessor ─► AlertObserver::on_root_span ─try_send─► [bounded queue]
//!                                                                                  │
//!                            evaluator thread: CostSpikeEvaluator::record/evaluate ◄┘
//!                                                  │
//!                                                  ▼
//!                               AlertSink::fired / resolved  (TracingSink by default)
//! ```
//!
//! The evaluator, [`CostSpikeEvaluator`], is pure: it takes [`QuerySample`]s and an evaluation
//! time, so the receiver runs the same rule over its stored rollups and tests drive it with a
//! simulated clock.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::pricing::Nanos;
use crate::processor::SpanObserver;
use crate::rollup::TraceTotals;

/// Default multiplier: fire when cost per query doubles.
pub const MULTIPLIER_DEFAULT: f64 = 2.0;
/// Default baseline length: 7 days.
pub const BASELINE_DEFAULT: Duration = Duration::from_secs(7 * 24 * 3600);
/// Default evaluation window: 1 hour.
pub const WINDOW_DEFAULT: Duration = Duration::from_secs(3600);
/// Default minimum number of queries in the window before the rule may fire.
pub const MIN_WINDOW_QUERIES_DEFAULT: u64 = 20;
/// Default minimum number of queries in the baseline before the rule may fire.
pub const MIN_BASELINE_QUERIES_DEFAULT: u64 = 100;
/// Default cool-down: after firing, the same key does not fire again for 1 hour.
pub const COOLDOWN_DEFAULT: Duration = Duration::from_secs(3600);
/// Default bucket width the samples are summed into: 1 minute.
pub const RESOLUTION_DEFAULT: Duration = Duration::from_secs(60);
/// Default bound on distinct scope keys (tenants, operations) tracked at once.
pub const MAX_KEYS_DEFAULT: usize = 1000;
/// Default capacity of the queue between the span path and the evaluator thread.
pub const QUEUE_CAPACITY_DEFAULT: usize = 1024;
/// The rule kind written in every [`Alert`].
pub const COST_SPIKE: &str = "cost_spike";

/// Multipliers are held in thousandths so the comparison is exact integer arithmetic.
const MILLI: i128 = 1000;

// ===== the rule =====

/// What a [`CostSpike`] compares: the whole project, or each tenant or operation on its own.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// All queries together.
    #[default]
    Project,
    /// Each tenant separately (queries without a tenant form one group, key `None`).
    Tenant,
    /// Each operation separately (queries without an operation form one group, key `None`).
    Operation,
}

impl Scope {
    /// The lower-case name used in JSON and logs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Project => "project",
            Scope::Tenant => "tenant",
            Scope::Operation => "operation",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cost-per-query spike rule. See the [module docs](self) and `docs/alerts.md` for the
/// formula.
///
/// ```
/// use std::time::Duration;
/// use peekr::alerts::{CostSpike, Scope};
///
/// let rule = CostSpike::new(2.0)
///     .with_window(Duration::from_secs(30 * 60))
///     .with_scope(Scope::Tenant);
/// assert_eq!(rule.multiplier(), 2.0);
/// ```
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostSpike {
    name: String,
    multiplier_milli: u64,
    baseline: Duration,
    window: Duration,
    min_window_queries: u64,
    min_baseline_queries: u64,
    cooldown: Duration,
    scope: Scope,
    resolution: Duration,
    max_keys: usize,
}

impl Default for CostSpike {
    fn default() -> Self {
        CostSpike::new(MULTIPLIER_DEFAULT)
    }
}

impl CostSpike {
    /// A rule that fires when cost per query reaches `multiplier` × the baseline, with every
    /// other setting at its default.
    ///
    /// The multiplier is kept to three decimals and clamped to `1.0..=1_000_000.0`; a
    /// non-finite value means [`MULTIPLIER_DEFAULT`].
    pub fn new(multiplier: f64) -> Self {
        CostSpike {
            name: COST_SPIKE.to_owned(),
            multiplier_milli: to_milli(multiplier),
            baseline: BASELINE_DEFAULT,
            window: WINDOW_DEFAULT,
            min_window_queries: MIN_WINDOW_QUERIES_DEFAULT,
            min_baseline_queries: MIN_BASELINE_QUERIES_DEFAULT,
            cooldown: COOLDOWN_DEFAULT,
            scope: Scope::Project,
            resolution: RESOLUTION_DEFAULT,
            max_keys: MAX_KEYS_DEFAULT,
        }
    }

    /// A name for this rule, carried in every [`Alert`] (default `cost_spike`).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Length of the baseline the window is compared with (default 7 days). Rounded up to
    /// whole buckets (see [`with_resolution`](Self::with_resolution)).
    pub fn with_baseline(mut self, baseline: Duration) -> Self {
        self.baseline = baseline;
        self
    }

    /// Length of the evaluation window (default 1 hour). Rounded up to whole buckets.
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Minimum queries in the window **and** in the baseline before the rule may fire or
    /// resolve (defaults 20 and 100).
    pub fn with_min_queries(mut self, window: u64, baseline: u64) -> Self {
        self.min_window_queries = window;
        self.min_baseline_queries = baseline;
        self
    }

    /// After firing for a key, the same key does not fire again until this much time has
    /// passed since it fired, even if it resolved meanwhile (default 1 hour).
    pub fn with_cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// What is compared: the project, each tenant, or each operation (default project).
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Width of the buckets samples are summed into (default 1 minute, at least 1 second).
    /// The window and baseline are whole numbers of buckets; the receiver evaluating daily
    /// rollups uses one day.
    pub fn with_resolution(mut self, resolution: Duration) -> Self {
        self.resolution = resolution;
        self
    }

    /// Most distinct keys (tenants, operations) tracked at once (default 1000). Samples for
    /// further keys are counted in [`CostSpikeEvaluator::overflow`] and ignored.
    pub fn with_max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys.max(1);
        self
    }

    /// The rule's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The multiplier, to three decimals.
    #[must_use]
    pub fn multiplier(&self) -> f64 {
        self.multiplier_milli as f64 / 1000.0
    }

    /// The baseline length.
    #[must_use]
    pub fn baseline(&self) -> Duration {
        self.baseline
    }

    /// The window length.
    #[must_use]
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Minimum queries in the window.
    #[must_use]
    pub fn min_window_queries(&self) -> u64 {
        self.min_window_queries
    }

    /// Minimum queries in the baseline.
    #[must_use]
    pub fn min_baseline_queries(&self) -> u64 {
        self.min_baseline_queries
    }

    /// The cool-down.
    #[must_use]
    pub fn cooldown(&self) -> Duration {
        self.cooldown
    }

    /// The scope.
    #[must_use]
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The bucket width, at least one second.
    #[must_use]
    pub fn resolution(&self) -> Duration {
        self.resolution.max(Duration::from_secs(1))
    }

    fn resolution_secs(&self) -> i64 {
        i64::try_from(self.resolution().as_secs()).unwrap_or(i64::MAX)
    }

    /// Buckets in the window (at least one).
    fn window_buckets(&self) -> i64 {
        buckets_in(self.window, self.resolution_secs())
    }

    /// Buckets in the baseline (at least one).
    fn baseline_buckets(&self) -> i64 {
        buckets_in(self.baseline, self.resolution_secs())
    }
}

fn to_milli(multiplier: f64) -> u64 {
    let m = if multiplier.is_finite() {
        multiplier
    } else {
        MULTIPLIER_DEFAULT
    };
    // Clamped to 1_000..=1_000_000_000 first, so the cast cannot truncate or wrap.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let milli = (m.clamp(1.0, 1_000_000.0) * 1000.0).round() as u64;
    milli
}

fn buckets_in(d: Duration, res_secs: i64) -> i64 {
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2);
    let secs = if d.subsec_nanos() > 0 {
        secs.saturating_add(1)
    } else {
        secs
    };
    (secs.saturating_add(res_secs - 1) / res_secs).clamp(1, MAX_BUCKETS)
}

/// Whole seconds since the Unix epoch, negative before it.
fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The time `secs` after (or before) the epoch, saturating at the epoch when not
/// representable.
fn from_unix_secs(secs: i64) -> SystemTime {
    let d = Duration::from_secs(secs.unsigned_abs());
    let t = if secs >= 0 {
        UNIX_EPOCH.checked_add(d)
    } else {
        UNIX_EPOCH.checked_sub(d)
    };
    t.unwrap_or(UNIX_EPOCH)
}

/// Bound on buckets per period (about 34,000 years at one-second buckets), so that bucket
/// arithmetic cannot overflow whatever durations are configured.
const MAX_BUCKETS: i64 = 1 << 40;

// ===== samples and alerts =====

/// One or more queries (root traces) with their total cost: what a [`CostSpikeEvaluator`]
/// consumes.
///
/// The library sends one sample per local root span (`queries = 1`); the receiver may send
/// pre-aggregated rollups (`queries = n`, the summed cost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySample {
    /// When the queries ended (the root span's end time).
    pub at: SystemTime,
    /// Tenant, if known.
    pub tenant: Option<String>,
    /// Operation, if known.
    pub operation: Option<String>,
    /// Number of queries in this sample.
    pub queries: u64,
    /// Their total cost.
    pub cost: Nanos,
}

impl QuerySample {
    /// One query of `cost` ending at `at`, with no tenant or operation.
    #[must_use]
    pub fn query(at: SystemTime, cost: Nanos) -> Self {
        QuerySample {
            at,
            tenant: None,
            operation: None,
            queries: 1,
            cost,
        }
    }

    /// Sets the tenant.
    #[must_use]
    pub fn with_tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// Sets the operation.
    #[must_use]
    pub fn with_operation(mut self, operation: impl Into<String>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    fn key(&self, scope: Scope) -> Option<&str> {
        match scope {
            Scope::Project => None,
            Scope::Tenant => self.tenant.as_deref(),
            Scope::Operation => self.operation.as_deref(),
        }
    }
}

/// Whether an [`Alert`] reports a firing or a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The rule's condition started to hold.
    Firing,
    /// The condition stopped holding.
    Resolved,
}

impl AlertState {
    /// `firing` or `resolved`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }
}

/// Queries and cost over one stretch of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodStats {
    /// Start (inclusive), aligned to the rule's resolution.
    pub from: SystemTime,
    /// End (exclusive), aligned to the rule's resolution.
    pub to: SystemTime,
    /// Queries.
    pub queries: u64,
    /// Their total cost.
    pub cost: Nanos,
}

impl PeriodStats {
    /// `cost / queries`, rounded half up to the nano-USD; zero without queries.
    #[must_use]
    pub fn cost_per_query(&self) -> Nanos {
        if self.queries == 0 {
            return Nanos::ZERO;
        }
        let (c, n) = (i128::from(self.cost.0.max(0)), i128::from(self.queries));
        Nanos(i64::try_from((2 * c + n) / (2 * n)).unwrap_or(i64::MAX))
    }
}

/// A firing or resolution of a rule, with the numbers that decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Always [`COST_SPIKE`] for now.
    pub kind: &'static str,
    /// The rule's name ([`CostSpike::with_name`]).
    pub rule: String,
    /// Firing or resolved.
    pub state: AlertState,
    /// The rule's scope.
    pub scope: Scope,
    /// The tenant or operation for scoped rules; `None` for the project (or for queries
    /// without a tenant/operation).
    pub key: Option<String>,
    /// When the rule fired. For a resolution, the time of the firing it ends.
    pub fired_at: SystemTime,
    /// The evaluation time of this event (equal to `fired_at` for a firing).
    pub at: SystemTime,
    /// The evaluation window.
    pub window: PeriodStats,
    /// The baseline.
    pub baseline: PeriodStats,
    /// The configured multiplier.
    pub multiplier: f64,
    /// Window cost per query ÷ baseline cost per query (display only; the decision is exact).
    pub ratio: f64,
}

fn rfc3339(t: SystemTime) -> String {
    let secs = unix_secs(t);
    jiff::Timestamp::from_second(secs).map_or_else(|_| secs.to_string(), |ts| ts.to_string())
}

impl Alert {
    /// The alert as JSON, as sent to webhooks: times in RFC 3339, money as exact decimal USD
    /// strings.
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use peekr::alerts::*;
    /// # use peekr::pricing::Nanos;
    /// # let p = PeriodStats { from: UNIX_EPOCH, to: UNIX_EPOCH, queries: 1, cost: Nanos(2) };
    /// # let alert = Alert { kind: COST_SPIKE, rule: "cost_spike".into(), state: AlertState::Firing,
    /// #   scope: Scope::Project, key: None, fired_at: UNIX_EPOCH, at: UNIX_EPOCH,
    /// #   window: p, baseline: p, multiplier: 2.0, ratio: 1.0 };
    /// let json = alert.to_json();
    /// assert_eq!(json["state"], "firing");
    /// assert_eq!(json["window"]["cost_per_query_usd"], "0.000000002");
    /// ```
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        let period = |p: &PeriodStats| {
            serde_json::json!({
                "from": rfc3339(p.from),
                "to": rfc3339(p.to),
                "queries": p.queries,
                "cost_usd": p.cost.to_string(),
                "cost_per_query_usd": p.cost_per_query().to_string(),
            })
        };
        serde_json::json!({
            "kind": self.kind,
            "rule": self.rule,
            "state": self.state.as_str(),
            "scope": self.scope.as_str(),
            "key": self.key,
            "fired_at": rfc3339(self.fired_at),
            "at": rfc3339(self.at),
            "multiplier": self.multiplier,
            "ratio": self.ratio,
            "window": period(&self.window),
            "baseline": period(&self.baseline),
        })
    }
}

impl fmt::Display for Alert {
    /// One line, e.g. `cost_spike firing (tenant acme): cost per query 0.002000000 USD over 40
    /// queries is 2.00x the baseline 0.001000000 USD over 1008 queries (multiplier 2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.rule, self.state.as_str())?;
        if self.scope != Scope::Project {
            write!(
                f,
                " ({} {})",
                self.scope,
                self.key.as_deref().unwrap_or("(none)")
            )?;
        }
        write!(
            f,
            ": cost per query {} USD over {} queries is {:.2}x the baseline {} USD over {} queries (multiplier {})",
            self.window.cost_per_query(),
            self.window.queries,
            self.ratio,
            self.baseline.cost_per_query(),
            self.baseline.queries,
            self.multiplier,
        )
    }
}

// ===== the evaluator =====

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    queries: u64,
    cost: i64,
}

/// The alert state of one scope key, to persist between evaluations (the receiver keeps it in
/// its alert history).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyState {
    /// When the currently open alert fired; `None` when not firing.
    pub firing_since: Option<SystemTime>,
    /// When this key last fired (for the cool-down), open or not.
    pub last_fired: Option<SystemTime>,
}

#[derive(Debug, Default)]
struct Series {
    buckets: BTreeMap<i64, Bucket>,
    state: KeyState,
}

/// Evaluates a [`CostSpike`] over [`QuerySample`]s: pure, clock-free (the caller passes the
/// evaluation time), so it runs the same in the library's thread, in the receiver and in
/// tests.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use peekr::alerts::{AlertState, CostSpike, CostSpikeEvaluator, QuerySample};
/// use peekr::pricing::Nanos;
///
/// let hour = Duration::from_secs(3600);
/// let rule = CostSpike::new(2.0).with_min_queries(1, 1).with_baseline(24 * hour);
/// let mut eval = CostSpikeEvaluator::new(rule);
/// let t0 = UNIX_EPOCH + 1000 * hour;
/// eval.record(&QuerySample::query(t0, Nanos(1_000)));             // baseline: $0.000001
/// eval.record(&QuerySample::query(t0 + 2 * hour, Nanos(3_000)));  // window: 3x
/// let alerts = eval.evaluate(t0 + 2 * hour);
/// assert_eq!(alerts.len(), 1);
/// assert_eq!(alerts[0].state, AlertState::Firing);
/// ```
#[derive(Debug)]
pub struct CostSpikeEvaluator {
    rule: CostSpike,
    series: HashMap<Option<String>, Series>,
    overflow: u64,
}

impl CostSpikeEvaluator {
    /// An evaluator for `rule` with no data and nothing firing.
    #[must_use]
    pub fn new(rule: CostSpike) -> Self {
        CostSpikeEvaluator {
            rule,
            series: HashMap::new(),
            overflow: 0,
        }
    }

    /// The rule.
    pub fn rule(&self) -> &CostSpike {
        &self.rule
    }

    /// Samples ignored because [`CostSpike::with_max_keys`] keys were already tracked.
    #[must_use]
    pub fn overflow(&self) -> u64 {
        self.overflow
    }

    /// Adds a sample. Order does not matter; samples older than the baseline at the next
    /// evaluation are discarded then.
    pub fn record(&mut self, sample: &QuerySample) {
        let key = sample.key(self.rule.scope);
        let bucket = unix_secs(sample.at).div_euclid(self.rule.resolution_secs());
        let series = if let Some(s) = self.series.get_mut(&key.map(str::to_owned)) {
            s
        } else {
            if self.series.len() >= self.rule.max_keys {
                self.overflow = self.overflow.saturating_add(1);
                return;
            }
            self.series.entry(key.map(str::to_owned)).or_default()
        };
        let b = series.buckets.entry(bucket).or_default();
        b.queries = b.queries.saturating_add(sample.queries);
        b.cost = b.cost.saturating_add(sample.cost.0.max(0));
    }

    /// Restores the persisted state of a key (firing since, last fired), e.g. from the
    /// receiver's alert history, before evaluating.
    pub fn restore(&mut self, key: Option<String>, state: KeyState) {
        self.series.entry(key).or_default().state = state;
    }

    /// The state of a key.
    #[must_use]
    pub fn state(&self, key: Option<&str>) -> KeyState {
        self.series
            .get(&key.map(str::to_owned))
            .map(|s| s.state)
            .unwrap_or_default()
    }

    /// Keys currently firing.
    pub fn firing(&self) -> impl Iterator<Item = (Option<&str>, SystemTime)> {
        self.series
            .iter()
            .filter_map(|(k, s)| s.state.firing_since.map(|t| (k.as_deref(), t)))
    }

    /// The window and baseline of `key` as they would be evaluated at `now`.
    #[must_use]
    pub fn periods(&self, key: Option<&str>, now: SystemTime) -> (PeriodStats, PeriodStats) {
        let empty = Series::default();
        let series = self.series.get(&key.map(str::to_owned)).unwrap_or(&empty);
        self.periods_of(series, now)
    }

    fn periods_of(&self, series: &Series, now: SystemTime) -> (PeriodStats, PeriodStats) {
        let res = self.rule.resolution_secs();
        let current = unix_secs(now).div_euclid(res);
        // Bucket counts are at most 2^40 and |current| at most 2^63 / res, so these stay in
        // range for any time after year -290,000,000.
        let window_first = current.saturating_sub(self.rule.window_buckets() - 1);
        let baseline_first = window_first.saturating_sub(self.rule.baseline_buckets());
        let sum = |first: i64, last: i64| {
            let mut p = PeriodStats {
                from: from_unix_secs(first.saturating_mul(res)),
                to: from_unix_secs(last.saturating_add(1).saturating_mul(res)),
                queries: 0,
                cost: Nanos::ZERO,
            };
            // `range` panics on an inverted range; saturated bounds could produce one.
            let buckets = (first <= last)
                .then(|| series.buckets.range(first..=last))
                .into_iter()
                .flatten();
            for (_, b) in buckets {
                p.queries = p.queries.saturating_add(b.queries);
                p.cost = Nanos(p.cost.0.saturating_add(b.cost));
            }
            p
        };
        (
            sum(window_first, current),
            sum(baseline_first, window_first.saturating_sub(1)),
        )
    }

    /// Evaluates every key at `now`, discards buckets older than the baseline, and returns the
    /// firings and resolutions (sorted by key).
    pub fn evaluate(&mut self, now: SystemTime) -> Vec<Alert> {
        let res = self.rule.resolution_secs();
        let oldest = unix_secs(now)
            .div_euclid(res)
            .saturating_sub(self.rule.window_buckets() - 1)
            .saturating_sub(self.rule.baseline_buckets());
        let mut keys: Vec<Option<String>> = self.series.keys().cloned().collect();
        keys.sort();
        let mut out = Vec::new();
        for key in keys {
            let Some(series) = self.series.get(&key) else {
                continue;
            };
            let (window, baseline) = self.periods_of(series, now);
            let state = series.state;
            let decision = decide(&self.rule, &window, &baseline, state, now);
            let Some(series) = self.series.get_mut(&key) else {
                continue;
            };
            series.buckets = series.buckets.split_off(&oldest);
            let (event_state, fired_at) = match decision {
                Decision::Fire => {
                    series.state = KeyState {
                        firing_since: Some(now),
                        last_fired: Some(now),
                    };
                    (AlertState::Firing, now)
                }
                Decision::Resolve(fired_at) => {
                    series.state.firing_since = None;
                    (AlertState::Resolved, fired_at)
                }
                Decision::Keep => {
                    let idle = series.buckets.is_empty() && series.state.firing_since.is_none();
                    let cooled = series.state.last_fired.is_none_or(|t| {
                        now.duration_since(t).is_ok_and(|d| d >= self.rule.cooldown)
                    });
                    if idle && cooled {
                        self.series.remove(&key);
                    }
                    continue;
                }
            };
            out.push(Alert {
                kind: COST_SPIKE,
                rule: self.rule.name.clone(),
                state: event_state,
                scope: self.rule.scope,
                key,
                fired_at,
                at: now,
                window,
                baseline,
                multiplier: self.rule.multiplier(),
                ratio: ratio(&window, &baseline),
            });
        }
        out
    }
}

enum Decision {
    Fire,
    Resolve(SystemTime),
    Keep,
}

/// `C_W / n_W ≥ m × C_B / n_B`, as `C_W × n_B × 1000 ≥ m_milli × C_B × n_W` in i128 (no
/// rounding, no floats). `None` when the minimums are not met or the baseline costs nothing.
fn spiking(rule: &CostSpike, window: &PeriodStats, baseline: &PeriodStats) -> Option<bool> {
    if window.queries < rule.min_window_queries.max(1)
        || baseline.queries < rule.min_baseline_queries.max(1)
        || baseline.cost.0 <= 0
    {
        return None;
    }
    let lhs = i128::from(window.cost.0.max(0)) * i128::from(baseline.queries) * MILLI;
    let rhs = i128::from(rule.multiplier_milli)
        * i128::from(baseline.cost.0)
        * i128::from(window.queries);
    Some(lhs >= rhs)
}

fn decide(
    rule: &CostSpike,
    window: &PeriodStats,
    baseline: &PeriodStats,
    state: KeyState,
    now: SystemTime,
) -> Decision {
    let spiking = spiking(rule, window, baseline);
    match (state.firing_since, spiking) {
        (Some(fired_at), Some(false)) => Decision::Resolve(fired_at),
        (None, Some(true)) => {
            let cooled = state
                .last_fired
                .is_none_or(|t| now.duration_since(t).is_ok_and(|d| d >= rule.cooldown));
            if cooled {
                Decision::Fire
            } else {
                Decision::Keep
            }
        }
        _ => Decision::Keep,
    }
}

fn ratio(window: &PeriodStats, baseline: &PeriodStats) -> f64 {
    let b = baseline.cost_per_query().as_usd_f64();
    if b > 0.0 {
        window.cost_per_query().as_usd_f64() / b
    } else {
        0.0
    }
}

// ===== sinks =====

/// Where alerts go. Both methods default to doing nothing; implement the ones you need.
///
/// Sinks run on the evaluator thread, never on the span path; a slow sink delays evaluation
/// (and, once the queue is full, samples are dropped and counted), so hand slow I/O to a
/// queue or runtime of your own.
///
/// ```
/// use peekr::alerts::{Alert, AlertSink};
///
/// /// Pages someone when cost per query spikes.
/// #[derive(Debug)]
/// struct Pager;
///
/// impl AlertSink for Pager {
///     fn fired(&self, alert: &Alert) {
///         println!("PAGE: {alert}");
///     }
/// }
/// ```
pub trait AlertSink: Send + Sync + fmt::Debug {
    /// A rule started firing.
    fn fired(&self, alert: &Alert) {
        let _ = alert;
    }

    /// A firing rule resolved.
    fn resolved(&self, alert: &Alert) {
        let _ = alert;
    }
}

impl<S: AlertSink + ?Sized> AlertSink for Arc<S> {
    fn fired(&self, alert: &Alert) {
        (**self).fired(alert);
    }

    fn resolved(&self, alert: &Alert) {
        (**self).resolved(alert);
    }
}

/// Calls the right method of `sink` for `alert`.
pub fn deliver(sink: &dyn AlertSink, alert: &Alert) {
    match alert.state {
        AlertState::Firing => sink.fired(alert),
        AlertState::Resolved => sink.resolved(alert),
    }
}

/// The default sink: a `tracing` warning named `CostSpike.Fired` on firing and an info event
/// `CostSpike.Resolved` on resolution, with the numbers as fields. With a `tracing` → OTel
/// logs bridge (`opentelemetry-appender-tracing`) installed, these arrive as OTel log records.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingSink;

impl AlertSink for TracingSink {
    fn fired(&self, alert: &Alert) {
        tracing::warn!(
            name: "CostSpike.Fired",
            rule = %alert.rule,
            scope = %alert.scope,
            key = alert.key.as_deref().unwrap_or(""),
            window_queries = alert.window.queries,
            window_cost_per_query_usd = %alert.window.cost_per_query(),
            baseline_queries = alert.baseline.queries,
            baseline_cost_per_query_usd = %alert.baseline.cost_per_query(),
            ratio = alert.ratio,
            multiplier = alert.multiplier,
            "{alert}"
        );
    }

    fn resolved(&self, alert: &Alert) {
        tracing::info!(
            name: "CostSpike.Resolved",
            rule = %alert.rule,
            scope = %alert.scope,
            key = alert.key.as_deref().unwrap_or(""),
            window_cost_per_query_usd = %alert.window.cost_per_query(),
            baseline_cost_per_query_usd = %alert.baseline.cost_per_query(),
            ratio = alert.ratio,
            "{alert}"
        );
    }
}

/// A sink that calls a closure with every alert (firing and resolved).
///
/// ```
/// use peekr::alerts::CallbackSink;
/// let sink = CallbackSink::new(|alert| eprintln!("{alert}"));
/// # drop(sink);
/// ```
pub struct CallbackSink {
    callback: Box<dyn Fn(&Alert) + Send + Sync>,
}

impl CallbackSink {
    /// Wraps `callback`.
    pub fn new(callback: impl Fn(&Alert) + Send + Sync + 'static) -> Self {
        CallbackSink {
            callback: Box::new(callback),
        }
    }
}

impl fmt::Debug for CallbackSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackSink").finish_non_exhaustive()
    }
}

impl AlertSink for CallbackSink {
    fn fired(&self, alert: &Alert) {
        (self.callback)(alert);
    }

    fn resolved(&self, alert: &Alert) {
        (self.callback)(alert);
    }
}

// ===== clocks =====

/// The time source of the evaluator thread, injectable for tests.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to, for tests and simulations.
#[derive(Debug)]
pub struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    /// A clock reading `start`.
    #[must_use]
    pub fn new(start: SystemTime) -> Self {
        ManualClock(Mutex::new(start))
    }

    /// Sets the time.
    pub fn set(&self, t: SystemTime) {
        if let Ok(mut now) = self.0.lock() {
            *now = t;
        }
    }

    /// Moves the time forward by `d`.
    pub fn advance(&self, d: Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now = now.checked_add(d).unwrap_or(*now);
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.0.lock().map_or(UNIX_EPOCH, |t| *t)
    }
}

// ===== the observer =====

enum Message {
    Sample(QuerySample),
    Flush(mpsc::Sender<()>),
}

/// A [`SpanObserver`] that evaluates a [`CostSpike`] on a background thread.
///
/// At each local root span it builds a [`QuerySample`] (root end time, tenant, trace cost)
/// and `try_send`s it to a bounded queue: the span path never blocks, and a full queue drops
/// the sample and counts it ([`dropped`](Self::dropped), and the `peekr.alerts.dropped`
/// metric). The evaluator thread records samples, evaluates the rule every
/// [`CostSpike::resolution`] of [`Clock`] time (and on [`flush`](Self::flush)), and calls
/// the sinks. The thread stops when the observer is dropped.
///
/// The processor does not pass the root span's operation to observers, so with
/// [`Scope::Operation`] every library sample falls in the `None` group; the receiver, which
/// has the operation, evaluates that scope properly.
#[derive(Debug)]
pub struct AlertObserver {
    tx: SyncSender<Message>,
    scope: Scope,
    dropped: Arc<AtomicU64>,
}

/// Builds an [`AlertObserver`].
#[must_use]
#[derive(Debug)]
pub struct AlertObserverBuilder {
    rule: CostSpike,
    sinks: Vec<Arc<dyn AlertSink>>,
    clock: Arc<dyn Clock>,
    capacity: usize,
}

impl AlertObserverBuilder {
    /// Adds a sink. Without any, alerts go to [`TracingSink`].
    pub fn with_sink(mut self, sink: Arc<dyn AlertSink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// The evaluator's clock (default [`SystemClock`]).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Capacity of the queue from the span path (default 1024, at least 1).
    pub fn with_queue_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Starts the evaluator thread.
    ///
    /// If the thread cannot be spawned, the error is logged and every sample is counted as
    /// dropped: alerts are never worth failing the application for.
    pub fn build(self) -> AlertObserver {
        let (tx, rx) = mpsc::sync_channel(self.capacity);
        let scope = self.rule.scope;
        let sinks = if self.sinks.is_empty() {
            vec![Arc::new(TracingSink) as Arc<dyn AlertSink>]
        } else {
            self.sinks
        };
        let evaluator = CostSpikeEvaluator::new(self.rule);
        let clock = self.clock;
        let spawned = std::thread::Builder::new()
            .name("peekr-alerts".to_owned())
            .spawn(move || run(evaluator, &rx, &sinks, &*clock));
        if let Err(error) = spawned {
            tracing::error!(name: "AlertObserver.SpawnFailed", %error, "cannot start the alert evaluator; alerts are off");
        }
        AlertObserver {
            tx,
            scope,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }
}

fn run(
    mut evaluator: CostSpikeEvaluator,
    rx: &Receiver<Message>,
    sinks: &[Arc<dyn AlertSink>],
    clock: &dyn Clock,
) {
    let tick = evaluator.rule().resolution();
    let mut next = clock.now();
    loop {
        let mut flushes = Vec::new();
        match rx.recv_timeout(tick) {
            Ok(Message::Sample(s)) => evaluator.record(&s),
            Ok(Message::Flush(ack)) => flushes.push(ack),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        // Drain what is queued so one evaluation covers a burst.
        while let Ok(m) = rx.try_recv() {
            match m {
                Message::Sample(s) => evaluator.record(&s),
                Message::Flush(ack) => flushes.push(ack),
            }
        }
        let now = clock.now();
        if now >= next || !flushes.is_empty() {
            for alert in evaluator.evaluate(now) {
                for sink in sinks {
                    deliver(&**sink, &alert);
                }
            }
            next = now.checked_add(tick).unwrap_or(now);
        }
        for ack in flushes {
            let _ = ack.send(());
        }
    }
}

impl AlertObserver {
    /// A builder for `rule`.
    pub fn builder(rule: CostSpike) -> AlertObserverBuilder {
        AlertObserverBuilder {
            rule,
            sinks: Vec::new(),
            clock: Arc::new(SystemClock),
            capacity: QUEUE_CAPACITY_DEFAULT,
        }
    }

    /// An observer for `rule` alerting `sink`, on the system clock.
    #[must_use]
    pub fn new(rule: CostSpike, sink: Arc<dyn AlertSink>) -> Self {
        Self::builder(rule).with_sink(sink).build()
    }

    /// Samples dropped because the queue was full (or the evaluator thread is gone).
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The shared drop counter, for [`crate::metrics::CostMetricsBuilder::with_alert_drops`].
    #[must_use]
    pub fn dropped_counter(&self) -> Arc<AtomicU64> {
        self.dropped.clone()
    }

    /// Sends a sample as the processor would (non-blocking; a full queue counts a drop).
    /// Returns whether it was queued.
    pub fn submit(&self, sample: QuerySample) -> bool {
        match self.tx.try_send(Message::Sample(sample)) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::warn!(name: "AlertObserver.SampleDropped", "alert queue full or evaluator stopped; dropping samples (counted in peekr.alerts.dropped)");
                }
                false
            }
        }
    }

    /// Waits until every sample queued so far is recorded, then evaluates at the clock's time
    /// and delivers the alerts. Blocks (never call it on the span path). Returns `false` when
    /// the evaluator thread is gone.
    pub fn flush(&self) -> bool {
        let (ack, done) = mpsc::channel();
        if self.tx.send(Message::Flush(ack)).is_err() {
            return false;
        }
        done.recv().is_ok()
    }
}

impl SpanObserver for AlertObserver {
    fn on_root_span(&self, totals: &TraceTotals, tenant: Option<&str>, end: SystemTime) {
        let tenant = match self.scope {
            Scope::Tenant => tenant.map(str::to_owned),
            Scope::Project | Scope::Operation => None,
        };
        self.submit(QuerySample {
            at: end,
            tenant,
            operation: None,
            queries: 1,
            cost: totals.cost,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn t(hours: u64) -> SystemTime {
        UNIX_EPOCH
            + Duration::from_secs(1_700_000_000 / 3600 * 3600)
            + HOUR * u32::try_from(hours).unwrap()
    }

    #[test]
    fn multiplier_is_clamped_and_kept_to_three_decimals() {
        assert_eq!(CostSpike::new(2.0).multiplier(), 2.0);
        assert_eq!(CostSpike::new(1.23456).multiplier(), 1.235);
        assert_eq!(CostSpike::new(0.5).multiplier(), 1.0);
        assert_eq!(CostSpike::new(f64::NAN).multiplier(), MULTIPLIER_DEFAULT);
    }

    #[test]
    fn buckets_round_up() {
        assert_eq!(buckets_in(Duration::from_secs(61), 60), 2);
        assert_eq!(buckets_in(Duration::from_secs(60), 60), 1);
        assert_eq!(buckets_in(Duration::ZERO, 60), 1);
    }

    #[test]
    fn exactly_the_multiplier_fires_and_just_below_does_not() {
        let rule = CostSpike::new(2.0).with_min_queries(1, 1);
        let p = |q, c| PeriodStats {
            from: UNIX_EPOCH,
            to: UNIX_EPOCH,
            queries: q,
            cost: Nanos(c),
        };
        assert_eq!(spiking(&rule, &p(3, 600), &p(10, 1000)), Some(true));
        assert_eq!(spiking(&rule, &p(3, 599), &p(10, 1000)), Some(false));
        assert_eq!(spiking(&rule, &p(3, 600), &p(10, 0)), None);
    }

    #[test]
    fn periods_are_adjacent_and_aligned() {
        let rule = CostSpike::new(2.0)
            .with_window(HOUR)
            .with_baseline(2 * HOUR)
            .with_resolution(HOUR);
        let eval = CostSpikeEvaluator::new(rule);
        let (w, b) = eval.periods(None, t(10) + Duration::from_secs(5));
        assert_eq!((w.from, w.to), (t(10), t(11)));
        assert_eq!((b.from, b.to), (t(8), t(10)));
    }

    #[test]
    fn cooldown_blocks_a_second_firing() {
        let rule = CostSpike::new(2.0)
            .with_min_queries(1, 1)
            .with_baseline(24 * HOUR)
            .with_cooldown(10 * HOUR);
        let mut e = CostSpikeEvaluator::new(rule);
        e.record(&QuerySample::query(t(0), Nanos(100)));
        e.record(&QuerySample::query(t(5), Nanos(300)));
        assert_eq!(e.evaluate(t(5))[0].state, AlertState::Firing);
        e.record(&QuerySample::query(t(6), Nanos(100)));
        assert_eq!(e.evaluate(t(6))[0].state, AlertState::Resolved);
        e.record(&QuerySample::query(t(7), Nanos(900)));
        assert!(e.evaluate(t(7)).is_empty(), "within the cool-down");
        e.record(&QuerySample::query(t(15), Nanos(9000)));
        assert_eq!(e.evaluate(t(15))[0].state, AlertState::Firing);
    }

    #[test]
    fn absurd_durations_and_times_do_not_panic() {
        let rule = CostSpike::new(2.0)
            .with_window(Duration::MAX)
            .with_baseline(Duration::MAX)
            .with_resolution(Duration::from_secs(1))
            .with_min_queries(0, 0);
        let mut e = CostSpikeEvaluator::new(rule);
        let far_past = UNIX_EPOCH
            .checked_sub(Duration::from_secs(1 << 62))
            .unwrap_or(UNIX_EPOCH);
        for at in [UNIX_EPOCH, t(0), far_past] {
            e.record(&QuerySample::query(at, Nanos(i64::MAX)));
            let _ = e.evaluate(at);
        }
        let mut e = CostSpikeEvaluator::new(CostSpike::new(2.0).with_resolution(Duration::MAX));
        e.record(&QuerySample::query(t(0), Nanos(1)));
        let _ = e.evaluate(t(0));
    }

    #[test]
    fn keys_are_bounded() {
        let rule = CostSpike::new(2.0)
            .with_scope(Scope::Tenant)
            .with_max_keys(2);
        let mut e = CostSpikeEvaluator::new(rule);
        for tenant in ["a", "b", "c"] {
            e.record(&QuerySample::query(t(0), Nanos(1)).with_tenant(tenant));
        }
        assert_eq!(e.overflow(), 1);
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let (tx, _rx) = mpsc::sync_channel(1);
        let obs = AlertObserver {
            tx,
            scope: Scope::Project,
            dropped: Arc::new(AtomicU64::new(0)),
        };
        assert!(obs.submit(QuerySample::query(t(0), Nanos(1))));
        assert!(!obs.submit(QuerySample::query(t(0), Nanos(1))));
        assert_eq!(obs.dropped(), 1);
    }
}
