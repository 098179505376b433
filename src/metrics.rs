//! OpenTelemetry metrics for cost and tokens: [`CostMetrics`], a [`SpanObserver`] that records
//! them from the processor.
//!
//! | name | instrument | unit | attributes |
//! |---|---|---|---|
//! | [`GEN_AI_CLIENT_TOKEN_USAGE`] `gen_ai.client.token.usage` | histogram (u64, [`TOKEN_USAGE_BOUNDARIES`]) | `{token}` | `gen_ai.token.type` (`input`, `output`), `gen_ai.operation.name`, `gen_ai.provider.name`, `gen_ai.request.model` |
//! | [`PEEKR_COST`] `peekr.cost` | counter (f64) | `USD` | `gen_ai.operation.name`, `gen_ai.provider.name`, `gen_ai.request.model`, `tenant.id` |
//! | [`PEEKR_QUERY_COST`] `peekr.query.cost` | histogram (f64, [`QUERY_COST_BOUNDARIES`]) | `USD` | `tenant.id` |
//! | [`PEEKR_SPANS_UNPRICED`] `peekr.spans.unpriced` | counter (u64) | `{span}` | `gen_ai.request.model`, `peekr.cost.status` |
//! | [`PEEKR_TRACES_EVICTED`] `peekr.traces.evicted` | observable counter (u64) | `{trace}` | — |
//! | [`PEEKR_ALERTS_DROPPED`] `peekr.alerts.dropped` | observable counter (u64) | `{sample}` | — |
//!
//! - `gen_ai.request.model` carries the **matched catalog model** when the span was priced
//!   (bounded cardinality), else the model as reported.
//! - Attributes with no value on the span are left off rather than set to a placeholder.
//! - `tenant.id` is bounded: values on the allow-list are kept, the first
//!   [`MAX_TENANTS_DEFAULT`] other distinct values are admitted as they are seen, and the rest
//!   are recorded as [`OTHER_TENANT`] (`other`). See [`CostMetricsBuilder::with_tenant_allow_list`].
//! - `peekr.query.cost` is recorded once per local root span (one query): its `sum / count`
//!   is the cost per query.
//! - Money is exact (integer nano-USD) inside Peekr; the OTel instruments take `f64` USD, so
//!   the SDK's sums are floating point.
//!
//! Instruments are created once, in [`CostMetrics::builder`]`(...).build()`, never per span.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use opentelemetry::metrics::{Counter, Histogram, Meter, ObservableCounter};
use opentelemetry::{KeyValue, Value};

use crate::enrich::CostStatus;
use crate::processor::{LlmSpanFacts, SpanObserver};
use crate::rollup::TraceTotals;
use crate::semconv as sc;

/// Token usage per LLM call (OTel GenAI semantic conventions).
pub const GEN_AI_CLIENT_TOKEN_USAGE: &str = "gen_ai.client.token.usage";
/// Cost of LLM calls in USD, summed.
pub const PEEKR_COST: &str = "peekr.cost";
/// Cost of each query (local root trace) in USD.
pub const PEEKR_QUERY_COST: &str = "peekr.query.cost";
/// LLM spans that could not be priced (unknown model, no usage, invalid usage).
pub const PEEKR_SPANS_UNPRICED: &str = "peekr.spans.unpriced";
/// Traces evicted from the per-trace totals map before their root span ended.
pub const PEEKR_TRACES_EVICTED: &str = "peekr.traces.evicted";
/// Alert samples dropped because the alert queue was full.
pub const PEEKR_ALERTS_DROPPED: &str = "peekr.alerts.dropped";

/// Attribute key: which tokens a `gen_ai.client.token.usage` point counts (`input`, `output`).
pub const GEN_AI_TOKEN_TYPE: &str = "gen_ai.token.type";
/// Tenant values not admitted to the metrics are recorded as this.
pub const OTHER_TENANT: &str = "other";
/// Default number of tenant values admitted as first seen, besides the allow-list.
pub const MAX_TENANTS_DEFAULT: usize = 100;

