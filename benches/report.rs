//! The 30-day cost-per-query report over a store holding N spans (DESIGN.md §9: ≤ 100 ms at
//! 10 M spans), plus API-key lookups.
//!
//! Run with:
//!
//! ```text
//! PEEKR_BENCH_SPANS=1000000 cargo bench --features server --bench report
//! ```
//!
//! The data is synthetic but shaped like an agent workload: 5 spans per trace (a root, three
//! LLM calls, a tool span), 30 UTC days, 20 models, 50 tenants, chat and embeddings, 2% errors.
//! It is written through the store's normal write path (big batches straight into
//! `SqliteStore::submit`, no gRPC), and the filled database is kept under
//! `target/peekr-bench/` and reused by later runs with the same N.
//!
//! Results are in BENCHMARKS.md ("Report latency").

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::civil::{Date, date};
use peekr::server::auth::{KeyScope, KeyStore};
use peekr::server::record::SpanRecord;
use peekr::server::report::{ReportOptions, render_report};
use peekr::server::store::{
    Dimension, Durability, SqliteStore, SqliteStoreConfig, Store, Window, WriteTicket,
};

const SPANS_ENV: &str = "PEEKR_BENCH_SPANS";
const SPANS_DEFAULT: usize = 200_000;
/// `power` fills with `Durability::Power` (`synchronous=FULL`), to compare fill throughput.
const DURABILITY_ENV: &str = "PEEKR_BENCH_DURABILITY";
const PROJECT: &str = "bench";
const DAYS: i64 = 30;
const SPANS_PER_TRACE: usize = 5;
const BATCH_SPANS: usize = 10_000;

fn last_day() -> Date {
    date(2025, 3, 30)
}

fn day_start_ns(day: Date) -> i64 {
    i64::from(day.since(date(1970, 1, 1)).unwrap().get_days()) * 86_400 * 1_000_000_000
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// SplitMix64's finaliser: a bijection that scatters sequential numbers.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The spans of trace number `t`.
fn trace(t: usize, rng: &mut Lcg, out: &mut Vec<SpanRecord>) {
    let models: [&str; 20] = [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "o3",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
        "claude-sonnet-4",
        "claude-opus-4",
        "claude-3-5-haiku",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "mistral-large",
        "llama-3.3-70b",
        "command-r-plus",
        "deepseek-chat",
        "text-embedding-3-small",
        "text-embedding-3-large",
    ];
    let first = day_start_ns(last_day()) - (DAYS - 1) * 86_400_000_000_000;
    let start = first + rng.next(DAYS as u64 * 86_400_000_000_000) as i64;
    // Real trace ids are random: index inserts land all over the b-tree, not at its end.
    let trace_id = format!("{:016x}{:016x}", mix(t as u64), mix(!(t as u64)));
    let tenant = format!("tenant-{:02}", rng.next(50));
    let session = format!("session-{}", rng.next(100_000));
    let root_id = format!("{:016x}", t * 8);
    let root = SpanRecord {
        trace_id: trace_id.clone(),
        span_id: root_id.clone(),
        parent_span_id: None,
        name: "agent.run".into(),
        service: "api".into(),
        start_time_ns: start,
        end_time_ns: start + 4_000_000_000,
        status_code: if rng.next(50) == 0 { 2 } else { 0 },
        tenant_id: Some(tenant.clone()),
        session_id: Some(session.clone()),
        attributes: "{}".into(),
        ..SpanRecord::default()
    };
    for c in 1..SPANS_PER_TRACE {
        let span_start = start + c as i64 * 500_000_000;
        let mut span = SpanRecord {
            trace_id: trace_id.clone(),
            span_id: format!("{:016x}", t * 8 + c),
            parent_span_id: Some(root_id.clone()),
            service: "agent".into(),
            start_time_ns: span_start,
            end_time_ns: span_start + 400_000_000,
            tenant_id: Some(tenant.clone()),
            session_id: Some(session.clone()),
            ..SpanRecord::default()
        };
        if c == SPANS_PER_TRACE - 1 {
            span.name = "tool.search".into();
            span.attributes = "{}".into();
        } else {
            let model = models[rng.next(20) as usize];
            let embeddings = model.starts_with("text-embedding");
            let input = rng.next(4000) as i64 + 100;
            let output = if embeddings {
                0
            } else {
                rng.next(800) as i64 + 10
            };
            span.name = if embeddings {
                "embeddings"
            } else {
                "openai.chat.completions"
            }
            .into();
            span.operation = Some(if embeddings { "embeddings" } else { "chat" }.into());
            span.provider = Some("openai".into());
            span.model = Some(model.into());
            span.tokens_input = input;
            span.tokens_output = output;
            span.cost_nanos = Some(input * 2_500 + output * 10_000);
            span.cost_status = Some("priced".into());
            span.status_code = if rng.next(50) == 0 { 2 } else { 0 };
            span.attributes = format!(r#"{{"gen_ai.request.model":"{model}"}}"#);
        }
        out.push(span);
    }
    out.push(root);
}

/// Opens the store for `n` spans, filling it first if no complete copy is cached.
fn filled_store(n: usize) -> SqliteStore {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("peekr-bench");
    let power = std::env::var(DURABILITY_ENV).is_ok_and(|v| v == "power");
    let durability = if power {
        Durability::Power
    } else {
        Durability::Process
    };
    let name = if power {
        format!("report-{n}-power")
    } else {
        format!("report-{n}")
    };
    let path = dir.join(format!("{name}.db"));
    let done = dir.join(format!("{name}.done"));
    if !done.exists() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let config = SqliteStoreConfig::new(&path)
            .with_max_queued_spans(4 * BATCH_SPANS)
            .with_durability(durability);
        let store = SqliteStore::open(config).unwrap();
        let mut rng = Lcg(42);
        let traces = n.div_ceil(SPANS_PER_TRACE);
        let started = Instant::now();
        let mut batch = Vec::with_capacity(BATCH_SPANS);
        let mut pending: Vec<WriteTicket> = Vec::new();
        for t in 0..traces {
            trace(t, &mut rng, &mut batch);
            if batch.len() >= BATCH_SPANS || t + 1 == traces {
                let spans = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_SPANS));
                // Keep up to three batches in flight so generation overlaps the commits; the
                // queue holds four, so a submit is never refused.
                if pending.len() == 3 {
                    pending.remove(0).wait().unwrap();
                }
                pending.push(store.submit(PROJECT, spans).unwrap());
            }
        }
        for ticket in pending {
            ticket.wait().unwrap();
        }
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "filled {n} spans in {secs:.1} s ({:.0} spans/s through SqliteStore::submit, {durability:?})",
            n as f64 / secs
        );
        store.close().unwrap();
        std::fs::write(&done, format!("{secs}")).unwrap();
    }
    SqliteStore::open(SqliteStoreConfig::new(&path)).unwrap()
}

