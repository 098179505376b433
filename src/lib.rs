//! Peekr: cost per query for LLM agents, OpenTelemetry-native.
//!
//! Total LLM spend grows with traffic and hides regressions; **cost per query** (total LLM cost
//! ÷ root traces) does not. Peekr prices every GenAI span where it is born, writes the cost on
//! the span as OpenTelemetry attributes, totals it per trace on the root span, and ships it with
//! OTLP to any backend (Jaeger, Tempo, a Collector) or to Peekr's own receiver (`peekr serve`,
//! feature `server`), which stores it and shows the Costs page.
//!
//! # Quick start
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Exports to OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4317); PEEKR_API_KEY, if
//! // set, is sent as `authorization: Bearer …` for a Peekr receiver.
//! let _guard = peekr::instrument()?;
//!
//! // Anything that emits GenAI spans now exports them with `gen_ai.usage.cost` on each LLM
//! // call and `peekr.trace.cost` on each root span: the opentelemetry API directly,
//! // `tracing` + `tracing-opentelemetry`, rig, genai, …
//! # Ok(()) }
//! ```
//!
//! Or wrap your own exporting processor:
//!
//! ```
//! use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor};
//! use peekr::CostProcessor;
//!
//! let exporter = InMemorySpanExporter::default();
//! let provider = SdkTracerProvider::builder()
//!     .with_span_processor(CostProcessor::new(SimpleSpanProcessor::new(exporter.clone())))
//!     .build();
//! ```
//!
//! # The pipeline
//!
//! ```text
//!  span ends ─► CostProcessor ─► BatchSpanProcessor ─► OTLP/gRPC ─► backend or `peekr serve`
//!                  ├─ usage::extract   every GenAI dialect → one Usage
//!                  ├─ pricing          model match → dated price → exact cost
//!                  ├─ rollup           per-trace totals on the local root span
//!                  └─ observers        metrics, CostSpike alerts (off the span path)
//! ```
//!
//! # Feature flags
//!
//! - `otlp` (default): the OTLP/gRPC exporter setup, [`instrument()`] and [`InstrumentBuilder`].
//! - `tls`: TLS for the OTLP exporter with the system roots.
//! - `server`: `peekr serve` (receiver, gateway, SQLite store, Costs page) and the `peekr`
//!   CLI. Library users never compile it.
//!
//! # Environment variables
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | OTLP/gRPC endpoint | `http://localhost:4317` |
//! | `OTEL_EXPORTER_OTLP_HEADERS` | extra headers, `k=v,k2=v2` | none |
//! | `OTEL_EXPORTER_OTLP_COMPRESSION` | `gzip`, `zstd` or `none` | `none` |
//! | `OTEL_EXPORTER_OTLP_TIMEOUT` | export timeout, ms | `10000` |
//! | `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` | resource | SDK defaults |
//! | `PEEKR_API_KEY` | Peekr receiver key, sent as `authorization: Bearer` | none |
//! | `PEEKR_PRICES` | comma-separated price files over the built-in catalog | none |
//! | `PEEKR_DIALECTS` | `openinference`, `semconv`, `logfire` | none |
//! | `PEEKR_TENANT_KEYS` / `PEEKR_SESSION_KEYS` | attribute keys for tenant / session | `tenant.id,enduser.id` / `gen_ai.conversation.id,session.id` |
//! | `PEEKR_BAGGAGE_KEYS` | baggage entries copied onto every span | the four keys above |
//! | `PEEKR_MAX_TRACES` | traces held for root totals | `65536` |
//!
//! Settings made in code override the environment, which overrides the defaults.
//!
//! # Minimum supported Rust version
//!
//! Rust 1.89 (the highest MSRV among the resolved dependencies, rusqlite, under `server`; the
//! library alone needs 1.88 for tonic). Raising it is a minor-version change.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod alerts;
pub mod metrics;
pub mod pricing;
pub mod semconv;
pub mod usage;

#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;

pub mod enrich;
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub mod exporter;
pub mod processor;
pub mod rollup;

#[cfg(feature = "otlp")]
pub use exporter::{Instrument, InstrumentBuilder, InstrumentError, InstrumentGuard, instrument};
pub use pricing::{ModelPrice, PricingError, PricingTable};
pub use processor::{CostExporter, CostProcessor, CostProcessorBuilder};
