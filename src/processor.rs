//! [`CostProcessor`]: a span processor that prices GenAI spans before the exporter sees them.
//!
//! ```text
//!  span ends ─► CostProcessor::on_end ─► extract usage ─► match model ─► exact cost
//!                    │                                                     │
//!                    │          (local root span: add the trace's totals)  │
//!                    └──────────── attributes written on the SpanData ◄────┘
//!                                       │
//!                                       ▼
//!                                  inner.on_end(span)  (BatchSpanProcessor → exporter)
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{Span as _, SpanId};
use opentelemetry::{Context, Key, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

use crate::enrich::{CostStatus, Dialects, Enricher, Enrichment, OutValue, is_written_key};
use crate::pricing::{PricingError, PricingTable};
use crate::rollup::{Rollup, TraceTotals};
use crate::semconv as sc;
use crate::usage::{IdentityKeys, extract};

/// Environment variable: comma-separated price files layered over the built-in catalog.
pub const PEEKR_PRICES_ENV: &str = "PEEKR_PRICES";
/// Environment variable: comma-separated opt-in dialects (`openinference`, `semconv`, `logfire`).
pub const PEEKR_DIALECTS_ENV: &str = "PEEKR_DIALECTS";
/// Environment variable: comma-separated tenant attribute keys, highest priority first.
pub const PEEKR_TENANT_KEYS_ENV: &str = "PEEKR_TENANT_KEYS";
/// Environment variable: comma-separated session attribute keys, highest priority first.
pub const PEEKR_SESSION_KEYS_ENV: &str = "PEEKR_SESSION_KEYS";
/// Environment variable: comma-separated baggage keys copied onto every span at start.
pub const PEEKR_BAGGAGE_KEYS_ENV: &str = "PEEKR_BAGGAGE_KEYS";
/// Environment variable: most traces held for root totals.
pub const PEEKR_MAX_TRACES_ENV: &str = "PEEKR_MAX_TRACES";
/// Default baggage keys copied onto spans: the default tenant and session keys.
pub const BAGGAGE_KEYS_DEFAULT: &[&str] = &[
    sc::TENANT_ID,
    sc::ENDUSER_ID,
    sc::GEN_AI_CONVERSATION_ID,
    sc::SESSION_ID,
];

/// A hook that sees every enriched span; used for metrics and alerts. Runs on the span path,
/// so it must not block.
pub trait SpanObserver: Send + Sync + fmt::Debug {
    /// Called for every priced (or unpriceable) LLM span.
    fn on_llm_span(&self, facts: &LlmSpanFacts<'_>) {
        let _ = facts;
    }
    /// Called for every local root span with its trace totals.
    fn on_root_span(&self, totals: &TraceTotals, tenant: Option<&str>, end: SystemTime) {
        let _ = (totals, tenant, end);
    }
}

/// What a [`SpanObserver`] learns about one LLM span.
#[derive(Debug, Clone, Copy)]
pub struct LlmSpanFacts<'a> {
    /// The enrichment result.
    pub enrichment: &'a Enrichment,
    /// Model as reported (or matched).
    pub model: Option<&'a str>,
    /// Operation name.
    pub operation: Option<&'a str>,
    /// Provider.
    pub provider: Option<&'a str>,
    /// Tenant.
    pub tenant: Option<&'a str>,
}

struct Core {
    enricher: Arc<Enricher>,
    identity: IdentityKeys,
    dialects: Dialects,
    baggage_keys: Vec<Key>,
    rollup: Rollup,
    observers: Vec<Arc<dyn SpanObserver>>,
}

impl fmt::Debug for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Core")
            .field("dialects", &self.dialects)
            .field("identity", &self.identity)
            .field("baggage_keys", &self.baggage_keys)
            .finish_non_exhaustive()
    }
}

fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn to_value(v: OutValue) -> Value {
    match v {
        OutValue::F64(d) => Value::F64(d),
        OutValue::I64(i) => Value::I64(i),
        OutValue::Static(s) => Value::String(s.into()),
        OutValue::Shared(s) => Value::String(s.into()),
    }
}

