//! [`Receiver`]: wires the key store, the SQLite store, the enrichment core, forwarding,
//! price-file hot reload, cost-spike alerting and the Prometheus metrics into one OTLP/gRPC
//! server (plus the HTTP side: Costs page, JSON API, `GET /metrics`).

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::net::TcpListener;

use crate::enrich::{Dialects, Enricher};
use crate::pricing::PricingTable;
use crate::usage::IdentityKeys;

use super::alerting::{AlertHistory, AlertingConfig, AlertingError};
use super::auth::{AuthError, KeyStore};
use super::forward::{FORWARD_QUEUE_SPANS_DEFAULT, ForwardTarget, Forwarder};
use super::grpc::{IngestStats, OtlpTraceService, trace_service};
use super::ingest::{IngestMetrics, Ingestor};
use super::prometheus::MetricsAccess;
use super::store::{SqliteStore, SqliteStoreConfig, Store, StoreError};

/// Default OTLP/gRPC listen address.
pub const LISTEN_DEFAULT: &str = "127.0.0.1:4317";
/// Default Costs page listen address.
pub const HTTP_DEFAULT: &str = "127.0.0.1:8080";
/// Default data directory.
pub const DATA_DIR_DEFAULT: &str = "./peekr-data";
/// Database file name inside the data directory.
pub const DB_FILE: &str = "peekr.db";
/// Default cap on one OTLP message (16 MiB).
pub const MAX_MESSAGE_BYTES_DEFAULT: usize = 16 * 1024 * 1024;
/// How often price files are checked for changes.
pub const PRICE_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// Receiver settings. Every field has a default; see the `peekr serve` flags.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Data directory holding `peekr.db`.
    pub data_dir: PathBuf,
    /// Price files layered over the built-in catalog, reloaded when they change.
    pub price_files: Vec<PathBuf>,
    /// Destinations to forward enriched spans to.
    pub forward: Vec<ForwardTarget>,
    /// Bound on spans queued per forward destination.
    pub forward_queue_spans: usize,
    /// Largest accepted OTLP message, bytes.
    pub max_message_bytes: usize,
    /// Delete data older than this many days (none: keep everything).
    pub retention_days: Option<u32>,
    /// Opt-in attribute dialects written on enriched spans (and so forwarded).
    pub dialects: Dialects,
    /// Tenant and session keys.
    pub identity: IdentityKeys,
    /// Store queue capacity, in spans.
    pub max_queued_spans: Option<usize>,
    /// Cost-spike evaluation over the stored rollups, and webhooks.
    pub alerting: AlertingConfig,
    /// Who may scrape `GET /metrics` on the HTTP listener.
    pub metrics_access: MetricsAccess,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            data_dir: PathBuf::from(DATA_DIR_DEFAULT),
            price_files: Vec::new(),
            forward: Vec::new(),
            forward_queue_spans: FORWARD_QUEUE_SPANS_DEFAULT,
            max_message_bytes: MAX_MESSAGE_BYTES_DEFAULT,
            retention_days: None,
            dialects: Dialects::default(),
            identity: IdentityKeys::default(),
            max_queued_spans: None,
            alerting: AlertingConfig::default(),
            metrics_access: MetricsAccess::default(),
        }
    }
}

