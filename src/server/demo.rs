//! `peekr serve --demo`: 30 days of realistic multi-tenant agent traffic, sent **through the
//! real `CostProcessor` and OTLP/gRPC exporter into the running receiver** (never written to
//! the store directly), so a newcomer sees meaningful numbers at once.
//!
//! The story the data tells (days counted back from today):
//! - a steady agent: embeddings → plan (`gpt-4o-mini`) → 0–2 tool calls → answer
//!   (`gpt-4o-mini`), five tenants of different sizes, multi-turn sessions; the planning call
//!   is named `openai.chat.completions`, as OpenLLMetry-style instrumentations name theirs, so
//!   the sessions query of DESIGN.md §6 has rows to show;
//! - **prompt bloat** from 20 to 14 days ago: a release stops truncating conversation history,
//!   so input tokens grow turn over turn within each session, then a fix lands;
//! - a **model switch** 7 days ago: the answer step moves to `gpt-4o`, and cost per query
//!   jumps while evaluation scores barely move;
//! - about 3% of chat calls fail and are retried, so errors cost money too.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt, Tracer, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};

use crate::CostProcessor;

/// Days of history the demo seeds.
pub const DEMO_DAYS: u32 = 30;
/// Project the demo writes to.
pub const DEMO_PROJECT: &str = "demo";

/// A small deterministic generator (SplitMix64), so every demo run tells the same story.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    /// `base` ± `spread` percent.
    fn around(&mut self, base: u64, spread: u64) -> u64 {
        let span = base * spread / 100;
        base - span + self.below(2 * span + 1)
    }
}

const TENANTS: &[(&str, u64)] = &[
    ("acme", 30),
    ("globex", 20),
    ("initech", 12),
    ("umbrella", 8),
    ("hooli", 5),
];

/// What the demo sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// Queries (root traces).
    pub queries: u64,
    /// Spans.
    pub spans: u64,
}

/// Errors from the demo generator.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The OTLP exporter could not be built.
    #[error("cannot build the demo exporter")]
    Exporter(#[source] opentelemetry_otlp::ExporterBuildError),
    /// Spans could not be flushed to the receiver.
    #[error("demo spans not delivered: {0}")]
    Flush(String),
}

/// Generates the demo traffic ending at `now` and sends it to `endpoint` with `api_key`.
/// Blocks until every span is exported. `queries_per_day` scales the volume (default 60).
///
/// Must be called from a thread where a Tokio runtime is entered (the gRPC client needs it),
/// but not from an async task (the flush blocks): use `spawn_blocking`.
///
/// # Errors
///
/// See [`DemoError`].
pub fn send_demo_traffic(
    endpoint: &str,
    api_key: &str,
    now: SystemTime,
    queries_per_day: u64,
) -> Result<DemoSummary, DemoError> {
    let mut metadata = tonic::metadata::MetadataMap::new();
    if let Ok(v) = format!("Bearer {api_key}").parse() {
        metadata.insert("authorization", v);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint.to_owned())
        .with_metadata(metadata)
        .with_compression(opentelemetry_otlp::Compression::Gzip)
        .build()
        .map_err(DemoError::Exporter)?;
    let batch = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(200_000)
                .with_max_export_batch_size(2_000)
                .with_scheduled_delay(Duration::from_millis(200))
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name("support-agent")
                .build(),
        )
        .with_span_processor(CostProcessor::new(batch))
        .build();
    let tracer = provider.tracer("peekr-demo");
    let mut rng = Rng(0x0000_005E_ED0F_DE30);
    let mut summary = DemoSummary::default();
    let day_secs = 86_400u64;
    let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let today_start = now_secs - now_secs % day_secs;
    for days_ago in (0..u64::from(DEMO_DAYS)).rev() {
        let day_start = today_start - days_ago * day_secs;
        let bloat = (14..=20).contains(&days_ago);
        let switched = days_ago <= 7;
        let weight_total: u64 = TENANTS.iter().map(|t| t.1).sum();
        // Weekdays are busier than weekends; every day varies a little.
        let weekday = (day_start / day_secs + 4) % 7; // 1970-01-01 was a Thursday (4)
        let busy = if weekday == 0 || weekday == 6 {
            60
        } else {
            100
        };
        let today_volume = rng.around(queries_per_day * busy / 100, 10);
        for &(tenant, weight) in TENANTS {
            let queries = (today_volume * weight / weight_total).max(1);
            let mut q = 0;
            while q < queries {
                // One session: 1 to 5 turns, each a query.
                let turns = 1 + rng.below(5);
                let session = format!("{tenant}-{days_ago}-{}", rng.next() % 1_000_000);
                let session_start = day_start + rng.below(day_secs - 3_600);
                for turn in 0..turns {
                    if q >= queries {
                        break;
                    }
                    let start = session_start + turn * 90;
                    if start + 60 > now_secs {
                        break;
                    }
                    let spans = one_query(
                        &tracer, &mut rng, start, tenant, &session, turn, bloat, switched,
                    );
                    summary.queries += 1;
                    summary.spans += spans;
                    q += 1;
                }
            }
        }
    }
    provider
        .force_flush()
        .map_err(|e| DemoError::Flush(e.to_string()))?;
    provider
        .shutdown()
        .map_err(|e| DemoError::Flush(e.to_string()))?;
    Ok(summary)
}

