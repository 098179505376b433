//! Cross-check of the built-in catalog against the public data files (the excerpts in
//! `tests/fixtures/`; set `PEEKR_LITELLM_JSON` / `PEEKR_GENAI_JSON` to full upstream files to
//! check everything). Every model of the file that the built-in catalog also prices must agree
//! on input, cache-read, cache-write, audio and output prices at the file's date — or be listed below as a
//! deliberate disagreement, with the reason. docs/catalog.md repeats this list.

use std::collections::BTreeSet;

use peekr::pricing::{PricingTable, external};

/// (file, provider, model id in the file, reason) — deliberate disagreements.
const DELIBERATE: &[(&str, &str, &str, &str)] = &[
    (
        "genai",
        "openai",
        "gpt-4o",
        "genai-prices folds gpt-4o-2024-05-13 ($5/$15) into gpt-4o; Peekr keeps its own price and gives the gpt-4o alias its history (5/15 until 2024-10-02)",
    ),
    (
        "genai",
        "openai",
        "o3",
        "genai-prices lists $0.50 cached input for o3's launch period; OpenAI's launch price was $2.50 (the $0.50 came with the 2025-06-10 cut)",
    ),
    (
        "genai",
        "google",
        "gemini-1.5-pro",
        "genai-prices has only the post-2024-10-01 price; Peekr adds the launch price ($3.50/$10.50) as history and lists cached input at $0.3125",
    ),
    (
        "genai",
        "anthropic",
        "claude-sonnet-4-0",
        "Sonnet 4 long-context pricing (>200K: $6/$22.50) is missing from genai-prices",
    ),
    (
        "genai",
        "openai",
        "gpt-5.6-sol",
        "genai-prices (2026-08-21) has $5/$30; the newer LiteLLM file and OpenAI's page list $4/$20",
    ),
    (
        "genai",
        "deepseek",
        "deepseek-v3.2",
        "genai-prices has $0.2288/$0.3432 with no cache discount; Peekr follows the newer LiteLLM file ($0.28 / $0.028 cached / $0.40)",
    ),
    (
        "genai",
        "deepseek",
        "deepseek-v4-flash",
        "genai-prices has the launch price ($0.14/$0.28); Peekr follows the newer LiteLLM file ($0.30/$1.20)",
    ),
    (
        "genai",
        "deepseek",
        "deepseek-v4-pro",
        "genai-prices has the launch price ($0.435/$0.87); Peekr follows the newer LiteLLM file ($1.32/$3.96)",
    ),
    (
        "genai",
        "mistral",
        "mistral-embed",
        "genai-prices puts $0.10 on output tokens of an embedding model; embeddings have no output, Peekr lists output 0",
    ),
    (
        "genai",
        "mistral",
        "mistral-small-latest",
        "genai-prices has Mistral Small 3.1 ($0.10/$0.30); the -latest alias now serves a newer Small at $0.15/$0.60 (LiteLLM)",
    ),
    (
        "litellm",
        "openai",
        "o3",
        "LiteLLM has today's price only; Peekr keeps o3's launch price ($10/$40) before 2025-06-10",
    ),
    (
        "litellm",
        "openai",
        "o3-2025-04-16",
        "as o3: the snapshot was $10/$40 before 2025-06-10",
    ),
    (
        "litellm",
        "deepseek",
        "deepseek-chat",
        "LiteLLM has today's price only; Peekr keeps V3 ($0.27/$1.10) and V3.1 ($0.56/$1.68) as history",
    ),
    (
        "litellm",
        "deepseek",
        "deepseek-reasoner",
        "LiteLLM has today's price only; Peekr keeps R1 ($0.55/$2.19) and V3.1 as history",
    ),
    (
        "litellm",
        "aws-bedrock",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "regional (us./eu./apac.) Bedrock profiles cost 10% over global; the catalog records data_zone_multiplier = 1.1 but the matcher does not yet turn it on for Bedrock region prefixes (engine follow-up)",
    ),
    (
        "litellm",
        "xai",
        "grok-code-fast-1",
        "xAI lists $0.20 in / $0.02 cached / $1.50 out (genai-prices agrees); LiteLLM has $1/$2 with a 200K tier",
    ),
    (
        "litellm",
        "fireworks",
        "llama-v3p1-8b-instruct",
        "Fireworks bills 4B-16B models at $0.20; LiteLLM lists this 8B model at the <4B rate ($0.10)",
    ),
    (
        "litellm",
        "openai",
        "gpt-4o-transcribe",
        "LiteLLM bills audio input at the text rate ($2.50); OpenAI lists audio input at $6",
    ),
    (
        "litellm",
        "anthropic",
        "claude-sonnet-5",
        "LiteLLM keeps the introductory $2/$10; Anthropic's standard $3/$15 applies from 2026-09-01 (genai-prices agrees)",
    ),
    (
        "litellm",
        "anthropic",
        "claude-sonnet-4-5",
        "LiteLLM's anthropic entry lacks the >200K long-context tier that its own Bedrock/Vertex entries and Anthropic list",
    ),
    (
        "litellm",
        "openai",
        "gpt-4o",
        "LiteLLM prices the gpt-4o alias at today's price at all times; Peekr keeps its history ($5/$15 until 2024-10-02) — agrees today",
    ),
];

struct Disagreement {
    provider: String,
    id: String,
    detail: String,
}

fn at(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_second()
}