/// Errors starting or running the receiver.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not open.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key store could not open.
    #[error(transparent)]
    Keys(#[from] AuthError),
    /// The alert history could not open.
    #[error(transparent)]
    Alerts(#[from] AlertingError),
    /// A price file is invalid at start.
    #[error(transparent)]
    Pricing(#[from] crate::pricing::PricingError),
    /// A forward destination is invalid.
    #[error("{0}")]
    Forward(String),
    /// The gRPC server failed.
    #[error("grpc server failed")]
    Transport(#[source] tonic::transport::Error),
    /// The HTTP server failed.
    #[error("http server failed")]
    Http(#[source] std::io::Error),
}

/// A receiver, opened and ready to serve.
#[derive(Debug)]
pub struct Receiver {
    config: ReceiverConfig,
    store: Arc<SqliteStore>,
    keys: Arc<KeyStore>,
    enricher: Arc<Enricher>,
    stats: Arc<IngestStats>,
    forwarder: Arc<std::sync::OnceLock<Arc<Forwarder>>>,
    history: Arc<AlertHistory>,
    metrics: Arc<IngestMetrics>,
}

/// Loads the built-in catalog with `files` layered on top, strictly.
///
/// # Errors
///
/// The first file error.
pub fn load_prices(files: &[PathBuf]) -> Result<PricingTable, crate::pricing::PricingError> {
    let mut layers = vec![(*PricingTable::builtin()).clone()];
    for f in files {
        layers.push(PricingTable::from_path(f)?);
    }
    Ok(PricingTable::layered(layers))
}

fn mtimes(files: &[PathBuf]) -> Vec<Option<SystemTime>> {
    files
        .iter()
        .map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
        .collect()
}

/// Watches price files and swaps a freshly loaded table in when one changes. A file that
/// fails to load keeps the old table and logs why. Runs until the enricher is dropped.
pub fn watch_prices(files: Vec<PathBuf>, enricher: &Arc<Enricher>, interval: Duration) {
    if files.is_empty() {
        return;
    }
    let weak = Arc::downgrade(enricher);
    let spawned = std::thread::Builder::new().name("peekr-price-reload".into()).spawn(move || {
        let mut seen = mtimes(&files);
        loop {
            std::thread::sleep(interval);
            let Some(enricher) = weak.upgrade() else { return };
            let now = mtimes(&files);
            if now == seen {
                continue;
            }
            seen = now;
            match load_prices(&files) {
                Ok(table) => {
                    let models = table.models().len();
                    enricher.set_table(Arc::new(table));
                    tracing::info!(name: "Receiver.PricesReloaded", models, "price files changed; catalog reloaded");
                }
                Err(error) => {
                    tracing::error!(name: "Receiver.PricesInvalid", %error, "price file changed but is invalid; keeping the previous catalog");
                }
            }
        }
    });
    if let Err(error) = spawned {
        tracing::error!(name: "Receiver.ReloadThread", %error, "price hot reload disabled");
    }
}

impl Receiver {
    /// Opens the data directory (creating it), the store and the key store, and loads prices.
    ///
    /// # Errors
    ///
    /// See [`ServeError`].
    pub fn open(config: ReceiverConfig) -> Result<Receiver, ServeError> {
        let mut store_config =
            SqliteStoreConfig::in_dir(&config.data_dir).with_retention_days(config.retention_days);
        if let Some(n) = config.max_queued_spans {
            store_config = store_config.with_max_queued_spans(n);
        }
        let store = Arc::new(SqliteStore::open(store_config)?);
        let keys = Arc::new(KeyStore::open(store.path())?);
        let history = Arc::new(AlertHistory::open(store.path())?);
        let enricher = Arc::new(Enricher::new(Arc::new(load_prices(&config.price_files)?)));
        Ok(Receiver {
            config,
            store,
            keys,
            enricher,
            stats: Arc::default(),
            forwarder: Arc::default(),
            history,
            metrics: Arc::default(),
        })
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<SqliteStore> {
        &self.store
    }

    /// The key store.
    #[must_use]
    pub fn keys(&self) -> &Arc<KeyStore> {
        &self.keys
    }

    /// The enrichment core (its table is hot-swapped on price-file changes).
    #[must_use]
    pub fn enricher(&self) -> &Arc<Enricher> {
        &self.enricher
    }

    /// Ingest counters.
    #[must_use]
    pub fn stats(&self) -> &Arc<IngestStats> {
        &self.stats
    }

    /// The forwarder, once serving started with `--forward` destinations (for its counters).
    #[must_use]
    pub fn forwarder(&self) -> Arc<std::sync::OnceLock<Arc<Forwarder>>> {
        self.forwarder.clone()
    }

    /// Fired and resolved cost-spike alerts (table `alert_history` in the database file).
    #[must_use]
    pub fn alert_history(&self) -> &Arc<AlertHistory> {
        &self.history
    }

    /// The Prometheus figures served at `GET /metrics`.
    #[must_use]
    pub fn metrics(&self) -> &Arc<IngestMetrics> {
        &self.metrics
    }

    /// The database file.
    #[must_use]
    pub fn db_path(&self) -> &Path {
        self.store.path()
    }

    /// Serves OTLP/gRPC on `grpc` (and the Costs page and `GET /metrics` on `http`, when
    /// given) and runs the alert evaluation loop until `shutdown` resolves; then stops
    /// accepting, commits everything acknowledged, and drains forwarding for up to five seconds.
    ///
    /// # Errors
    ///
    /// See [`ServeError`].
    pub async fn serve_with_shutdown(
        self,
        grpc: TcpListener,
        http: Option<TcpListener>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let forwarder = if self.config.forward.is_empty() {
            None
        } else {
            let f = Arc::new(
                Forwarder::start(&self.config.forward, self.config.forward_queue_spans)
                    .map_err(ServeError::Forward)?,
            );
            let _ = self.forwarder.set(f.clone());
            Some(f)
        };
        watch_prices(
            self.config.price_files.clone(),
            &self.enricher,
            PRICE_RELOAD_INTERVAL,
        );
        let store_dyn: Arc<dyn Store> = self.store.clone();
        let svc = OtlpTraceService {
            store: store_dyn.clone(),
            keys: self.keys.clone(),
            ingestor: Ingestor::new(
                self.enricher.clone(),
                self.config.identity.clone(),
                self.config.dialects,
            ),
            forwarder: forwarder.clone(),
            stats: self.stats.clone(),
            metrics: Some(self.metrics.clone()),
        };
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let alert_task = {
            let mut rx = stop_rx.clone();
            tokio::spawn(super::alerting::run_loop(
                store_dyn.clone(),
                self.history.clone(),
                self.config.alerting.clone(),
                async move {
                    let _ = rx.wait_for(|s| *s).await;
                },
            ))
        };
        let http_task = match http {
            Some(listener) => {
                let mut state = super::http_state(
                    store_dyn.clone(),
                    self.keys.clone(),
                    self.stats.clone(),
                    forwarder.clone(),
                );
                state.alerts = Some(self.history.clone());
                state.metrics = Some(self.metrics.clone());
                state.metrics_access = self.config.metrics_access.clone();
                let mut rx = stop_rx.clone();
                Some(tokio::spawn(async move {
                    let app = super::http_router(state)
                        .into_make_service_with_connect_info::<SocketAddr>();
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = rx.wait_for(|s| *s).await;
                        })
                        .await
                }))
            }
            None => None,
        };
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(grpc);
        let mut rx = stop_rx.clone();
        let served = tonic::transport::Server::builder()
            .add_service(trace_service(svc, self.config.max_message_bytes))
            .add_service(super::query_grpc::query_service(
                store_dyn.clone(),
                self.keys.clone(),
            ))
            .serve_with_incoming_shutdown(incoming, async move {
                let _ = rx.wait_for(|s| *s).await;
            })
            .await;
        // The loop has seen the stop signal; an evaluation in flight finishes before the store
        // closes.
        let _ = alert_task.await;
        // Every acknowledged batch is already committed; close commits anything accepted
        // after that and stops the writer.
        let store = self.store.clone();
        let closed = tokio::task::spawn_blocking(move || store.close()).await;
        if let Some(f) = &forwarder
            && !f.drain(Duration::from_secs(5)).await
        {
            tracing::warn!(name: "Receiver.ForwardNotDrained", "forward queues not empty at shutdown; remaining spans dropped");
        }
        if let Some(t) = http_task
            && let Ok(Err(e)) = t.await
        {
            return Err(ServeError::Http(e));
        }
        served.map_err(ServeError::Transport)?;
        if let Ok(Err(e)) = closed {
            return Err(ServeError::Store(e));
        }
        Ok(())
    }

    /// Binds the addresses and serves until Ctrl-C / SIGTERM.
    ///
    /// # Errors
    ///
    /// See [`ServeError`].
    pub async fn serve(self, grpc: SocketAddr, http: Option<SocketAddr>) -> Result<(), ServeError> {
        let g = TcpListener::bind(grpc).await.map_err(ServeError::Http)?;
        let h = match http {
            Some(a) => Some(TcpListener::bind(a).await.map_err(ServeError::Http)?),
            None => None,
        };
        self.serve_with_shutdown(g, h, shutdown_signal()).await
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