/// The semantic-convention bucket boundaries for `gen_ai.client.token.usage`.
pub const TOKEN_USAGE_BOUNDARIES: [f64; 14] = [
    1.0,
    4.0,
    16.0,
    64.0,
    256.0,
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
];

/// Bucket boundaries for `peekr.query.cost`, in USD: from a hundredth of a cent to $50.
pub const QUERY_COST_BOUNDARIES: [f64; 14] = [
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 50.0,
];

/// A source of a monotonic count, read when metrics are collected.
pub type CountSource = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Maps tenant values to bounded metric attribute values.
#[derive(Debug)]
struct TenantFilter {
    allow: HashSet<String>,
    admitted: RwLock<HashSet<String>>,
    max_admitted: usize,
}

impl TenantFilter {
    fn label(&self, tenant: &str) -> Value {
        if self.allow.contains(tenant) {
            return Value::from(tenant.to_owned());
        }
        if self.max_admitted == 0 {
            return Value::from(OTHER_TENANT);
        }
        if self.admitted.read().is_ok_and(|a| a.contains(tenant)) {
            return Value::from(tenant.to_owned());
        }
        let Ok(mut admitted) = self.admitted.write() else {
            return Value::from(OTHER_TENANT);
        };
        if admitted.contains(tenant) || admitted.len() < self.max_admitted {
            admitted.insert(tenant.to_owned());
            Value::from(tenant.to_owned())
        } else {
            Value::from(OTHER_TENANT)
        }
    }
}

/// Records cost and token metrics from the processor. Register it with
/// [`CostProcessorBuilder::with_observer`](crate::CostProcessorBuilder::with_observer), or let
/// [`InstrumentBuilder::with_metrics`](crate::InstrumentBuilder::with_metrics) do it.
///
/// ```
/// use std::sync::Arc;
/// use opentelemetry::metrics::MeterProvider as _;
/// use opentelemetry_sdk::metrics::SdkMeterProvider;
/// use opentelemetry_sdk::trace::{InMemorySpanExporter, SimpleSpanProcessor};
/// use peekr::metrics::CostMetrics;
/// use peekr::CostProcessor;
///
/// let meters = SdkMeterProvider::builder().build();
/// let metrics = CostMetrics::builder(&meters.meter("peekr")).with_tenant_allow_list(["acme"]).build();
/// let processor = CostProcessor::builder(SimpleSpanProcessor::new(InMemorySpanExporter::default()))
///     .with_observer(Arc::new(metrics))
///     .build();
/// # drop(processor);
/// ```
pub struct CostMetrics {
    token_usage: Histogram<u64>,
    cost: Counter<f64>,
    query_cost: Histogram<f64>,
    unpriced: Counter<u64>,
    tenants: TenantFilter,
    _observed: Vec<ObservableCounter<u64>>,
}

impl fmt::Debug for CostMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CostMetrics")
            .field("tenants", &self.tenants)
            .finish_non_exhaustive()
    }
}

/// Builds [`CostMetrics`].
#[must_use]
pub struct CostMetricsBuilder {
    meter: Meter,
    allow: HashSet<String>,
    max_tenants: usize,
    evicted: Vec<CountSource>,
    alert_drops: Vec<Arc<AtomicU64>>,
}

impl fmt::Debug for CostMetricsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CostMetricsBuilder")
            .field("allow", &self.allow)
            .field("max_tenants", &self.max_tenants)
            .finish_non_exhaustive()
    }
}