fn at(secs: u64, millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
}

#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename these
fn one_query(
    tracer: &opentelemetry_sdk::trace::SdkTracer,
    rng: &mut Rng,
    start: u64,
    tenant: &str,
    session: &str,
    turn: u64,
    bloat: bool,
    switched: bool,
) -> u64 {
    let mut spans = 0;
    let ids = [
        KeyValue::new("tenant.id", tenant.to_owned()),
        KeyValue::new("session.id", session.to_owned()),
    ];
    let root = tracer
        .span_builder("invoke_agent support-agent")
        .with_kind(SpanKind::Server)
        .with_start_time(at(start, 0))
        .with_attributes(
            [
                KeyValue::new("gen_ai.operation.name", "invoke_agent"),
                KeyValue::new("gen_ai.agent.name", "support-agent"),
            ]
            .into_iter()
            .chain(ids.iter().cloned()),
        )
        .start(tracer);
    let cx = Context::current_with_span(root);
    let mut t_ms = 20;
    // History grows turn over turn; in the bloat period it is never truncated.
    let history = if bloat {
        900 * (turn + 1) * (turn + 1)
    } else {
        300 * turn.min(2)
    };

    let call = |rng: &mut Rng,
                t_ms: &mut u64,
                name: &str,
                op: &str,
                model: &str,
                input: u64,
                output: u64,
                cached: u64,
                extra: &[KeyValue],
                fail: bool| {
        let dur = 200 + rng.below(1500);
        let mut attrs = vec![
            KeyValue::new("gen_ai.operation.name", op.to_owned()),
            KeyValue::new("gen_ai.provider.name", "openai"),
            KeyValue::new("gen_ai.request.model", model.to_owned()),
            KeyValue::new(
                "gen_ai.usage.input_tokens",
                i64::try_from(input).unwrap_or(i64::MAX),
            ),
        ];
        if op != "embeddings" {
            attrs.push(KeyValue::new(
                "gen_ai.usage.output_tokens",
                i64::try_from(output).unwrap_or(i64::MAX),
            ));
        }
        if cached > 0 {
            attrs.push(KeyValue::new(
                "gen_ai.usage.cache_read.input_tokens",
                i64::try_from(cached).unwrap_or(i64::MAX),
            ));
        }
        attrs.extend(extra.iter().cloned());
        attrs.extend(ids.iter().cloned());
        let mut span = tracer
            .span_builder(name.to_owned())
            .with_kind(SpanKind::Client)
            .with_start_time(at(start, *t_ms))
            .with_attributes(attrs)
            .start_with_context(tracer, &cx);
        if fail {
            span.set_status(Status::error("upstream 500"));
            span.set_attribute(KeyValue::new("error.type", "500"));
        }
        span.end_with_timestamp(at(start, *t_ms + dur));
        *t_ms += dur + 10;
    };

    let q_tokens = rng.around(120, 40);
    call(
        rng,
        &mut t_ms,
        "embeddings text-embedding-3-small",
        "embeddings",
        "text-embedding-3-small",
        q_tokens,
        0,
        0,
        &[],
        false,
    );
    spans += 1;

    let plan_in = rng.around(1_400, 15) + history;
    let cached = if plan_in > 1_024 { 1_024 } else { 0 };
    let mut retries = 0;
    while rng.chance(3) && retries < 2 {
        call(
            rng,
            &mut t_ms,
            "openai.chat.completions",
            "chat",
            "gpt-4o-mini",
            plan_in,
            0,
            cached,
            &[],
            true,
        );
        spans += 1;
        retries += 1;
    }
    let plan_out = rng.around(180, 30);
    call(
        rng,
        &mut t_ms,
        "openai.chat.completions",
        "chat",
        "gpt-4o-mini",
        plan_in,
        plan_out,
        cached,
        &[],
        false,
    );
    spans += 1;

    for _ in 0..rng.below(3) {
        let dur = 50 + rng.below(400);
        let mut tool = tracer
            .span_builder("execute_tool search_kb")
            .with_kind(SpanKind::Internal)
            .with_start_time(at(start, t_ms))
            .with_attributes([
                KeyValue::new("gen_ai.operation.name", "execute_tool"),
                KeyValue::new("gen_ai.tool.name", "search_kb"),
            ])
            .start_with_context(tracer, &cx);
        tool.end_with_timestamp(at(start, t_ms + dur));
        t_ms += dur + 10;
        spans += 1;
    }

    let (answer_model, score) = if switched {
        ("gpt-4o", 0.86 + rng.below(6) as f64 / 100.0)
    } else {
        ("gpt-4o-mini", 0.84 + rng.below(6) as f64 / 100.0)
    };
    let answer_in = rng.around(2_200, 20) + history;
    let answer_out = rng.around(420, 30);
    call(
        rng,
        &mut t_ms,
        &format!("chat {answer_model}"),
        "chat",
        answer_model,
        answer_in,
        answer_out,
        0,
        &[KeyValue::new("gen_ai.evaluation.score.value", score)],
        false,
    );
    spans += 1;
    cx.span().end_with_timestamp(at(start, t_ms + 15));
    spans + 1
}
