//! Every attribute key Peekr reads or writes, as documented constants.
//!
//! Upstream `opentelemetry-semantic-conventions` gates the GenAI keys behind
//! `semconv_experimental` and marks several deprecated; Peekr owns the ones it relies on here so
//! a dependency bump cannot silently rename what it reads. Keys follow the GenAI semantic
//! conventions (<https://opentelemetry.io/docs/specs/semconv/gen-ai/>), OpenInference
//! (<https://github.com/Arize-ai/openinference>), the Vercel AI SDK and Peekr's own `peekr.*`
//! namespace.

/// The version of the GenAI semantic conventions these keys follow.
pub const SEMCONV_VERSION: &str = "1.38.0";

/// The name of the GenAI operation (`chat`, `embeddings`, `invoke_agent`, …).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_OPERATION_NAME, "gen_ai.operation.name");
/// ```
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";

/// The GenAI provider (`openai`, `anthropic`, `aws.bedrock`, …).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_PROVIDER_NAME, "gen_ai.provider.name");
/// ```
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";

/// The GenAI provider, deprecated in favour of `gen_ai.provider.name` but still emitted widely.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_SYSTEM, "gen_ai.system");
/// ```
pub const GEN_AI_SYSTEM: &str = "gen_ai.system";

/// The model the request asked for.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_REQUEST_MODEL, "gen_ai.request.model");
/// ```
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";

/// The model that answered (often a dated snapshot).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_RESPONSE_MODEL, "gen_ai.response.model");
/// ```
pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";

/// Input tokens, including cache reads and writes (OpenTelemetry semantics).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_INPUT_TOKENS, "gen_ai.usage.input_tokens");
/// ```
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";

/// Output tokens, including reasoning and audio output.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_OUTPUT_TOKENS, "gen_ai.usage.output_tokens");
/// ```
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";

/// Input tokens, deprecated name.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_PROMPT_TOKENS, "gen_ai.usage.prompt_tokens");
/// ```
pub const GEN_AI_USAGE_PROMPT_TOKENS: &str = "gen_ai.usage.prompt_tokens";

/// Output tokens, deprecated name.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_COMPLETION_TOKENS, "gen_ai.usage.completion_tokens");
/// ```
pub const GEN_AI_USAGE_COMPLETION_TOKENS: &str = "gen_ai.usage.completion_tokens";

/// Input tokens served from the provider's prompt cache.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, "gen_ai.usage.cache_read.input_tokens");
/// ```
pub const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";

/// Cache-read input tokens, older flat spelling.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_LEGACY, "gen_ai.usage.cache_read_input_tokens");
/// ```
pub const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_LEGACY: &str =
    "gen_ai.usage.cache_read_input_tokens";

/// Input tokens written to the provider's prompt cache.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, "gen_ai.usage.cache_write.input_tokens");
/// ```
pub const GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: &str = "gen_ai.usage.cache_write.input_tokens";

/// Cache-write input tokens, Anthropic-style name.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, "gen_ai.usage.cache_creation.input_tokens");
/// ```
pub const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: &str =
    "gen_ai.usage.cache_creation.input_tokens";

/// Cache-write input tokens, older flat spelling.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_LEGACY, "gen_ai.usage.cache_creation_input_tokens");
/// ```
pub const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_LEGACY: &str =
    "gen_ai.usage.cache_creation_input_tokens";

/// Reasoning tokens (inside output).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, "gen_ai.usage.reasoning.output_tokens");
/// ```
pub const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";

/// Reasoning tokens, older flat spelling.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_REASONING_TOKENS_LEGACY, "gen_ai.usage.reasoning_tokens");
/// ```
pub const GEN_AI_USAGE_REASONING_TOKENS_LEGACY: &str = "gen_ai.usage.reasoning_tokens";

