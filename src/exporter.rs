//! OTLP/gRPC export and the one-call setup, [`instrument()`](crate::instrument).
//!
//! ```text
//! app spans ─► CostProcessor ─► BatchSpanProcessor ─► OTLP/gRPC exporter ─► Jaeger / Tempo /
//!                                                                           Collector / peekr serve
//! ```
//!
//! Each setting is resolved in this order:
//! 1. the value set on [`InstrumentBuilder`] in code;
//! 2. the standard OpenTelemetry environment variable (`OTEL_EXPORTER_OTLP_ENDPOINT`,
//!    `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_COMPRESSION`,
//!    `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`), read by
//!    the OpenTelemetry SDK and OTLP exporter themselves;
//! 3. the default (`http://localhost:4317`, no compression unless set, 10 s timeout).
//!
//! `PEEKR_API_KEY`, when set (or [`InstrumentBuilder::with_api_key`]), adds
//! `authorization: Bearer <key>` so the spans are accepted by a Peekr receiver.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_otlp::{Compression, WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};

use crate::enrich::Dialects;
use crate::pricing::PricingTable;
use crate::processor::{CostProcessor, SpanObserver};

/// Environment variable holding the Peekr receiver API key.
pub const PEEKR_API_KEY_ENV: &str = "PEEKR_API_KEY";
/// Environment variable: `true` (or `1`) exports cost and token metrics over OTLP.
pub const PEEKR_METRICS_ENV: &str = "PEEKR_METRICS";

/// Errors from [`InstrumentBuilder::install`].
#[derive(Debug, thiserror::Error)]
pub enum InstrumentError {
    /// The OTLP exporter could not be built (bad endpoint, TLS configuration).
    #[error("cannot build the OTLP exporter")]
    Exporter(#[source] opentelemetry_otlp::ExporterBuildError),
    /// A header name or value is not valid gRPC metadata.
    #[error("invalid header `{0}`")]
    Header(String),
    /// A price file is invalid.
    #[error(transparent)]
    Pricing(#[from] crate::pricing::PricingError),
    /// The background runtime for the gRPC client could not start.
    #[error("cannot start the exporter runtime")]
    Runtime(#[source] std::io::Error),
}

/// Configures and installs the global tracer provider with Peekr in it.
#[must_use]
#[derive(Debug, Default)]
pub struct InstrumentBuilder {
    endpoint: Option<String>,
    headers: Vec<(String, String)>,
    api_key: Option<String>,
    compression: Option<Compression>,
    timeout: Option<Duration>,
    service_name: Option<String>,
    resource: Vec<KeyValue>,
    pricing: Option<Arc<PricingTable>>,
    price_files: Vec<std::path::PathBuf>,
    dialects: Option<Dialects>,
    observers: Vec<Arc<dyn SpanObserver>>,
    global: Option<bool>,
    alerts: Vec<crate::alerts::CostSpike>,
    alert_sinks: Vec<Arc<dyn crate::alerts::AlertSink>>,
    metrics: Option<bool>,
}

/// Keeps the pipeline alive; flushes and shuts it down when dropped.
#[derive(Debug)]
pub struct InstrumentGuard {
    provider: SdkTracerProvider,
    meter_provider: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
    alerts: Vec<Arc<crate::alerts::AlertObserver>>,
    // A runtime owned by the guard when the caller had none; dropped after the provider.
    _runtime: Option<tokio::runtime::Runtime>,
}

impl InstrumentGuard {
    /// The tracer provider, for code that wants a tracer without the global.
    #[must_use]
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// The meter provider exporting Peekr's metrics, when
    /// [`with_metrics`](InstrumentBuilder::with_metrics) is on.
    #[must_use]
    pub fn meter_provider(&self) -> Option<&opentelemetry_sdk::metrics::SdkMeterProvider> {
        self.meter_provider.as_ref()
    }

    /// The alert observers, one per [`with_alert`](InstrumentBuilder::with_alert) rule.
    #[must_use]
    pub fn alerts(&self) -> &[Arc<crate::alerts::AlertObserver>] {
        &self.alerts
    }

    /// Flushes every finished span now.
    ///
    /// # Errors
    ///
    /// When the exporter fails or times out.
    pub fn flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.provider.force_flush()
    }
}

impl Drop for InstrumentGuard {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            tracing::warn!(name: "Instrument.ShutdownFailed", %error, "spans may not have been exported");
        }
        // After the tracer provider, so metrics recorded by the last spans are exported too.
        if let Some(meters) = &self.meter_provider
            && let Err(error) = meters.shutdown()
        {
            tracing::warn!(name: "Instrument.MetricsShutdownFailed", %error, "metrics may not have been exported");
        }
    }
}

