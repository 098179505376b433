//! `peekr serve` end to end: real tonic clients and servers over loopback, real SQLite files.

#[path = "../support/mod.rs"]
mod support;

mod crash;
mod forwarding;
mod ingest;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::any_value::Value as PValue;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use peekr::server::auth::{KeyScope, KeyStore};
use peekr::server::store::SqliteStore;
use peekr::server::{Receiver, ReceiverConfig};
use tonic::transport::Channel;

/// A receiver running in-process on 127.0.0.1.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) keys: Arc<KeyStore>,
    pub(crate) stats: Arc<peekr::server::grpc::IngestStats>,
    pub(crate) forwarder: Arc<std::sync::OnceLock<Arc<peekr::server::forward::Forwarder>>>,
    /// Keeps the data directory alive for the receiver's lifetime.
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), peekr::server::ServeError>>>,
}

impl Running {
    pub(crate) async fn start(config: impl FnOnce(&mut ReceiverConfig)) -> Running {
        Self::start_at(tempfile::tempdir().unwrap(), 0, config).await
    }

    /// Starts on `dir` and `port` (0: any free port).
    pub(crate) async fn start_at(
        dir: tempfile::TempDir,
        port: u16,
        config: impl FnOnce(&mut ReceiverConfig),
    ) -> Running {
        let mut cfg = ReceiverConfig {
            data_dir: dir.path().to_path_buf(),
            ..ReceiverConfig::default()
        };
        config(&mut cfg);
        let receiver = Receiver::open(cfg).unwrap();
        let store = receiver.store().clone();
        let keys = receiver.keys().clone();
        let stats = receiver.stats().clone();
        let forwarder = receiver.forwarder();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(receiver.serve_with_shutdown(listener, None, async {
            let _ = rx.await;
        }));
        Running {
            addr,
            store,
            keys,
            stats,
            forwarder,
            _dir: dir,
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub(crate) fn key(&self, project: &str) -> String {
        self.keys.create(project, KeyScope::Ingest).unwrap().secret
    }

    pub(crate) async fn client(&self) -> TraceServiceClient<Channel> {
        TraceServiceClient::connect(format!("http://{}", self.addr))
            .await
            .unwrap()
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.store.path().to_path_buf()
    }

    pub(crate) async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }
}

pub(crate) fn kv(key: &str, value: PValue) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

pub(crate) fn s(key: &str, v: &str) -> KeyValue {
    kv(key, PValue::StringValue(v.to_owned()))
}

pub(crate) fn i(key: &str, v: i64) -> KeyValue {
    kv(key, PValue::IntValue(v))
}

/// A span with the given ids (trace id byte, span id byte, parent byte) and attributes.
pub(crate) fn span(
    trace: u8,
    id: u8,
    parent: Option<u8>,
    name: &str,
    attributes: Vec<KeyValue>,
) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.to_owned(),
        start_time_unix_nano: 1_764_000_000_000_000_000,
        end_time_unix_nano: 1_764_000_001_000_000_000,
        attributes,
        ..Span::default()
    }
}

pub(crate) fn chat_attrs(model: &str, input: i64, output: i64) -> Vec<KeyValue> {
    vec![
        s("gen_ai.operation.name", "chat"),
        s("gen_ai.provider.name", "openai"),
        s("gen_ai.request.model", model),
        i("gen_ai.usage.input_tokens", input),
        i("gen_ai.usage.output_tokens", output),
    ]
}

pub(crate) fn request(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![s("service.name", service)],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

pub(crate) fn with_key<T>(msg: T, key: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    r
}

/// Runs a read-only query and returns the rows.
pub(crate) fn sql(db: &std::path::Path, q: &str) -> Vec<Vec<serde_json::Value>> {
    peekr::server::store::run_readonly_sql(db, q, None)
        .unwrap()
        .rows
}
