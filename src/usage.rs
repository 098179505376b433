//! Reading one [`Usage`] out of any GenAI dialect (DESIGN.md §3).
//!
//! Spans reach Peekr from many instrumentations: the current and deprecated `gen_ai.*`
//! conventions, OpenInference (`llm.*`), OpenLLMetry and the Vercel AI SDK (`ai.usage.*`).
//! [`extract`] reads all of them in one pass over the attributes, through the small
//! [`Attributes`] abstraction so the in-process processor (over `SpanData`) and the receiver
//! (over OTLP protobuf spans) share one implementation.
//!
//! Rules:
//! - For each meaning, keys are listed in priority order; the highest-priority key present
//!   wins, and of a duplicated key the **last** occurrence wins.
//! - Token counts may be ints, doubles or numeric strings (`tracing-opentelemetry` records
//!   `u64` fields as strings). Negatives, NaN, fractions and non-numbers are `invalid_usage`.
//! - Subsets never exceed their totals: cache reads + writes + audio input ≤ input, reasoning +
//!   audio output ≤ output.

use crate::semconv as sc;

/// Token counts above this are treated as corrupt (no single call uses a trillion tokens).
pub const MAX_TOKENS: u64 = 1_000_000_000_000;

/// A borrowed attribute value, the common ground of SDK and protobuf attributes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttrValue<'a> {
    /// A string.
    Str(&'a str),
    /// A signed integer.
    I64(i64),
    /// A double.
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// Anything else (arrays, bytes, maps): never a usable scalar.
    Other,
}

/// Read access to a span's attributes, in order.
///
/// Implemented for OpenTelemetry SDK attributes (`[opentelemetry::KeyValue]`) and, in the
/// server, for OTLP protobuf attributes.
pub trait Attributes {
    /// Calls `f` with every attribute in order; keys and values borrow from `self`.
    fn for_each_attr<'s, F: FnMut(&'s str, AttrValue<'s>)>(&'s self, f: F);
}

impl Attributes for [opentelemetry::KeyValue] {
    fn for_each_attr<'s, F: FnMut(&'s str, AttrValue<'s>)>(&'s self, mut f: F) {
        use opentelemetry::Value;
        for kv in self {
            let value = match &kv.value {
                Value::String(s) => AttrValue::Str(s.as_str()),
                Value::I64(i) => AttrValue::I64(*i),
                Value::F64(d) => AttrValue::F64(*d),
                Value::Bool(b) => AttrValue::Bool(*b),
                _ => AttrValue::Other,
            };
            f(kv.key.as_str(), value);
        }
    }
}

/// Token usage of one call, with OpenTelemetry semantics: `input` includes cache reads, cache
/// writes and audio input; `output` includes reasoning and audio output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Usage {
    /// All input tokens.
    pub input: u64,
    /// All output tokens.
    pub output: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read: u64,
    /// Input tokens written to the prompt cache, all durations.
    pub cache_write: u64,
    /// Of `cache_write`, those written with a 1-hour lifetime.
    pub cache_write_1h: u64,
    /// Output tokens spent on reasoning.
    pub reasoning: u64,
    /// Audio input tokens.
    pub audio_input: u64,
    /// Audio output tokens.
    pub audio_output: u64,
    /// Web-search calls billed with the request.
    pub web_searches: u64,
}

/// Why a [`Usage`] is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// A part of the input is larger than the whole input.
    #[error("input parts ({parts}) exceed input tokens ({input})")]
    InputPartsExceedTotal {
        /// Cache reads + cache writes + audio input.
        parts: u64,
        /// Input tokens.
        input: u64,
    },
    /// A part of the output is larger than the whole output.
    #[error("output parts ({parts}) exceed output tokens ({output})")]
    OutputPartsExceedTotal {
        /// Reasoning + audio output.
        parts: u64,
        /// Output tokens.
        output: u64,
    },
    /// More 1-hour cache writes than cache writes.
    #[error("1-hour cache writes ({long}) exceed cache writes ({all})")]
    LongCacheWritesExceedTotal {
        /// 1-hour cache writes.
        long: u64,
        /// All cache writes.
        all: u64,
    },
    /// A token count attribute was negative, NaN, fractional, not a number or absurdly large.
    #[error("attribute `{key}` is not a valid token count")]
    BadCount {
        /// The attribute key.
        key: &'static str,
    },
}

