//! Loaders: Peekr's own format (strict and lossy, with `path:line: message` diagnostics),
//! genai-prices v2 `data.json` and LiteLLM's `model_prices_and_context_window.json`, on real
//! excerpts of both files (`tests/fixtures/`).

use peekr::pricing::external::{self, Format};
use peekr::pricing::format::RawNumber;
use peekr::pricing::{PriceRequest, PricingTable};
use peekr::usage::{ServiceTier, Usage};

pub(crate) const GENAI: &str = include_str!("../fixtures/genai-prices-v2-excerpt.json");
pub(crate) const LITELLM: &str = include_str!("../fixtures/litellm-model-prices-excerpt.json");

fn at(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_second()
}

fn total(
    table: &PricingTable,
    model: &str,
    provider: Option<&str>,
    usage: Usage,
    when: &str,
) -> String {
    let mut req = PriceRequest::new(model, &usage);
    req.provider = provider;
    req.at = at(when);
    table
        .price(&req)
        .unwrap_or_else(|e| panic!("{model}: {e}"))
        .cost
        .total()
        .to_string()
}

fn s(n: &Option<RawNumber>) -> String {
    match n {
        Some(RawNumber::Str(s)) => s.clone(),
        other => format!("{other:?}"),
    }
}

// ---------------------------------------------------------------- detection

