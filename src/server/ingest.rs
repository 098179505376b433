//! Ingest: OTLP protobuf spans → the shared enrichment core → [`SpanRecord`]s to store, with the
//! enriched spans kept for forwarding.
//!
//! Nothing here knows about SQLite or gRPC: the gRPC handler calls [`Ingestor::process`], hands
//! the records to a [`Store`](super::store::Store) and the enriched request to the forwarder,
//! and once the batch is committed, the [`Observation`]s to [`IngestMetrics`].

use std::hash::{Hash as _, Hasher as _};
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as PValue;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue as PKeyValue};
use opentelemetry_proto::tonic::trace::v1::Span as PSpan;

use crate::enrich::{CostStatus, Dialects, Enricher, Enrichment, OutValue, is_written_key};
use crate::processor::LlmSpanFacts;
use crate::rollup::{Rollup, TraceTotals};
use crate::semconv as sc;
use crate::usage::{AttrValue, Attributes, IdentityKeys, extract};

use super::prometheus::ReceiverMetrics;
use super::record::SpanRecord;

/// OTLP protobuf attributes, read through the same abstraction as SDK attributes.
impl Attributes for [PKeyValue] {
    fn for_each_attr<'s, F: FnMut(&'s str, AttrValue<'s>)>(&'s self, mut f: F) {
        for kv in self {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(PValue::StringValue(s)) => AttrValue::Str(s),
                Some(PValue::IntValue(i)) => AttrValue::I64(*i),
                Some(PValue::DoubleValue(d)) => AttrValue::F64(*d),
                Some(PValue::BoolValue(b)) => AttrValue::Bool(*b),
                _ => AttrValue::Other,
            };
            f(&kv.key, value);
        }
    }
}

/// The outcome of processing one export request.
#[derive(Debug, Default)]
pub struct Processed {
    /// Rows to store.
    pub records: Vec<SpanRecord>,
    /// Spans rejected (bad ids), reported as OTLP `partial_success`.
    pub rejected: i64,
    /// Why the first rejected span was rejected.
    pub reason: Option<String>,
    /// Spans Peekr priced, by status.
    pub priced: u64,
    /// LLM spans that could not be priced.
    pub unpriced: u64,
    /// What the metrics need from the enriched LLM spans and the root spans, in request order;
    /// recorded by [`IngestMetrics::record`] once the batch is committed.
    pub observations: Vec<Observation>,
}

/// One span as the receiver's metrics see it: an enriched LLM span, a root span (one query),
/// or both.
#[derive(Debug, Clone)]
pub struct Observation {
    /// Its trace id.
    pub trace: u128,
    /// Tenant (span, else resource).
    pub tenant: Option<String>,
    /// What the LLM metrics need, for an enriched LLM span.
    pub llm: Option<LlmObservation>,
    /// Whether it is a root span (no parent).
    pub root: bool,
}

/// The LLM part of an [`Observation`].
#[derive(Debug, Clone)]
pub struct LlmObservation {
    /// The enrichment result.
    pub enrichment: Enrichment,
    /// The matched catalog model when priced, else the model as reported.
    pub model: Option<String>,
    /// Operation name.
    pub operation: Option<String>,
    /// Provider as reported.
    pub provider: Option<String>,
}

/// Feeds [`ReceiverMetrics`] from committed batches: every enriched LLM span, and every root
/// span as one query whose cost is the total of its trace's LLM spans that reached the receiver
/// before it or in the same request (kept per trace in a bounded [`Rollup`]). With the usual
/// exporters, children end (and are exported) before their root, so that is the whole trace;
/// spans of the trace arriving after its root count in `peekr_cost_USD_total` only.
#[derive(Debug)]
pub struct IngestMetrics {
    metrics: Arc<ReceiverMetrics>,
    rollup: Rollup,
}

impl Default for IngestMetrics {
    fn default() -> Self {
        IngestMetrics::new(ReceiverMetrics::shared())
    }
}

impl IngestMetrics {
    /// Records into `metrics`, with the default per-trace bounds.
    #[must_use]
    pub fn new(metrics: Arc<ReceiverMetrics>) -> Self {
        IngestMetrics {
            metrics,
            rollup: Rollup::default(),
        }
    }

    /// The metrics recorded into.
    #[must_use]
    pub fn metrics(&self) -> &Arc<ReceiverMetrics> {
        &self.metrics
    }

    /// Traces whose totals were evicted before their root span arrived.
    #[must_use]
    pub fn traces_evicted(&self) -> u64 {
        self.rollup.evicted()
    }

