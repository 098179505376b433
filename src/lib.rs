//! Peekr: cost per query for LLM agents, OpenTelemetry-native.
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

pub use pricing::{ModelPrice, PricingError, PricingTable};
pub use processor::{CostExporter, CostProcessor, CostProcessorBuilder};
#[cfg(feature = "otlp")]
pub use exporter::{instrument, Instrument, InstrumentBuilder, InstrumentError, InstrumentGuard};
