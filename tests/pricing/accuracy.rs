//! Cost accuracy: each case is a real call shape priced against the built-in catalog, with the
//! expected USD exact to 1e-9 worked out by hand from the provider's list price (cited, with the
//! date the price applied). Token counts follow OpenTelemetry: `input` includes cache reads,
//! cache writes and audio input; `output` includes reasoning and audio output.

use peekr::pricing::{PriceError, PriceRequest, PricingTable};
use peekr::usage::{ServiceTier, Usage};

/// One accuracy case.
#[derive(Clone, Copy)]
struct Case {
    /// Model string as a span would carry it.
    model: &'static str,
    /// Provider from the span, if any.
    provider: Option<&'static str>,
    input: u64,
    output: u64,
    cache_read: u64,
    cache_write: u64,
    cache_write_1h: u64,
    reasoning: u64,
    audio_input: u64,
    audio_output: u64,
    web_searches: u64,
    /// When the call ended (RFC 3339).
    at: &'static str,
    tier: ServiceTier,
    batch: bool,
    /// Catalog id expected to match.
    matched: &'static str,
    /// Expected total, USD, exact to 1e-9.
    expect: &'static str,
}

const BASE: Case = Case {
    model: "",
    provider: None,
    input: 0,
    output: 0,
    cache_read: 0,
    cache_write: 0,
    cache_write_1h: 0,
    reasoning: 0,
    audio_input: 0,
    audio_output: 0,
    web_searches: 0,
    at: "2026-12-01T00:00:00Z",
    tier: ServiceTier::Standard,
    batch: false,
    matched: "",
    expect: "",
};

const M: u64 = 1_000_000;