impl Usage {
    /// Checks that no subset exceeds its total.
    ///
    /// # Errors
    ///
    /// Returns the first subset that exceeds its total.
    pub fn validate(&self) -> Result<(), UsageError> {
        let parts = self
            .cache_read
            .saturating_add(self.cache_write)
            .saturating_add(self.audio_input);
        if parts > self.input {
            return Err(UsageError::InputPartsExceedTotal {
                parts,
                input: self.input,
            });
        }
        let parts = self.reasoning.saturating_add(self.audio_output);
        if parts > self.output {
            return Err(UsageError::OutputPartsExceedTotal {
                parts,
                output: self.output,
            });
        }
        if self.cache_write_1h > self.cache_write {
            return Err(UsageError::LongCacheWritesExceedTotal {
                long: self.cache_write_1h,
                all: self.cache_write,
            });
        }
        Ok(())
    }
}

/// OpenAI service tier, which changes the price.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ServiceTier {
    /// Standard processing.
    #[default]
    Standard,
    /// Flex processing (cheaper, slower).
    Flex,
    /// Priority processing.
    Priority,
}

impl ServiceTier {
    /// Parses a service-tier attribute value; unknown values (`default`, `auto`, `scale`) are
    /// standard.
    #[must_use]
    pub fn parse(value: &str) -> ServiceTier {
        if value.eq_ignore_ascii_case("flex") {
            ServiceTier::Flex
        } else if value.eq_ignore_ascii_case("priority") {
            ServiceTier::Priority
        } else {
            ServiceTier::Standard
        }
    }
}

/// What kind of GenAI span this is, for the pricing decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// Not a GenAI span: no GenAI attribute at all. Peekr leaves it alone.
    NotGenAi,
    /// A leaf inference call (`chat`, `text_completion`, `generate_content`, `embeddings`, …):
    /// priced.
    Inference,
    /// A GenAI span that is not a leaf inference call (`invoke_agent`, `execute_tool`, …):
    /// never priced, because wrappers often carry aggregated usage.
    Wrapper,
}

/// Everything Peekr reads from one span.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanFacts<'a> {
    /// `gen_ai.response.model`.
    pub response_model: Option<&'a str>,
    /// `gen_ai.request.model`, else `llm.model_name`.
    pub request_model: Option<&'a str>,
    /// Provider (`gen_ai.provider.name`, `gen_ai.system`, `llm.provider`).
    pub provider: Option<&'a str>,
    /// `gen_ai.operation.name`.
    pub operation: Option<&'a str>,
    /// `openinference.span.kind`.
    pub openinference_kind: Option<&'a str>,
    /// The usage read, when any token count was present.
    pub usage: Usage,
    /// Whether any input or output token count was present.
    pub has_usage: bool,
    /// The first bad token count met, if any.
    pub bad_count: Option<&'static str>,
    /// Service tier.
    pub service_tier: ServiceTier,
    /// Batch request (`peekr.batch=true`).
    pub batch: bool,
    /// A cost already present on the span (`gen_ai.usage.cost`), in USD.
    pub provided_cost: Option<f64>,
    /// Tenant, from the configured keys.
    pub tenant: Option<&'a str>,
    /// Session, from the configured keys.
    pub session: Option<&'a str>,
    /// Whether any GenAI key was seen at all.
    pub any_genai: bool,
}

impl SpanFacts<'_> {
    /// The model to price: the response model, else the request model.
    #[must_use]
    pub fn model(&self) -> Option<&str> {
        self.response_model.or(self.request_model)
    }

    /// Classifies the span (see [`SpanKind`]); `span_name` matters for the Vercel AI SDK,
    /// whose inference spans are named `ai.generateText.doGenerate` and the like.
    #[must_use]
    pub fn kind(&self, span_name: &str) -> SpanKind {
        if let Some(op) = self.operation {
            return if is_inference_operation(op) {
                SpanKind::Inference
            } else {
                SpanKind::Wrapper
            };
        }
        if let Some(kind) = self.openinference_kind {
            return if kind.eq_ignore_ascii_case("LLM") || kind.eq_ignore_ascii_case("EMBEDDING") {
                SpanKind::Inference
            } else {
                SpanKind::Wrapper
            };
        }
        if span_name.ends_with(".doGenerate") || span_name.ends_with(".doStream") {
            return SpanKind::Inference;
        }
        if span_name.starts_with("ai.") && self.any_genai {
            // Vercel wrappers (`ai.generateText`) carry the summed usage of their calls.
            return SpanKind::Wrapper;
        }
        if !self.any_genai {
            return SpanKind::NotGenAi;
        }
        // Older instrumentations set a model and token counts but no operation name: a span
        // that names a model and reports usage is an inference call.
        if self.model().is_some() && (self.has_usage || self.bad_count.is_some()) {
            SpanKind::Inference
        } else {
            SpanKind::Wrapper
        }
    }
}

