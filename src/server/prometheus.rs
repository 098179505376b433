//! The Prometheus scrape endpoint: the text exposition format (0.0.4), rendered from a snapshot
//! of counters, and [`ReceiverMetrics`], the receiver's own copy of the library's cost and token
//! metrics for everything it ingests.
//!
//! Names follow the OpenTelemetry → Prometheus translation a Collector applies to the library's
//! OTLP metrics (dots to underscores, unit suffix unless in braces, `_total` on counters), so one
//! Grafana dashboard reads either source:
//!
//! | OTel (library) | Prometheus |
//! |---|---|
//! | `gen_ai.client.token.usage` `{token}` | `gen_ai_client_token_usage_bucket`/`_sum`/`_count` |
//! | `peekr.cost` `USD` | `peekr_cost_USD_total` |
//! | `peekr.query.cost` `USD` | `peekr_query_cost_USD_bucket`/`_sum`/`_count` |
//! | `peekr.spans.unpriced` `{span}` | `peekr_spans_unpriced_total` |
//!
//! Labels are the attribute keys with dots as underscores (`gen_ai_request_model`,
//! `tenant_id`), plus `project`. Money is summed exactly in nano-USD and printed as an exact
//! decimal.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use crate::enrich::CostStatus;
use crate::metrics::{self as m, QUERY_COST_BOUNDARIES, TOKEN_USAGE_BOUNDARIES};
use crate::pricing::Nanos;
use crate::processor::LlmSpanFacts;
use crate::rollup::TraceTotals;
use crate::semconv as sc;

/// The `content-type` of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Prometheus name of `gen_ai.client.token.usage`.
pub const TOKEN_USAGE: &str = "gen_ai_client_token_usage";
/// Prometheus name of `peekr.cost`.
pub const COST_TOTAL: &str = "peekr_cost_USD_total";
/// Prometheus name of `peekr.query.cost`.
pub const QUERY_COST: &str = "peekr_query_cost_USD";
/// Prometheus name of `peekr.spans.unpriced`.
pub const SPANS_UNPRICED_TOTAL: &str = "peekr_spans_unpriced_total";

// ===== the format =====

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A monotonic counter.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// A histogram (`_bucket`, `_sum`, `_count` samples).
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// One sample line: an optional name suffix (`_bucket`), labels and a value already formatted.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Appended to the family name (`""`, `"_bucket"`, `"_sum"`, `"_count"`).
    pub suffix: &'static str,
    /// Label pairs, in order.
    pub labels: Vec<(String, String)>,
    /// The value as written.
    pub value: String,
}

impl Sample {
    /// An integer sample.
    #[must_use]
    pub fn int(labels: Vec<(String, String)>, value: u64) -> Self {
        Sample {
            suffix: "",
            labels,
            value: value.to_string(),
        }
    }

    /// A float sample.
    #[must_use]
    pub fn float(labels: Vec<(String, String)>, value: f64) -> Self {
        Sample {
            suffix: "",
            labels,
            value: format_float(value),
        }
    }

    /// An exact USD amount.
    #[must_use]
    pub fn usd(labels: Vec<(String, String)>, value: Nanos) -> Self {
        Sample {
            suffix: "",
            labels,
            value: value.to_string(),
        }
    }
}

/// A metric family: `# HELP`, `# TYPE` and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// Metric name (already in Prometheus form; see [`sanitize_name`]).
    pub name: String,
    /// Help text.
    pub help: String,
    /// Type.
    pub kind: Kind,
    /// Samples.
    pub samples: Vec<Sample>,
}

fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".to_owned()
        } else {
            "-Inf".to_owned()
        }
    } else {
        v.to_string()
    }
}

