//! CostMetrics: instruments recorded from real spans through CostProcessor, read back from an
//! in-memory exporter; and (feature `server`) the whole `instrument()` pipeline exporting to a
//! real OTLP/gRPC metrics endpoint on loopback.

#[cfg(feature = "server")]
mod otlp;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, SdkMeterProvider};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, SdkTracer, SdkTracerProvider, SimpleSpanProcessor,
};
use peekr::CostProcessor;
use peekr::metrics::{self as m, CostMetrics};

/// Emits one query: a root span and one `chat` child per `(model, input, output)`.
pub(crate) fn query(tracer: &SdkTracer, tenant: &str, calls: &[(&str, i64, i64)]) {
    let root = tracer
        .span_builder("agent.run")
        .with_attributes([KeyValue::new("tenant.id", tenant.to_owned())])
        .start(tracer);
    let cx = Context::current_with_span(root);
    for (model, input, output) in calls {
        let mut chat = tracer
            .span_builder(format!("chat {model}"))
            .with_attributes([
                KeyValue::new("gen_ai.operation.name", "chat"),
                KeyValue::new("gen_ai.provider.name", "openai"),
                KeyValue::new("gen_ai.request.model", (*model).to_owned()),
                KeyValue::new("gen_ai.usage.input_tokens", *input),
                KeyValue::new("gen_ai.usage.output_tokens", *output),
                KeyValue::new("tenant.id", tenant.to_owned()),
            ])
            .start_with_context(tracer, &cx);
        chat.end();
    }
    cx.span().end();
}

/// The `f64` value of attribute `key` on every exported span named like `name`.
pub(crate) fn span_costs(spans: &[opentelemetry_sdk::trace::SpanData], key: &str) -> Vec<f64> {
    spans
        .iter()
        .filter_map(|s| s.attributes.iter().find(|kv| kv.key.as_str() == key))
        .map(|kv| match kv.value {
            Value::F64(v) => v,
            ref other => panic!("{key} is {other:?}"),
        })
        .collect()
}

fn has(attrs: &[&KeyValue], key: &str, value: &str) -> bool {
    attrs
        .iter()
        .any(|kv| kv.key.as_str() == key && kv.value.as_str() == value)
}

fn metric<'a>(rm: &'a [ResourceMetrics], name: &str) -> &'a AggregatedMetrics {
    rm.iter()
        .flat_map(ResourceMetrics::scope_metrics)
        .flat_map(|s| s.metrics())
        .filter(|m| m.name() == name)
        .last()
        .unwrap_or_else(|| panic!("no metric {name}"))
        .data()
}