impl Core {
    /// Enriches one span in place. Shared by the processor and the exporter wrapper.
    fn enrich(&self, span: &mut SpanData) {
        let local_root = span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote;
        let trace = u128::from_be_bytes(span.span_context.trace_id().to_bytes());
        // Phase 1, reading: `facts` borrows the span's attributes, so everything the write
        // phase needs is taken out of it here (the enrichment owns its strings).
        let (enrichment, root_tenant) = {
            let facts = extract(&span.attributes[..], &self.identity);
            let enrichment = self
                .enricher
                .enrich(&facts, &span.name, unix_secs(span.end_time));
            if enrichment.is_none() && !local_root {
                // The common case for non-GenAI spans: nothing to write, nothing to allocate.
                return;
            }
            if let Some(e) = &enrichment {
                for o in &self.observers {
                    o.on_llm_span(&LlmSpanFacts {
                        enrichment: e,
                        model: e.priced.as_ref().map(|p| &*p.model).or(facts.model()),
                        operation: facts.operation,
                        provider: facts.provider,
                        tenant: facts.tenant,
                    });
                }
                self.rollup.add(
                    trace,
                    &TraceTotals {
                        cost: e.total.unwrap_or_default(),
                        llm_calls: 1,
                        input_tokens: e.usage.input,
                        output_tokens: e.usage.output,
                        unpriced_calls: u64::from(matches!(
                            e.status,
                            CostStatus::UnpricedModel
                                | CostStatus::InvalidUsage
                                | CostStatus::NoUsage
                        )),
                    },
                );
            }
            let root_tenant = if local_root && !self.observers.is_empty() {
                facts.tenant.map(str::to_owned)
            } else {
                None
            };
            (enrichment, root_tenant)
        };
        // Phase 2, writing straight into the span: replace, never duplicate, any value a
        // previous hop wrote under our keys.
        let replacing_cost = enrichment
            .as_ref()
            .is_some_and(|e| e.status == CostStatus::Priced);
        let attrs = &mut span.attributes;
        attrs.retain(|kv| {
            let k = kv.key.as_str();
            !(is_written_key(k) || (replacing_cost && k == sc::GEN_AI_USAGE_COST))
        });
        attrs.reserve(if local_root { 16 } else { 11 });
        if let Some(e) = &enrichment {
            e.attributes(self.dialects, |k, v| {
                attrs.push(KeyValue::new(k, to_value(v)))
            });
        }
        if local_root {
            let totals = self.rollup.take(trace).unwrap_or_default();
            let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            attrs.push(KeyValue::new(
                sc::PEEKR_TRACE_COST,
                totals.cost.as_usd_f64(),
            ));
            attrs.push(KeyValue::new(
                sc::PEEKR_TRACE_LLM_CALLS,
                count(totals.llm_calls),
            ));
            attrs.push(KeyValue::new(
                sc::PEEKR_TRACE_INPUT_TOKENS,
                count(totals.input_tokens),
            ));
            attrs.push(KeyValue::new(
                sc::PEEKR_TRACE_OUTPUT_TOKENS,
                count(totals.output_tokens),
            ));
            attrs.push(KeyValue::new(
                sc::PEEKR_TRACE_UNPRICED_CALLS,
                count(totals.unpriced_calls),
            ));
            for o in &self.observers {
                o.on_root_span(&totals, root_tenant.as_deref(), span.end_time);
            }
        }
    }

    fn copy_baggage(&self, span: &mut Span, cx: &Context) {
        if self.baggage_keys.is_empty() {
            return;
        }
        let baggage = cx.baggage();
        if baggage.is_empty() {
            return;
        }
        for key in &self.baggage_keys {
            if let Some(value) = baggage.get(key.clone()) {
                span.set_attribute(KeyValue::new(key.clone(), value.clone()));
            }
        }
    }
}

/// A span processor that prices GenAI spans and then hands them to the processor it wraps.
///
/// Wrap the **exporting** processor: the SDK gives each registered processor its own clone of
/// the `SpanData`, so a sibling processor's edits never reach the exporter. `CostProcessor`
/// therefore owns `inner` and calls `inner.on_end(span)` after writing the attributes, and
/// forwards `force_flush`, `shutdown_with_timeout` and `set_resource` to it.
///
/// On each leaf inference span it writes `gen_ai.usage.cost`, the `peekr.cost.*` components,
/// `peekr.cost.status` and `peekr.pricing.*`; on each local root span (no parent, or a remote
/// parent) the trace totals `peekr.trace.*`. At span start it copies the configured baggage
/// entries (tenant, session) onto the span.
///
/// ```
/// use opentelemetry_sdk::trace::{BatchSpanProcessor, InMemorySpanExporter, SdkTracerProvider};
/// use peekr::CostProcessor;
///
/// let exporter = InMemorySpanExporter::default();
/// let processor = CostProcessor::builder(BatchSpanProcessor::builder(exporter).build()).build();
/// let provider = SdkTracerProvider::builder().with_span_processor(processor).build();
/// # drop(provider);
/// ```
#[derive(Debug)]
pub struct CostProcessor<P> {
    inner: P,
    core: Arc<Core>,
}