#[rustfmt::skip]
const CASES: &[Case] = &[
    // ---------------------------------------------------------------- OpenAI
    // gpt-4o $2.50 in / $10 out per 1M since 2024-10-02 (openai.com/api/pricing).
    Case { model: "gpt-4o", input: M, output: M, matched: "gpt-4o", expect: "12.500000000", ..BASE },
    // Before 2024-10-02 the gpt-4o alias served gpt-4o-2024-05-13 at $5/$15.
    Case { model: "gpt-4o", input: 1000, output: 1000, at: "2024-06-01T12:00:00Z", matched: "gpt-4o", expect: "0.020000000", ..BASE },
    // gpt-4o-2024-05-13 keeps its own $5/$15 (a dated snapshot with its own price).
    Case { model: "gpt-4o-2024-05-13", input: 1000, output: 1000, matched: "gpt-4o-2024-05-13", expect: "0.020000000", ..BASE },
    // gpt-4o-2024-08-06: $2.50 in, $1.25 cached in, $10 out (2024-08-06 on).
    Case { model: "gpt-4o-2024-08-06", input: 10_000, cache_read: 8_000, output: 500, matched: "gpt-4o-2024-08-06", expect: "0.020000000", ..BASE },
    // Batch API: 50% off, $1.25/$5 (OpenAI batch pricing, 2024-10).
    Case { model: "gpt-4o", input: M, output: M, batch: true, matched: "gpt-4o", expect: "6.250000000", ..BASE },
    // Priority processing: gpt-4o $4.25/$17 (OpenAI pricing, priority tier, 2025).
    Case { model: "gpt-4o", input: M, output: M, tier: ServiceTier::Priority, matched: "gpt-4o", expect: "21.250000000", ..BASE },
    // gpt-4o-mini $0.15/$0.60 (2024-07-18 on).
    Case { model: "gpt-4o-mini", input: M, output: M, matched: "gpt-4o-mini", expect: "0.750000000", ..BASE },
    // o3 at launch (2025-04-16): $10/$40; reasoning is billed as output.
    Case { model: "o3", input: 1000, output: 2000, reasoning: 1500, at: "2025-05-01T00:00:00Z", matched: "o3", expect: "0.090000000", ..BASE },
    // o3 one second before the 2025-06-10 cut: still $10/$40.
    Case { model: "o3-2025-04-16", input: 1000, output: 2000, reasoning: 1500, at: "2025-06-09T23:59:59Z", matched: "o3", expect: "0.090000000", ..BASE },
    // o3 from 2025-06-10 00:00 UTC: $2/$8 (OpenAI changelog, 80% price cut).
    Case { model: "o3", input: 1000, output: 2000, reasoning: 1500, at: "2025-06-10T00:00:00Z", matched: "o3", expect: "0.018000000", ..BASE },
    // o3 flex processing: $1/$4 (OpenAI flex pricing, 2025-06).
    Case { model: "o3", input: M, output: M, tier: ServiceTier::Flex, matched: "o3", expect: "5.000000000", ..BASE },
    // o3 batch: $1/$4.
    Case { model: "o3", input: M, output: M, batch: true, matched: "o3", expect: "5.000000000", ..BASE },
    // o3 priority: $3.50/$14.
    Case { model: "o3", input: M, output: M, tier: ServiceTier::Priority, matched: "o3", expect: "17.500000000", ..BASE },
    // gpt-5 flex: $0.625 in, $0.0625 cached, $5 out (OpenAI pricing, flex, 2025-08).
    Case { model: "gpt-5", input: M, cache_read: 500_000, output: 100_000, tier: ServiceTier::Flex, matched: "gpt-5", expect: "0.843750000", ..BASE },
    // gpt-5 standard $1.25/$10 with reasoning inside output.
    Case { model: "gpt-5-2025-08-07", input: 2000, output: 3000, reasoning: 2500, matched: "gpt-5", expect: "0.032500000", ..BASE },
    // gpt-5.4: $2.50/$15 up to 272K prompt tokens; exactly 272,000 is still the base tier.
    Case { model: "gpt-5.4", input: 272_000, output: 1000, matched: "gpt-5.4", expect: "0.695000000", ..BASE },
    // One token above 272K: the whole request at $5/$22.50 (OpenAI long-context pricing, 2026-03).
    Case { model: "gpt-5.4", input: 272_001, output: 1000, matched: "gpt-5.4", expect: "1.382505000", ..BASE },
    // gpt-4.1 $2/$8 plus web search tool calls at $25 per 1,000 (OpenAI tools pricing, 2025).
    Case { model: "gpt-4.1", input: 1000, output: 100, web_searches: 2, matched: "gpt-4.1", expect: "0.052800000", ..BASE },
    // gpt-4o-audio-preview-2024-12-17: text $2.50/$10, audio $40 in / $80 out.
    Case { model: "gpt-4o-audio-preview-2024-12-17", input: 1000, audio_input: 800, output: 500, audio_output: 400, matched: "gpt-4o-audio-preview-2024-12-17", expect: "0.065500000", ..BASE },
    // gpt-realtime: text $4/$16, audio $32 in / $64 out (OpenAI, 2025-08-28).
    Case { model: "gpt-realtime", input: 10_000, audio_input: 9000, output: 2000, audio_output: 1800, matched: "gpt-realtime", expect: "0.410400000", ..BASE },
    // gpt-4o-transcribe: audio input $6, text output $10 (OpenAI, 2025-03).
    Case { model: "gpt-4o-transcribe", input: 1000, audio_input: 1000, output: 200, matched: "gpt-4o-transcribe", expect: "0.008000000", ..BASE },
    // Fine-tuned gpt-4o-mini inference: $0.30/$1.20 (OpenAI fine-tuning pricing).
    Case { model: "ft:gpt-4o-mini-2024-07-18:my-org::abc123", input: M, output: M, matched: "ft:gpt-4o-mini-2024-07-18", expect: "1.500000000", ..BASE },
    // Fine-tuned gpt-4o: $3.75/$15.
    Case { model: "ft:gpt-4o-2024-08-06:acme:support:9xYz", input: 1000, output: 1000, matched: "ft:gpt-4o-2024-08-06", expect: "0.018750000", ..BASE },
    // Fine-tuned gpt-4.1: $3/$12.
    Case { model: "ft:gpt-4.1-2025-04-14:org::id1", input: M, output: M, matched: "ft:gpt-4.1-2025-04-14", expect: "15.000000000", ..BASE },
    // text-embedding-3-small $0.02 per 1M.
    Case { model: "text-embedding-3-small", input: M, matched: "text-embedding-3-small", expect: "0.020000000", ..BASE },
    // text-embedding-3-large $0.13 per 1M.
    Case { model: "text-embedding-3-large", input: 123_456, matched: "text-embedding-3-large", expect: "0.016049280", ..BASE },
    // Retired: gpt-3.5-turbo-0301 $1.50/$2 (2023 price list).
    Case { model: "gpt-3.5-turbo-0301", input: 1000, output: 1000, at: "2023-05-01T00:00:00Z", matched: "gpt-3.5-turbo-0301", expect: "0.003500000", ..BASE },
    // Retired: text-davinci-003 $20 per 1M ($0.02 / 1K, 2023).
    Case { model: "text-davinci-003", input: 1000, at: "2023-03-01T00:00:00Z", matched: "text-davinci-003", expect: "0.020000000", ..BASE },
    // gpt-4 (8K) $30/$60.
    Case { model: "gpt-4-0613", input: 1000, output: 1000, matched: "gpt-4-0613", expect: "0.090000000", ..BASE },
    // o1 $15/$60 (2024-12-17).
    Case { model: "o1", input: 1000, output: 1000, matched: "o1", expect: "0.075000000", ..BASE },
    // An unknown dated snapshot falls back to its base name (gpt-4o-mini $0.15/$0.60).
    Case { model: "gpt-4o-mini-2099-01-01", input: M, output: M, matched: "gpt-4o-mini", expect: "0.750000000", ..BASE },
    // Provider prefix: "openai/gpt-4o-mini".
    Case { model: "openai/gpt-4o-mini", input: M, output: 0, matched: "gpt-4o-mini", expect: "0.150000000", ..BASE },

    // ---------------------------------------------------------------- Anthropic
    // Claude Sonnet 4.5: $3/$15 (anthropic.com/pricing, 2025-09-29).
    Case { model: "claude-sonnet-4-5-20250929", input: 100_000, output: 100_000, matched: "claude-sonnet-4-5", expect: "1.800000000", ..BASE },
    // Exactly 200,000 prompt tokens: still $3/$15 (long context applies above 200K).
    Case { model: "claude-sonnet-4-5", input: 200_000, output: 1000, matched: "claude-sonnet-4-5", expect: "0.615000000", ..BASE },
    // 200,001 prompt tokens: the whole request at $6/$22.50.
    Case { model: "claude-sonnet-4-5", input: 200_001, output: 1000, matched: "claude-sonnet-4-5", expect: "1.222506000", ..BASE },
    // Cache mix: read $0.30, 5-minute write $3.75, 1-hour write $6 (prompt-caching docs).
    Case { model: "claude-sonnet-4-5", input: 100_000, cache_read: 60_000, cache_write: 30_000, cache_write_1h: 10_000, output: 2000, matched: "claude-sonnet-4-5", expect: "0.213000000", ..BASE },
    // Sonnet 4 over 200K including cache reads: tier applies to the whole prompt ($6 / $0.60 / $22.50).
    Case { model: "claude-sonnet-4-20250514", input: 250_000, cache_read: 200_000, output: 1000, matched: "claude-sonnet-4-20250514", expect: "0.442500000", ..BASE },
    // Claude Haiku 3.5 $0.80/$4.
    Case { model: "claude-3-5-haiku-20241022", input: M, output: M, matched: "claude-3-5-haiku-20241022", expect: "4.800000000", ..BASE },
    // Claude 3 Opus $15/$75 (2024-02-29).
    Case { model: "claude-3-opus-20240229", input: 1000, output: 1000, at: "2024-06-01T00:00:00Z", matched: "claude-3-opus-20240229", expect: "0.090000000", ..BASE },
    // Claude Opus 4.1 $15/$75.
    Case { model: "claude-opus-4-1", input: 10_000, output: 1000, matched: "claude-opus-4-1-20250805", expect: "0.225000000", ..BASE },
    // Claude Haiku 4.5 via the Message Batches API: 50% of $1/$5.
    Case { model: "claude-haiku-4-5", input: M, output: M, batch: true, matched: "claude-haiku-4-5", expect: "3.000000000", ..BASE },
    // Claude 2.1 $8/$24 (retired).
    Case { model: "claude-2.1", input: 1000, output: 1000, at: "2024-01-15T00:00:00Z", matched: "claude-2.1", expect: "0.032000000", ..BASE },
    // Claude Instant 1.2 $0.80/$2.40 (retired).
    Case { model: "claude-instant-1.2", input: M, output: M, at: "2024-01-15T00:00:00Z", matched: "claude-instant-1.2", expect: "3.200000000", ..BASE },
    // Web search: $10 per 1,000 searches, plus tokens.
    Case { model: "claude-sonnet-4-5", input: 1000, output: 100, web_searches: 3, matched: "claude-sonnet-4-5", expect: "0.034500000", ..BASE },
    // Claude 3 Haiku $0.25/$1.25.
    Case { model: "anthropic/claude-3-haiku-20240307", input: M, output: M, matched: "claude-3-haiku-20240307", expect: "1.500000000", ..BASE },

    // ---------------------------------------------------------------- Google Gemini API
    // Gemini 2.5 Pro: $1.25/$10 for prompts <= 200K tokens (ai.google.dev pricing, 2025-06).
    Case { model: "gemini-2.5-pro", provider: Some("gcp.gemini"), input: 200_000, output: 1000, matched: "gemini-2.5-pro", expect: "0.260000000", ..BASE },
    // Over 200K: $2.50/$15 for the whole request.
    Case { model: "gemini-2.5-pro", provider: Some("gcp.gemini"), input: 200_001, output: 1000, matched: "gemini-2.5-pro", expect: "0.515002500", ..BASE },
    // Gemini 2.5 Flash: text $0.30, audio in $1, output $2.50 (2025-06-17).
    Case { model: "models/gemini-2.5-flash", input: 10_000, audio_input: 8000, output: 1000, matched: "gemini-2.5-flash", expect: "0.011100000", ..BASE },
    // Gemini 2.5 Flash batch mode: 50%.
    Case { model: "gemini-2.5-flash", provider: Some("gemini"), input: M, output: M, batch: true, matched: "gemini-2.5-flash", expect: "1.400000000", ..BASE },
    // Gemini 1.5 Pro at launch: $3.50/$10.50 (<=128K).
    Case { model: "gemini-1.5-pro", provider: Some("gemini"), input: 100_000, output: 100_000, at: "2024-09-01T00:00:00Z", matched: "gemini-1.5-pro", expect: "1.400000000", ..BASE },
    // Gemini 1.5 Pro from 2024-10-01: $1.25/$5.
    Case { model: "gemini-1.5-pro-002", provider: Some("gemini"), input: 100_000, output: 100_000, at: "2024-10-01T00:00:00Z", matched: "gemini-1.5-pro", expect: "0.625000000", ..BASE },
    // Gemini 1.5 Flash from 2024-08-12, prompt over 128K: $0.15 input.
    Case { model: "models/gemini-1.5-flash-002", provider: Some("gemini"), input: 128_001, at: "2025-01-10T00:00:00Z", matched: "gemini-1.5-flash", expect: "0.019200150", ..BASE },
    // Gemini 2.0 Flash $0.10/$0.40.
    Case { model: "gemini-2.0-flash-001", provider: Some("gemini"), input: M, output: M, matched: "gemini-2.0-flash", expect: "0.500000000", ..BASE },
    // Gemini embedding $0.15 per 1M.
    Case { model: "gemini-embedding-001", provider: Some("gemini"), input: M, matched: "gemini-embedding-001", expect: "0.150000000", ..BASE },
    // Gemini 1.0 Pro $0.50/$1.50 (retired).
    Case { model: "gemini-pro", provider: Some("gemini"), input: 1000, output: 1000, at: "2024-05-01T00:00:00Z", matched: "gemini-1.0-pro", expect: "0.002000000", ..BASE },
    // Gemini 2.5 Flash preview: non-thinking output $0.60, thinking output $3.50 (2025-04-17).
    Case { model: "gemini-2.5-flash-preview-04-17", provider: Some("gemini"), input: 1000, output: 2000, reasoning: 1500, at: "2025-05-01T00:00:00Z", matched: "gemini-2.5-flash-preview-04-17", expect: "0.005700000", ..BASE },

    // ---------------------------------------------------------------- Vertex AI
    // Gemini 2.5 Pro on Vertex: $1.25/$10 (cloud.google.com/vertex-ai pricing).
    Case { model: "gemini-2.5-pro", provider: Some("gcp.vertex_ai"), input: 100_000, output: 100_000, matched: "gemini-2.5-pro", expect: "1.125000000", ..BASE },
    // Claude 3.5 Sonnet v2 on Vertex, @ version: $3/$15.
    Case { model: "claude-3-5-sonnet-v2@20241022", provider: Some("gcp.vertex_ai"), input: 1000, output: 1000, matched: "claude-3-5-sonnet-v2", expect: "0.018000000", ..BASE },

    // ---------------------------------------------------------------- AWS Bedrock
    // Claude 3.5 Sonnet on Bedrock $3/$15 (aws.amazon.com/bedrock/pricing).
    Case { model: "anthropic.claude-3-5-sonnet-20240620-v1:0", provider: Some("aws.bedrock"), input: M, output: M, matched: "anthropic.claude-3-5-sonnet-20240620-v1:0", expect: "18.000000000", ..BASE },
    // Global cross-region inference profile: same as on-demand, $3/$15.
    Case { model: "global.anthropic.claude-sonnet-4-5-20250929-v1:0", provider: Some("aws.bedrock"), input: 1000, output: 1000, matched: "anthropic.claude-sonnet-4-5-20250929-v1:0", expect: "0.018000000", ..BASE },
    // Amazon Nova Pro $0.80/$3.20.
    Case { model: "amazon.nova-pro-v1:0", provider: Some("aws.bedrock"), input: M, output: M, matched: "amazon.nova-pro-v1:0", expect: "4.000000000", ..BASE },
    // Llama 3.1 70B Instruct on Bedrock $0.72/$0.72.
    Case { model: "us.meta.llama3-1-70b-instruct-v1:0", provider: Some("aws.bedrock"), input: M, output: M, matched: "meta.llama3-1-70b-instruct-v1:0", expect: "1.440000000", ..BASE },
    // Titan Text Embeddings V2 $0.02 per 1M.
    Case { model: "amazon.titan-embed-text-v2:0", provider: Some("aws.bedrock"), input: M, matched: "amazon.titan-embed-text-v2:0", expect: "0.020000000", ..BASE },

    // ---------------------------------------------------------------- Azure OpenAI
    // gpt-4o (2024-08-06) Global: $2.50/$10 (azure.microsoft.com OpenAI pricing).
    Case { model: "gpt-4o-2024-08-06", provider: Some("azure.ai.openai"), input: M, output: M, matched: "gpt-4o", expect: "12.500000000", ..BASE },
    // Data Zone (EU) deployment: 10% over Global, $2.75/$11.
    Case { model: "azure/eu/gpt-4o-2024-08-06", input: M, output: M, matched: "gpt-4o", expect: "13.750000000", ..BASE },
    // gpt-4o-mini Data Zone (US): $0.165/$0.66.
    Case { model: "azure/us/gpt-4o-mini", input: M, output: M, matched: "gpt-4o-mini", expect: "0.825000000", ..BASE },

    // ---------------------------------------------------------------- other providers
    // Mistral Large 2 (2407) $2/$6 (mistral.ai pricing, 2024-07).
    Case { model: "mistral-large-2407", provider: Some("mistral_ai"), input: M, output: M, at: "2024-09-01T00:00:00Z", matched: "mistral-large-2407", expect: "8.000000000", ..BASE },
    // mistral-embed $0.10 per 1M.
    Case { model: "mistral-embed", provider: Some("mistral_ai"), input: M, matched: "mistral-embed", expect: "0.100000000", ..BASE },
    // DeepSeek V3 (deepseek-chat) 2025-02: $0.27 miss, $0.07 hit, $1.10 out.
    Case { model: "deepseek-chat", provider: Some("deepseek"), input: M, cache_read: 400_000, output: M, at: "2025-03-01T00:00:00Z", matched: "deepseek-chat", expect: "1.290000000", ..BASE },
    // deepseek-chat on V3.2 from 2025-09-29: $0.28/$0.42.
    Case { model: "deepseek-chat", provider: Some("deepseek"), input: M, output: M, at: "2025-10-15T00:00:00Z", matched: "deepseek-chat", expect: "0.700000000", ..BASE },
    // deepseek-reasoner (R1) 2025-03: $0.55 in, $2.19 out including reasoning.
    Case { model: "deepseek-reasoner", provider: Some("deepseek"), input: 1000, output: 5000, reasoning: 4000, at: "2025-03-01T00:00:00Z", matched: "deepseek-reasoner", expect: "0.011500000", ..BASE },
    // xAI grok-3 $3/$15 (docs.x.ai, 2025).
    Case { model: "grok-3", provider: Some("x_ai"), input: M, output: M, matched: "grok-3", expect: "18.000000000", ..BASE },
    // Groq llama-3.3-70b-versatile $0.59/$0.79 (groq.com/pricing).
    Case { model: "llama-3.3-70b-versatile", provider: Some("groq"), input: M, output: M, matched: "llama-3.3-70b-versatile", expect: "1.380000000", ..BASE },
    // Fireworks Llama 3.1 8B: the 4B-16B serverless bucket, $0.20/$0.20 (fireworks.ai/pricing).
    Case { model: "accounts/fireworks/models/llama-v3p1-8b-instruct", provider: Some("fireworks"), input: M, output: M, matched: "llama-v3p1-8b-instruct", expect: "0.400000000", ..BASE },
    // Cohere command-r before its 08-2024 refresh: $0.50/$1.50; after: $0.15/$0.60.
    Case { model: "command-r", provider: Some("cohere"), input: M, output: M, at: "2024-06-01T00:00:00Z", matched: "command-r", expect: "2.000000000", ..BASE },
    Case { model: "command-r", provider: Some("cohere"), input: M, output: M, at: "2024-09-01T00:00:00Z", matched: "command-r", expect: "0.750000000", ..BASE },
    // xAI grok-code-fast-1: $0.20 in, $0.02 cached, $1.50 out (docs.x.ai, 2025-08).
    Case { model: "grok-code-fast-1", provider: Some("xai"), input: M, cache_read: 500_000, output: M, matched: "grok-code-fast-1", expect: "1.610000000", ..BASE },
    // Cohere embed-english-v3.0 $0.10 per 1M (cohere.com/pricing).
    Case { model: "embed-english-v3.0", provider: Some("cohere"), input: M, matched: "embed-english-v3.0", expect: "0.100000000", ..BASE },
    // Cohere command-r-08-2024 $0.15/$0.60.
    Case { model: "command-r-08-2024", provider: Some("cohere"), input: M, output: M, matched: "command-r-08-2024", expect: "0.750000000", ..BASE },
];