#[test]
fn cost_and_token_metrics_match_the_span_attributes() {
    let metrics_exporter = InMemoryMetricExporter::default();
    let meters = SdkMeterProvider::builder()
        .with_periodic_exporter(metrics_exporter.clone())
        .build();
    let drops = Arc::new(AtomicU64::new(7));
    let metrics = CostMetrics::builder(&meters.meter("peekr"))
        .with_tenant_allow_list(["acme"])
        .with_max_tenants(0)
        .with_alert_drops(drops.clone())
        .with_evicted_traces(Arc::new(|| 3))
        .build();
    let spans_exporter = InMemorySpanExporter::default();
    let processor = CostProcessor::builder(SimpleSpanProcessor::new(spans_exporter.clone()))
        .with_observer(Arc::new(metrics))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("metrics-test");

    query(
        &tracer,
        "acme",
        &[
            ("gpt-4o-mini", 1000, 100),
            ("gpt-4o-mini", 3000, 300),
            ("no-such-model-xyz", 50, 5),
        ],
    );
    query(&tracer, "zeta", &[("gpt-4o-mini", 2000, 200)]);
    meters.force_flush().unwrap();
    let rm = metrics_exporter.get_finished_metrics().unwrap();
    let spans = spans_exporter.get_finished_spans().unwrap();

    // gen_ai.client.token.usage: semconv buckets, one point per call and token type.
    let AggregatedMetrics::U64(MetricData::Histogram(tokens)) =
        metric(&rm, m::GEN_AI_CLIENT_TOKEN_USAGE)
    else {
        panic!("token usage is not a u64 histogram")
    };
    let point = |model: &str, ty: &str| {
        tokens
            .data_points()
            .find(|p| {
                let a: Vec<_> = p.attributes().collect();
                has(&a, "gen_ai.request.model", model)
                    && has(&a, m::GEN_AI_TOKEN_TYPE, ty)
                    && has(&a, "gen_ai.operation.name", "chat")
                    && has(&a, "gen_ai.provider.name", "openai")
            })
            .unwrap_or_else(|| panic!("no token point for {model} {ty}"))
    };
    let input = point("gpt-4o-mini", "input");
    assert_eq!((input.count(), input.sum()), (3, 6000));
    assert_eq!(
        input.bounds().collect::<Vec<_>>(),
        m::TOKEN_USAGE_BOUNDARIES
    );
    let output = point("gpt-4o-mini", "output");
    assert_eq!((output.count(), output.sum()), (3, 600));
    // Tokens of an unpriced call are still counted.
    assert_eq!(point("no-such-model-xyz", "input").sum(), 50);

    // peekr.cost: the priced spans' gen_ai.usage.cost, by model and bounded tenant.
    let AggregatedMetrics::F64(MetricData::Sum(cost)) = metric(&rm, m::PEEKR_COST) else {
        panic!("cost is not an f64 sum")
    };
    assert!(cost.is_monotonic());
    let by_tenant = |tenant: &str| -> f64 {
        cost.data_points()
            .filter(|p| has(&p.attributes().collect::<Vec<_>>(), "tenant.id", tenant))
            .map(|p| p.value())
            .sum()
    };
    let chat_costs = span_costs(&spans, "gen_ai.usage.cost");
    assert_eq!(chat_costs.len(), 3, "three priced calls");
    let total: f64 = chat_costs.iter().sum();
    assert!(total > 0.0);
    assert!((by_tenant("acme") + by_tenant("other") - total).abs() < 1e-12);
    assert!(
        by_tenant("zeta") == 0.0,
        "zeta is not on the allow-list: recorded as other"
    );
    assert!(by_tenant("other") > 0.0);

    // peekr.query.cost: one point per query, at the root, equal to peekr.trace.cost.
    let AggregatedMetrics::F64(MetricData::Histogram(per_query)) = metric(&rm, m::PEEKR_QUERY_COST)
    else {
        panic!("query cost is not an f64 histogram")
    };
    let trace_costs = span_costs(&spans, "peekr.trace.cost");
    let count: u64 = per_query.data_points().map(|p| p.count()).sum();
    let sum: f64 = per_query.data_points().map(|p| p.sum()).sum();
    assert_eq!(count, 2);
    assert!((sum - trace_costs.iter().sum::<f64>()).abs() < 1e-12);
    assert!(
        (sum - total).abs() < 1e-12,
        "every priced call belongs to a query"
    );

    // Health: one unpriced span by model and status; evictions and alert drops observed.
    let AggregatedMetrics::U64(MetricData::Sum(unpriced)) = metric(&rm, m::PEEKR_SPANS_UNPRICED)
    else {
        panic!()
    };
    let points: Vec<_> = unpriced.data_points().collect();
    assert_eq!(points.len(), 1);
    let a: Vec<_> = points[0].attributes().collect();
    assert!(
        has(&a, "gen_ai.request.model", "no-such-model-xyz")
            && has(&a, "peekr.cost.status", "unpriced_model")
    );
    assert_eq!(points[0].value(), 1);
    let AggregatedMetrics::U64(MetricData::Sum(evicted)) = metric(&rm, m::PEEKR_TRACES_EVICTED)
    else {
        panic!()
    };
    assert_eq!(evicted.data_points().map(|p| p.value()).sum::<u64>(), 3);
    let AggregatedMetrics::U64(MetricData::Sum(dropped)) = metric(&rm, m::PEEKR_ALERTS_DROPPED)
    else {
        panic!()
    };
    assert_eq!(dropped.data_points().map(|p| p.value()).sum::<u64>(), 7);
}

#[test]
fn tenants_are_admitted_up_to_the_bound_then_other() {
    let meters = SdkMeterProvider::builder().build();
    let metrics = CostMetrics::builder(&meters.meter("peekr"))
        .with_max_tenants(2)
        .build();
    assert_eq!(metrics.tenant_label("a"), Value::from("a"));
    assert_eq!(metrics.tenant_label("b"), Value::from("b"));
    assert_eq!(metrics.tenant_label("c"), Value::from(m::OTHER_TENANT));
    assert_eq!(metrics.tenant_label("a"), Value::from("a"));
}

#[test]
fn the_grafana_dashboard_queries_the_documented_metric_names() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/grafana/peekr-dashboard.json"
    ))
    .unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_owned))
        .collect();
    assert!(!exprs.is_empty());
    // The Prometheus forms of the OTel names (see docs/metrics.md).
    let known = [
        "gen_ai_client_token_usage_sum",
        "gen_ai_client_token_usage_bucket",
        "peekr_cost_USD_total",
        "peekr_query_cost_USD_sum",
        "peekr_query_cost_USD_count",
        "peekr_query_cost_USD_bucket",
        "peekr_spans_unpriced_total",
        "peekr_traces_evicted_total",
        "peekr_alerts_dropped_total",
    ];
    for name in known {
        assert!(
            exprs.iter().any(|e| e.contains(name)),
            "no panel uses {name}"
        );
    }
    for expr in &exprs {
        for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if (word.starts_with("peekr_") || word.starts_with("gen_ai_client"))
                && word != "peekr_cost_status"
            {
                assert!(known.contains(&word), "unknown metric {word} in {expr}");
            }
        }
    }
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/metrics.md")).unwrap();
    for name in [
        m::GEN_AI_CLIENT_TOKEN_USAGE,
        m::PEEKR_COST,
        m::PEEKR_QUERY_COST,
        m::PEEKR_SPANS_UNPRICED,
        m::PEEKR_TRACES_EVICTED,
        m::PEEKR_ALERTS_DROPPED,
    ] {
        assert!(
            docs.contains(&format!("`{name}`")),
            "{name} is not documented"
        );
    }
}