/// Whether an operation name is a leaf inference call that Peekr prices.
#[must_use]
pub fn is_inference_operation(op: &str) -> bool {
    matches!(
        op,
        "chat" | "text_completion" | "generate_content" | "embeddings" | "embedding" | "completion"
    )
}

/// Which attribute keys carry the tenant and the session, in priority order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityKeys {
    /// Tenant keys, highest priority first (default `tenant.id`, `enduser.id`).
    pub tenant: Vec<String>,
    /// Session keys, highest priority first (default `gen_ai.conversation.id`, `session.id`).
    pub session: Vec<String>,
}

impl Default for IdentityKeys {
    fn default() -> Self {
        IdentityKeys {
            tenant: vec![sc::TENANT_ID.to_owned(), sc::ENDUSER_ID.to_owned()],
            session: vec![
                sc::GEN_AI_CONVERSATION_ID.to_owned(),
                sc::SESSION_ID.to_owned(),
            ],
        }
    }
}

// Slot indexes, and for each key: (slot, priority within slot, lower wins).
const MODEL_RESPONSE: usize = 0;
const MODEL_REQUEST: usize = 1;
const PROVIDER: usize = 2;
const OPERATION: usize = 3;
const OI_KIND: usize = 4;
const TIER: usize = 5;
const STR_SLOTS: usize = 6;

const INPUT: usize = 0;
const OUTPUT: usize = 1;
const CACHE_READ: usize = 2;
const CACHE_WRITE: usize = 3;
const CACHE_WRITE_1H: usize = 4;
const REASONING: usize = 5;
const AUDIO_IN: usize = 6;
const AUDIO_OUT: usize = 7;
const WEB_SEARCHES: usize = 8;
const NUM_SLOTS: usize = 9;

/// Key → (is numeric, slot, priority).
fn classify(key: &str) -> Option<(bool, usize, u8)> {
    // Every key read here starts with one of a few namespaces. Checking the namespace first
    // keeps non-GenAI spans cheap and shortens the chains of comparisons a `match` on strings
    // compiles to (see BENCHMARKS.md, `on_end/non_genai`).
    // First a single byte: most keys of non-GenAI spans (`http.*`, `db.*`, `server.*`) stop here.
    if !matches!(
        key.as_bytes().first(),
        Some(b'g' | b'l' | b'a' | b'o' | b'p')
    ) {
        return None;
    }
    let hit = if key.starts_with("gen_ai.usage.") {
        match key {
            sc::GEN_AI_USAGE_INPUT_TOKENS => (true, INPUT, 0),
            sc::GEN_AI_USAGE_OUTPUT_TOKENS => (true, OUTPUT, 0),
            sc::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS => (true, CACHE_READ, 0),
            sc::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS => (true, REASONING, 0),
            sc::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS => (true, CACHE_WRITE, 1),
            sc::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS => (true, CACHE_WRITE, 0),
            sc::GEN_AI_USAGE_PROMPT_TOKENS => (true, INPUT, 1),
            sc::GEN_AI_USAGE_COMPLETION_TOKENS => (true, OUTPUT, 1),
            sc::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_LEGACY => (true, CACHE_READ, 1),
            sc::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_LEGACY => (true, CACHE_WRITE, 2),
            sc::GEN_AI_USAGE_REASONING_TOKENS_LEGACY => (true, REASONING, 1),
            sc::GEN_AI_USAGE_AUDIO_INPUT_TOKENS => (true, AUDIO_IN, 0),
            sc::GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS => (true, AUDIO_OUT, 0),
            _ => return None,
        }
    } else if key.starts_with("gen_ai.") {
        match key {
            sc::GEN_AI_REQUEST_MODEL => (false, MODEL_REQUEST, 0),
            sc::GEN_AI_RESPONSE_MODEL => (false, MODEL_RESPONSE, 0),
            sc::GEN_AI_OPERATION_NAME => (false, OPERATION, 0),
            sc::GEN_AI_PROVIDER_NAME => (false, PROVIDER, 0),
            sc::GEN_AI_SYSTEM => (false, PROVIDER, 1),
            sc::GEN_AI_OPENAI_RESPONSE_SERVICE_TIER => (false, TIER, 1),
            _ => return None,
        }
    } else if key.starts_with("llm.") {
        match key {
            sc::LLM_MODEL_NAME => (false, MODEL_REQUEST, 1),
            sc::LLM_PROVIDER => (false, PROVIDER, 2),
            sc::LLM_SYSTEM => (false, PROVIDER, 3),
            sc::LLM_TOKEN_COUNT_PROMPT => (true, INPUT, 2),
            sc::LLM_TOKEN_COUNT_COMPLETION => (true, OUTPUT, 2),
            sc::LLM_TOKEN_COUNT_PROMPT_CACHE_READ => (true, CACHE_READ, 2),
            sc::LLM_TOKEN_COUNT_PROMPT_CACHE_WRITE => (true, CACHE_WRITE, 3),
            sc::LLM_TOKEN_COUNT_COMPLETION_REASONING => (true, REASONING, 2),
            _ => return None,
        }
    } else if key.starts_with("ai.usage.") {
        match key {
            sc::AI_USAGE_INPUT_TOKENS => (true, INPUT, 3),
            sc::AI_USAGE_PROMPT_TOKENS => (true, INPUT, 4),
            sc::AI_USAGE_OUTPUT_TOKENS => (true, OUTPUT, 3),
            sc::AI_USAGE_COMPLETION_TOKENS => (true, OUTPUT, 4),
            sc::AI_USAGE_CACHED_INPUT_TOKENS => (true, CACHE_READ, 3),
            sc::AI_USAGE_REASONING_TOKENS => (true, REASONING, 3),
            _ => return None,
        }
    } else if key.starts_with("open") {
        match key {
            sc::OPENINFERENCE_SPAN_KIND => (false, OI_KIND, 0),
            sc::OPENAI_RESPONSE_SERVICE_TIER => (false, TIER, 0),
            sc::OPENAI_REQUEST_SERVICE_TIER => (false, TIER, 2),
            _ => return None,
        }
    } else if key.starts_with("peekr.usage.") {
        match key {
            sc::PEEKR_CACHE_WRITE_1H_INPUT_TOKENS => (true, CACHE_WRITE_1H, 0),
            sc::PEEKR_WEB_SEARCHES => (true, WEB_SEARCHES, 0),
            _ => return None,
        }
    } else {
        return None;
    };
    Some(hit)
}