impl CostMetricsBuilder {
    /// Tenant values always recorded as themselves.
    pub fn with_tenant_allow_list<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        tenants: I,
    ) -> Self {
        self.allow.extend(tenants.into_iter().map(Into::into));
        self
    }

    /// How many tenant values outside the allow-list are admitted as they are first seen
    /// (default [`MAX_TENANTS_DEFAULT`]); `0` records every tenant not on the allow-list as
    /// `other`.
    pub fn with_max_tenants(mut self, max: usize) -> Self {
        self.max_tenants = max;
        self
    }

    /// Reports `peekr.traces.evicted` from `source` (e.g. the processor's eviction count).
    pub fn with_evicted_traces(mut self, source: CountSource) -> Self {
        self.evicted.push(source);
        self
    }

    /// Reports `peekr.alerts.dropped` from an [`AlertObserver`](crate::alerts::AlertObserver)'s
    /// [`dropped_counter`](crate::alerts::AlertObserver::dropped_counter).
    pub fn with_alert_drops(mut self, counter: Arc<AtomicU64>) -> Self {
        self.alert_drops.push(counter);
        self
    }

    /// Creates the instruments.
    #[must_use]
    pub fn build(self) -> CostMetrics {
        let m = &self.meter;
        let token_usage = m
            .u64_histogram(GEN_AI_CLIENT_TOKEN_USAGE)
            .with_description("Number of input and output tokens used per LLM call")
            .with_unit("{token}")
            .with_boundaries(TOKEN_USAGE_BOUNDARIES.to_vec())
            .build();
        let cost = m
            .f64_counter(PEEKR_COST)
            .with_description("Cost of LLM calls computed by Peekr")
            .with_unit("USD")
            .build();
        let query_cost = m
            .f64_histogram(PEEKR_QUERY_COST)
            .with_description(
                "Cost of each query (local root trace): sum / count is the cost per query",
            )
            .with_unit("USD")
            .with_boundaries(QUERY_COST_BOUNDARIES.to_vec())
            .build();
        let unpriced = m
            .u64_counter(PEEKR_SPANS_UNPRICED)
            .with_description("LLM spans Peekr could not price")
            .with_unit("{span}")
            .build();
        let mut observed = Vec::new();
        if !self.evicted.is_empty() {
            let sources = self.evicted;
            observed.push(
                m.u64_observable_counter(PEEKR_TRACES_EVICTED)
                    .with_description(
                        "Traces evicted from the per-trace totals map before their root span ended",
                    )
                    .with_unit("{trace}")
                    .with_callback(move |o| o.observe(sources.iter().map(|s| s()).sum(), &[]))
                    .build(),
            );
        }
        if !self.alert_drops.is_empty() {
            let counters = self.alert_drops;
            observed.push(
                m.u64_observable_counter(PEEKR_ALERTS_DROPPED)
                    .with_description("Alert samples dropped because the alert queue was full")
                    .with_unit("{sample}")
                    .with_callback(move |o| {
                        o.observe(
                            counters.iter().map(|c| c.load(Ordering::Relaxed)).sum(),
                            &[],
                        )
                    })
                    .build(),
            );
        }
        CostMetrics {
            token_usage,
            cost,
            query_cost,
            unpriced,
            tenants: TenantFilter {
                allow: self.allow,
                admitted: RwLock::default(),
                max_admitted: self.max_tenants,
            },
            _observed: observed,
        }
    }
}

impl CostMetrics {
    /// A builder creating the instruments from `meter`.
    pub fn builder(meter: &Meter) -> CostMetricsBuilder {
        CostMetricsBuilder {
            meter: meter.clone(),
            allow: HashSet::new(),
            max_tenants: MAX_TENANTS_DEFAULT,
            evicted: Vec::new(),
            alert_drops: Vec::new(),
        }
    }

    /// Instruments from `meter` with the default tenant bounds.
    #[must_use]
    pub fn new(meter: &Meter) -> Self {
        Self::builder(meter).build()
    }

