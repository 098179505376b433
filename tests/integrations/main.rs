//! Issue 7, "drop into existing pipelines": Peekr under `tracing` + `tracing-opentelemetry` with
//! crates that already emit GenAI spans (rig-core, genai), each making a real HTTP request to a
//! local fake of the OpenAI API; and the shipped OpenTelemetry Collector configurations.
//!
//! Run with `cargo test --test integrations`.

#[path = "../../examples/support/fake_openai.rs"]
mod fake_openai;

mod collector_config;
mod genai;
mod rig;
mod support;
mod tracing_spans;