/// Maps an OTel name or attribute key to a valid Prometheus name: every character outside
/// `[a-zA-Z0-9_:]` becomes `_`, and a leading digit gets a `_` prefix.
#[must_use]
pub fn sanitize_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn escape_label(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn escape_help(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Renders families in the text exposition format (0.0.4).
///
/// ```
/// use peekr::server::prometheus::{render, Family, Kind, Sample};
/// let text = render(&[Family {
///     name: "peekr_spans_unpriced_total".into(),
///     help: "LLM spans Peekr could not price".into(),
///     kind: Kind::Counter,
///     samples: vec![Sample::int(vec![("gen_ai_request_model".into(), "x\"y".into())], 2)],
/// }]);
/// let lines: Vec<&str> = text.lines().collect();
/// assert_eq!(lines[0], "# HELP peekr_spans_unpriced_total LLM spans Peekr could not price");
/// assert_eq!(lines[1], "# TYPE peekr_spans_unpriced_total counter");
/// assert_eq!(lines[2], r#"peekr_spans_unpriced_total{gen_ai_request_model="x\"y"} 2"#);
/// ```
#[must_use]
pub fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for f in families {
        out.push_str("# HELP ");
        out.push_str(&f.name);
        out.push(' ');
        escape_help(&f.help, &mut out);
        out.push('\n');
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.as_str());
        for s in &f.samples {
            out.push_str(&f.name);
            out.push_str(s.suffix);
            if !s.labels.is_empty() {
                out.push('{');
                for (i, (k, v)) in s.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(k);
                    out.push_str("=\"");
                    escape_label(v, &mut out);
                    out.push('"');
                }
                out.push('}');
            }
            out.push(' ');
            out.push_str(&s.value);
            out.push('\n');
        }
    }
    out
}

/// Adds `_bucket` (cumulative, with `+Inf`), `_sum` and `_count` samples for one series.
fn histogram_samples(
    out: &mut Vec<Sample>,
    labels: &[(String, String)],
    bounds: &[f64],
    counts: &[u64],
    sum: String,
    count: u64,
) {
    let mut cumulative = 0;
    for (i, bound) in bounds.iter().enumerate() {
        cumulative += counts.get(i).copied().unwrap_or(0);
        let mut l = labels.to_vec();
        l.push(("le".to_owned(), format_float(*bound)));
        out.push(Sample {
            suffix: "_bucket",
            labels: l,
            value: cumulative.to_string(),
        });
    }
    let mut l = labels.to_vec();
    l.push(("le".to_owned(), "+Inf".to_owned()));
    out.push(Sample {
        suffix: "_bucket",
        labels: l,
        value: count.to_string(),
    });
    out.push(Sample {
        suffix: "_sum",
        labels: labels.to_vec(),
        value: sum,
    });
    out.push(Sample {
        suffix: "_count",
        labels: labels.to_vec(),
        value: count.to_string(),
    });
}

// ===== the receiver's metrics =====

/// `(label name, value)` pairs identifying one series.
type Labels = Vec<(String, String)>;

#[derive(Debug, Default, Clone)]
struct Hist {
    /// Per-bucket (not cumulative) counts; one more than the bounds for the overflow bucket.
    counts: Vec<u64>,
    count: u64,
    sum_int: u128,
    sum_nanos: i64,
}

impl Hist {
    fn observe(&mut self, bounds: &[f64], value: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; bounds.len() + 1];
        }
        let i = bounds
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(bounds.len());
        self.counts[i] += 1;
        self.count += 1;
    }
}

#[derive(Debug, Default)]
struct State {
    tokens: BTreeMap<Labels, Hist>,
    cost: BTreeMap<Labels, i64>,
    query_cost: BTreeMap<Labels, Hist>,
    unpriced: BTreeMap<Labels, u64>,
}

/// The receiver's cost and token metrics, per project, with exact money; rendered by
/// [`ReceiverMetrics::render`] for the scrape endpoint.
///
/// The ingest path calls [`record_llm_span`](Self::record_llm_span) for each enriched LLM span
/// and [`record_query`](Self::record_query) for each root span. Tenant values are bounded as in
/// the library ([`crate::metrics`]): the first [`m::MAX_TENANTS_DEFAULT`] per receiver, then
/// `other`.
#[derive(Debug)]
pub struct ReceiverMetrics {
    state: Mutex<State>,
    tenants: Mutex<std::collections::HashSet<String>>,
    max_tenants: usize,
}

impl Default for ReceiverMetrics {
    fn default() -> Self {
        ReceiverMetrics::new(m::MAX_TENANTS_DEFAULT)
    }
}

fn label(key: &str, value: &str) -> (String, String) {
    // The keys used per span are known: skip sanitizing them character by character (this
    // runs for every ingested LLM span).
    let known = match key {
        "project" => "project",
        sc::GEN_AI_OPERATION_NAME => "gen_ai_operation_name",
        sc::GEN_AI_PROVIDER_NAME => "gen_ai_provider_name",
        sc::GEN_AI_REQUEST_MODEL => "gen_ai_request_model",
        sc::TENANT_ID => "tenant_id",
        sc::PEEKR_COST_STATUS => "peekr_cost_status",
        m::GEN_AI_TOKEN_TYPE => "gen_ai_token_type",
        _ => return (sanitize_name(key), value.to_owned()),
    };
    (known.to_owned(), value.to_owned())
}

