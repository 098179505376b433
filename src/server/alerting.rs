//! Receiver-side alerting: [`CostSpike`] per project over the stored rollups, an alert history
//! in SQLite, and signed webhooks.
//!
//! ```text
//!  every few minutes:  run_evaluation(store, history, rule, today, now)
//!                        ├─ per project: Store::cost_per_query (daily rollups) ─► samples_from_days
//!                        ├─ history.open_states ─► evaluate_project ─► firings / resolutions
//!                        └─ history.apply (persisted: fired_at, resolved_at, the numbers)
//!                      deliver(webhooks, project, alert)  ─► POST JSON, x-peekr-signature, retried
//!                      TracingSink                        ─► the log
//! ```
//!
//! Evaluating the stored rollups (rather than each receiver's own stream) means the rule sees
//! every service of a project, and restarts lose nothing: the state lives in the history.
//! The evaluator is the library's [`CostSpikeEvaluator`]; the formula is in `docs/alerts.md`.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rusqlite::{Connection, OptionalExtension as _, params};
use sha2::Sha256;

use crate::alerts::{
    Alert, AlertSink, AlertState, CostSpike, CostSpikeEvaluator, KeyState, QuerySample,
};
use crate::pricing::Nanos;
use crate::server::store::{DayCost, Store, StoreError, Window};

/// The header carrying the body's signature: `sha256=<lower-case hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "x-peekr-signature";
/// Default number of delivery attempts per webhook and alert.
pub const MAX_ATTEMPTS_DEFAULT: u32 = 5;
/// Default wait before the first retry; doubled after each failed attempt.
pub const INITIAL_BACKOFF_DEFAULT: Duration = Duration::from_millis(500);
/// Default timeout of one delivery attempt.
pub const REQUEST_TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);
/// One day: the resolution of the receiver's rollups.
pub const DAY: Duration = Duration::from_secs(86_400);

// ===== signing =====

