//! Shared test helpers: a real tonic OTLP collector on loopback, span lookups.
#![allow(dead_code, unreachable_pub)] // each test binary uses a different subset

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as PValue;
use opentelemetry_proto::tonic::trace::v1::Span as PSpan;
use tonic::{Request, Response, Status};

/// What a fake collector received.
#[derive(Debug, Default, Clone)]
pub struct Received {
    pub requests: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    pub authorization: Arc<Mutex<Vec<Option<String>>>>,
}

#[derive(Debug, Clone)]
struct Collector(Received);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let auth = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self.0.authorization.lock().unwrap().push(auth);
        self.0.requests.lock().unwrap().push(request.into_inner());
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// A real OTLP/gRPC collector on 127.0.0.1; dropped → stopped.
pub struct FakeCollector {
    pub addr: SocketAddr,
    pub received: Received,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for FakeCollector {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl FakeCollector {
    /// Starts on a free port (or `port` when given) on the current runtime.
    pub async fn start_on(port: u16) -> FakeCollector {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Received::default();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let svc = TraceServiceServer::new(Collector(received.clone()))
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(svc)
                .serve_with_incoming_shutdown(
                    tokio_stream::wrappers::TcpListenerStream::new(listener),
                    async {
                        let _ = rx.await;
                    },
                )
                .await
                .unwrap();
        });
        FakeCollector {
            addr,
            received,
            stop: Some(tx),
        }
    }

    pub async fn start() -> FakeCollector {
        Self::start_on(0).await
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// All spans received so far, with their resource's `service.name`.
    pub fn spans(&self) -> Vec<(String, PSpan)> {
        let reqs = self.received.requests.lock().unwrap();
        let mut out = Vec::new();
        for r in reqs.iter() {
            for rs in &r.resource_spans {
                let service = rs
                    .resource
                    .as_ref()
                    .and_then(|res| res.attributes.iter().find(|kv| kv.key == "service.name"))
                    .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                        PValue::StringValue(s) => Some(s.clone()),
                        _ => None,
                    })
                    .unwrap_or_default();
                for ss in &rs.scope_spans {
                    for s in &ss.spans {
                        out.push((service.clone(), s.clone()));
                    }
                }
            }
        }
        out
    }

    /// Waits (bounded) until at least `n` spans arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<(String, PSpan)> {
        for _ in 0..200 {
            let spans = self.spans();
            if spans.len() >= n {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.spans()
    }
}

/// An attribute of a proto span.
pub fn proto_attr<'a>(span: &'a PSpan, key: &str) -> Option<&'a PValue> {
    span.attributes
        .iter()
        .rev()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

pub fn proto_f64(span: &PSpan, key: &str) -> Option<f64> {
    match proto_attr(span, key)? {
        PValue::DoubleValue(d) => Some(*d),
        _ => None,
    }
}

pub fn proto_str<'a>(span: &'a PSpan, key: &str) -> Option<&'a str> {
    match proto_attr(span, key)? {
        PValue::StringValue(s) => Some(s),
        _ => None,
    }
}

pub fn proto_i64(span: &PSpan, key: &str) -> Option<i64> {
    match proto_attr(span, key)? {
        PValue::IntValue(i) => Some(*i),
        _ => None,
    }
}