fn at(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>()
        .expect("RFC 3339")
        .as_second()
}

fn run(table: &PricingTable, c: &Case) -> Result<(String, String), PriceError> {
    let usage = Usage {
        input: c.input,
        output: c.output,
        cache_read: c.cache_read,
        cache_write: c.cache_write,
        cache_write_1h: c.cache_write_1h,
        reasoning: c.reasoning,
        audio_input: c.audio_input,
        audio_output: c.audio_output,
        web_searches: c.web_searches,
    };
    let req = PriceRequest {
        model: c.model,
        fallback_model: None,
        provider: c.provider,
        usage: &usage,
        at: at(c.at),
        service_tier: c.tier,
        batch: c.batch,
    };
    let priced = table.price(&req)?;
    Ok((priced.model.to_string(), priced.cost.total().to_string()))
}

#[test]
fn at_least_sixty_cases() {
    assert!(CASES.len() >= 60, "{} cases", CASES.len());
}

#[test]
fn every_case_prices_to_the_list_price() {
    let table = PricingTable::builtin();
    let mut failures = Vec::new();
    for c in CASES {
        match run(&table, c) {
            Ok((model, cost)) if model == c.matched && cost == c.expect => {}
            Ok((model, cost)) => failures.push(format!(
                "{} @ {}: got {model} ${cost}, want {} ${}",
                c.model, c.at, c.matched, c.expect
            )),
            Err(e) => failures.push(format!("{} @ {}: {e}", c.model, c.at)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn components_sum_to_the_total() {
    let table = PricingTable::builtin();
    for c in CASES {
        let usage = Usage {
            input: c.input,
            output: c.output,
            cache_read: c.cache_read,
            cache_write: c.cache_write,
            cache_write_1h: c.cache_write_1h,
            reasoning: c.reasoning,
            audio_input: c.audio_input,
            audio_output: c.audio_output,
            web_searches: c.web_searches,
        };
        let mut req = PriceRequest::new(c.model, &usage);
        req.provider = c.provider;
        req.at = at(c.at);
        let p = table.price(&req).expect("priced");
        let sum = p.cost.input.to_string();
        assert!(!sum.is_empty());
        assert_eq!(
            [
                p.cost.input,
                p.cost.cache_read,
                p.cost.cache_write,
                p.cost.output,
                p.cost.other
            ]
            .into_iter()
            .sum::<peekr::pricing::Nanos>(),
            p.cost.total()
        );
    }
}

#[test]
fn an_unknown_model_is_an_error_never_zero() {
    let table = PricingTable::builtin();
    let usage = Usage {
        input: 1000,
        output: 1000,
        ..Usage::default()
    };
    for model in [
        "my-private-model",
        "gpt-99-ultra",
        "",
        "claude-nonexistent-9",
    ] {
        let err = table.price(&PriceRequest::new(model, &usage)).unwrap_err();
        assert!(
            matches!(err, PriceError::UnknownModel { .. }),
            "{model}: {err:?}"
        );
    }
}

#[test]
fn an_azure_deployment_alias_with_data_zone_prices_at_the_uplift() {
    let overrides = PricingTable::from_toml_str(
        r#"
[[alias]]
name = "prod-eu-gpt4o"
model = "gpt-4o-2024-08-06"
provider = "azure"
data_zone = true
"#,
        "overrides.toml",
    )
    .expect("valid");
    let table = PricingTable::layered([(*PricingTable::builtin()).clone(), overrides]);
    let usage = Usage {
        input: M,
        output: M,
        ..Usage::default()
    };
    let mut req = PriceRequest::new("prod-eu-gpt4o", &usage);
    req.provider = Some("azure.ai.openai");
    let p = table.price(&req).expect("priced");
    assert_eq!(&*p.provider, "azure");
    // Azure Data Zone: 1.1 x ($2.50 + $10).
    assert_eq!(p.cost.total().to_string(), "13.750000000");
}

#[test]
fn an_override_replaces_a_builtin_price() {
    let overrides = PricingTable::from_toml_str(
        r#"
[[model]]
id = "gpt-4o"
provider = "openai"
source = "negotiated contract"
[[model.price]]
input = 2
output = 8
"#,
        "overrides.toml",
    )
    .expect("valid");
    let table = PricingTable::layered([(*PricingTable::builtin()).clone(), overrides]);
    let usage = Usage {
        input: M,
        output: M,
        ..Usage::default()
    };
    let p = table
        .price(&PriceRequest::new("gpt-4o", &usage))
        .expect("priced");
    assert_eq!(p.cost.total().to_string(), "10.000000000");
    assert_eq!(&*p.source, "overrides.toml");
}
