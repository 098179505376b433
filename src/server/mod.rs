//! `peekr serve`: the OTLP/gRPC receiver and gateway, the store, and the query side.
//!
//! ```text
//!  OTLP/gRPC ─► grpc (auth, size cap) ─► ingest (enrich) ─► store (SQLite, WAL) ─► ack
//!                                                 └──────► forward ─► Jaeger / Tempo / Collector
//!  HTTP ─► Costs page and JSON API ─► store queries
//!       └► GET /metrics (Prometheus: cost and tokens per project, health; loopback or key)
//!  every few minutes: alerting (CostSpike over the daily rollups) ─► alert history, webhooks
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
    /// Fired and resolved cost-spike alerts (`GET /api/v1/alert_history`), when the receiver
    /// keeps them.
    pub alerts: Option<Arc<alerting::AlertHistory>>,
    /// The Prometheus figures; `GET /metrics` is served when set.
    pub metrics: Option<Arc<ingest::IngestMetrics>>,
    /// Who may scrape `GET /metrics`.
    pub metrics_access: prometheus::MetricsAccess,
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
        alerts: None,
        metrics: None,
        metrics_access: prometheus::MetricsAccess::default(),
    }
}

/// The HTTP router: the Costs page, its JSON API (`/api/v1`) and `/healthz`; see
/// [`dashboard`].
pub(crate) fn http_router(state: HttpState) -> axum::Router {
    let metrics = metrics_router(&state);
    let router = dashboard::router(state);
    match metrics {
        Some(m) => router.merge(m),
        None => router,
    }
}

/// `GET /metrics` (Prometheus text format): the receiver's cost and token metrics for every
/// project plus its health counters, behind [`HttpState::metrics_access`]. `None` when the
/// state carries no metrics.
fn metrics_router(state: &HttpState) -> Option<axum::Router> {
    let metrics = state.metrics.clone()?;
    let stats = state.stats.clone();
    let forwarder = state.forwarder.clone();
    let evicted = metrics.clone();
    let router = prometheus::router(metrics.metrics().clone(), move || {
        prometheus::health_families(&stats, forwarder.as_deref(), evicted.traces_evicted())
    });
    Some(prometheus::guarded(router, state.metrics_access.clone()))
}
