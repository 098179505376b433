//! `instrument()` with metrics on, exporting to a loopback tonic server that implements the
//! OTLP `MetricsService` (and a `TraceService` that accepts the spans).

use std::sync::{Arc, Mutex};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Metric, metric, number_data_point};
use peekr::metrics as m;

#[derive(Debug, Default, Clone)]
struct Sink {
    metrics: Arc<Mutex<Vec<ExportMetricsServiceRequest>>>,
    auth: Arc<Mutex<Vec<String>>>,
    spans: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
}

#[tonic::async_trait]
impl MetricsService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        if let Some(v) = request.metadata().get("authorization") {
            self.auth
                .lock()
                .unwrap()
                .push(v.to_str().unwrap().to_owned());
        }
        self.metrics.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.spans.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        }
    })
}

fn metrics_named<'a>(requests: &'a [ExportMetricsServiceRequest], name: &str) -> Vec<&'a Metric> {
    requests
        .iter()
        .flat_map(|r| &r.resource_metrics)
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .filter(|m| m.name == name)
        .collect()
}

#[test]
fn instrument_exports_cost_and_token_metrics_over_otlp_with_the_trace_settings() {
    // The receiving side: its own runtime, a real socket on loopback.
    let server_rt = tokio::runtime::Runtime::new().unwrap();
    let sink = Sink::default();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let server = server_rt.spawn(
        tonic::transport::Server::builder()
            .add_service(MetricsServiceServer::new(sink.clone()))
            .add_service(TraceServiceServer::new(sink.clone()))
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                async {
                    let _ = stopped.await;
                },
            ),
    );

    // The application side: no runtime here, so the guard starts its own.
    let guard = peekr::Instrument::builder()
        .with_endpoint(format!("http://{addr}"))
        .with_api_key("metrics-test-key")
        .with_service_name("metrics-e2e")
        .with_metrics(true)
        .with_global(false)
        .install()
        .unwrap();
    let tracer = guard.provider().tracer("metrics-e2e");
    crate::query(
        &tracer,
        "acme",
        &[("gpt-4o-mini", 1000, 100), ("gpt-4o-mini", 3000, 300)],
    );
    crate::query(&tracer, "acme", &[("gpt-4o-mini", 2000, 200)]);
    guard.flush().unwrap();
    guard
        .meter_provider()
        .expect("metrics are on")
        .force_flush()
        .unwrap();

    let requests = sink.metrics.lock().unwrap().clone();
    assert!(!requests.is_empty(), "no metrics arrived");
    // Same headers as the traces: the API key reached the metrics endpoint.
    assert!(
        sink.auth
            .lock()
            .unwrap()
            .iter()
            .all(|a| a == "Bearer metrics-test-key")
    );
    // Same resource.
    let resource = requests[0].resource_metrics[0].resource.as_ref().unwrap();
    assert_eq!(
        attr(&resource.attributes, "service.name"),
        Some("metrics-e2e")
    );
    let scope = requests[0].resource_metrics[0].scope_metrics[0]
        .scope
        .as_ref()
        .unwrap();
    assert_eq!(scope.name, "peekr");

    // The expected values, from the spans that reached the trace endpoint.
    let spans = sink.spans.lock().unwrap().clone();
    let span_attr = |key: &str| -> Vec<f64> {
        spans
            .iter()
            .flat_map(|r| &r.resource_spans)
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .filter_map(|s| s.attributes.iter().find(|kv| kv.key == key))
            .filter_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
                any_value::Value::DoubleValue(d) => Some(*d),
                _ => None,
            })
            .collect()
    };
    let call_costs = span_attr("gen_ai.usage.cost");
    assert_eq!(call_costs.len(), 3);
    let total: f64 = call_costs.iter().sum();

    // Cumulative temporality: the last export holds the totals.
    let last = |name: &str| {
        *metrics_named(&requests, name)
            .last()
            .unwrap_or_else(|| panic!("no {name}"))
    };

    let Some(metric::Data::Histogram(tokens)) = &last(m::GEN_AI_CLIENT_TOKEN_USAGE).data else {
        panic!("token usage")
    };
    assert_eq!(last(m::GEN_AI_CLIENT_TOKEN_USAGE).unit, "{token}");
    let input = tokens
        .data_points
        .iter()
        .find(|p| attr(&p.attributes, m::GEN_AI_TOKEN_TYPE) == Some("input"))
        .unwrap();
    assert_eq!((input.count, input.sum), (3, Some(6000.0)));
    assert_eq!(input.explicit_bounds, m::TOKEN_USAGE_BOUNDARIES);
    assert_eq!(
        attr(&input.attributes, "gen_ai.request.model"),
        Some("gpt-4o-mini")
    );

    let Some(metric::Data::Sum(cost)) = &last(m::PEEKR_COST).data else {
        panic!("cost")
    };
    assert_eq!(last(m::PEEKR_COST).unit, "USD");
    assert!(cost.is_monotonic);
    let exported: f64 = cost
        .data_points
        .iter()
        .map(|p| match p.value {
            Some(number_data_point::Value::AsDouble(v)) => v,
            other => panic!("{other:?}"),
        })
        .sum();
    assert!((exported - total).abs() < 1e-12, "{exported} vs {total}");
    assert!(
        cost.data_points
            .iter()
            .all(|p| attr(&p.attributes, "tenant.id") == Some("acme"))
    );

    let Some(metric::Data::Histogram(per_query)) = &last(m::PEEKR_QUERY_COST).data else {
        panic!("query cost")
    };
    let count: u64 = per_query.data_points.iter().map(|p| p.count).sum();
    let sum: f64 = per_query.data_points.iter().filter_map(|p| p.sum).sum();
    assert_eq!(count, 2);
    assert!((sum - total).abs() < 1e-12);

    drop(guard);
    let _ = stop.send(());
    server_rt.block_on(server).unwrap().unwrap();
}