impl<P: SpanProcessor> CostProcessor<P> {
    /// A builder wrapping `inner`, configured from the environment (see the setters).
    pub fn builder(inner: P) -> CostProcessorBuilder<P> {
        CostProcessorBuilder {
            inner,
            config: CostConfig::from_env(),
        }
    }

    /// A processor wrapping `inner` with the built-in catalog and defaults.
    pub fn new(inner: P) -> Self {
        Self::builder(inner).build()
    }

    /// The wrapped processor.
    pub fn get_ref(&self) -> &P {
        &self.inner
    }

    /// The wrapped processor, mutably.
    pub fn get_mut(&mut self) -> &mut P {
        &mut self.inner
    }

    /// Unwraps the inner processor.
    pub fn into_inner(self) -> P {
        self.inner
    }

    /// The enricher, to swap the price table at run time.
    #[must_use]
    pub fn enricher(&self) -> &Arc<Enricher> {
        &self.core.enricher
    }

    /// Traces evicted from the per-trace map before their root ended.
    #[must_use]
    pub fn evicted_traces(&self) -> u64 {
        self.core.rollup.evicted()
    }
}

impl<P: SpanProcessor> SpanProcessor for CostProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.core.copy_baggage(span, cx);
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        self.core.enrich(&mut span);
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// A span exporter that prices spans on the export thread, for users who prefer that to
/// enriching in `on_end`. Root totals need the trace's children in the same or an earlier
/// batch, which the batch processor's end-time order gives.
#[derive(Debug)]
pub struct CostExporter<E> {
    inner: E,
    core: Arc<Core>,
}

impl<E: SpanExporter> CostExporter<E> {
    /// Wraps `inner` with the configuration from the environment and the built-in catalog.
    pub fn new(inner: E) -> Self {
        CostExporter {
            inner,
            core: Arc::new(CostConfig::from_env().into_core()),
        }
    }

    /// The wrapped exporter.
    pub fn into_inner(self) -> E {
        self.inner
    }
}

