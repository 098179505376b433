//! The same workload through real spans: CostProcessor → AlertObserver (bounded queue,
//! evaluator thread on a manual clock) → a callback sink.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor};
use peekr::CostProcessor;
use peekr::alerts::{AlertObserver, AlertState, CallbackSink, ManualClock, Scope};
use peekr::pricing::Nanos;

use crate::{Collected, FLAT_STEPS, SPIKE_STEPS, at, cost, rule, start};

/// One query: a root span and a `chat` child carrying a provided cost, ending at `t`.
fn query(tracer: &opentelemetry_sdk::trace::SdkTracer, t: SystemTime, cost: Nanos, tenant: &str) {
    let root = tracer
        .span_builder("agent.run")
        .with_start_time(t)
        .with_attributes([KeyValue::new("tenant.id", tenant.to_owned())])
        .start(tracer);
    let cx = Context::current_with_span(root);
    let mut chat = tracer
        .span_builder("chat")
        .with_start_time(t)
        .with_attributes([
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.request.model", "gpt-4o-mini"),
            KeyValue::new("gen_ai.usage.input_tokens", 100),
            KeyValue::new("gen_ai.usage.output_tokens", 10),
            KeyValue::new("gen_ai.usage.cost", cost.as_usd_f64()),
            KeyValue::new("tenant.id", tenant.to_owned()),
        ])
        .start_with_context(tracer, &cx);
    chat.end_with_timestamp(t);
    cx.span().end_with_timestamp(t);
}

#[test]
fn spans_through_the_processor_fire_and_resolve_the_alert_once() {
    let clock = Arc::new(ManualClock::new(start()));
    let collected = Collected::default();
    let sink = {
        let c = collected.clone();
        CallbackSink::new(move |a| c.0.lock().unwrap().push(a.clone()))
    };
    let observer = Arc::new(
        AlertObserver::builder(rule().with_scope(Scope::Tenant))
            .with_sink(Arc::new(sink))
            .with_clock(clock.clone())
            .with_queue_capacity(64)
            .build(),
    );
    let exporter = InMemorySpanExporter::default();
    let processor = CostProcessor::builder(SimpleSpanProcessor::new(exporter.clone()))
        .with_observer(observer.clone())
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("alerts-test");

    let mut events = Vec::new();
    for k in 0..FLAT_STEPS + SPIKE_STEPS + 12 {
        query(&tracer, at(k), cost(k), "acme");
        clock.set(at(k) + Duration::from_secs(1));
        // Wait for the sample to be recorded and evaluated at the clock's time.
        assert!(observer.flush());
        events.extend(collected.take().into_iter().map(|a| (k, a)));
    }
    assert_eq!(observer.dropped(), 0);
    let states: Vec<_> = events
        .iter()
        .map(|(k, a)| (*k, a.state, a.key.as_deref()))
        .collect();
    assert_eq!(
        states,
        [
            (FLAT_STEPS + 2, AlertState::Firing, Some("acme")),
            (
                FLAT_STEPS + SPIKE_STEPS + 2,
                AlertState::Resolved,
                Some("acme")
            ),
        ]
    );
    let fired = &events[0].1;
    // The trace cost reached the observer exactly: the provided $0.001 / $0.002 per query.
    assert_eq!(fired.window.cost, Nanos(9_000_000));
    assert_eq!(fired.baseline.cost, Nanos(1_008_000_000));
    // And the root spans carry the same totals for the exporter.
    let spans = exporter.get_finished_spans().unwrap();
    let root = spans.iter().find(|s| s.name == "agent.run").unwrap();
    let trace_cost = root
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "peekr.trace.cost")
        .unwrap();
    assert_eq!(trace_cost.value, opentelemetry::Value::F64(0.001));
    drop(provider);
}

#[test]
fn a_full_queue_never_blocks_the_span_path_and_counts_drops() {
    // A sink that tells the test it was entered, then blocks the evaluator until released.
    let (entered_tx, entered) = std::sync::mpsc::channel::<()>();
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let gate = std::sync::Mutex::new((entered_tx, wait));
    let sink = CallbackSink::new(move |_| {
        let gate = gate.lock().unwrap();
        let _ = gate.0.send(());
        let _ = gate.1.recv();
    });
    let clock = Arc::new(ManualClock::new(start()));
    let observer = Arc::new(
        AlertObserver::builder(
            peekr::alerts::CostSpike::new(1.0)
                .with_min_queries(1, 1)
                .with_resolution(Duration::from_secs(1)),
        )
        .with_sink(Arc::new(sink))
        .with_clock(clock.clone())
        .with_queue_capacity(4)
        .build(),
    );
    let processor =
        CostProcessor::builder(SimpleSpanProcessor::new(InMemorySpanExporter::default()))
            .with_observer(observer.clone())
            .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("alerts-test");

    // A baseline query, then a later one at the same cost: the evaluation fires (1.0×) and
    // the sink blocks the evaluator thread.
    query(&tracer, start(), Nanos(1_000), "acme");
    // Let the evaluator record the baseline at the start time before the clock moves: a
    // delayed evaluator thread would otherwise take both queries in one evaluation an hour
    // later, see no baseline, and never fire (seen under load in CI).
    assert!(observer.flush());
    clock.set(start() + Duration::from_secs(3600));
    query(
        &tracer,
        start() + Duration::from_secs(3600),
        Nanos(1_000),
        "acme",
    );
    entered.recv().unwrap();
    // 100 more queries end without blocking: 4 fit in the queue, 96 are dropped and counted.
    for _ in 0..100 {
        query(
            &tracer,
            start() + Duration::from_secs(3601),
            Nanos(1_000),
            "acme",
        );
    }
    assert_eq!(observer.dropped(), 96);
    drop(release);
    drop(provider);
}