/// Audio input tokens (inside input).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_AUDIO_INPUT_TOKENS, "gen_ai.usage.audio.input_tokens");
/// ```
pub const GEN_AI_USAGE_AUDIO_INPUT_TOKENS: &str = "gen_ai.usage.audio.input_tokens";

/// Audio output tokens (inside output).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS, "gen_ai.usage.audio.output_tokens");
/// ```
pub const GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS: &str = "gen_ai.usage.audio.output_tokens";

/// The conversation (session) a GenAI call belongs to.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_CONVERSATION_ID, "gen_ai.conversation.id");
/// ```
pub const GEN_AI_CONVERSATION_ID: &str = "gen_ai.conversation.id";

/// An evaluation score recorded on a span.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_EVALUATION_SCORE_VALUE, "gen_ai.evaluation.score.value");
/// ```
pub const GEN_AI_EVALUATION_SCORE_VALUE: &str = "gen_ai.evaluation.score.value";

/// Total cost of the call in USD (written by Peekr; also read by Langfuse and written by OpenLIT).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_COST, "gen_ai.usage.cost");
/// ```
pub const GEN_AI_USAGE_COST: &str = "gen_ai.usage.cost";

/// Total cost in the open semantic-convention proposal's shape (opt-in dialect).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_COST_AMOUNT, "gen_ai.usage.cost.amount");
/// ```
pub const GEN_AI_USAGE_COST_AMOUNT: &str = "gen_ai.usage.cost.amount";

/// Currency of `gen_ai.usage.cost.amount` (always `USD`).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_COST_CURRENCY, "gen_ai.usage.cost.currency");
/// ```
pub const GEN_AI_USAGE_COST_CURRENCY: &str = "gen_ai.usage.cost.currency";

/// Where `gen_ai.usage.cost.amount` came from (`local`).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_USAGE_COST_SOURCE, "gen_ai.usage.cost.source");
/// ```
pub const GEN_AI_USAGE_COST_SOURCE: &str = "gen_ai.usage.cost.source";

/// OpenInference model name.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::LLM_MODEL_NAME, "llm.model_name");
/// ```
pub const LLM_MODEL_NAME: &str = "llm.model_name";

/// OpenInference provider.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::LLM_PROVIDER, "llm.provider");
/// ```
pub const LLM_PROVIDER: &str = "llm.provider";

/// OpenInference input tokens.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::LLM_TOKEN_COUNT_PROMPT, "llm.token_count.prompt");
/// ```
pub const LLM_TOKEN_COUNT_PROMPT: &str = "llm.token_count.prompt";

/// OpenInference output tokens.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::LLM_TOKEN_COUNT_COMPLETION, "llm.token_count.completion");
/// ```
pub const LLM_TOKEN_COUNT_COMPLETION: &str = "llm.token_count.completion";

/// OpenInference cache-read input tokens.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::LLM_TOKEN_COUNT_PROMPT_CACHE_READ, "llm.token_count.prompt_details.cache_read");
/// ```
pub const LLM_TOKEN_COUNT_PROMPT_CACHE_READ: &str = "llm.token_count.prompt_details.cache_read";

/// OpenInference cache-write input tokens.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::LLM_TOKEN_COUNT_PROMPT_CACHE_WRITE, "llm.token_count.prompt_details.cache_write");
/// ```
pub const LLM_TOKEN_COUNT_PROMPT_CACHE_WRITE: &str = "llm.token_count.prompt_details.cache_write";

/// OpenInference reasoning tokens.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::LLM_TOKEN_COUNT_COMPLETION_REASONING, "llm.token_count.completion_details.reasoning");
/// ```
pub const LLM_TOKEN_COUNT_COMPLETION_REASONING: &str =
    "llm.token_count.completion_details.reasoning";

/// OpenInference total cost (opt-in dialect, read by Arize Phoenix).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::LLM_COST_TOTAL, "llm.cost.total");
/// ```
pub const LLM_COST_TOTAL: &str = "llm.cost.total";

