//! `peekr serve`: the OTLP/gRPC receiver and gateway, the store, and the query side.

pub mod auth;
pub mod record;
pub mod report;
pub mod store;