impl ReceiverMetrics {
    /// Metrics admitting at most `max_tenants` distinct tenant values.
    #[must_use]
    pub fn new(max_tenants: usize) -> Self {
        ReceiverMetrics {
            state: Mutex::default(),
            tenants: Mutex::default(),
            max_tenants,
        }
    }

    /// A shared handle.
    #[must_use]
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn tenant(&self, tenant: &str) -> String {
        let Ok(mut seen) = self.tenants.lock() else {
            return m::OTHER_TENANT.to_owned();
        };
        if seen.contains(tenant) || seen.len() < self.max_tenants {
            seen.insert(tenant.to_owned());
            tenant.to_owned()
        } else {
            m::OTHER_TENANT.to_owned()
        }
    }

    /// Records one enriched LLM span of `project`: tokens, cost, or an unpriced count, exactly
    /// as [`CostMetrics`](crate::metrics::CostMetrics) does in the library.
    pub fn record_llm_span(&self, project: &str, facts: &LlmSpanFacts<'_>) {
        let e = facts.enrichment;
        let provider = facts
            .provider
            .or_else(|| e.priced.as_ref().map(|p| &*p.provider));
        let mut base: Labels = vec![label("project", project)];
        for (k, v) in [
            (sc::GEN_AI_OPERATION_NAME, facts.operation),
            (sc::GEN_AI_PROVIDER_NAME, provider),
            (sc::GEN_AI_REQUEST_MODEL, facts.model),
        ] {
            if let Some(v) = v {
                base.push(label(k, v));
            }
        }
        let tenant = facts.tenant.map(|t| self.tenant(t));
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let tokens = |state: &mut State, input: u64, output: u64| {
            if input == 0 && output == 0 {
                return;
            }
            for (ty, n) in [("input", input), ("output", output)] {
                let mut l = base.clone();
                l.push(label(m::GEN_AI_TOKEN_TYPE, ty));
                let h = state.tokens.entry(l).or_default();
                #[allow(clippy::cast_precision_loss)] // bucket placement only; the sum is exact
                h.observe(&TOKEN_USAGE_BOUNDARIES, n as f64);
                h.sum_int += u128::from(n);
            }
        };
        match e.status {
            CostStatus::Priced | CostStatus::Provided => {
                tokens(&mut state, e.usage.input, e.usage.output);
                if let Some(total) = e.total {
                    let mut l = base.clone();
                    if let Some(t) = &tenant {
                        l.push(label(sc::TENANT_ID, t));
                    }
                    let c = state.cost.entry(l).or_default();
                    *c = c.saturating_add(total.0);
                }
            }
            CostStatus::UnpricedModel | CostStatus::NoUsage | CostStatus::InvalidUsage => {
                if e.status == CostStatus::UnpricedModel {
                    tokens(&mut state, e.usage.input, e.usage.output);
                }
                let mut l = vec![label("project", project)];
                if let Some(model) = facts.model {
                    l.push(label(sc::GEN_AI_REQUEST_MODEL, model));
                }
                l.push(label(sc::PEEKR_COST_STATUS, e.status.as_str()));
                *state.unpriced.entry(l).or_default() += 1;
            }
        }
    }