/// Signs `body` with `secret`: `sha256=` followed by the lower-case hex HMAC-SHA256.
///
/// ```
/// use peekr::server::alerting::{sign, verify};
/// let sig = sign(b"secret", br#"{"state":"firing"}"#);
/// assert!(sig.starts_with("sha256="));
/// assert!(verify(b"secret", br#"{"state":"firing"}"#, &sig));
/// assert!(!verify(b"other", br#"{"state":"firing"}"#, &sig));
/// ```
#[must_use]
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this never returns early.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::from("sha256=");
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Checks a `sha256=<hex>` signature of `body` under `secret`, in constant time.
#[must_use]
pub fn verify(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    hex.as_bytes()
        .chunks(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

// ===== webhooks =====

/// Why a webhook delivery failed (after its retries).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The URL does not parse.
    #[error("invalid webhook url `{0}`")]
    InvalidUrl(String),
    /// Only `http://` URLs are supported (no TLS client is compiled in); put an HTTPS proxy or
    /// a local relay in front for `https://` endpoints.
    #[error("unsupported webhook url scheme in `{0}`: only http is supported")]
    UnsupportedScheme(String),
    /// The endpoint kept answering with an error status (or answered with a non-retryable
    /// one).
    #[error("webhook answered {status} after {attempts} attempts")]
    Status {
        /// The last HTTP status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// The request kept failing (connection refused, reset).
    #[error("webhook request failed after {attempts} attempts")]
    Request {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        #[source]
        source: hyper_util::client::legacy::Error,
    },
    /// Every attempt timed out.
    #[error("webhook timed out after {attempts} attempts")]
    Timeout {
        /// Attempts made.
        attempts: u32,
    },
    /// The request could not be built.
    #[error("cannot build the webhook request")]
    Build(#[source] hyper::http::Error),
}

/// One webhook endpoint with its secret and retry policy.
#[derive(Clone)]
pub struct Webhook {
    url: hyper::Uri,
    secret: Arc<[u8]>,
    max_attempts: u32,
    initial_backoff: Duration,
    timeout: Duration,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("Webhook")
            .field("url", &self.url)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff", &self.initial_backoff)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// A webhook POSTing to `url` (http only), signing with `secret`, with the default retry
    /// policy.
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidUrl`] or [`WebhookError::UnsupportedScheme`].
    pub fn new(url: &str, secret: impl Into<Vec<u8>>) -> Result<Self, WebhookError> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|_| WebhookError::InvalidUrl(url.to_owned()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(_) => return Err(WebhookError::UnsupportedScheme(url.to_owned())),
            None => return Err(WebhookError::InvalidUrl(url.to_owned())),
        }
        if uri.host().is_none() {
            return Err(WebhookError::InvalidUrl(url.to_owned()));
        }
        let secret: Vec<u8> = secret.into();
        Ok(Webhook {
            url: uri,
            secret: secret.into(),
            max_attempts: MAX_ATTEMPTS_DEFAULT,
            initial_backoff: INITIAL_BACKOFF_DEFAULT,
            timeout: REQUEST_TIMEOUT_DEFAULT,
            client: Client::builder(TokioExecutor::new()).build_http(),
        })
    }

    /// Attempts per delivery, at least 1 (default 5).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Wait before the first retry, doubled after each failure (default 0.5 s).
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration) -> Self {
        self.initial_backoff = initial;
        self
    }

    /// Timeout of one attempt (default 10 s).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The URL.
    #[must_use]
    pub fn url(&self) -> &hyper::Uri {
        &self.url
    }

    /// POSTs `body` as JSON with its signature, retrying connection errors, timeouts, 5xx and
    /// 429 with exponential backoff. Returns the number of attempts it took.
    ///
    /// # Errors
    ///
    /// See [`WebhookError`]; other 4xx statuses are not retried.
    pub async fn post_json(&self, body: &serde_json::Value) -> Result<u32, WebhookError> {
        let bytes = Bytes::from(body.to_string());
        let signature = sign(&self.secret, &bytes);
        let mut backoff = self.initial_backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = hyper::Request::post(self.url.clone())
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .header(
                    hyper::header::USER_AGENT,
                    concat!("peekr/", env!("CARGO_PKG_VERSION")),
                )
                .header(SIGNATURE_HEADER, &signature)
                .body(Full::new(bytes.clone()))
                .map_err(WebhookError::Build)?;
            let error = match tokio::time::timeout(self.timeout, self.client.request(request)).await
            {
                Ok(Ok(response)) => {
                    let status = response.status();
                    // Drain the body so the connection can be reused; its content is ignored.
                    let _ = response.into_body().collect().await;
                    if status.is_success() {
                        return Ok(attempt);
                    }
                    let retryable =
                        status.is_server_error() || status == hyper::StatusCode::TOO_MANY_REQUESTS;
                    let error = WebhookError::Status {
                        status: status.as_u16(),
                        attempts: attempt,
                    };
                    if !retryable {
                        return Err(error);
                    }
                    error
                }
                Ok(Err(source)) => WebhookError::Request {
                    attempts: attempt,
                    source,
                },
                Err(_) => WebhookError::Timeout { attempts: attempt },
            };
            if attempt >= self.max_attempts {
                return Err(error);
            }
            tracing::debug!(name: "Webhook.Retry", url = %self.url, attempt, error = %error, "webhook delivery failed; retrying");
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
    }
}

/// The JSON POSTed for `alert` of `project`: [`Alert::to_json`] plus `"project"`.
#[must_use]
pub fn payload(project: &str, alert: &Alert) -> serde_json::Value {
    let mut json = alert.to_json();
    if let Some(map) = json.as_object_mut() {
        map.insert(
            "project".to_owned(),
            serde_json::Value::String(project.to_owned()),
        );
    }
    json
}

/// Delivers one alert of `project` to the log and to every webhook in turn. Failures are logged,
/// never returned: one bad endpoint must not stop delivery to the others.
pub async fn deliver(webhooks: &[Webhook], project: &str, alert: &Alert) {
    crate::alerts::deliver(&crate::alerts::TracingSink, alert);
    let body = payload(project, alert);
    for w in webhooks {
        if let Err(error) = w.post_json(&body).await {
            tracing::warn!(name: "Webhook.DeliveryFailed", url = %w.url, project, %error, "alert not delivered");
        }
    }
}

/// An [`AlertSink`] POSTing to webhooks from a Tokio runtime, for the library's evaluator
/// thread or a single-project setup. `project` is written into every payload.
#[derive(Debug, Clone)]
pub struct WebhookSink {
    webhooks: Arc<[Webhook]>,
    project: String,
    runtime: tokio::runtime::Handle,
}

impl WebhookSink {
    /// A sink delivering on `runtime` (e.g. `tokio::runtime::Handle::current()`).
    #[must_use]
    pub fn new(
        webhooks: Vec<Webhook>,
        project: impl Into<String>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        WebhookSink {
            webhooks: webhooks.into(),
            project: project.into(),
            runtime,
        }
    }

    fn send(&self, alert: &Alert) {
        let webhooks = self.webhooks.clone();
        let project = self.project.clone();
        let alert = alert.clone();
        self.runtime.spawn(async move {
            let body = payload(&project, &alert);
            for w in webhooks.iter() {
                if let Err(error) = w.post_json(&body).await {
                    tracing::warn!(name: "Webhook.DeliveryFailed", url = %w.url, project, %error, "alert not delivered");
                }
            }
        });
    }
}

impl AlertSink for WebhookSink {
    fn fired(&self, alert: &Alert) {
        self.send(alert);
    }

    fn resolved(&self, alert: &Alert) {
        self.send(alert);
    }
}

// ===== evaluation over plain data =====

/// A rule suited to daily rollups: `multiplier` × the 7 days before today, today as the window,
/// one-day buckets, at least 20 queries today and 100 in the baseline.
pub fn daily_rule(multiplier: f64) -> CostSpike {
    CostSpike::new(multiplier)
        .with_resolution(DAY)
        .with_window(DAY)
        .with_baseline(7 * DAY)
        .with_cooldown(DAY)
}

/// One sample per day with queries, at 00:00 UTC of that day.
#[must_use]
pub fn samples_from_days(days: &[DayCost]) -> Vec<QuerySample> {
    days.iter()
        .filter(|d| d.queries > 0)
        .filter_map(|d| {
            let days = d.day.since(jiff::civil::date(1970, 1, 1)).ok()?.get_days();
            let secs = u64::try_from(days).ok()?.checked_mul(86_400)?;
            Some(QuerySample {
                at: UNIX_EPOCH + Duration::from_secs(secs),
                tenant: None,
                operation: None,
                queries: u64::try_from(d.queries).unwrap_or(0),
                cost: Nanos(d.cost_nanos),
            })
        })
        .collect()
}

/// Evaluates `rule` over one project's `samples` at `now`, starting from the persisted state of
/// each key (`open`: firing since / last fired, from [`AlertHistory::open_states`]). Pure: the
/// returned firings and resolutions are what to persist and deliver.
#[must_use]
pub fn evaluate_project(
    samples: &[QuerySample],
    rule: &CostSpike,
    open: &[(Option<String>, KeyState)],
    now: SystemTime,
) -> Vec<Alert> {
    let mut evaluator = CostSpikeEvaluator::new(rule.clone());
    for (key, state) in open {
        evaluator.restore(key.clone(), *state);
    }
    for s in samples {
        evaluator.record(s);
    }
    evaluator.evaluate(now)
}

/// Errors of [`run_evaluation`] and [`AlertHistory`].
#[derive(Debug, thiserror::Error)]
pub enum AlertingError {
    /// Reading the rollups failed.
    #[error("cannot read rollups for alerting")]
    Store(#[from] StoreError),
    /// The alert history database failed.
    #[error("alert history failed")]
    History(#[from] rusqlite::Error),
    /// The history's lock was poisoned by a panic elsewhere.
    #[error("alert history lock poisoned")]
    Poisoned,
    /// The blocking evaluation task failed (panicked or was cancelled).
    #[error("alert evaluation task failed: {0}")]
    Task(String),
}

/// Evaluates `rule` for every project of `store` at `now` (`today` is its UTC date), persists
/// the transitions in `history`, and returns them with their project, for [`deliver`].
///
/// The rollups are daily, so the rule's resolution and window are raised to one day if
/// shorter. Blocks on I/O: call it from `spawn_blocking`.
///
/// # Errors
///
/// The first store or history error; projects evaluated before it keep their transitions.
pub fn run_evaluation(
    store: &dyn Store,
    history: &AlertHistory,
    rule: &CostSpike,
    today: jiff::civil::Date,
    now: SystemTime,
) -> Result<Vec<(String, Alert)>, AlertingError> {
    let rule = rule
        .clone()
        .with_resolution(rule.resolution().max(DAY))
        .with_window(rule.window().max(DAY));
    let days = (rule.window() + rule.baseline())
        .as_secs()
        .div_ceil(DAY.as_secs())
        + 1;
    let window = Window::ending(today, u32::try_from(days).unwrap_or(u32::MAX));
    let mut out = Vec::new();
    for project in store.projects()? {
        let samples = samples_from_days(&store.cost_per_query(&project, window)?);
        let open = history.open_states(&project, rule.name())?;
        for alert in evaluate_project(&samples, &rule, &open, now) {
            history.apply(&project, &alert)?;
            out.push((project.clone(), alert));
        }
    }
    Ok(out)
}

// ===== the receiver's evaluation loop =====

/// Default time between two evaluations (`peekr serve --alert-interval-secs`).
pub const ALERT_INTERVAL_DEFAULT: Duration = Duration::from_secs(300);
/// Delay of the first evaluation after the receiver starts.
pub const FIRST_EVALUATION_DELAY_DEFAULT: Duration = Duration::from_secs(10);

/// How `peekr serve` evaluates and delivers alerts.
#[derive(Debug, Clone)]
pub struct AlertingConfig {
    /// The [`daily_rule`] multiplier (default [`crate::alerts::MULTIPLIER_DEFAULT`]).
    pub multiplier: f64,
    /// Time between evaluations; zero turns evaluation off.
    pub interval: Duration,
    /// Delay of the first evaluation after start.
    pub first_run_after: Duration,
    /// Where alerts are POSTed (besides the log).
    pub webhooks: Vec<Webhook>,
}

impl Default for AlertingConfig {
    fn default() -> Self {
        AlertingConfig {
            multiplier: crate::alerts::MULTIPLIER_DEFAULT,
            interval: ALERT_INTERVAL_DEFAULT,
            first_run_after: FIRST_EVALUATION_DELAY_DEFAULT,
            webhooks: Vec::new(),
        }
    }
}

impl AlertingConfig {
    /// Whether the loop runs at all.
    #[must_use]
    pub fn enabled(&self) -> bool {
        !self.interval.is_zero()
    }
}

/// [`run_evaluation`] of [`daily_rule`] at the current time, on a blocking thread.
async fn evaluate_now(
    store: Arc<dyn Store>,
    history: Arc<AlertHistory>,
    multiplier: f64,
) -> Result<Vec<(String, Alert)>, AlertingError> {
    tokio::task::spawn_blocking(move || {
        run_evaluation(
            &*store,
            &history,
            &daily_rule(multiplier),
            crate::server::store::today_utc(),
            SystemTime::now(),
        )
    })
    .await
    .map_err(|e| AlertingError::Task(e.to_string()))?
}

/// One evaluation as the receiver runs it: [`run_evaluation`] of [`daily_rule`] at the current
/// time on a blocking thread, then [`deliver`] of each transition, in order. Returns the
/// transitions (already persisted in `history`).
///
/// # Errors
///
/// When reading the rollups or writing the history fails (see [`run_evaluation`]); nothing is
/// delivered then. Delivery failures are logged, never returned.
pub async fn evaluate_and_deliver(
    store: Arc<dyn Store>,
    history: Arc<AlertHistory>,
    multiplier: f64,
    webhooks: &[Webhook],
) -> Result<Vec<(String, Alert)>, AlertingError> {
    let alerts = evaluate_now(store, history, multiplier).await?;
    for (project, alert) in &alerts {
        deliver(webhooks, project, alert).await;
    }
    Ok(alerts)
}

/// Runs [`evaluate_and_deliver`] `config.first_run_after` after the call and then every
/// `config.interval` (measured from the end of the previous run), until `shutdown` resolves.
/// An evaluation already reading the store finishes first, so the store can close safely once
/// this returns; deliveries still retrying at shutdown are abandoned (the alert is in the
/// history either way). Errors are logged and retried at the next interval.
pub async fn run_loop(
    store: Arc<dyn Store>,
    history: Arc<AlertHistory>,
    config: AlertingConfig,
    shutdown: impl std::future::Future<Output = ()> + Send,
) {
    if !config.enabled() {
        return;
    }
    tokio::pin!(shutdown);
    let mut next = tokio::time::Instant::now() + config.first_run_after;
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep_until(next) => {}
        }
        match evaluate_now(store.clone(), history.clone(), config.multiplier).await {
            Ok(alerts) => {
                let delivery = async {
                    for (project, alert) in &alerts {
                        deliver(&config.webhooks, project, alert).await;
                    }
                };
                tokio::select! {
                    () = &mut shutdown => {
                        tracing::warn!(name: "Alerts.DeliveryAbandoned", "shutting down during alert delivery; the alert is in the history");
                        return;
                    }
                    () = delivery => {}
                }
            }
            Err(error) => {
                tracing::error!(name: "Alerts.EvaluationFailed", error = %error, source = ?std::error::Error::source(&error), "cost-spike evaluation failed; retrying at the next interval");
            }
        }
        next = tokio::time::Instant::now() + config.interval;
    }
}

// ===== history =====

/// The alert history table (created by [`AlertHistory::open`]).
pub const ALERT_HISTORY_DDL: &str = "
CREATE TABLE IF NOT EXISTS alert_history (
    id                  INTEGER PRIMARY KEY,
    project             TEXT    NOT NULL,
    rule                TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    scope               TEXT    NOT NULL,
    key                 TEXT,
    fired_at            INTEGER NOT NULL,
    resolved_at         INTEGER,
    window_queries      INTEGER NOT NULL,
    window_cost_nanos   INTEGER NOT NULL,
    baseline_queries    INTEGER NOT NULL,
    baseline_cost_nanos INTEGER NOT NULL,
    multiplier          REAL    NOT NULL,
    ratio               REAL    NOT NULL,
    payload             TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_history_project ON alert_history (project, fired_at DESC);
";

/// One row of the alert history: a firing and, once it resolved, when.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertRecord {
    /// Row id.
    pub id: i64,
    /// Project.
    pub project: String,
    /// Rule name.
    pub rule: String,
    /// `cost_spike`.
    pub kind: String,
    /// `project`, `tenant` or `operation`.
    pub scope: String,
    /// Tenant or operation, for scoped rules.
    pub key: Option<String>,
    /// When it fired, Unix seconds.
    pub fired_at: i64,
    /// When it resolved, Unix seconds; `None` while firing.
    pub resolved_at: Option<i64>,
    /// Queries in the window at firing.
    pub window_queries: i64,
    /// Cost of the window at firing, nano-USD.
    pub window_cost_nanos: i64,
    /// Queries in the baseline at firing.
    pub baseline_queries: i64,
    /// Cost of the baseline at firing, nano-USD.
    pub baseline_cost_nanos: i64,
    /// The rule's multiplier.
    pub multiplier: f64,
    /// Window cost per query ÷ baseline cost per query at firing.
    pub ratio: f64,
}

/// Fired and resolved alerts, kept in SQLite (its own table, in the store's database file or
/// any other).
#[derive(Debug)]
pub struct AlertHistory {
    conn: Mutex<Connection>,
}

fn secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

fn time(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

impl AlertHistory {
    /// Opens (creating if needed) the history in the SQLite file at `path`.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened or the table created.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AlertingError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        Self::init(conn)
    }

    /// A history in memory (tests, `--demo`).
    ///
    /// # Errors
    ///
    /// When SQLite cannot create the table.
    pub fn in_memory() -> Result<Self, AlertingError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, AlertingError> {
        conn.execute_batch(ALERT_HISTORY_DDL)?;
        Ok(AlertHistory {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, AlertingError> {
        self.conn.lock().map_err(|_| AlertingError::Poisoned)
    }

    /// The state of every key of `rule` in `project` that has fired: whether it is open, and
    /// when it last fired (for the cool-down).
    ///
    /// # Errors
    ///
    /// On SQLite errors.
    pub fn open_states(
        &self,
        project: &str,
        rule: &str,
    ) -> Result<Vec<(Option<String>, KeyState)>, AlertingError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT key, MAX(fired_at),
                    MAX(CASE WHEN resolved_at IS NULL THEN fired_at END)
             FROM alert_history WHERE project = ?1 AND rule = ?2 GROUP BY key",
        )?;
        let rows = stmt.query_map(params![project, rule], |row| {
            let key: Option<String> = row.get(0)?;
            let last: i64 = row.get(1)?;
            let open: Option<i64> = row.get(2)?;
            Ok((
                key,
                KeyState {
                    firing_since: open.map(time),
                    last_fired: Some(time(last)),
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a transition: a firing inserts a row; a resolution sets `resolved_at` on the
    /// open row it ends.
    ///
    /// # Errors
    ///
    /// On SQLite errors.
    pub fn apply(&self, project: &str, alert: &Alert) -> Result<(), AlertingError> {
        let conn = self.conn()?;
        match alert.state {
            AlertState::Firing => {
                conn.execute(
                    "INSERT INTO alert_history (project, rule, kind, scope, key, fired_at, window_queries,
                         window_cost_nanos, baseline_queries, baseline_cost_nanos, multiplier, ratio, payload)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                    params![
                        project,
                        alert.rule,
                        alert.kind,
                        alert.scope.as_str(),
                        alert.key,
                        secs(alert.fired_at),
                        i64::try_from(alert.window.queries).unwrap_or(i64::MAX),
                        alert.window.cost.0,
                        i64::try_from(alert.baseline.queries).unwrap_or(i64::MAX),
                        alert.baseline.cost.0,
                        alert.multiplier,
                        alert.ratio,
                        payload(project, alert).to_string(),
                    ],
                )?;
            }
            AlertState::Resolved => {
                conn.execute(
                    "UPDATE alert_history SET resolved_at = ?1
                     WHERE project = ?2 AND rule = ?3 AND key IS ?4 AND fired_at = ?5 AND resolved_at IS NULL",
                    params![secs(alert.at), project, alert.rule, alert.key, secs(alert.fired_at)],
                )?;
            }
        }
        Ok(())
    }

    /// The `limit` most recent alerts of `project`, newest first (for the API and Costs page).
    ///
    /// # Errors
    ///
    /// On SQLite errors.
    pub fn list(&self, project: &str, limit: usize) -> Result<Vec<AlertRecord>, AlertingError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, project, rule, kind, scope, key, fired_at, resolved_at, window_queries,
                    window_cost_nanos, baseline_queries, baseline_cost_nanos, multiplier, ratio
             FROM alert_history WHERE project = ?1 ORDER BY fired_at DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(
            params![project, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                Ok(AlertRecord {
                    id: r.get(0)?,
                    project: r.get(1)?,
                    rule: r.get(2)?,
                    kind: r.get(3)?,
                    scope: r.get(4)?,
                    key: r.get(5)?,
                    fired_at: r.get(6)?,
                    resolved_at: r.get(7)?,
                    window_queries: r.get(8)?,
                    window_cost_nanos: r.get(9)?,
                    baseline_queries: r.get(10)?,
                    baseline_cost_nanos: r.get(11)?,
                    multiplier: r.get(12)?,
                    ratio: r.get(13)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The JSON payload sent for alert `id`, if it exists.
    ///
    /// # Errors
    ///
    /// On SQLite errors.
    pub fn payload(&self, id: i64) -> Result<Option<String>, AlertingError> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT payload FROM alert_history WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::Scope;

    fn day(n: u64) -> SystemTime {
        // 2025-01-06 00:00 UTC + n days.
        UNIX_EPOCH + Duration::from_secs(1_736_121_600 + n * 86_400)
    }

    fn week_then_double() -> Vec<QuerySample> {
        let mut s: Vec<_> = (0..7)
            .map(|d| QuerySample {
                queries: 1000,
                ..QuerySample::query(day(d), Nanos(1_000_000_000))
            })
            .collect();
        s.push(QuerySample {
            queries: 100,
            ..QuerySample::query(day(7), Nanos(250_000_000))
        });
        s
    }

    #[test]
    fn signatures_are_hex_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(!verify(
            b"Jefe",
            b"what do ya want for nothing?",
            "sha256=00"
        ));
        assert!(!verify(b"Jefe", b"x", "md5=00"));
    }

    #[test]
    fn urls_must_be_http() {
        assert!(matches!(
            Webhook::new("https://example.com/hook", "s"),
            Err(WebhookError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            Webhook::new("not a url", "s"),
            Err(WebhookError::InvalidUrl(_))
        ));
        insta::assert_snapshot!(
            Webhook::new("ftp://x/y", "s").unwrap_err(),
            @"unsupported webhook url scheme in `ftp://x/y`: only http is supported"
        );
        let debug = format!(
            "{:?}",
            Webhook::new("http://127.0.0.1:9/h", "top-secret").unwrap()
        );
        assert!(!debug.contains("top-secret"));
    }

    #[test]
    fn evaluation_persists_fired_and_resolved_times() {
        let rule = daily_rule(2.0);
        let history = AlertHistory::in_memory().unwrap();
        let now = day(7) + Duration::from_secs(3600);
        let open = history.open_states("p", rule.name()).unwrap();
        let alerts = evaluate_project(&week_then_double(), &rule, &open, now);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].state, AlertState::Firing);
        assert_eq!(alerts[0].scope, Scope::Project);
        assert_eq!(
            (alerts[0].window.queries, alerts[0].baseline.queries),
            (100, 7000)
        );
        history.apply("p", &alerts[0]).unwrap();

        // The next run starts from the history: still firing, so nothing new.
        let open = history.open_states("p", rule.name()).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].1.firing_since, Some(now));
        assert!(
            evaluate_project(
                &week_then_double(),
                &rule,
                &open,
                now + Duration::from_secs(60)
            )
            .is_empty()
        );

        // Next day, cost per query is back: resolved, and the row says when.
        let mut samples = week_then_double();
        samples.push(QuerySample {
            queries: 100,
            ..QuerySample::query(day(8), Nanos(100_000_000))
        });
        let later = day(8) + Duration::from_secs(7200);
        let alerts = evaluate_project(&samples, &rule, &open, later);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].state, AlertState::Resolved);
        history.apply("p", &alerts[0]).unwrap();
        let rows = history.list("p", 10).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].fired_at, rows[0].resolved_at),
            (secs(now), Some(secs(later)))
        );
        assert_eq!(rows[0].window_cost_nanos, 250_000_000);
        assert!(history.list("other", 10).unwrap().is_empty());
        let payload: serde_json::Value =
            serde_json::from_str(&history.payload(rows[0].id).unwrap().unwrap()).unwrap();
        assert_eq!(payload["project"], "p");
    }
}