/// OpenInference span kind (`LLM`, `EMBEDDING`, `CHAIN`, …).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::OPENINFERENCE_SPAN_KIND, "openinference.span.kind");
/// ```
pub const OPENINFERENCE_SPAN_KIND: &str = "openinference.span.kind";

/// Vercel AI SDK input tokens.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::AI_USAGE_INPUT_TOKENS, "ai.usage.inputTokens");
/// ```
pub const AI_USAGE_INPUT_TOKENS: &str = "ai.usage.inputTokens";

/// Vercel AI SDK input tokens, older name.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::AI_USAGE_PROMPT_TOKENS, "ai.usage.promptTokens");
/// ```
pub const AI_USAGE_PROMPT_TOKENS: &str = "ai.usage.promptTokens";

/// Vercel AI SDK output tokens.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::AI_USAGE_OUTPUT_TOKENS, "ai.usage.outputTokens");
/// ```
pub const AI_USAGE_OUTPUT_TOKENS: &str = "ai.usage.outputTokens";

/// Vercel AI SDK output tokens, older name.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::AI_USAGE_COMPLETION_TOKENS, "ai.usage.completionTokens");
/// ```
pub const AI_USAGE_COMPLETION_TOKENS: &str = "ai.usage.completionTokens";

/// Vercel AI SDK cache-read input tokens.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::AI_USAGE_CACHED_INPUT_TOKENS, "ai.usage.cachedInputTokens");
/// ```
pub const AI_USAGE_CACHED_INPUT_TOKENS: &str = "ai.usage.cachedInputTokens";

/// Vercel AI SDK reasoning tokens.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::AI_USAGE_REASONING_TOKENS, "ai.usage.reasoningTokens");
/// ```
pub const AI_USAGE_REASONING_TOKENS: &str = "ai.usage.reasoningTokens";

/// The OpenAI service tier that served the request (`flex`, `priority`, `default`).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::OPENAI_RESPONSE_SERVICE_TIER, "openai.response.service_tier");
/// ```
pub const OPENAI_RESPONSE_SERVICE_TIER: &str = "openai.response.service_tier";

/// The OpenAI service tier, older name.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::GEN_AI_OPENAI_RESPONSE_SERVICE_TIER, "gen_ai.openai.response.service_tier");
/// ```
pub const GEN_AI_OPENAI_RESPONSE_SERVICE_TIER: &str = "gen_ai.openai.response.service_tier";

/// The OpenAI service tier the request asked for.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::OPENAI_REQUEST_SERVICE_TIER, "openai.request.service_tier");
/// ```
pub const OPENAI_REQUEST_SERVICE_TIER: &str = "openai.request.service_tier";

/// Logfire's cost attribute (opt-in dialect).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::OPERATION_COST, "operation.cost");
/// ```
pub const OPERATION_COST: &str = "operation.cost";

/// Set to `true` on spans of batch-API requests, priced at batch rates.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_BATCH, "peekr.batch");
/// ```
pub const PEEKR_BATCH: &str = "peekr.batch";

/// Number of web-search tool calls billed with the request.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_WEB_SEARCHES, "peekr.usage.web_searches");
/// ```
pub const PEEKR_WEB_SEARCHES: &str = "peekr.usage.web_searches";

/// Cost of uncached (text and audio) input, USD.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_COST_INPUT, "peekr.cost.input");
/// ```
pub const PEEKR_COST_INPUT: &str = "peekr.cost.input";

/// Cost of cache-read input, USD.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_COST_CACHE_READ, "peekr.cost.cache_read");
/// ```
pub const PEEKR_COST_CACHE_READ: &str = "peekr.cost.cache_read";

/// Cost of cache-write input, USD.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_COST_CACHE_WRITE, "peekr.cost.cache_write");
/// ```
pub const PEEKR_COST_CACHE_WRITE: &str = "peekr.cost.cache_write";