const NUMERIC_KEYS: [&str; NUM_SLOTS] = [
    sc::GEN_AI_USAGE_INPUT_TOKENS,
    sc::GEN_AI_USAGE_OUTPUT_TOKENS,
    sc::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    sc::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    sc::PEEKR_CACHE_WRITE_1H_INPUT_TOKENS,
    sc::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    sc::GEN_AI_USAGE_AUDIO_INPUT_TOKENS,
    sc::GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS,
    sc::PEEKR_WEB_SEARCHES,
];

/// Parses a token count; `None` for a value that is not a valid count.
#[must_use]
pub fn parse_count(value: AttrValue<'_>) -> Option<u64> {
    let n = match value {
        AttrValue::I64(i) => u64::try_from(i).ok()?,
        AttrValue::F64(d) => float_count(d)?,
        AttrValue::Str(s) => {
            let s = s.trim();
            match s.parse::<u64>() {
                Ok(n) => n,
                Err(_) => float_count(s.parse::<f64>().ok()?)?,
            }
        }
        AttrValue::Bool(_) | AttrValue::Other => return None,
    };
    (n <= MAX_TOKENS).then_some(n)
}

fn float_count(d: f64) -> Option<u64> {
    if d.is_finite() && d >= 0.0 && d.fract() == 0.0 && d <= MAX_TOKENS as f64 {
        // Checked above: finite, non-negative, integral and below 1e12, so the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(d as u64)
    } else {
        None
    }
}