/// Compares the base prices of every model in `file` with the built-in entry it resolves to.
fn compare(file: &PricingTable, when: i64) -> (usize, Vec<Disagreement>) {
    let builtin = PricingTable::builtin();
    let mut compared = 0;
    let mut out = Vec::new();
    for m in file.models() {
        let Some(r) = builtin.resolve(&m.id, Some(&m.provider)) else {
            continue;
        };
        let b = &builtin.models()[r.index];
        if b.provider != m.provider {
            continue;
        }
        compared += 1;
        let ours = &b.period_at(when).base;
        let theirs = &m.period_at(when).base;
        let mut diffs = Vec::new();
        for (name, a, t) in [
            ("input", ours.input, theirs.input),
            ("cache_read", ours.cache_read, theirs.cache_read),
            ("output", ours.output, theirs.output),
            ("cache_write", ours.cache_write, theirs.cache_write),
            ("audio_input", ours.audio_input, theirs.audio_input),
            ("audio_output", ours.audio_output, theirs.audio_output),
        ] {
            if a != t {
                diffs.push(format!("{name} ours {a} theirs {t} (nano-USD/M)"));
            }
        }
        let tiers_ours = b.period_at(when).tiers.len();
        let tiers_theirs = m.period_at(when).tiers.len();
        if tiers_ours != tiers_theirs {
            diffs.push(format!("tiers ours {tiers_ours} theirs {tiers_theirs}"));
        }
        if b.periods.len() > 1 && m.periods.len() > 1 {
            let (a, t) = (&b.periods[0].base, &m.periods[0].base);
            if a.input != t.input || a.cache_read != t.cache_read || a.output != t.output {
                diffs.push("first period differs".to_owned());
            }
        }
        if b.periods.len() > 1 && m.periods.len() == 1 {
            let first = &b.periods[0].base;
            if first.input != theirs.input || first.output != theirs.output {
                diffs.push("history: file has one price".to_owned());
            }
        }
        if !diffs.is_empty() {
            out.push(Disagreement {
                provider: m.provider.to_string(),
                id: m.id.to_string(),
                detail: diffs.join("; "),
            });
        }
    }
    (compared, out)
}

fn check(file_label: &str, table: &PricingTable, when: &str, min_compared: usize) {
    let (compared, found) = compare(table, at(when));
    assert!(compared >= min_compared, "only {compared} models compared");
    let deliberate: BTreeSet<(&str, &str)> = DELIBERATE
        .iter()
        .filter(|d| d.0 == file_label)
        .map(|d| (d.1, d.2))
        .collect();
    let unexplained: Vec<String> = found
        .iter()
        .filter(|d| !deliberate.contains(&(d.provider.as_str(), d.id.as_str())))
        .map(|d| format!("{}/{}: {}", d.provider, d.id, d.detail))
        .collect();
    assert!(
        unexplained.is_empty(),
        "{file_label}: {} unexplained disagreements of {compared} compared:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
}

#[test]
fn builtin_agrees_with_genai_prices_excerpt() {
    let text = include_str!("../fixtures/genai-prices-v2-excerpt.json");
    let (raw, _) = external::raw_from_genai_prices_json(text).unwrap();
    let (table, _) = PricingTable::from_raw_lossy(&raw, text, "genai");
    check("genai", &table, "2026-08-21T00:00:00Z", 40);
}

#[test]
fn builtin_agrees_with_litellm_excerpt() {
    let text = include_str!("../fixtures/litellm-model-prices-excerpt.json");
    let (raw, _) = external::raw_from_litellm_json(text).unwrap();
    let (table, _) = PricingTable::from_raw_lossy(&raw, text, "litellm");
    check("litellm", &table, "2026-12-01T00:00:00Z", 40);
}

#[test]
fn every_deliberate_disagreement_is_still_real() {
    // A listed disagreement that no longer shows up should be removed from the list (and docs).
    let genai = include_str!("../fixtures/genai-prices-v2-excerpt.json");
    let litellm = include_str!("../fixtures/litellm-model-prices-excerpt.json");
    let (g, _) = external::raw_from_genai_prices_json(genai).unwrap();
    let (l, _) = external::raw_from_litellm_json(litellm).unwrap();
    let (g, _) = PricingTable::from_raw_lossy(&g, genai, "genai");
    let (l, _) = PricingTable::from_raw_lossy(&l, litellm, "litellm");
    let (_, gd) = compare(&g, at("2026-08-21T00:00:00Z"));
    let (_, ld) = compare(&l, at("2026-12-01T00:00:00Z"));
    for (file, provider, id, _) in DELIBERATE {
        let found = if *file == "genai" { &gd } else { &ld };
        let in_fixture = if *file == "genai" {
            g.models()
        } else {
            l.models()
        }
        .iter()
        .any(|m| &*m.provider == *provider && &*m.id == *id);
        if in_fixture {
            assert!(
                found.iter().any(|d| d.provider == *provider && d.id == *id),
                "{file} {provider}/{id} is listed as a disagreement but agrees"
            );
        }
    }
}

#[test]
fn full_upstream_files_when_given() {
    // Report-only over the full files: prints every disagreement for review.
    for (var, label, when) in [
        ("PEEKR_GENAI_JSON", "genai", "2026-08-21T00:00:00Z"),
        ("PEEKR_LITELLM_JSON", "litellm", "2026-12-01T00:00:00Z"),
    ] {
        let Ok(path) = std::env::var(var) else {
            continue;
        };
        let table = PricingTable::from_path(std::path::Path::new(&path)).expect("loads");
        let (compared, found) = compare(&table, at(when));
        eprintln!("{label}: {compared} compared, {} disagree", found.len());
        for d in found {
            eprintln!("  {}/{}: {}", d.provider, d.id, d.detail);
        }
    }
}