/// Cost of output (text, reasoning, audio), USD.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_COST_OUTPUT, "peekr.cost.output");
/// ```
pub const PEEKR_COST_OUTPUT: &str = "peekr.cost.output";

/// Per-request and per-web-search fees, USD.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_COST_OTHER, "peekr.cost.other");
/// ```
pub const PEEKR_COST_OTHER: &str = "peekr.cost.other";

/// How the cost was obtained: `priced`, `provided`, `unpriced_model`, `no_usage`, `invalid_usage`.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_COST_STATUS, "peekr.cost.status");
/// ```
pub const PEEKR_COST_STATUS: &str = "peekr.cost.status";

/// The catalog model id that priced the span.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_PRICING_MODEL, "peekr.pricing.model");
/// ```
pub const PEEKR_PRICING_MODEL: &str = "peekr.pricing.model";

/// The catalog provider id that priced the span.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_PRICING_PROVIDER, "peekr.pricing.provider");
/// ```
pub const PEEKR_PRICING_PROVIDER: &str = "peekr.pricing.provider";

/// The catalog source (built-in version or file) that priced the span.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_PRICING_SOURCE, "peekr.pricing.source");
/// ```
pub const PEEKR_PRICING_SOURCE: &str = "peekr.pricing.source";

/// On a local root span: total cost of the trace's spans seen in this process, USD.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_TRACE_COST, "peekr.trace.cost");
/// ```
pub const PEEKR_TRACE_COST: &str = "peekr.trace.cost";

/// On a local root span: number of LLM calls in the trace.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_TRACE_LLM_CALLS, "peekr.trace.llm_calls");
/// ```
pub const PEEKR_TRACE_LLM_CALLS: &str = "peekr.trace.llm_calls";

/// On a local root span: input tokens of the trace.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_TRACE_INPUT_TOKENS, "peekr.trace.input_tokens");
/// ```
pub const PEEKR_TRACE_INPUT_TOKENS: &str = "peekr.trace.input_tokens";

/// On a local root span: output tokens of the trace.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_TRACE_OUTPUT_TOKENS, "peekr.trace.output_tokens");
/// ```
pub const PEEKR_TRACE_OUTPUT_TOKENS: &str = "peekr.trace.output_tokens";

/// On a local root span: LLM calls that could not be priced.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_TRACE_UNPRICED_CALLS, "peekr.trace.unpriced_calls");
/// ```
pub const PEEKR_TRACE_UNPRICED_CALLS: &str = "peekr.trace.unpriced_calls";

/// Default key for the tenant a span belongs to.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::TENANT_ID, "tenant.id");
/// ```
pub const TENANT_ID: &str = "tenant.id";

/// Fallback key for the tenant (end user).
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::ENDUSER_ID, "enduser.id");
/// ```
pub const ENDUSER_ID: &str = "enduser.id";

/// Fallback key for the session.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::SESSION_ID, "session.id");
/// ```
pub const SESSION_ID: &str = "session.id";

/// The resource attribute naming the service.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::SERVICE_NAME, "service.name");
/// ```
pub const SERVICE_NAME: &str = "service.name";

/// Of the cache-write input tokens, those written with a 1-hour lifetime (Anthropic's
/// `ephemeral_1h_input_tokens`), priced at the 1-hour write rate.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::PEEKR_CACHE_WRITE_1H_INPUT_TOKENS, "peekr.usage.cache_write_1h.input_tokens");
/// ```
pub const PEEKR_CACHE_WRITE_1H_INPUT_TOKENS: &str = "peekr.usage.cache_write_1h.input_tokens";

/// OpenInference's provider system (`openai`, `anthropic`), read when `llm.provider` is absent.
///
/// # Examples
///
/// ```
/// assert_eq!(peekr::semconv::LLM_SYSTEM, "llm.system");
/// ```
pub const LLM_SYSTEM: &str = "llm.system";