    /// Records one query (root span) of `project` with its trace totals.
    pub fn record_query(&self, project: &str, totals: &TraceTotals, tenant: Option<&str>) {
        let mut l = vec![label("project", project)];
        if let Some(t) = tenant {
            l.push(label(sc::TENANT_ID, &self.tenant(t)));
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let h = state.query_cost.entry(l).or_default();
        h.observe(&QUERY_COST_BOUNDARIES, totals.cost.as_usd_f64());
        h.sum_nanos = h.sum_nanos.saturating_add(totals.cost.0);
    }

    /// The current values as metric families (empty families are left out).
    #[must_use]
    pub fn snapshot(&self) -> Vec<Family> {
        let Ok(state) = self.state.lock() else {
            return Vec::new();
        };
        let mut families = Vec::new();
        if !state.tokens.is_empty() {
            let mut samples = Vec::new();
            for (labels, h) in &state.tokens {
                histogram_samples(
                    &mut samples,
                    labels,
                    &TOKEN_USAGE_BOUNDARIES,
                    &h.counts,
                    h.sum_int.to_string(),
                    h.count,
                );
            }
            families.push(Family {
                name: TOKEN_USAGE.to_owned(),
                help: "Number of input and output tokens used per LLM call".to_owned(),
                kind: Kind::Histogram,
                samples,
            });
        }
        if !state.cost.is_empty() {
            families.push(Family {
                name: COST_TOTAL.to_owned(),
                help: "Cost of LLM calls computed by Peekr, USD".to_owned(),
                kind: Kind::Counter,
                samples: state
                    .cost
                    .iter()
                    .map(|(l, c)| Sample::usd(l.clone(), Nanos(*c)))
                    .collect(),
            });
        }
        if !state.query_cost.is_empty() {
            let mut samples = Vec::new();
            for (labels, h) in &state.query_cost {
                histogram_samples(
                    &mut samples,
                    labels,
                    &QUERY_COST_BOUNDARIES,
                    &h.counts,
                    Nanos(h.sum_nanos).to_string(),
                    h.count,
                );
            }
            families.push(Family {
                name: QUERY_COST.to_owned(),
                help: "Cost of each query (root trace), USD: sum / count is the cost per query"
                    .to_owned(),
                kind: Kind::Histogram,
                samples,
            });
        }
        if !state.unpriced.is_empty() {
            families.push(Family {
                name: SPANS_UNPRICED_TOTAL.to_owned(),
                help: "LLM spans Peekr could not price".to_owned(),
                kind: Kind::Counter,
                samples: state
                    .unpriced
                    .iter()
                    .map(|(l, n)| Sample::int(l.clone(), *n))
                    .collect(),
            });
        }
        families
    }

    /// The exposition text of [`snapshot`](Self::snapshot) followed by `extra` families (the
    /// receiver's health counters: queue drops, forward failures, ...).
    #[must_use]
    pub fn render(&self, extra: &[Family]) -> String {
        let mut families = self.snapshot();
        families.extend_from_slice(extra);
        render(&families)
    }
}

/// A one-sample counter family, for health counters.
#[must_use]
pub fn counter(name: &str, help: &str, value: u64) -> Family {
    Family {
        name: sanitize_name(name),
        help: help.to_owned(),
        kind: Kind::Counter,
        samples: vec![Sample::int(Vec::new(), value)],
    }
}

/// A router serving `GET /metrics` from `metrics`, plus whatever `extra()` returns at scrape
/// time.
pub fn router<F>(metrics: Arc<ReceiverMetrics>, extra: F) -> axum::Router
where
    F: Fn() -> Vec<Family> + Clone + Send + Sync + 'static,
{
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = metrics.clone();
            let extra = extra.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)],
                    metrics.render(&extra()),
                )
            }
        }),
    )
}

// ===== who may scrape =====

/// Who may `GET /metrics` on the receiver's HTTP listener. The figures cover every project, so
/// a project's API key does not open them.
#[derive(Clone, Default)]
pub enum MetricsAccess {
    /// Clients connecting from a loopback address only, and only when the request carries no
    /// proxy header (`forwarded`, `x-forwarded-for`, `x-real-ip`): a reverse proxy on the same
    /// host does not make the endpoint public. The default.
    #[default]
    Loopback,
    /// Any client sending `authorization: Bearer <key>` with this key (`--metrics-key`).
    Key(Arc<str>),
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricsAccess::Loopback => f.write_str("Loopback"),
            // Never print the key.
            MetricsAccess::Key(_) => f.write_str("Key(..)"),
        }
    }
}

const PROXY_HEADERS: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl MetricsAccess {
    /// Whether a request with `headers`, from `peer` (when known), may scrape.
    #[must_use]
    pub fn allows(
        &self,
        headers: &axum::http::HeaderMap,
        peer: Option<std::net::SocketAddr>,
    ) -> bool {
        match self {
            MetricsAccess::Loopback => {
                peer.is_some_and(|p| p.ip().is_loopback())
                    && PROXY_HEADERS.iter().all(|h| !headers.contains_key(*h))
            }
            MetricsAccess::Key(key) => headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|given| constant_time_eq(given.trim().as_bytes(), key.as_bytes())),
        }
    }
}

