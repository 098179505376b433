//! The OTLP/gRPC `TraceService`: authenticate, enrich, commit, acknowledge, forward.
//!
//! The handler stays thin: [`Ingestor::process`](super::ingest::Ingestor::process) does the
//! work, the [`Store`] the durability. Status codes are deliberate:
//!
//! | condition | status |
//! |---|---|
//! | no key, unknown or revoked key | `UNAUTHENTICATED` |
//! | a read-only (dashboard) key | `PERMISSION_DENIED` |
//! | malformed protobuf or compression | `INVALID_ARGUMENT` |
//! | message above the size cap | `RESOURCE_EXHAUSTED` |
//! | store queue full | `UNAVAILABLE` (retryable: the exporter backs off) |
//! | spans with bad ids | `OK` with `partial_success` |

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codegen::{Body, BoxFuture, Service, StdError, http};
use tonic::server::NamedService;
use tonic::{Request, Response, Status};

use super::auth::{KeyStore, Principal, key_from_headers};
use super::forward::Forwarder;
use super::ingest::{IngestMetrics, Ingestor};
use super::store::{Store, StoreError};

/// Counters of what the receiver did, for the log, metrics and tests.
#[derive(Debug, Default)]
pub struct IngestStats {
    /// Spans committed.
    pub spans_committed: AtomicU64,
    /// Spans rejected (bad ids).
    pub spans_rejected: AtomicU64,
    /// Requests refused because the store queue was full.
    pub requests_unavailable: AtomicU64,
    /// Requests refused for authentication.
    pub requests_unauthenticated: AtomicU64,
    /// LLM spans priced (or carrying a provided cost).
    pub llm_spans_priced: AtomicU64,
    /// LLM spans that could not be priced.
    pub llm_spans_unpriced: AtomicU64,
}

/// Authenticates request metadata against the key store.
pub(crate) fn authenticate(
    keys: &KeyStore,
    metadata: &tonic::metadata::MetadataMap,
) -> Result<Principal, Status> {
    let auth = metadata.get("authorization").and_then(|v| v.to_str().ok());
    let x_key = metadata.get("x-api-key").and_then(|v| v.to_str().ok());
    let Some(key) = key_from_headers(auth, x_key) else {
        return Err(Status::unauthenticated(
            "missing API key: send `authorization: Bearer <key>` or `x-api-key: <key>`",
        ));
    };
    match keys.authenticate(key) {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(Status::unauthenticated("unknown or revoked API key")),
        Err(error) => {
            tracing::error!(name: "Receiver.AuthFailed", %error, "key lookup failed");
            Err(Status::unavailable("key lookup failed; retry"))
        }
    }
}

/// The `TraceService` implementation.
#[derive(Debug, Clone)]
pub struct OtlpTraceService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) keys: Arc<KeyStore>,
    pub(crate) ingestor: Ingestor,
    pub(crate) forwarder: Option<Arc<Forwarder>>,
    pub(crate) stats: Arc<IngestStats>,
    /// Prometheus figures, recorded for committed batches only.
    pub(crate) metrics: Option<Arc<IngestMetrics>>,
}

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

#[tonic::async_trait]
impl TraceService for OtlpTraceService {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let principal = authenticate(&self.keys, request.metadata()).inspect_err(|_| {
            self.stats
                .requests_unauthenticated
                .fetch_add(1, Ordering::Relaxed);
        })?;
        if !principal.scope.can_ingest() {
            return Err(Status::permission_denied(
                "this key is read-only; use an ingest key to send spans",
            ));
        }
        let mut request = request.into_inner();
        let processed = self.ingestor.process(&mut request);
        let stored = processed.records.len() as u64;
        let ticket = match self.store.submit(&principal.project, processed.records) {
            Ok(t) => t,
            Err(error @ (StoreError::Full { .. } | StoreError::Closed)) => {
                self.stats
                    .requests_unavailable
                    .fetch_add(1, Ordering::Relaxed);
                return Err(Status::unavailable(error.to_string()));
            }
            Err(error) => return Err(Status::unavailable(error.to_string())),
        };
        // Acknowledge only after the commit.
        ticket.await.map_err(|error| {
            tracing::error!(name: "Receiver.CommitFailed", %error, "batch not stored");
            Status::unavailable(format!("batch not stored: {error}"))
        })?;
        self.stats
            .spans_committed
            .fetch_add(stored, Ordering::Relaxed);
        self.stats
            .llm_spans_priced
            .fetch_add(processed.priced, Ordering::Relaxed);
        self.stats
            .llm_spans_unpriced
            .fetch_add(processed.unpriced, Ordering::Relaxed);
        if let Some(m) = &self.metrics {
            m.record(&principal.project, &processed.observations);
        }
        if let Some(f) = &self.forwarder {
            f.enqueue(request);
        }
        let partial_success = (processed.rejected > 0).then(|| {
            self.stats
                .spans_rejected
                .fetch_add(processed.rejected as u64, Ordering::Relaxed);
            ExportTracePartialSuccess {
                rejected_spans: processed.rejected,
                error_message: processed.reason.unwrap_or_default(),
            }
        });
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success,
        }))
    }
}

/// Wraps the generated server to give decode failures the status codes OTLP clients expect:
/// tonic reports a malformed message as `INTERNAL` and an oversize one as `OUT_OF_RANGE`; the
/// receiver answers `INVALID_ARGUMENT` and `RESOURCE_EXHAUSTED`. The handler itself never
/// returns `INTERNAL` or `OUT_OF_RANGE`, so the rewrite cannot hide its errors.
#[derive(Debug, Clone)]
pub struct StatusMapped<S>(pub S);

impl<S: NamedService> NamedService for StatusMapped<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<B>> for StatusMapped<S>
where
    S: Service<
            http::Request<B>,
            Response = http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
        >,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let fut = self.0.call(req);
        Box::pin(async move {
            let mut res = fut.await?;
            let code = res
                .headers()
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i32>().ok());
            let mapped = match code {
                Some(c) if c == tonic::Code::Internal as i32 => Some(tonic::Code::InvalidArgument),
                Some(c) if c == tonic::Code::OutOfRange as i32 => {
                    Some(tonic::Code::ResourceExhausted)
                }
                _ => None,
            };
            if let Some(m) = mapped {
                res.headers_mut()
                    .insert("grpc-status", http::HeaderValue::from(m as i32));
            }
            Ok(res)
        })
    }
}

/// The service ready to add to a tonic server: gzip and zstd accepted, messages capped at
/// `max_message_bytes`, decode failures mapped (see [`StatusMapped`]).
pub fn trace_service(
    svc: OtlpTraceService,
    max_message_bytes: usize,
) -> StatusMapped<TraceServiceServer<OtlpTraceService>> {
    use tonic::codec::CompressionEncoding;
    StatusMapped(
        TraceServiceServer::new(svc)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(max_message_bytes),
    )
}