impl InstrumentBuilder {
    /// OTLP/gRPC endpoint, e.g. `http://127.0.0.1:4317`.
    ///
    /// Corresponding environment variable: `OTEL_EXPORTER_OTLP_ENDPOINT`. Programmatically
    /// setting this will override any value set via the environment variable.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Adds a gRPC request header (metadata).
    ///
    /// Corresponding environment variable: `OTEL_EXPORTER_OTLP_HEADERS`; headers set here are
    /// added to those.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Peekr receiver API key, sent as `authorization: Bearer <key>`.
    ///
    /// Corresponding environment variable: `PEEKR_API_KEY`. Programmatically setting this will
    /// override any value set via the environment variable.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Compression (`Compression::Gzip` or `Compression::Zstd`).
    ///
    /// Corresponding environment variable: `OTEL_EXPORTER_OTLP_COMPRESSION`. Programmatically
    /// setting this will override any value set via the environment variable.
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = Some(compression);
        self
    }

    /// Per-export timeout.
    ///
    /// Corresponding environment variable: `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds).
    /// Programmatically setting this will override any value set via the environment variable.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// `service.name` of the resource.
    ///
    /// Corresponding environment variable: `OTEL_SERVICE_NAME`. Programmatically setting this
    /// will override any value set via the environment variable.
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Adds a resource attribute.
    ///
    /// Corresponding environment variable: `OTEL_RESOURCE_ATTRIBUTES`; attributes set here
    /// override those with the same key.
    pub fn with_resource_attribute(mut self, kv: KeyValue) -> Self {
        self.resource.push(kv);
        self
    }

    /// Prices with `table` instead of the built-in catalog.
    pub fn with_pricing(mut self, table: Arc<PricingTable>) -> Self {
        self.pricing = Some(table);
        self
    }

    /// Layers a price file over the catalog.
    ///
    /// Corresponding environment variable: `PEEKR_PRICES`. Programmatically setting this will
    /// override any value set via the environment variable.
    pub fn with_price_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.price_files.push(path.into());
        self
    }

    /// Opt-in attribute dialects.
    ///
    /// Corresponding environment variable: `PEEKR_DIALECTS`. Programmatically setting this will
    /// override any value set via the environment variable.
    pub fn with_dialects(mut self, dialects: Dialects) -> Self {
        self.dialects = Some(dialects);
        self
    }

    /// Adds a span observer (see [`crate::alerts`] and [`crate::metrics`]).
    pub fn with_observer(mut self, observer: Arc<dyn SpanObserver>) -> Self {
        self.observers.push(observer);
        self
    }

    /// Evaluates a [`CostSpike`](crate::alerts::CostSpike) rule on every local root span, off
    /// the span path (see [`crate::alerts`]). Repeatable, one rule per call; alerts go to the
    /// sinks of [`with_alert_sink`](Self::with_alert_sink), else to a `tracing` warning.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let _guard = peekr::Instrument::builder().with_alert(peekr::alerts::CostSpike::new(2.0)).install()?;
    /// # Ok(()) }
    /// ```
    pub fn with_alert(mut self, rule: crate::alerts::CostSpike) -> Self {
        self.alerts.push(rule);
        self
    }

    /// Adds a sink for the alerts of every [`with_alert`](Self::with_alert) rule. Without one,
    /// alerts go to [`TracingSink`](crate::alerts::TracingSink).
    pub fn with_alert_sink(mut self, sink: Arc<dyn crate::alerts::AlertSink>) -> Self {
        self.alert_sinks.push(sink);
        self
    }

    /// Exports Peekr's cost and token metrics (see [`crate::metrics`]) over OTLP/gRPC with the
    /// same endpoint, headers, API key, compression and timeout as the traces, every 60 s
    /// (`OTEL_METRIC_EXPORT_INTERVAL`). Off by default.
    ///
    /// Corresponding environment variable: `PEEKR_METRICS` (`true`/`1`). Programmatically
    /// setting this will override any value set via the environment variable.
    pub fn with_metrics(mut self, on: bool) -> Self {
        self.metrics = Some(on);
        self
    }

    /// Whether to install the provider as the global tracer provider (default `true`).
    pub fn with_global(mut self, global: bool) -> Self {
        self.global = Some(global);
        self
    }

    /// Builds the pipeline and (by default) installs it globally.
    ///
    /// Must run inside a Tokio runtime, or with none: without one, a small runtime is started
    /// for the gRPC client and kept in the guard.
    ///
    /// # Errors
    ///
    /// See [`InstrumentError`].
    pub fn install(self) -> Result<InstrumentGuard, InstrumentError> {
        let runtime = match tokio::runtime::Handle::try_current() {
            Ok(_) => None,
            Err(_) => Some(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("peekr-otlp")
                    .enable_all()
                    .build()
                    .map_err(InstrumentError::Runtime)?,
            ),
        };
        let _entered = runtime.as_ref().map(tokio::runtime::Runtime::enter);

        let mut metadata = tonic::metadata::MetadataMap::new();
        let api_key = self.api_key.clone().or_else(|| {
            std::env::var(PEEKR_API_KEY_ENV)
                .ok()
                .filter(|k| !k.is_empty())
        });
        if let Some(key) = api_key {
            let value = format!("Bearer {key}")
                .parse()
                .map_err(|_| InstrumentError::Header("authorization".to_owned()))?;
            metadata.insert("authorization", value);
        }
        for (name, value) in &self.headers {
            let key =
                tonic::metadata::MetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes())
                    .map_err(|_| InstrumentError::Header(name.clone()))?;
            let value = value
                .parse()
                .map_err(|_| InstrumentError::Header(name.clone()))?;
            metadata.insert(key, value);
        }
        let metrics_on = self.metrics.unwrap_or_else(|| {
            std::env::var(PEEKR_METRICS_ENV)
                .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "TRUE" | "True"))
        });
        let metric_exporter = if metrics_on {
            let mut m = opentelemetry_otlp::MetricExporter::builder()
                .with_tonic()
                .with_metadata(metadata.clone());
            if let Some(endpoint) = &self.endpoint {
                m = m.with_endpoint(endpoint.clone());
            }
            if let Some(c) = self.compression {
                m = m.with_compression(c);
            }
            if let Some(t) = self.timeout {
                m = m.with_timeout(t);
            }
            Some(m.build().map_err(InstrumentError::Exporter)?)
        } else {
            None
        };
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_metadata(metadata);
        if let Some(endpoint) = &self.endpoint {
            exporter = exporter.with_endpoint(endpoint.clone());
        }
        if let Some(c) = self.compression {
            exporter = exporter.with_compression(c);
        }
        if let Some(t) = self.timeout {
            exporter = exporter.with_timeout(t);
        }
        let exporter = exporter.build().map_err(InstrumentError::Exporter)?;

        let mut resource = Resource::builder();
        if let Some(name) = &self.service_name {
            resource = resource.with_service_name(name.clone());
        }
        let resource = resource.with_attributes(self.resource.clone()).build();

        let mut processor = CostProcessor::builder(BatchSpanProcessor::builder(exporter).build());
        if let Some(table) = self.pricing.clone() {
            processor = processor.with_pricing(table);
        }
        for path in &self.price_files {
            processor = processor.with_price_file(path)?;
        }
        if let Some(d) = self.dialects {
            processor = processor.with_dialects(d);
        }
        for o in &self.observers {
            processor = processor.with_observer(o.clone());
        }
        let mut alerts = Vec::new();
        for rule in &self.alerts {
            let mut observer = crate::alerts::AlertObserver::builder(rule.clone());
            for sink in &self.alert_sinks {
                observer = observer.with_sink(sink.clone());
            }
            let observer = Arc::new(observer.build());
            processor = processor.with_observer(observer.clone());
            alerts.push(observer);
        }
        let mut meter_provider = None;
        if let Some(exporter) = metric_exporter {
            let meters = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
                .with_resource(resource.clone())
                .with_periodic_exporter(exporter)
                .build();
            let scope = opentelemetry::InstrumentationScope::builder("peekr")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build();
            let meter = opentelemetry::metrics::MeterProvider::meter_with_scope(&meters, scope);
            let mut metrics = crate::metrics::CostMetrics::builder(&meter);
            for a in &alerts {
                metrics = metrics.with_alert_drops(a.dropped_counter());
            }
            processor = processor.with_observer(Arc::new(metrics.build()));
            meter_provider = Some(meters);
        }
        let provider = SdkTracerProvider::builder()
            .with_resource(resource)
            .with_span_processor(processor.build())
            .build();
        if self.global.unwrap_or(true) {
            opentelemetry::global::set_tracer_provider(provider.clone());
            if let Some(meters) = &meter_provider {
                opentelemetry::global::set_meter_provider(meters.clone());
            }
        }
        drop(_entered);
        Ok(InstrumentGuard {
            provider,
            meter_provider,
            alerts,
            _runtime: runtime,
        })
    }
}

/// Entry point for [`InstrumentBuilder`].
#[derive(Debug)]
pub struct Instrument;

impl Instrument {
    /// A builder with nothing set: every setting falls back to its environment variable, then
    /// its default.
    pub fn builder() -> InstrumentBuilder {
        InstrumentBuilder::default()
    }
}

/// Installs the global tracer provider: `CostProcessor` → `BatchSpanProcessor` → OTLP/gRPC,
/// configured from the environment. Keep the guard alive; dropping it flushes.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let _guard = peekr::instrument()?;
/// // … every GenAI span exported from here on carries its cost …
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// See [`InstrumentError`].
pub fn instrument() -> Result<InstrumentGuard, InstrumentError> {
    Instrument::builder().install()
}