fn parse_cost(value: AttrValue<'_>) -> Option<f64> {
    let d = match value {
        AttrValue::F64(d) => d,
        AttrValue::I64(i) => i as f64,
        AttrValue::Str(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (d.is_finite() && d >= 0.0).then_some(d)
}

/// Reads every fact Peekr needs from a span's attributes in one pass.
///
/// ```
/// use opentelemetry::KeyValue;
/// use peekr::usage::{extract, IdentityKeys};
///
/// let attrs = [
///     KeyValue::new("gen_ai.operation.name", "chat"),
///     KeyValue::new("gen_ai.request.model", "gpt-4o"),
///     KeyValue::new("gen_ai.usage.input_tokens", 1200),
///     KeyValue::new("gen_ai.usage.output_tokens", "300"), // strings are accepted
/// ];
/// let facts = extract(&attrs[..], &IdentityKeys::default());
/// assert_eq!(facts.model(), Some("gpt-4o"));
/// assert_eq!((facts.usage.input, facts.usage.output), (1200, 300));
/// ```
#[must_use]
pub fn extract<'a, A: Attributes + ?Sized + 'a>(
    attrs: &'a A,
    identity: &IdentityKeys,
) -> SpanFacts<'a> {
    // Each slot keeps (priority, value); a key of equal or better priority replaces it, so the
    // last duplicate of the winning key wins.
    let mut strs: [Option<(u8, AttrValue<'a>)>; STR_SLOTS] = [None; STR_SLOTS];
    let mut nums: [Option<(u8, AttrValue<'a>)>; NUM_SLOTS] = [None; NUM_SLOTS];
    let mut tenant: Option<(usize, &'a str)> = None;
    let mut session: Option<(usize, &'a str)> = None;
    let mut batch = false;
    let mut provided_cost = None;
    let mut any_genai = false;

    // First bytes of the identity keys, so most attributes skip the string comparisons.
    let mut id_first = [0u128; 2];
    for k in identity.tenant.iter().chain(&identity.session) {
        if let Some(&b) = k.as_bytes().first() {
            id_first[usize::from(b >> 7)] |= 1u128 << (b & 0x7f);
        }
    }
    let maybe_identity = |key: &str| {
        key.as_bytes()
            .first()
            .is_some_and(|&b| id_first[usize::from(b >> 7)] & (1u128 << (b & 0x7f)) != 0)
    };
    attrs.for_each_attr(|key, value| {
        if let Some((numeric, slot, prio)) = classify(key) {
            any_genai = true;
            let target = if numeric {
                &mut nums[slot]
            } else {
                &mut strs[slot]
            };
            if target.is_none_or(|(p, _)| prio <= p) {
                *target = Some((prio, value));
            }
            return;
        }
        match key {
            sc::PEEKR_BATCH => {
                batch = matches!(value, AttrValue::Bool(true) | AttrValue::Str("true"));
            }
            sc::GEN_AI_USAGE_COST => {
                any_genai = true;
                provided_cost = parse_cost(value);
            }
            _ => {
                if let AttrValue::Str(s) = value
                    && maybe_identity(key)
                {
                    if let Some(i) = identity.tenant.iter().position(|k| k == key) {
                        if tenant.is_none_or(|(p, _)| i <= p) {
                            tenant = Some((i, s));
                        }
                    } else if let Some(i) = identity.session.iter().position(|k| k == key)
                        && session.is_none_or(|(p, _)| i <= p)
                    {
                        session = Some((i, s));
                    }
                }
            }
        }
    });

    let str_of = |slot: usize| match strs[slot] {
        Some((_, AttrValue::Str(s))) if !s.is_empty() => Some(s),
        _ => None,
    };
    let mut facts = SpanFacts {
        response_model: str_of(MODEL_RESPONSE),
        request_model: str_of(MODEL_REQUEST),
        provider: str_of(PROVIDER),
        operation: str_of(OPERATION),
        openinference_kind: str_of(OI_KIND),
        service_tier: str_of(TIER).map_or(ServiceTier::Standard, ServiceTier::parse),
        batch,
        provided_cost,
        tenant: tenant.map(|(_, s)| s),
        session: session.map(|(_, s)| s),
        any_genai,
        ..SpanFacts::default()
    };
    let mut counts = [0u64; NUM_SLOTS];
    for (slot, entry) in nums.iter().enumerate() {
        if let Some((_, value)) = entry {
            match parse_count(*value) {
                Some(n) => counts[slot] = n,
                None => {
                    if facts.bad_count.is_none() {
                        facts.bad_count = Some(NUMERIC_KEYS[slot]);
                    }
                }
            }
        }
    }
    facts.has_usage = nums[INPUT].is_some() || nums[OUTPUT].is_some();
    facts.usage = Usage {
        input: counts[INPUT],
        output: counts[OUTPUT],
        cache_read: counts[CACHE_READ],
        cache_write: counts[CACHE_WRITE],
        cache_write_1h: counts[CACHE_WRITE_1H],
        reasoning: counts[REASONING],
        audio_input: counts[AUDIO_IN],
        audio_output: counts[AUDIO_OUT],
        web_searches: counts[WEB_SEARCHES],
    };
    facts
}