#[test]
fn formats_are_detected_from_content() {
    assert_eq!(external::detect(GENAI), Format::GenaiPrices);
    assert_eq!(external::detect(LITELLM), Format::Litellm);
    assert_eq!(external::detect(r#"{"model": []}"#), Format::Peekr);
}

// ---------------------------------------------------------------- genai-prices

#[test]
fn genai_prices_figures_are_carried_exactly() {
    let (raw, diags) = external::raw_from_genai_prices_json(GENAI).expect("parses");
    let find = |p: &str, id: &str| {
        raw.model
            .iter()
            .find(|m| m.provider == p && m.id == id)
            .unwrap_or_else(|| panic!("{p}/{id} missing; diags: {diags:?}"))
    };
    // Provider ids mapped to Peekr's.
    assert!(
        raw.provider
            .iter()
            .any(|p| p.id == "aws-bedrock" && p.aliases == ["aws"])
    );
    assert!(raw.provider.iter().any(|p| p.id == "xai"));
    // o3: a dated history (constraint.start_date).
    let o3 = find("openai", "o3");
    assert_eq!(o3.price.len(), 2);
    assert_eq!(o3.price[0].from, None);
    assert_eq!(s(&o3.price[0].prices.input), "10");
    assert_eq!(o3.price[1].from.as_deref(), Some("2025-06-10"));
    assert_eq!(s(&o3.price[1].prices.input), "2");
    assert_eq!(s(&o3.price[1].prices.output), "8");
    assert!(o3.aliases.contains(&"o3-2025-04-16".to_owned()));
    // Tiered prices: base + tier at `start` (cliff, `>`).
    let pro = find("google", "gemini-2.5-pro");
    assert_eq!(s(&pro.price[0].prices.input), "1.25");
    assert_eq!(pro.price[0].tier.len(), 1);
    assert_eq!(pro.price[0].tier[0].above, 200_000);
    assert!(!pro.price[0].tier[0].inclusive);
    assert_eq!(s(&pro.price[0].tier[0].prices.input), "2.5");
    assert_eq!(s(&pro.price[0].tier[0].prices.output), "15");
    // Cache writes, 1-hour writes and web searches per thousand → per search.
    let haiku = find("anthropic", "claude-haiku-4-5");
    assert_eq!(s(&haiku.price[0].prices.cache_write), "1.25");
    assert_eq!(s(&haiku.price[0].prices.cache_write_1h), "2");
    assert_eq!(s(&haiku.price[0].prices.cache_read), "0.1");
    assert_eq!(s(&haiku.price[0].prices.per_web_search), "0.01");
    // Audio prices.
    let rt = find("openai", "gpt-realtime");
    assert_eq!(s(&rt.price[0].prices.audio_input), "32");
    assert_eq!(s(&rt.price[0].prices.audio_output), "64");
    // Embeddings get an explicit zero output price and kind.
    let emb = find("openai", "text-embedding-3-small");
    assert_eq!(s(&emb.price[0].prices.output), "0");
    assert_eq!(emb.kind.as_deref(), Some("embedding"));
}

#[test]
fn genai_prices_skips_what_it_cannot_represent_with_a_diagnostic_each() {
    let (raw, diags) = external::raw_from_genai_prices_json(GENAI).expect("parses");
    // DeepSeek's off-peak prices are time-of-day constraints.
    assert!(
        !raw.model
            .iter()
            .any(|m| m.provider == "deepseek" && m.id == "deepseek-chat")
    );
    assert!(
        diags.iter().any(
            |d| d.starts_with("deepseek/deepseek-chat: price constraint `end_time`")
                || d.starts_with("deepseek/deepseek-chat: price constraint `start_time`")
        ),
        "{diags:#?}"
    );
    // Image token prices are not in the format: ignored, and said so.
    assert!(
        diags
            .iter()
            .any(|d| d.starts_with("openai/gpt-image-1: price keys not supported, ignored: ")),
        "{diags:#?}"
    );
    // Models with no prices at all are skipped.
    assert!(
        diags
            .iter()
            .any(|d| d == "google/gemma-3: no input or output token price; skipped"),
        "{diags:#?}"
    );
    // Prefix/regex match rules are reported once per provider.
    assert!(
        diags
            .iter()
            .any(|d| d.starts_with("anthropic: ") && d.contains("prefix/substring/regex")),
        "{diags:#?}"
    );
}

#[test]
fn a_genai_prices_file_prices_calls() {
    let table = PricingTable::from_any_str(GENAI, "data.json").expect("loads");
    let u = Usage {
        input: 1000,
        output: 2000,
        ..Usage::default()
    };
    // o3 before and after the 2025-06-10 cut.
    assert_eq!(
        total(&table, "o3", Some("openai"), u, "2025-05-01T00:00:00Z"),
        "0.090000000"
    );
    assert_eq!(
        total(&table, "o3", Some("openai"), u, "2025-07-01T00:00:00Z"),
        "0.018000000"
    );
    // Gemini 2.5 Pro tier, one token above.
    let big = Usage {
        input: 200_001,
        output: 1000,
        ..Usage::default()
    };
    assert_eq!(
        total(
            &table,
            "gemini-2.5-pro",
            Some("google"),
            big,
            "2026-01-01T00:00:00Z"
        ),
        "0.515002500"
    );
}

// ---------------------------------------------------------------- LiteLLM

#[test]
fn litellm_per_token_costs_become_exact_per_million_prices() {
    let (raw, diags) = external::raw_from_litellm_json(LITELLM).expect("parses");
    let find = |p: &str, id: &str| {
        raw.model
            .iter()
            .find(|m| m.provider == p && m.id == id)
            .unwrap_or_else(|| panic!("{p}/{id} missing; diags: {diags:#?}"))
    };
    let g = find("openai", "gpt-4o");
    assert_eq!(s(&g.price[0].prices.input), "2.5");
    assert_eq!(s(&g.price[0].prices.cache_read), "1.25");
    assert_eq!(s(&g.price[0].prices.output), "10");
    let batch = g.price[0].batch.as_ref().expect("batch");
    assert_eq!(s(&batch.prices.input), "1.25");
    assert_eq!(s(&batch.prices.output), "5");
    let prio = g.price[0].priority.as_ref().expect("priority");
    assert_eq!(s(&prio.prices.input), "4.25");
    // o3 flex and web search (medium context) per query.
    let o3 = find("openai", "o3");
    assert_eq!(
        s(&o3.price[0].flex.as_ref().expect("flex").prices.output),
        "4"
    );
    assert_eq!(s(&o3.price[0].prices.per_web_search), "0.01");
    // `gemini/` prefix stripped, provider mapped, `_above_200k_tokens` → tier.
    let pro = find("google", "gemini-2.5-pro");
    assert_eq!(pro.price[0].tier[0].above, 200_000);
    assert_eq!(s(&pro.price[0].tier[0].prices.input), "2.5");
    assert_eq!(s(&pro.price[0].tier[0].prices.cache_read), "0.25");
    // Anthropic cache writes: 5-minute and 1-hour.
    let sonnet = find("anthropic", "claude-sonnet-4-5");
    assert_eq!(s(&sonnet.price[0].prices.cache_write), "3.75");
    assert_eq!(s(&sonnet.price[0].prices.cache_write_1h), "6");
    // Audio.
    let audio = find("openai", "gpt-4o-audio-preview-2024-12-17");
    assert_eq!(s(&audio.price[0].prices.audio_input), "40");
    assert_eq!(s(&audio.price[0].prices.audio_output), "80");
    // Bedrock ids keep their revision; fireworks ids lose the accounts/ path.
    find("aws-bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0");
    find("fireworks", "llama-v3p1-8b-instruct");
    find("together", "meta-llama/llama-3.3-70b-instruct-turbo");
    assert_eq!(
        find("openai", "text-embedding-3-small").kind.as_deref(),
        Some("embedding")
    );
}

#[test]
fn litellm_skips_what_it_cannot_represent_with_a_diagnostic_each() {
    let (raw, diags) = external::raw_from_litellm_json(LITELLM).expect("parses");
    assert!(!raw.model.iter().any(|m| m.id == "sample_spec"));
    assert!(
        diags
            .iter()
            .any(|d| d
                == "azure/eu/gpt-4o-2024-08-06: region- or commitment-specific entry; skipped"),
        "{diags:#?}"
    );
    assert!(
        diags.iter().any(|d| d == "bedrock/*/1-month-commitment/cohere.command-text-v14: region- or commitment-specific entry; skipped"),
        "{diags:#?}"
    );
    assert!(
        diags
            .iter()
            .any(|d| d.starts_with("whisper-1: no per-token input price")),
        "{diags:#?}"
    );
    assert!(
        diags
            .iter()
            .any(|d| d.starts_with("tts-1: no per-token input price")),
        "{diags:#?}"
    );
    // Tier-within-variant keys have no place in the format: ignored, and said so.
    assert!(
        diags.iter().any(|d| d
            .starts_with("gemini/gemini-2.5-pro: price keys not supported, ignored: ")
            && d.contains("input_cost_per_token_above_200k_tokens_priority")),
        "{diags:#?}"
    );
}

#[test]
fn a_litellm_file_prices_calls() {
    let table =
        PricingTable::from_any_str(LITELLM, "model_prices_and_context_window.json").expect("loads");
    let u = Usage {
        input: 1_000_000,
        output: 1_000_000,
        ..Usage::default()
    };
    assert_eq!(
        total(&table, "gpt-4o", Some("openai"), u, "2026-01-01T00:00:00Z"),
        "12.500000000"
    );
    assert_eq!(
        total(
            &table,
            "gemini/gemini-2.5-flash",
            None,
            Usage {
                input: 1000,
                output: 1000,
                ..Usage::default()
            },
            "2026-01-01T00:00:00Z"
        ),
        "0.002800000"
    );
    let usage = Usage {
        input: 1_000_000,
        output: 1_000_000,
        ..Usage::default()
    };
    let mut req = PriceRequest::new("o3", &usage);
    req.service_tier = ServiceTier::Flex;
    assert_eq!(
        table.price(&req).unwrap().cost.total().to_string(),
        "5.000000000"
    );
}

#[test]
fn the_full_upstream_files_load_when_present() {
    // Optional: point PEEKR_LITELLM_JSON / PEEKR_GENAI_JSON at full upstream files to check them.
    for var in ["PEEKR_LITELLM_JSON", "PEEKR_GENAI_JSON"] {
        if let Ok(path) = std::env::var(var) {
            let table = PricingTable::from_path(std::path::Path::new(&path)).expect("loads");
            assert!(
                table.models().len() > 100,
                "{path}: {} models",
                table.models().len()
            );
        }
    }
}

// ---------------------------------------------------------------- Peekr's own format

const GOOD: &str = r#"[[model]]
id = "acme-1"
provider = "acme"
source = "https://acme.example/pricing"
checked = "2026-12-01"

[[model.price]]
input = 1
output = 2
"#;

#[test]
fn strict_parse_reports_path_line_message() {
    let bad_number = r#"[[model]]
id = "acme-1"
provider = "acme"

[[model.price]]
input = "abc"
output = 2
"#;
    let err = PricingTable::from_toml_str(bad_number, "prices/acme.toml").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("prices/acme.toml:2: model `acme-1`: "),
        "{err}"
    );

    let missing_output = "[[model]]\nid = \"x\"\nprovider = \"p\"\n[[model.price]]\ninput = 1\n";
    let err = PricingTable::from_toml_str(missing_output, "o.toml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "o.toml:2: model `x`: price needs both `input` and `output`"
    );

    let unknown_key = "[[model]]\nid = \"x\"\nprovider = \"p\"\n[[model.price]]\ninput = 1\noutput = 1\ncached = 0.5\n";
    let err = PricingTable::from_toml_str(unknown_key, "o.toml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "o.toml:2: model `x`: unknown key `cached` in price"
    );

    let syntax = "[[model]]\nid = \"x\"\nprovider = \n";
    let err = PricingTable::from_toml_str(syntax, "o.toml").unwrap_err();
    assert!(err.to_string().starts_with("o.toml:3: "), "{err}");

    let out_of_order = "[[model]]\nid = \"x\"\nprovider = \"p\"\n[[model.price]]\nfrom = \"2025-06-10\"\ninput = 1\noutput = 1\n[[model.price]]\nfrom = \"2025-01-01\"\ninput = 2\noutput = 2\n";
    let err = PricingTable::from_toml_str(out_of_order, "o.toml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "o.toml:2: model `x`: price periods must be in increasing `from` order"
    );
}

#[test]
fn lossy_parse_keeps_good_entries_and_reports_bad_ones() {
    let text = format!(
        "{GOOD}\n[[model]]\nid = \"broken\"\nprovider = \"acme\"\n[[model.price]]\ninput = -1\noutput = 2\n"
    );
    let (table, diags) = PricingTable::from_toml_str_lossy(&text, "acme.toml");
    assert_eq!(table.models().len(), 1);
    assert_eq!(diags.len(), 1);
    assert_eq!(
        diags[0].to_string(),
        "acme.toml:12: model `broken`: price `-1` is negative"
    );
    assert!(PricingTable::from_toml_str(&text, "acme.toml").is_err());
}