impl<E: SpanExporter> SpanExporter for CostExporter<E> {
    fn export(
        &self,
        mut batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        for span in &mut batch {
            self.core.enrich(span);
        }
        self.inner.export(batch)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[derive(Debug, Clone)]
struct CostConfig {
    table: Option<Arc<PricingTable>>,
    enricher: Option<Arc<Enricher>>,
    price_files: Vec<std::path::PathBuf>,
    dialects: Dialects,
    identity: IdentityKeys,
    baggage_keys: Vec<String>,
    max_traces: usize,
    max_age: Duration,
    observers: Vec<Arc<dyn SpanObserver>>,
}

fn env_list(name: &str) -> Option<Vec<String>> {
    let v = std::env::var(name).ok()?;
    Some(
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

impl CostConfig {
    fn from_env() -> Self {
        let mut dialects = Dialects::default();
        for d in env_list(PEEKR_DIALECTS_ENV).unwrap_or_default() {
            match d.as_str() {
                "openinference" => dialects.openinference = true,
                "semconv" | "semconv_proposal" => dialects.semconv_proposal = true,
                "logfire" => dialects.logfire = true,
                other => {
                    tracing::warn!(name: "CostProcessor.UnknownDialect", dialect = %other, "ignoring unknown dialect in PEEKR_DIALECTS")
                }
            }
        }
        let mut identity = IdentityKeys::default();
        if let Some(t) = env_list(PEEKR_TENANT_KEYS_ENV) {
            identity.tenant = t;
        }
        if let Some(s) = env_list(PEEKR_SESSION_KEYS_ENV) {
            identity.session = s;
        }
        CostConfig {
            table: None,
            enricher: None,
            price_files: env_list(PEEKR_PRICES_ENV)
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            dialects,
            identity,
            baggage_keys: env_list(PEEKR_BAGGAGE_KEYS_ENV).unwrap_or_else(|| {
                BAGGAGE_KEYS_DEFAULT
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            }),
            max_traces: std::env::var(PEEKR_MAX_TRACES_ENV)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(crate::rollup::MAX_TRACES_DEFAULT),
            max_age: crate::rollup::MAX_AGE_DEFAULT,
            observers: Vec::new(),
        }
    }

    fn into_core(self) -> Core {
        let enricher = self.enricher.unwrap_or_else(|| {
            let base = self.table.unwrap_or_else(PricingTable::builtin);
            let table = if self.price_files.is_empty() {
                base
            } else {
                let mut layers = vec![(*base).clone()];
                for path in &self.price_files {
                    match PricingTable::from_path(path) {
                        Ok(t) => layers.push(t),
                        Err(error) => tracing::error!(name: "CostProcessor.PriceFileInvalid", %error, "price file ignored"),
                    }
                }
                Arc::new(PricingTable::layered(layers))
            };
            Arc::new(Enricher::new(table))
        });
        Core {
            enricher,
            identity: self.identity,
            dialects: self.dialects,
            baggage_keys: self.baggage_keys.into_iter().map(Key::new).collect(),
            rollup: Rollup::new(self.max_traces, self.max_age),
            observers: self.observers,
        }
    }
}

/// Builds a [`CostProcessor`]. Settings made here override environment variables, which
/// override defaults.
#[must_use]
#[derive(Debug)]
pub struct CostProcessorBuilder<P> {
    inner: P,
    config: CostConfig,
}

impl<P: SpanProcessor> CostProcessorBuilder<P> {
    /// Prices with `table` instead of the built-in catalog.
    pub fn with_pricing(mut self, table: Arc<PricingTable>) -> Self {
        self.config.table = Some(table);
        self
    }

    /// Shares an existing [`Enricher`] (and so its hot-swappable table).
    pub fn with_enricher(mut self, enricher: Arc<Enricher>) -> Self {
        self.config.enricher = Some(enricher);
        self
    }

    /// Layers a price file (any supported format) over the catalog, strictly.
    ///
    /// Corresponding environment variable: `PEEKR_PRICES` (comma-separated). Programmatically
    /// setting this will override any value set via the environment variable.
    ///
    /// # Errors
    ///
    /// The file's first error as `path:line: message`.
    pub fn with_price_file(
        mut self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Self, PricingError> {
        let base = self
            .config
            .table
            .take()
            .unwrap_or_else(PricingTable::builtin);
        let extra = PricingTable::from_path(path.as_ref())?;
        self.config.table = Some(Arc::new(PricingTable::layered([(*base).clone(), extra])));
        self.config.price_files.clear();
        Ok(self)
    }

    /// Opt-in attribute dialects.
    ///
    /// Corresponding environment variable: `PEEKR_DIALECTS` (`openinference,semconv,logfire`).
    /// Programmatically setting this will override any value set via the environment variable.
    pub fn with_dialects(mut self, dialects: Dialects) -> Self {
        self.config.dialects = dialects;
        self
    }

    /// Tenant attribute keys, highest priority first (default `tenant.id`, `enduser.id`).
    ///
    /// Corresponding environment variable: `PEEKR_TENANT_KEYS`. Programmatically setting this
    /// will override any value set via the environment variable.
    pub fn with_tenant_keys<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.config.identity.tenant = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Session attribute keys, highest priority first (default `gen_ai.conversation.id`,
    /// `session.id`).
    ///
    /// Corresponding environment variable: `PEEKR_SESSION_KEYS`. Programmatically setting this
    /// will override any value set via the environment variable.
    pub fn with_session_keys<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        keys: I,
    ) -> Self {
        self.config.identity.session = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Baggage entries copied onto every span at start (default: the tenant and session keys).
    ///
    /// Corresponding environment variable: `PEEKR_BAGGAGE_KEYS`. Programmatically setting this
    /// will override any value set via the environment variable.
    pub fn with_baggage_keys<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        keys: I,
    ) -> Self {
        self.config.baggage_keys = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Bounds on the per-trace totals map: at most `max_traces` traces, each held at most
    /// `max_age` waiting for its root span (defaults 65,536 and 10 minutes).
    ///
    /// Corresponding environment variable: `PEEKR_MAX_TRACES`. Programmatically setting this
    /// will override any value set via the environment variable.
    pub fn with_trace_bounds(mut self, max_traces: usize, max_age: Duration) -> Self {
        self.config.max_traces = max_traces.max(1);
        self.config.max_age = max_age;
        self
    }

    /// Adds an observer (metrics, alerts) that sees every enriched span.
    pub fn with_observer(mut self, observer: Arc<dyn SpanObserver>) -> Self {
        self.config.observers.push(observer);
        self
    }

    /// Builds the processor.
    pub fn build(self) -> CostProcessor<P> {
        CostProcessor {
            inner: self.inner,
            core: Arc::new(self.config.into_core()),
        }
    }
}
