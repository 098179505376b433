//! Model matching: the model strings real spans carry → the catalog entry that prices them.
//! Each row: (model string, provider from the span or "", expected provider, expected id).

use peekr::pricing::PricingTable;

#[rustfmt::skip]
const CASES: &[(&str, &str, &str, &str)] = &[
    // ---- OpenAI: aliases, dated snapshots, own-price snapshots, prefixes
    ("gpt-4o", "", "openai", "gpt-4o"),
    ("gpt-4o", "openai", "openai", "gpt-4o"),
    ("GPT-4o", "openai", "openai", "gpt-4o"),
    ("gpt-4o-2024-08-06", "openai", "openai", "gpt-4o-2024-08-06"),
    ("gpt-4o-2024-11-20", "openai", "openai", "gpt-4o-2024-08-06"),
    ("gpt-4o-2024-05-13", "openai", "openai", "gpt-4o-2024-05-13"),
    ("openai/gpt-4o", "", "openai", "gpt-4o"),
    ("openai/gpt-4o-2024-05-13", "", "openai", "gpt-4o-2024-05-13"),
    ("gpt-4o-mini", "openai", "openai", "gpt-4o-mini"),
    ("gpt-4o-mini-2024-07-18", "openai", "openai", "gpt-4o-mini"),
    ("gpt-4o-mini-2031-01-01", "openai", "openai", "gpt-4o-mini"),
    ("chatgpt-4o-latest", "openai", "openai", "chatgpt-4o-latest"),
    ("gpt-4-turbo", "openai", "openai", "gpt-4-turbo"),
    ("gpt-4-turbo-2024-04-09", "openai", "openai", "gpt-4-turbo-2024-04-09"),
    ("gpt-4-1106-preview", "openai", "openai", "gpt-4-1106-preview"),
    ("gpt-4", "openai", "openai", "gpt-4"),
    ("gpt-4-0314", "openai", "openai", "gpt-4-0314"),
    ("gpt-4-32k", "openai", "openai", "gpt-4-32k"),
    ("gpt-3.5-turbo", "openai", "openai", "gpt-3.5-turbo"),
    ("gpt-3.5-turbo-0125", "openai", "openai", "gpt-3.5-turbo-0125"),
    ("gpt-3.5-turbo-1106", "openai", "openai", "gpt-3.5-turbo-1106"),
    ("gpt-3.5-turbo-0301", "openai", "openai", "gpt-3.5-turbo-0301"),
    ("gpt-3.5-turbo-instruct", "openai", "openai", "gpt-3.5-turbo-instruct"),
    ("text-davinci-003", "openai", "openai", "text-davinci-003"),
    ("davinci-002", "openai", "openai", "davinci-002"),
    ("gpt-4.1", "openai", "openai", "gpt-4.1"),
    ("gpt-4.1-2025-04-14", "openai", "openai", "gpt-4.1"),
    ("gpt-4.1-mini-2025-04-14", "openai", "openai", "gpt-4.1-mini"),
    ("gpt-4.1-nano", "openai", "openai", "gpt-4.1-nano"),
    ("gpt-4.5-preview", "openai", "openai", "gpt-4.5-preview"),
    ("o1", "openai", "openai", "o1"),
    ("o1-2024-12-17", "openai", "openai", "o1"),
    ("o1-preview-2024-09-12", "openai", "openai", "o1-preview"),
    ("o1-mini", "openai", "openai", "o1-mini"),
    ("o1-pro", "openai", "openai", "o1-pro"),
    ("o3", "openai", "openai", "o3"),
    ("o3-2025-04-16", "openai", "openai", "o3"),
    ("o3-mini", "openai", "openai", "o3-mini"),
    ("o3-mini-2025-01-31", "openai", "openai", "o3-mini"),
    ("o3-pro", "openai", "openai", "o3-pro"),
    ("o4-mini", "openai", "openai", "o4-mini"),
    ("o4-mini-2025-04-16", "openai", "openai", "o4-mini"),
    ("gpt-5", "openai", "openai", "gpt-5"),
    ("gpt-5-2025-08-07", "openai", "openai", "gpt-5"),
    ("gpt-5-mini", "openai", "openai", "gpt-5-mini"),
    ("gpt-5-nano-2025-08-07", "openai", "openai", "gpt-5-nano"),
    ("gpt-5-chat-latest", "openai", "openai", "gpt-5-chat"),
    ("gpt-5.1", "openai", "openai", "gpt-5.1"),
    ("gpt-5.4", "openai", "openai", "gpt-5.4"),
    ("gpt-5.4-2026-03-05", "openai", "openai", "gpt-5.4"),
    ("gpt-realtime", "openai", "openai", "gpt-realtime"),
    ("gpt-4o-realtime-preview", "openai", "openai", "gpt-4o-realtime-preview"),
    ("gpt-4o-realtime-preview-2024-10-01", "openai", "openai", "gpt-4o-realtime-preview-2024-10-01"),
    ("gpt-4o-audio-preview-2024-12-17", "openai", "openai", "gpt-4o-audio-preview-2024-12-17"),
    ("gpt-4o-audio-preview-2024-10-01", "openai", "openai", "gpt-4o-audio-preview-2024-10-01"),
    ("gpt-4o-transcribe", "openai", "openai", "gpt-4o-transcribe"),
    ("gpt-4o-mini-transcribe", "openai", "openai", "gpt-4o-mini-transcribe"),
    ("gpt-4o-mini-tts", "openai", "openai", "gpt-4o-mini-tts"),
    ("gpt-4o-search-preview", "openai", "openai", "gpt-4o-search-preview"),
    ("computer-use-preview-2025-03-11", "openai", "openai", "computer-use-preview"),
    ("text-embedding-3-small", "openai", "openai", "text-embedding-3-small"),
    ("text-embedding-3-large", "openai", "openai", "text-embedding-3-large"),
    ("text-embedding-ada-002", "openai", "openai", "text-embedding-ada-002"),
    ("text-embedding-ada-002-v2", "openai", "openai", "text-embedding-ada-002"),
    ("omni-moderation-latest", "openai", "openai", "omni-moderation-latest"),
    // ---- OpenAI fine-tunes
    ("ft:gpt-4o-mini-2024-07-18:my-org::abc123", "openai", "openai", "ft:gpt-4o-mini-2024-07-18"),
    ("ft:gpt-4o-mini-2024-07-18:acme:support-bot:9xYzAbC", "openai", "openai", "ft:gpt-4o-mini-2024-07-18"),
    ("ft:gpt-4o-2024-08-06:acme::B2c3", "openai", "openai", "ft:gpt-4o-2024-08-06"),
    ("ft:gpt-4.1-2025-04-14:org:name:id", "openai", "openai", "ft:gpt-4.1-2025-04-14"),
    ("ft:gpt-4.1-mini-2025-04-14:org::id", "openai", "openai", "ft:gpt-4.1-mini-2025-04-14"),
    ("ft:gpt-4.1-nano-2025-04-14:org::id", "openai", "openai", "ft:gpt-4.1-nano-2025-04-14"),
    ("ft:gpt-3.5-turbo-0125:org::id", "openai", "openai", "ft:gpt-3.5-turbo"),
    ("ft:gpt-3.5-turbo-1106:personal::8abc", "openai", "openai", "ft:gpt-3.5-turbo"),
    ("ft:o4-mini-2025-04-16:org::id", "openai", "openai", "ft:o4-mini-2025-04-16"),
    ("ft:davinci-002:org::id", "openai", "openai", "ft:davinci-002"),
    // ---- Anthropic
    ("claude-sonnet-4-5", "anthropic", "anthropic", "claude-sonnet-4-5"),
    ("claude-sonnet-4-5-20250929", "anthropic", "anthropic", "claude-sonnet-4-5"),
    ("claude-sonnet-4-20250514", "anthropic", "anthropic", "claude-sonnet-4-20250514"),
    ("claude-sonnet-4-0", "anthropic", "anthropic", "claude-sonnet-4-20250514"),
    ("claude-opus-4-20250514", "anthropic", "anthropic", "claude-opus-4-20250514"),
    ("claude-opus-4-0", "anthropic", "anthropic", "claude-opus-4-20250514"),
    ("claude-opus-4-1-20250805", "anthropic", "anthropic", "claude-opus-4-1-20250805"),
    ("claude-opus-4-1", "anthropic", "anthropic", "claude-opus-4-1-20250805"),
    ("claude-opus-4-5-20251101", "anthropic", "anthropic", "claude-opus-4-5"),
    ("claude-haiku-4-5-20251001", "anthropic", "anthropic", "claude-haiku-4-5"),
    ("claude-3-7-sonnet-20250219", "anthropic", "anthropic", "claude-3-7-sonnet-20250219"),
    ("claude-3-7-sonnet-latest", "anthropic", "anthropic", "claude-3-7-sonnet-20250219"),
    ("claude-3-5-sonnet-20241022", "anthropic", "anthropic", "claude-3-5-sonnet-20241022"),
    ("claude-3-5-sonnet-20240620", "anthropic", "anthropic", "claude-3-5-sonnet-20241022"),
    ("claude-3-5-sonnet-latest", "anthropic", "anthropic", "claude-3-5-sonnet-20241022"),
    ("claude-3-5-haiku-20241022", "anthropic", "anthropic", "claude-3-5-haiku-20241022"),
    ("claude-3-5-haiku-latest", "anthropic", "anthropic", "claude-3-5-haiku-20241022"),
    ("claude-3-opus-20240229", "anthropic", "anthropic", "claude-3-opus-20240229"),
    ("claude-3-opus-latest", "anthropic", "anthropic", "claude-3-opus-20240229"),
    ("claude-3-sonnet-20240229", "anthropic", "anthropic", "claude-3-sonnet-20240229"),
    ("claude-3-haiku-20240307", "anthropic", "anthropic", "claude-3-haiku-20240307"),
    ("claude-2.1", "anthropic", "anthropic", "claude-2.1"),
    ("claude-2.0", "anthropic", "anthropic", "claude-2.1"),
    ("claude-instant-1.2", "anthropic", "anthropic", "claude-instant-1.2"),
    ("claude-instant-1", "anthropic", "anthropic", "claude-instant-1.2"),
    ("anthropic/claude-3-5-haiku-20241022", "", "anthropic", "claude-3-5-haiku-20241022"),
    ("claude-sonnet-4-5", "", "anthropic", "claude-sonnet-4-5"),
    // ---- Google Gemini API
    ("gemini-2.5-pro", "gcp.gemini", "google", "gemini-2.5-pro"),
    ("gemini-2.5-pro", "gemini", "google", "gemini-2.5-pro"),
    ("models/gemini-2.5-pro", "gcp.gemini", "google", "gemini-2.5-pro"),
    ("gemini/gemini-2.5-flash", "", "google", "gemini-2.5-flash"),
    ("gemini-2.5-flash", "gcp.gemini", "google", "gemini-2.5-flash"),
    ("gemini-2.5-flash-lite", "gcp.gemini", "google", "gemini-2.5-flash-lite"),
    ("gemini-2.5-flash-preview-04-17", "gcp.gemini", "google", "gemini-2.5-flash-preview-04-17"),
    ("gemini-2.5-flash-preview-05-20", "gcp.gemini", "google", "gemini-2.5-flash-preview-04-17"),
    ("gemini-2.0-flash", "gcp.gemini", "google", "gemini-2.0-flash"),
    ("gemini-2.0-flash-001", "gcp.gemini", "google", "gemini-2.0-flash"),
    ("gemini-2.0-flash-lite", "gcp.gemini", "google", "gemini-2.0-flash-lite"),
    ("gemini-1.5-pro", "gcp.gemini", "google", "gemini-1.5-pro"),
    ("gemini-1.5-pro-002", "gcp.gemini", "google", "gemini-1.5-pro"),
    ("gemini-1.5-pro-latest", "gcp.gemini", "google", "gemini-1.5-pro"),
    ("gemini-1.5-flash-8b", "gcp.gemini", "google", "gemini-1.5-flash-8b"),
    ("models/gemini-1.5-flash-001", "gcp.gemini", "google", "gemini-1.5-flash"),
    ("gemini-1.0-pro", "gcp.gemini", "google", "gemini-1.0-pro"),
    ("gemini-pro", "gcp.gemini", "google", "gemini-1.0-pro"),
    ("gemini-embedding-001", "gcp.gemini", "google", "gemini-embedding-001"),
    ("gemini-3-pro-preview", "gcp.gemini", "google", "gemini-3-pro-preview"),
    // ---- Vertex AI
    ("gemini-2.5-pro", "gcp.vertex_ai", "google-vertex", "gemini-2.5-pro"),
    ("gemini-2.0-flash-001", "gcp.vertex_ai", "google-vertex", "gemini-2.0-flash-001"),
    ("gemini-2.0-flash@001", "gcp.vertex_ai", "google-vertex", "gemini-2.0-flash-001"),
    ("gemini-1.5-pro-002", "gcp.vertex_ai", "google-vertex", "gemini-1.5-pro-002"),
    ("gemini-1.5-flash@002", "vertex_ai", "google-vertex", "gemini-1.5-flash-002"),
    ("models/gemini-2.5-flash", "gcp.vertex_ai", "google-vertex", "gemini-2.5-flash"),
    ("vertex_ai/gemini-2.5-pro", "", "google-vertex", "gemini-2.5-pro"),
    ("text-embedding-005", "gcp.vertex_ai", "google-vertex", "text-embedding-005"),
    ("claude-3-5-sonnet-v2@20241022", "gcp.vertex_ai", "anthropic-vertex", "claude-3-5-sonnet-v2"),
    ("claude-3-5-sonnet@20240620", "anthropic-vertex", "anthropic-vertex", "claude-3-5-sonnet"),
    ("claude-sonnet-4@20250514", "anthropic-vertex", "anthropic-vertex", "claude-sonnet-4"),
    ("claude-opus-4-1@20250805", "anthropic-vertex", "anthropic-vertex", "claude-opus-4-1"),
    ("claude-3-haiku@20240307", "anthropic-vertex", "anthropic-vertex", "claude-3-haiku"),
    // ---- AWS Bedrock
    ("anthropic.claude-3-5-sonnet-20240620-v1:0", "aws.bedrock", "aws-bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
    ("anthropic.claude-3-5-sonnet-20240620-v1", "aws.bedrock", "aws-bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
    ("us.anthropic.claude-3-5-sonnet-20240620-v1:0", "aws.bedrock", "aws-bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
    ("eu.anthropic.claude-3-5-sonnet-20240620-v1:0", "aws.bedrock", "aws-bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
    ("anthropic.claude-3-5-sonnet-20241022-v2:0", "aws.bedrock", "aws-bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
    ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "aws.bedrock", "aws-bedrock", "anthropic.claude-3-7-sonnet-20250219-v1:0"),
    ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws.bedrock", "aws-bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("apac.anthropic.claude-sonnet-4-20250514-v1:0", "aws.bedrock", "aws-bedrock", "anthropic.claude-sonnet-4-20250514-v1:0"),
    ("anthropic.claude-3-haiku-20240307-v1:0", "aws.bedrock", "aws-bedrock", "anthropic.claude-3-haiku-20240307-v1:0"),
    ("anthropic.claude-3-opus-20240229-v1:0", "aws.bedrock", "aws-bedrock", "anthropic.claude-3-opus-20240229-v1:0"),
    ("anthropic.claude-instant-v1", "aws.bedrock", "aws-bedrock", "anthropic.claude-instant-v1"),
    ("anthropic.claude-v2:1", "aws.bedrock", "aws-bedrock", "anthropic.claude-v2:1"),
    ("amazon.nova-pro-v1:0", "aws.bedrock", "aws-bedrock", "amazon.nova-pro-v1:0"),
    ("us.amazon.nova-lite-v1:0", "aws.bedrock", "aws-bedrock", "amazon.nova-lite-v1:0"),
    ("amazon.nova-micro-v1:0", "aws.bedrock", "aws-bedrock", "amazon.nova-micro-v1:0"),
    ("amazon.titan-embed-text-v2:0", "aws.bedrock", "aws-bedrock", "amazon.titan-embed-text-v2:0"),
    ("amazon.titan-text-express-v1", "aws.bedrock", "aws-bedrock", "amazon.titan-text-express-v1"),
    ("meta.llama3-1-70b-instruct-v1:0", "aws.bedrock", "aws-bedrock", "meta.llama3-1-70b-instruct-v1:0"),
    ("us.meta.llama3-2-11b-instruct-v1:0", "aws.bedrock", "aws-bedrock", "meta.llama3-2-11b-instruct-v1:0"),
    ("mistral.mistral-large-2407-v1:0", "aws.bedrock", "aws-bedrock", "mistral.mistral-large-2407-v1:0"),
    ("cohere.embed-english-v3", "aws.bedrock", "aws-bedrock", "cohere.embed-english-v3"),
    ("bedrock/anthropic.claude-3-haiku-20240307-v1:0", "", "aws-bedrock", "anthropic.claude-3-haiku-20240307-v1:0"),
    // ---- Azure OpenAI
    ("gpt-4o", "azure.ai.openai", "azure", "gpt-4o"),
    ("gpt-4o-2024-08-06", "azure.ai.openai", "azure", "gpt-4o"),
    ("gpt-4o-mini", "az.ai.openai", "azure", "gpt-4o-mini"),
    ("azure/gpt-4o", "", "azure", "gpt-4o"),
    ("azure/eu/gpt-4o-2024-08-06", "", "azure", "gpt-4o"),
    ("azure/us/gpt-4o-mini", "", "azure", "gpt-4o-mini"),
    ("gpt-35-turbo", "azure.ai.openai", "azure", "gpt-35-turbo"),
    ("gpt-4.1", "azure.ai.openai", "azure", "gpt-4.1"),
    ("o3-mini", "azure.ai.openai", "azure", "o3-mini"),
    ("text-embedding-3-large", "azure.ai.openai", "azure", "text-embedding-3-large"),
    // ---- Mistral
    ("mistral-large-latest", "mistral_ai", "mistral", "mistral-large-latest"),
    ("mistral-large-2407", "mistral_ai", "mistral", "mistral-large-2407"),
    ("mistral-small-latest", "mistral_ai", "mistral", "mistral-small-latest"),
    ("codestral-latest", "mistral_ai", "mistral", "codestral-latest"),
    ("mistral-embed", "mistral_ai", "mistral", "mistral-embed"),
    ("open-mistral-nemo", "mistral_ai", "mistral", "open-mistral-nemo"),
    ("mistral/mistral-medium-latest", "", "mistral", "mistral-medium"),
    // ---- Cohere
    ("command-r-08-2024", "cohere", "cohere", "command-r-08-2024"),
    ("command-r-plus", "cohere", "cohere", "command-r-plus"),
    ("command-a-03-2025", "cohere", "cohere", "command-a"),
    ("embed-english-v3.0", "cohere", "cohere", "embed-english-v3.0"),
    ("embed-v4.0", "cohere", "cohere", "embed-v4.0"),
    // ---- DeepSeek
    ("deepseek-chat", "deepseek", "deepseek", "deepseek-chat"),
    ("deepseek-reasoner", "deepseek", "deepseek", "deepseek-reasoner"),
    ("deepseek/deepseek-chat", "", "deepseek", "deepseek-chat"),
    // ---- xAI
    ("grok-3", "x_ai", "xai", "grok-3"),
    ("grok-3-mini", "x_ai", "xai", "grok-3-mini"),
    ("grok-4", "x_ai", "xai", "grok-4-0709"),
    ("grok-4-0709", "xai", "xai", "grok-4-0709"),
    ("grok-2-1212", "xai", "xai", "grok-2-1212"),
    ("xai/grok-code-fast-1", "", "xai", "grok-code-fast-1"),
    // ---- Groq
    ("llama-3.3-70b-versatile", "groq", "groq", "llama-3.3-70b-versatile"),
    ("llama-3.1-8b-instant", "groq", "groq", "llama-3.1-8b-instant"),
    ("openai/gpt-oss-120b", "groq", "groq", "openai/gpt-oss-120b"),
    ("groq/llama-3.3-70b-versatile", "", "groq", "llama-3.3-70b-versatile"),
    // ---- Together, Fireworks (open-weight hosts)
    ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "together", "together", "meta-llama/llama-3.3-70b-instruct-turbo"),
    ("together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", "", "together", "meta-llama/llama-3.3-70b-instruct-turbo"),
    ("deepseek-ai/DeepSeek-V3", "together_ai", "together", "deepseek-ai/deepseek-v3"),
    ("accounts/fireworks/models/llama-v3p1-8b-instruct", "fireworks", "fireworks", "llama-v3p1-8b-instruct"),
    ("accounts/fireworks/models/deepseek-v3p1", "fireworks", "fireworks", "deepseek-v3p1"),
    ("fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct", "", "fireworks", "llama-v3p1-8b-instruct"),
    ("nomic-ai/nomic-embed-text-v1.5", "fireworks", "fireworks", "nomic-ai/nomic-embed-text-v1.5"),
    // ---- embeddings of other providers
    ("voyage-3.5", "voyageai", "voyageai", "voyage-3.5"),
    ("voyage-3-large", "voyage", "voyageai", "voyage-3-large"),
];

/// Model strings that must not resolve (never a silent zero).
const UNKNOWN: &[&str] = &[
    "my-private-llm",
    "gpt-99",
    "claude-ultra-9",
    "llama-9000b",
    "",
    "   ",
];

#[test]
fn at_least_150_cases() {
    assert!(CASES.len() >= 150, "{} cases", CASES.len());
}

#[test]
fn real_world_model_strings_match_the_expected_entry() {
    let table = PricingTable::builtin();
    let mut failures = Vec::new();
    for &(model, provider, want_provider, want_id) in CASES {
        let hint = (!provider.is_empty()).then_some(provider);
        match table.resolve(model, hint) {
            Some(r) => {
                let m = &table.models()[r.index];
                if &*m.id != want_id || &*m.provider != want_provider {
                    failures.push(format!(
                        "{model} [{provider}]: got {}/{}, want {want_provider}/{want_id}",
                        m.provider, m.id
                    ));
                }
            }
            None => failures.push(format!(
                "{model} [{provider}]: no match, want {want_provider}/{want_id}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} wrong:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn unknown_models_do_not_match() {
    let table = PricingTable::builtin();
    for model in UNKNOWN {
        assert!(table.resolve(model, None).is_none(), "{model:?} matched");
    }
}

#[test]
fn azure_data_zone_names_turn_on_the_uplift() {
    let table = PricingTable::builtin();
    let r = table
        .resolve("azure/eu/gpt-4o-2024-08-06", None)
        .expect("matches");
    assert!(r.data_zone);
    let r = table
        .resolve("gpt-4o-2024-08-06", Some("azure.ai.openai"))
        .expect("matches");
    assert!(!r.data_zone);
}