    /// Records input and output tokens with `attrs` plus the token type; leaves `attrs` as it
    /// found them. Spans reporting no tokens at all (a provided cost without usage) are skipped.
    fn record_tokens(&self, input: u64, output: u64, attrs: &mut Vec<KeyValue>) {
        if input == 0 && output == 0 {
            return;
        }
        let n = attrs.len();
        attrs.push(KeyValue::new(GEN_AI_TOKEN_TYPE, "input"));
        self.token_usage.record(input, attrs);
        attrs[n] = KeyValue::new(GEN_AI_TOKEN_TYPE, "output");
        self.token_usage.record(output, attrs);
        attrs.truncate(n);
    }

    /// The bounded attribute value recorded for `tenant`.
    #[must_use]
    pub fn tenant_label(&self, tenant: &str) -> Value {
        self.tenants.label(tenant)
    }
}

fn push_str(attrs: &mut Vec<KeyValue>, key: &'static str, value: Option<&str>) {
    if let Some(v) = value {
        attrs.push(KeyValue::new(key, v.to_owned()));
    }
}

impl SpanObserver for CostMetrics {
    fn on_llm_span(&self, facts: &LlmSpanFacts<'_>) {
        let e = facts.enrichment;
        let provider = facts
            .provider
            .or_else(|| e.priced.as_ref().map(|p| &*p.provider));
        let mut attrs = Vec::with_capacity(5);
        push_str(&mut attrs, sc::GEN_AI_OPERATION_NAME, facts.operation);
        push_str(&mut attrs, sc::GEN_AI_PROVIDER_NAME, provider);
        push_str(&mut attrs, sc::GEN_AI_REQUEST_MODEL, facts.model);
        match e.status {
            CostStatus::Priced | CostStatus::Provided => {
                self.record_tokens(e.usage.input, e.usage.output, &mut attrs);
                if let Some(total) = e.total {
                    if let Some(t) = facts.tenant {
                        attrs.push(KeyValue::new(sc::TENANT_ID, self.tenants.label(t)));
                    }
                    self.cost.add(total.as_usd_f64(), &attrs);
                }
            }
            CostStatus::UnpricedModel => {
                // Usage was read, so the tokens are real even without a price.
                self.record_tokens(e.usage.input, e.usage.output, &mut attrs);
                self.unpriced.add(1, &unpriced_attrs(facts.model, e.status));
            }
            CostStatus::NoUsage | CostStatus::InvalidUsage => {
                self.unpriced.add(1, &unpriced_attrs(facts.model, e.status));
            }
        }
    }

    fn on_root_span(&self, totals: &TraceTotals, tenant: Option<&str>, end: SystemTime) {
        let _ = end;
        let usd = totals.cost.as_usd_f64();
        match tenant {
            Some(t) => self
                .query_cost
                .record(usd, &[KeyValue::new(sc::TENANT_ID, self.tenants.label(t))]),
            None => self.query_cost.record(usd, &[]),
        }
    }
}

fn unpriced_attrs(model: Option<&str>, status: CostStatus) -> Vec<KeyValue> {
    let mut attrs = Vec::with_capacity(2);
    push_str(&mut attrs, sc::GEN_AI_REQUEST_MODEL, model);
    attrs.push(KeyValue::new(sc::PEEKR_COST_STATUS, status.as_str()));
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_beyond_the_bound_are_other() {
        let f = TenantFilter {
            allow: ["vip".to_owned()].into(),
            admitted: RwLock::default(),
            max_admitted: 2,
        };
        assert_eq!(f.label("a"), Value::from("a"));
        assert_eq!(f.label("b"), Value::from("b"));
        assert_eq!(f.label("c"), Value::from(OTHER_TENANT));
        assert_eq!(f.label("a"), Value::from("a"));
        assert_eq!(f.label("vip"), Value::from("vip"));
    }

    #[test]
    fn boundaries_are_sorted() {
        assert!(TOKEN_USAGE_BOUNDARIES.windows(2).all(|w| w[0] < w[1]));
        assert!(QUERY_COST_BOUNDARIES.windows(2).all(|w| w[0] < w[1]));
    }
}