fn report(c: &mut Criterion) {
    let n = std::env::var(SPANS_ENV)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(SPANS_DEFAULT);
    let store = filled_store(n);
    let window = Window::ending(last_day(), 30);
    let options = ReportOptions {
        days: 30,
        by: Dimension::Model,
        project: Some(PROJECT.into()),
        json: false,
        today: Some(last_day()),
    };
    let totals = store.totals(PROJECT, window).unwrap();
    eprintln!(
        "{n} spans: {} queries, {} llm calls in the window",
        totals.queries, totals.llm_calls
    );

    let mut group = c.benchmark_group(format!("report_{n}_spans"));
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("render_report_30d_by_model", |b| {
        b.iter(|| render_report(&store, &options).unwrap())
    });
    group.bench_function("cost_per_query_30d", |b| {
        b.iter(|| store.cost_per_query(PROJECT, window).unwrap())
    });
    for by in [Dimension::Model, Dimension::Tenant] {
        group.bench_function(format!("breakdown_30d_by_{by}"), |b| {
            b.iter(|| store.breakdown(PROJECT, window, by).unwrap())
        });
    }
    group.bench_function("top_traces_30d_10", |b| {
        b.iter(|| store.top_traces(PROJECT, window, 10).unwrap())
    });
    group.finish();
}

fn authenticate(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("peekr.db");
    let cached = KeyStore::open(&path).unwrap();
    let key = cached.create("bench", KeyScope::Ingest).unwrap();
    let uncached = KeyStore::open(&path)
        .unwrap()
        .with_cache_ttl(Duration::ZERO);
    let mut group = c.benchmark_group("authenticate");
    group.bench_function("cache_hit", |b| {
        b.iter(|| cached.authenticate(&key.secret).unwrap().unwrap())
    });
    group.bench_function("database_lookup", |b| {
        b.iter(|| uncached.authenticate(&key.secret).unwrap().unwrap())
    });
    group.finish();
}

criterion_group!(benches, report, authenticate);
criterion_main!(benches);
