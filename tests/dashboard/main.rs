//! The Costs page's JSON API and the gRPC query API (issue 5), over a real `peekr serve`
//! (receiver + HTTP) fed a small fixed dataset through the real OTLP ingest path.
//!
//! The dataset ([`support::Dataset`]) has known costs (each LLM span carries a provided
//! `gen_ai.usage.cost`), so every figure is asserted exactly, in nano-USD.

mod api;
mod auth;
mod grpc;
mod proto;
mod support;