/// `router` behind `access`: refused requests get `401` (key mode, with `www-authenticate`) or
/// `403` (loopback mode). The peer address comes from axum's `ConnectInfo<SocketAddr>`; serve
/// with `into_make_service_with_connect_info::<SocketAddr>()`, else loopback mode refuses all.
pub fn guarded(router: axum::Router, access: MetricsAccess) -> axum::Router {
    use axum::extract::{ConnectInfo, Request};
    use axum::http::{StatusCode, header};
    use axum::middleware::Next;
    use axum::response::IntoResponse as _;
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let access = access.clone();
            async move {
                let peer = req
                    .extensions()
                    .get::<ConnectInfo<std::net::SocketAddr>>()
                    .map(|c| c.0);
                if access.allows(req.headers(), peer) {
                    return next.run(req).await;
                }
                match access {
                MetricsAccess::Key(_) => (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer")],
                    "send `authorization: Bearer <metrics key>` (peekr serve --metrics-key)\n",
                )
                    .into_response(),
                MetricsAccess::Loopback => (
                    StatusCode::FORBIDDEN,
                    "/metrics answers loopback clients only; start peekr serve with --metrics-key \
                     to scrape it from elsewhere\n",
                )
                    .into_response(),
            }
            }
        },
    ))
}

// ===== the receiver's health counters =====