    /// Records a committed batch of `project`.
    pub fn record(&self, project: &str, observations: &[Observation]) {
        if observations.is_empty() {
            return;
        }
        // Trace ids are per project: mix the project in so that no project can add to (or
        // take) another's totals.
        let salt = {
            let mut h = std::hash::DefaultHasher::new();
            project.hash(&mut h);
            u128::from(h.finish())
        };
        for o in observations {
            let key = o.trace ^ salt;
            if let Some(llm) = &o.llm {
                let e = &llm.enrichment;
                self.metrics.record_llm_span(
                    project,
                    &LlmSpanFacts {
                        enrichment: e,
                        model: llm.model.as_deref(),
                        operation: llm.operation.as_deref(),
                        provider: llm.provider.as_deref(),
                        tenant: o.tenant.as_deref(),
                    },
                );
                self.rollup.add(
                    key,
                    &TraceTotals {
                        cost: e.total.unwrap_or_default(),
                        llm_calls: 1,
                        input_tokens: e.usage.input,
                        output_tokens: e.usage.output,
                        unpriced_calls: u64::from(!matches!(
                            e.status,
                            CostStatus::Priced | CostStatus::Provided
                        )),
                    },
                );
            }
            if o.root {
                let totals = self.rollup.take(key).unwrap_or_default();
                self.metrics
                    .record_query(project, &totals, o.tenant.as_deref());
            }
        }
    }
}

fn trace_key(trace_id: &[u8]) -> u128 {
    <[u8; 16]>::try_from(trace_id).map_or(0, u128::from_be_bytes)
}

/// Enriches incoming spans with the same core as `CostProcessor`.
#[derive(Debug, Clone)]
pub struct Ingestor {
    enricher: Arc<Enricher>,
    identity: IdentityKeys,
    dialects: Dialects,
}

fn str_value(s: impl Into<String>) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(PValue::StringValue(s.into())),
    })
}

fn out_to_proto(v: OutValue) -> Option<AnyValue> {
    let value = match v {
        OutValue::F64(d) => PValue::DoubleValue(d),
        OutValue::I64(i) => PValue::IntValue(i),
        OutValue::Static(s) => PValue::StringValue(s.to_owned()),
        OutValue::Shared(s) => PValue::StringValue(s.to_string()),
    };
    Some(AnyValue { value: Some(value) })
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Span attributes serialized straight to a JSON object (no intermediate map): the
/// `attributes` column. Of a duplicated key, the last occurrence is kept, as everywhere else.
struct JsonAttrs<'a>(&'a [PKeyValue]);

impl serde::Serialize for JsonAttrs<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (i, kv) in self.0.iter().enumerate() {
            if self.0[i + 1..].iter().any(|later| later.key == kv.key) {
                continue;
            }
            map.serialize_entry(&kv.key, &JsonValue(kv.value.as_ref()))?;
        }
        map.end()
    }
}

/// One attribute value as JSON: scalars as themselves, arrays and maps nested, bytes as hex.
struct JsonValue<'a>(Option<&'a AnyValue>);

