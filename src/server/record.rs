//! The span row the receiver hands to a [`Store`](super::store::Store).
//!
//! Ingest, enrichment and forwarding produce these; only the store knows how they are kept.

/// One span as it is stored: the columns of the `spans` table (DESIGN.md §6).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanRecord {
    /// Trace id, 32 lower-case hex digits.
    pub trace_id: String,
    /// Span id, 16 lower-case hex digits.
    pub span_id: String,
    /// Parent span id (16 hex digits), `None` for a root span.
    pub parent_span_id: Option<String>,
    /// Span name.
    pub name: String,
    /// `service.name` of the resource that sent the span (empty when absent).
    pub service: String,
    /// Start time, Unix nanoseconds.
    pub start_time_ns: i64,
    /// End time, Unix nanoseconds.
    pub end_time_ns: i64,
    /// OTLP status code: 0 unset, 1 ok, 2 error.
    pub status_code: i32,
    /// `gen_ai.operation.name` (or the dialect equivalent), if any.
    pub operation: Option<String>,
    /// Provider, if any.
    pub provider: Option<String>,
    /// Model as reported on the span, if any.
    pub model: Option<String>,
    /// Input tokens (including cache reads and writes); 0 when unknown.
    pub tokens_input: i64,
    /// Output tokens (including reasoning); 0 when unknown.
    pub tokens_output: i64,
    /// Cache-read input tokens.
    pub cache_read_tokens: i64,
    /// Cache-write input tokens (5 minute and 1 hour).
    pub cache_write_tokens: i64,
    /// Reasoning output tokens.
    pub reasoning_tokens: i64,
    /// Cost in nano-USD (1e-9 USD), exact; `None` when the span has no cost.
    pub cost_nanos: Option<i64>,
    /// `peekr.cost.status`, if the span is a GenAI span.
    pub cost_status: Option<String>,
    /// Session id (`gen_ai.conversation.id`, `session.id`), if any.
    pub session_id: Option<String>,
    /// Tenant id (`tenant.id`, `enduser.id`), if any.
    pub tenant_id: Option<String>,
    /// Every span attribute (after enrichment) as a JSON object.
    pub attributes: String,
}

impl SpanRecord {
    /// Total tokens: input plus output.
    #[must_use]
    pub fn tokens_total(&self) -> i64 {
        self.tokens_input.saturating_add(self.tokens_output)
    }

    /// Whether this span is the root of its trace (no parent).
    #[must_use]
    pub fn is_root(&self) -> bool {
        self.parent_span_id.is_none()
    }
}
