//! `peekr serve`: the OTLP/gRPC receiver and gateway, the store, and the query side.
//!
//! ```text
//!  OTLP/gRPC ─► grpc (auth, size cap) ─► ingest (enrich) ─► store (SQLite, WAL) ─► ack
//!                                                 └──────► forward ─► Jaeger / Tempo / Collector
//!  HTTP ─► Costs page and JSON API ─► store queries
//! ```

use std::sync::Arc;

pub mod alerting;
pub mod auth;
pub(crate) mod dashboard;
pub mod demo;
pub mod forward;
mod generated;
pub mod grpc;
pub mod ingest;
pub mod price_cli;
pub mod prometheus;
pub mod query;
pub mod query_grpc;
pub mod receiver;
pub mod record;
pub mod report;
pub mod store;

pub use generated::pb;
pub use receiver::{Receiver, ReceiverConfig, ServeError};

/// State shared by the HTTP side (Costs page, JSON API, metrics).
#[derive(Debug, Clone)]
pub struct HttpState {
    /// The store.
    pub store: Arc<dyn store::Store>,
    /// The key store.
    pub keys: Arc<auth::KeyStore>,
    /// Ingest counters.
    pub stats: Arc<grpc::IngestStats>,
    /// Forwarding, when configured.
    pub forwarder: Option<Arc<forward::Forwarder>>,
}

pub(crate) fn http_state(
    store: Arc<dyn store::Store>,
    keys: Arc<auth::KeyStore>,
    stats: Arc<grpc::IngestStats>,
    forwarder: Option<Arc<forward::Forwarder>>,
) -> HttpState {
    HttpState {
        store,
        keys,
        stats,
        forwarder,
    }
}

/// The HTTP router: the Costs page, its JSON API (`/api/v1`) and `/healthz`; see
/// [`dashboard`].
pub(crate) fn http_router(state: HttpState) -> axum::Router {
    dashboard::router(state)
}