/// The receiver's health counters: ingest outcomes, per-trace evictions, and per forward
/// destination (label `destination`, the URL) spans sent, dropped, failed and queued.
#[must_use]
pub fn health_families(
    stats: &super::grpc::IngestStats,
    forwarder: Option<&super::forward::Forwarder>,
    traces_evicted: u64,
) -> Vec<Family> {
    use std::sync::atomic::Ordering::Relaxed;
    let mut out = vec![
        counter(
            "peekr_receiver_spans_committed_total",
            "Spans committed to the store",
            stats.spans_committed.load(Relaxed),
        ),
        counter(
            "peekr_receiver_spans_rejected_total",
            "Spans rejected for invalid ids (OTLP partial_success)",
            stats.spans_rejected.load(Relaxed),
        ),
        counter(
            "peekr_receiver_requests_unavailable_total",
            "Export requests refused with UNAVAILABLE because the store queue was full",
            stats.requests_unavailable.load(Relaxed),
        ),
        counter(
            "peekr_receiver_requests_unauthenticated_total",
            "Export requests refused for a missing, unknown or revoked key",
            stats.requests_unauthenticated.load(Relaxed),
        ),
        counter(
            "peekr_traces_evicted_total",
            "Traces whose totals were evicted before their root span arrived",
            traces_evicted,
        ),
    ];
    if let Some(f) = forwarder {
        let per = |get: &dyn Fn(&super::forward::ForwardStats) -> u64| {
            f.stats()
                .map(|(url, s)| {
                    Sample::int(vec![("destination".to_owned(), url.to_owned())], get(s))
                })
                .collect::<Vec<_>>()
        };
        for (name, help, kind, samples) in [
            (
                "peekr_forward_spans_sent_total",
                "Spans delivered to a forward destination",
                Kind::Counter,
                per(&|s| s.sent_spans.load(Relaxed)),
            ),
            (
                "peekr_forward_spans_dropped_total",
                "Spans dropped because a forward queue was full",
                Kind::Counter,
                per(&|s| s.dropped_spans.load(Relaxed)),
            ),
            (
                "peekr_forward_spans_failed_total",
                "Spans a forward destination refused for good",
                Kind::Counter,
                per(&|s| s.failed_spans.load(Relaxed)),
            ),
            (
                "peekr_forward_queued_spans",
                "Spans waiting in a forward queue",
                Kind::Gauge,
                per(&|s| u64::try_from(s.queued_spans.load(Relaxed)).unwrap_or(u64::MAX)),
            ),
        ] {
            out.push(Family {
                name: name.to_owned(),
                help: help.to_owned(),
                kind,
                samples,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::Enrichment;
    use crate::usage::Usage;

    fn enrichment(status: CostStatus, input: u64, output: u64, total: Option<i64>) -> Enrichment {
        Enrichment {
            status,
            usage: Usage {
                input,
                output,
                ..Usage::default()
            },
            cost: None,
            total: total.map(Nanos),
            priced: None,
        }
    }

    #[test]
    fn receiver_metrics_render_exact_money_and_cumulative_buckets() {
        let metrics = ReceiverMetrics::new(1);
        let e = enrichment(CostStatus::Provided, 100, 10, Some(1_500));
        let facts = |tenant| LlmSpanFacts {
            enrichment: &e,
            model: Some("gpt-4o-mini"),
            operation: Some("chat"),
            provider: Some("openai"),
            tenant,
        };
        metrics.record_llm_span("p", &facts(Some("acme")));
        metrics.record_llm_span("p", &facts(Some("zeta")));
        let u = enrichment(CostStatus::UnpricedModel, 5, 1, None);
        metrics.record_llm_span(
            "p",
            &LlmSpanFacts {
                enrichment: &u,
                model: Some("mystery"),
                operation: None,
                provider: None,
                tenant: None,
            },
        );
        let totals = TraceTotals {
            cost: Nanos(3_000),
            llm_calls: 2,
            ..TraceTotals::default()
        };
        metrics.record_query("p", &totals, Some("acme"));
        let text = metrics.render(&[counter("peekr.alerts.dropped", "Alert samples dropped", 4)]);

        assert!(
            text.contains("# TYPE peekr_cost_USD_total counter\n"),
            "{text}"
        );
        assert!(text.contains(
            "peekr_cost_USD_total{project=\"p\",gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4o-mini\",tenant_id=\"acme\"} 0.000001500\n"
        ));
        assert!(
            text.contains("tenant_id=\"other\"} 0.000001500\n"),
            "zeta is over the tenant bound"
        );
        assert!(text.contains(
            "gen_ai_client_token_usage_bucket{project=\"p\",gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4o-mini\",gen_ai_token_type=\"input\",le=\"64\"} 0\n"
        ));
        assert!(text.contains("gen_ai_token_type=\"input\",le=\"256\"} 2\n"));
        assert!(text.contains("gen_ai_token_type=\"input\",le=\"+Inf\"} 2\n"));
        assert!(
            text.contains("gen_ai_token_type=\"input\"} 200\n"),
            "exact token sum"
        );
        assert!(
            text.contains(
                "peekr_query_cost_USD_sum{project=\"p\",tenant_id=\"acme\"} 0.000003000\n"
            )
        );
        assert!(text.contains("peekr_query_cost_USD_count{project=\"p\",tenant_id=\"acme\"} 1\n"));
        assert!(text.contains(
            "peekr_spans_unpriced_total{project=\"p\",gen_ai_request_model=\"mystery\",peekr_cost_status=\"unpriced_model\"} 1\n"
        ));
        assert!(text.ends_with("# TYPE peekr_alerts_dropped counter\npeekr_alerts_dropped 4\n"));
    }

    #[test]
    fn access_is_loopback_without_proxy_headers_or_the_key() {
        use axum::http::{HeaderMap, HeaderValue};
        let local = Some("127.0.0.1:5000".parse().unwrap());
        let remote = Some("10.1.2.3:5000".parse().unwrap());
        let mut h = HeaderMap::new();
        assert!(MetricsAccess::Loopback.allows(&h, local));
        assert!(!MetricsAccess::Loopback.allows(&h, remote));
        assert!(!MetricsAccess::Loopback.allows(&h, None));
        h.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        assert!(!MetricsAccess::Loopback.allows(&h, local));

        let key = MetricsAccess::Key("s3cret".into());
        assert_eq!(format!("{key:?}"), "Key(..)");
        let mut h = HeaderMap::new();
        assert!(!key.allows(&h, local));
        h.insert("authorization", HeaderValue::from_static("Bearer nope"));
        assert!(!key.allows(&h, local));
        h.insert("authorization", HeaderValue::from_static("Bearer s3cret"));
        assert!(key.allows(&h, remote));
    }

    #[test]
    fn names_and_labels_are_sanitized_and_escaped() {
        assert_eq!(
            sanitize_name("gen_ai.client.token.usage"),
            "gen_ai_client_token_usage"
        );
        assert_eq!(sanitize_name("9lives-x"), "_9lives_x");
        let mut out = String::new();
        escape_label("a\\b\"c\nd", &mut out);
        assert_eq!(out, "a\\\\b\\\"c\\nd");
    }
}