impl serde::Serialize for JsonValue<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0.and_then(|v| v.value.as_ref()) {
            Some(PValue::StringValue(s)) => serializer.serialize_str(s),
            Some(PValue::BoolValue(b)) => serializer.serialize_bool(*b),
            Some(PValue::IntValue(i)) => serializer.serialize_i64(*i),
            Some(PValue::DoubleValue(d)) if d.is_finite() => serializer.serialize_f64(*d),
            Some(PValue::ArrayValue(a)) => {
                let mut seq = serializer.serialize_seq(Some(a.values.len()))?;
                for v in &a.values {
                    seq.serialize_element(&JsonValue(Some(v)))?;
                }
                seq.end()
            }
            Some(PValue::KvlistValue(kv)) => {
                let mut map = serializer.serialize_map(Some(kv.values.len()))?;
                for e in &kv.values {
                    map.serialize_entry(&e.key, &JsonValue(e.value.as_ref()))?;
                }
                map.end()
            }
            Some(PValue::BytesValue(b)) => serializer.serialize_str(&hex(b)),
            // NaN and infinities have no JSON form; dictionary-encoded strings (profiles) never
            // appear on trace spans.
            Some(PValue::DoubleValue(_) | PValue::StringValueStrindex(_)) | None => {
                serializer.serialize_unit()
            }
        }
    }
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Ingestor {
    /// An ingestor pricing with `enricher`.
    #[must_use]
    pub fn new(enricher: Arc<Enricher>, identity: IdentityKeys, dialects: Dialects) -> Self {
        Ingestor {
            enricher,
            identity,
            dialects,
        }
    }

    /// The enricher (for hot reload).
    #[must_use]
    pub fn enricher(&self) -> &Arc<Enricher> {
        &self.enricher
    }

    /// Enriches every span of `request` in place and returns the rows to store. Spans with
    /// invalid trace or span ids are removed from the request and counted as rejected.
    pub fn process(&self, request: &mut ExportTraceServiceRequest) -> Processed {
        let mut out = Processed::default();
        for rs in &mut request.resource_spans {
            let resource_attrs: &[PKeyValue] = rs.resource.as_ref().map_or(&[], |r| &r.attributes);
            let service = resource_attrs
                .iter()
                .find(|kv| kv.key == sc::SERVICE_NAME)
                .and_then(
                    |kv| match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                        Some(PValue::StringValue(s)) => Some(s.clone()),
                        _ => None,
                    },
                )
                .unwrap_or_default();
            let resource_facts = extract(resource_attrs, &self.identity);
            let resource_tenant = resource_facts.tenant.map(str::to_owned);
            let resource_session = resource_facts.session.map(str::to_owned);
            for ss in &mut rs.scope_spans {
                let before = ss.spans.len();
                ss.spans.retain(|s| {
                    s.trace_id.len() == 16
                        && s.span_id.len() == 8
                        && (s.parent_span_id.is_empty() || s.parent_span_id.len() == 8)
                });
                let dropped = before - ss.spans.len();
                if dropped > 0 {
                    out.rejected += i64::try_from(dropped).unwrap_or(i64::MAX);
                    out.reason.get_or_insert_with(|| {
                        "span with an invalid trace_id (16 bytes), span_id (8 bytes) or parent_span_id".to_owned()
                    });
                }
                for span in &mut ss.spans {
                    let record = self.enrich_span(
                        span,
                        &service,
                        resource_tenant.as_deref(),
                        resource_session.as_deref(),
                        &mut out,
                    );
                    out.records.push(record);
                }
            }
        }
        out
    }

    fn enrich_span(
        &self,
        span: &mut PSpan,
        service: &str,
        resource_tenant: Option<&str>,
        resource_session: Option<&str>,
        out: &mut Processed,
    ) -> SpanRecord {
        let end_secs = i64::try_from(span.end_time_unix_nano / 1_000_000_000).unwrap_or(i64::MAX);
        let (enrichment, mut record) = {
            let facts = extract(&span.attributes[..], &self.identity);
            let enrichment = self.enricher.enrich(&facts, &span.name, end_secs);
            let record = SpanRecord {
                trace_id: hex(&span.trace_id),
                span_id: hex(&span.span_id),
                parent_span_id: (!span.parent_span_id.is_empty())
                    .then(|| hex(&span.parent_span_id)),
                name: span.name.clone(),
                service: service.to_owned(),
                start_time_ns: i64::try_from(span.start_time_unix_nano).unwrap_or(i64::MAX),
                end_time_ns: i64::try_from(span.end_time_unix_nano).unwrap_or(i64::MAX),
                status_code: span.status.as_ref().map_or(0, |s| s.code),
                operation: facts.operation.map(str::to_owned),
                provider: facts.provider.map(str::to_owned),
                model: facts.model().map(str::to_owned),
                tokens_input: saturating_i64(facts.usage.input),
                tokens_output: saturating_i64(facts.usage.output),
                cache_read_tokens: saturating_i64(facts.usage.cache_read),
                cache_write_tokens: saturating_i64(facts.usage.cache_write),
                reasoning_tokens: saturating_i64(facts.usage.reasoning),
                cost_nanos: None,
                cost_status: None,
                session_id: facts.session.or(resource_session).map(str::to_owned),
                tenant_id: facts.tenant.or(resource_tenant).map(str::to_owned),
                attributes: String::new(),
            };
            (enrichment, record)
        };
        if let Some(e) = &enrichment {
            record.cost_nanos = e.total.map(|n| n.0);
            record.cost_status = Some(e.status.as_str().to_owned());
            if record.operation.is_none() {
                record.operation = Some("chat".to_owned());
            }
            match e.status {
                CostStatus::Priced | CostStatus::Provided => out.priced += 1,
                _ => out.unpriced += 1,
            }
            let replacing_cost = e.status == CostStatus::Priced;
            span.attributes.retain(|kv| {
                !(is_written_key(&kv.key) || (replacing_cost && kv.key == sc::GEN_AI_USAGE_COST))
            });
            e.attributes(self.dialects, |k, v| {
                span.attributes.push(PKeyValue {
                    key: k.to_owned(),
                    value: out_to_proto(v),
                    ..PKeyValue::default()
                });
            });
        }
        if record.tenant_id.is_some()
            && !span
                .attributes
                .iter()
                .any(|kv| self.identity.tenant.contains(&kv.key))
        {
            // A tenant set on the resource only: make it visible on the stored span too.
            if let (Some(key), Some(t)) = (self.identity.tenant.first(), &record.tenant_id) {
                span.attributes.push(PKeyValue {
                    key: key.clone(),
                    value: str_value(t.clone()),
                    ..PKeyValue::default()
                });
            }
        }
        let root = span.parent_span_id.is_empty();
        if enrichment.is_some() || root {
            out.observations.push(Observation {
                trace: trace_key(&span.trace_id),
                tenant: record.tenant_id.clone(),
                llm: enrichment.map(|e| LlmObservation {
                    model: e
                        .priced
                        .as_ref()
                        .map(|p| p.model.to_string())
                        .or_else(|| record.model.clone()),
                    enrichment: e,
                    operation: record.operation.clone(),
                    provider: record.provider.clone(),
                }),
                root,
            });
        }
        record.attributes =
            serde_json::to_string(&JsonAttrs(&span.attributes)).unwrap_or_else(|_| "{}".to_owned());
        record
    }
}
