//! Loaders for public price data files: genai-prices v2 `data.json` and LiteLLM's
//! `model_prices_and_context_window.json`, converted to Peekr's raw catalog.
//!
//! Both loaders are lossless where the catalog format can say the same thing and skip the rest
//! with a diagnostic each (one line per skipped entry or ignored price key). Figures are carried
//! over as exact decimals: LiteLLM's per-token `2.5e-06` becomes the string `"2.5"` per million
//! by moving the decimal point, never by float arithmetic.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::format::{
    RawCatalog, RawModel, RawNumber, RawPeriod, RawPrices, RawProvider, RawTier, RawVariant,
};

/// Which JSON shape a price file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Peekr's own format (`{"provider": [...], "model": [...]}`).
    Peekr,
    /// genai-prices v2 `data.json` (a list of providers with `models`).
    GenaiPrices,
    /// LiteLLM's `model_prices_and_context_window.json` (an object keyed by model name).
    Litellm,
}

/// Detects the shape of a JSON price file from its content.
#[must_use]
pub fn detect(text: &str) -> Format {
    let t = text.trim_start();
    if t.starts_with('[') {
        Format::GenaiPrices
    } else if t.contains("\"litellm_provider\"") {
        Format::Litellm
    } else {
        Format::Peekr
    }
}

// ===== exact decimal helpers =====

/// Writes the decimal `text` (plain or with an exponent, as JSON numbers are) multiplied by
/// `10^shift` as a plain decimal string, exactly. `"2.5e-06"` with shift 6 gives `"2.5"`.
///
/// # Errors
///
/// A message when `text` is not a non-negative decimal number.
pub fn shift_decimal(text: &str, shift: i32) -> Result<String, String> {
    let t = text.trim();
    let bad = || format!("`{text}` is not a non-negative decimal number");
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i32>().map_err(|_| bad())?),
        None => (t, 0),
    };
    let mantissa = mantissa.strip_prefix('+').unwrap_or(mantissa);
    if mantissa.starts_with('-') {
        return Err(bad());
    }
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let digits = format!("{int}{frac}");
    // value = digits * 10^(point), where point counts from the right end of `digits`.
    let point = exp + shift - i32::try_from(frac.len()).map_err(|_| bad())?;
    let (int_part, frac_part) = if point >= 0 {
        let zeros = usize::try_from(point).map_err(|_| bad())?;
        if zeros > 40 {
            return Err(bad());
        }
        (format!("{digits}{}", "0".repeat(zeros)), String::new())
    } else {
        let n = usize::try_from(-point).map_err(|_| bad())?;
        if n > 60 {
            return Err(bad());
        }
        if digits.len() > n {
            let (a, b) = digits.split_at(digits.len() - n);
            (a.to_owned(), b.to_owned())
        } else {
            (
                "0".to_owned(),
                format!("{}{digits}", "0".repeat(n - digits.len())),
            )
        }
    };
    let int_part = int_part.trim_start_matches('0');
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let frac_part = frac_part.trim_end_matches('0');
    Ok(if frac_part.is_empty() {
        int_part.to_owned()
    } else {
        format!("{int_part}.{frac_part}")
    })
}

/// A JSON number as written (shortest round-trip form for floats).
fn number_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn is_zero(text: &str) -> bool {
    shift_decimal(text, 0).is_ok_and(|s| s == "0")
}

fn num(s: String) -> Option<RawNumber> {
    Some(RawNumber::Str(s))
}

// ===== genai-prices v2 =====

/// Peekr provider ids for genai-prices provider ids that differ.
fn genai_provider_id(id: &str) -> String {
    match id {
        "aws" => "aws-bedrock".to_owned(),
        "x-ai" => "xai".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

/// Collects the `equals` names of a genai-prices match clause; counts the other clause kinds.
fn genai_exact_names(clause: &Value, names: &mut Vec<String>, fuzzy: &mut usize) {
    let Value::Object(map) = clause else { return };
    for (k, v) in map {
        match (k.as_str(), v) {
            ("equals", Value::String(s)) => names.push(s.to_ascii_lowercase()),
            ("or" | "and", Value::Array(items)) => {
                for item in items {
                    genai_exact_names(item, names, fuzzy);
                }
            }
            _ => *fuzzy += 1,
        }
    }
}

/// One genai-prices price value: a number, or `{base, tiers: [{start, price}]}`.
enum GenaiValue {
    Flat(String),
    Tiered(String, Vec<(u64, String)>),
}

fn genai_value(v: &Value) -> Option<GenaiValue> {
    if let Some(t) = number_text(v) {
        return Some(GenaiValue::Flat(t));
    }
    let base = number_text(v.get("base")?)?;
    let mut tiers = Vec::new();
    for t in v.get("tiers")?.as_array()? {
        tiers.push((t.get("start")?.as_u64()?, number_text(t.get("price")?)?));
    }
    Some(GenaiValue::Tiered(base, tiers))
}

/// Sets one price key on a [`RawPrices`].
fn set_price(p: &mut RawPrices, key: &str, value: String) {
    let slot = match key {
        "input" => &mut p.input,
        "cache_read" => &mut p.cache_read,
        "cache_write" => &mut p.cache_write,
        "cache_write_1h" => &mut p.cache_write_1h,
        "output" => &mut p.output,
        "reasoning" => &mut p.reasoning,
        "audio_input" => &mut p.audio_input,
        "audio_output" => &mut p.audio_output,
        "per_request" => &mut p.per_request,
        "per_web_search" => &mut p.per_web_search,
        _ => return,
    };
    *slot = num(value);
}

/// genai-prices unit → (Peekr key, decimal shift to Peekr's unit).
fn genai_unit(key: &str) -> Option<(&'static str, i32)> {
    Some(match key {
        "input_mtok" => ("input", 0),
        "cache_read_mtok" => ("cache_read", 0),
        "cache_write_mtok" => ("cache_write", 0),
        "cache_write_1h_mtok" => ("cache_write_1h", 0),
        "output_mtok" => ("output", 0),
        "output_reasoning_mtok" => ("reasoning", 0),
        "input_audio_mtok" => ("audio_input", 0),
        "output_audio_mtok" => ("audio_output", 0),
        // per thousand → per one
        "requests_kcount" => ("per_request", -3),
        "web_searches_kcount" => ("per_web_search", -3),
        _ => return None,
    })
}

/// Converts one genai-prices `prices` object into a period. Returns the keys it ignored.
fn genai_period(
    prices: &Map<String, Value>,
    from: Option<String>,
) -> Result<(RawPeriod, Vec<String>), String> {
    let mut period = RawPeriod {
        from,
        ..RawPeriod::default()
    };
    let mut tiers: BTreeMap<u64, RawPrices> = BTreeMap::new();
    let mut ignored = Vec::new();
    for (key, v) in prices {
        let Some((peekr, shift)) = genai_unit(key) else {
            let nonzero = number_text(v).is_none_or(|t| !is_zero(&t));
            if nonzero {
                ignored.push(key.clone());
            }
            continue;
        };
        match genai_value(v)
            .ok_or_else(|| format!("price `{key}` is not a number or tiered price"))?
        {
            GenaiValue::Flat(t) => set_price(&mut period.prices, peekr, shift_decimal(&t, shift)?),
            GenaiValue::Tiered(base, ts) => {
                set_price(&mut period.prices, peekr, shift_decimal(&base, shift)?);
                for (start, price) in ts {
                    set_price(
                        tiers.entry(start).or_default(),
                        peekr,
                        shift_decimal(&price, shift)?,
                    );
                }
            }
        }
    }
    // genai-prices tiers are cliffs on total input tokens with `>` start (TieredPrices docs).
    period.tier = tiers
        .into_iter()
        .map(|(above, prices)| RawTier {
            above,
            inclusive: false,
            prices,
            ..RawTier::default()
        })
        .collect();
    Ok((period, ignored))
}

/// Converts genai-prices v2 `data.json` to a raw catalog plus diagnostics for skipped entries.
///
/// Model ids and their exact-name (`equals`) match rules become ids and aliases; prefix,
/// substring and regex match rules cannot be carried over (the catalog matches names, with
/// snapshot-suffix fallback) and are reported once per provider. Date-constrained prices
/// (`constraint.start_date`) become the price history; time-of-day constraints cannot be
/// represented and skip the model.
///
/// # Errors
///
/// A message when the text is not JSON of the expected shape.
pub fn raw_from_genai_prices_json(text: &str) -> Result<(RawCatalog, Vec<String>), String> {
    let root: Value = serde_json::from_str(text).map_err(|e| format!("line {}: {e}", e.line()))?;
    let providers = root
        .as_array()
        .ok_or_else(|| "genai-prices data.json must be a list of providers".to_owned())?;
    let mut raw = RawCatalog::default();
    let mut diags = Vec::new();
    for p in providers {
        let pid_raw = p
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| "a provider has no `id`".to_owned())?;
        let pid = genai_provider_id(pid_raw);
        let mut aliases = Vec::new();
        if pid != pid_raw {
            aliases.push(pid_raw.to_ascii_lowercase());
        }
        raw.provider.push(RawProvider {
            id: pid.clone(),
            name: p.get("name").and_then(Value::as_str).map(str::to_owned),
            aliases,
        });
        let mut fuzzy_models = 0usize;
        for m in p
            .get("models")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
        {
            let Some(id) = m.get("id").and_then(Value::as_str) else {
                diags.push(format!("{pid_raw}: a model has no `id`; skipped"));
                continue;
            };
            match genai_model(&pid, id, m) {
                Ok((model, fuzzy, ignored)) => {
                    if fuzzy > 0 {
                        fuzzy_models += 1;
                    }
                    if !ignored.is_empty() {
                        diags.push(format!(
                            "{pid_raw}/{id}: price keys not supported, ignored: {}",
                            ignored.join(", ")
                        ));
                    }
                    raw.model.push(model);
                }
                Err(why) => diags.push(format!("{pid_raw}/{id}: {why}; skipped")),
            }
        }
        if fuzzy_models > 0 {
            diags.push(format!(
                "{pid_raw}: {fuzzy_models} models also match by prefix/substring/regex rules; only their ids and exact names are kept"
            ));
        }
    }
    Ok((raw, diags))
}

fn genai_model(pid: &str, id: &str, m: &Value) -> Result<(RawModel, usize, Vec<String>), String> {
    let mut names = Vec::new();
    let mut fuzzy = 0;
    if let Some(clause) = m.get("match") {
        genai_exact_names(clause, &mut names, &mut fuzzy);
    }
    let id_lower = id.to_ascii_lowercase();
    let mut aliases: Vec<String> = Vec::new();
    for n in names {
        if n != id_lower && !aliases.contains(&n) {
            aliases.push(n);
        }
    }
    let entries: Vec<(Option<String>, &Map<String, Value>)> = match m.get("prices") {
        Some(Value::Object(prices)) => vec![(None, prices)],
        Some(Value::Array(list)) => {
            let mut out = Vec::new();
            for e in list {
                let prices = e
                    .get("prices")
                    .and_then(Value::as_object)
                    .ok_or_else(|| "a conditional price has no `prices`".to_owned())?;
                let from = match e.get("constraint") {
                    None | Some(Value::Null) => None,
                    Some(Value::Object(c)) => {
                        if let Some(k) = c.keys().find(|k| k.as_str() != "start_date") {
                            return Err(format!(
                                "price constraint `{k}` (time-of-day or other) cannot be represented"
                            ));
                        }
                        c.get("start_date")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    }
                    Some(_) => return Err("a price constraint is not an object".to_owned()),
                };
                out.push((from, prices));
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        }
        _ => return Err("no prices".to_owned()),
    };
    let mut periods = Vec::new();
    let mut ignored = Vec::new();
    for (from, prices) in entries {
        let (mut period, ign) = genai_period(prices, from)?;
        for k in ign {
            if !ignored.contains(&k) {
                ignored.push(k);
            }
        }
        if period.prices.input.is_none() && period.prices.output.is_none() {
            return Err("no input or output token price".to_owned());
        }
        let embedding = period.prices.output.is_none();
        if period.prices.input.is_none() {
            return Err("no input token price".to_owned());
        }
        if embedding {
            period.prices.output = num("0".to_owned());
        }
        periods.push(period);
    }
    let kind = if periods
        .iter()
        .all(|p| p.prices.output == num("0".to_owned()))
        && id_lower.contains("embed")
    {
        Some("embedding".to_owned())
    } else {
        None
    };
    let source = m
        .get("price_comments")
        .and_then(Value::as_str)
        .and_then(|c| c.split_whitespace().find(|w| w.starts_with("https://")))
        .map(|u| u.trim_end_matches([',', '.', ')']).to_owned())
        .or_else(|| Some("genai-prices data.json".to_owned()));
    Ok((
        RawModel {
            id: id_lower,
            provider: pid.to_owned(),
            aliases,
            kind,
            source,
            checked: m
                .get("prices_checked")
                .and_then(Value::as_str)
                .map(str::to_owned),
            retired: m
                .get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            data_zone_multiplier: None,
            price: periods,
        },
        fuzzy,
        ignored,
    ))
}

// ===== LiteLLM =====

/// Peekr provider id for a `litellm_provider` value.
fn litellm_provider_id(p: &str) -> String {
    match p {
        "openai" | "text-completion-openai" => "openai",
        "anthropic" => "anthropic",
        "gemini" => "google",
        "vertex_ai"
        | "vertex_ai-language-models"
        | "vertex_ai-embedding-models"
        | "vertex_ai-text-models"
        | "vertex_ai-chat-models"
        | "vertex_ai-code-text-models"
        | "vertex_ai-code-chat-models" => "google-vertex",
        "vertex_ai-anthropic_models" => "anthropic-vertex",
        "bedrock" | "bedrock_converse" => "aws-bedrock",
        "azure" | "azure_text" => "azure",
        "cohere" | "cohere_chat" => "cohere",
        "together_ai" => "together",
        "fireworks_ai" | "fireworks_ai-embedding-models" => "fireworks",
        "voyage" => "voyageai",
        other => return other.to_ascii_lowercase(),
    }
    .to_owned()
}

/// Prefixes LiteLLM puts on model keys, stripped to get the provider's own model name.
const LITELLM_PREFIXES: &[&str] = &[
    "fireworks_ai/accounts/fireworks/models/",
    "fireworks_ai/",
    "together_ai/",
    "vertex_ai/",
    "gemini/",
    "azure/",
    "mistral/",
    "xai/",
    "groq/",
    "deepseek/",
    "cohere/",
    "voyage/",
    "perplexity/",
    "cerebras/",
    "openai/",
    "anthropic/",
    "bedrock/",
];

/// LiteLLM per-token (or per-unit) keys → Peekr keys.
const LITELLM_KEYS: &[(&str, &str)] = &[
    ("input_cost_per_token", "input"),
    ("cache_read_input_token_cost", "cache_read"),
    ("cache_creation_input_token_cost", "cache_write"),
    (
        "cache_creation_input_token_cost_above_1hr",
        "cache_write_1h",
    ),
    ("output_cost_per_token", "output"),
    ("output_cost_per_reasoning_token", "reasoning"),
    ("input_cost_per_audio_token", "audio_input"),
    ("output_cost_per_audio_token", "audio_output"),
];

fn litellm_prices(v: &Map<String, Value>, suffix: &str) -> Result<RawPrices, String> {
    let mut p = RawPrices::default();
    for (lk, key) in LITELLM_KEYS {
        if let Some(t) = v.get(&format!("{lk}{suffix}")).and_then(number_text) {
            set_price(&mut p, key, shift_decimal(&t, 6)?);
        }
    }
    Ok(p)
}

fn prices_empty(p: &RawPrices) -> bool {
    p.input.is_none()
        && p.cache_read.is_none()
        && p.cache_write.is_none()
        && p.cache_write_1h.is_none()
        && p.output.is_none()
        && p.reasoning.is_none()
        && p.audio_input.is_none()
        && p.audio_output.is_none()
}

/// Is `key` one the LiteLLM loader carries over (so not worth a diagnostic)?
fn litellm_known_key(key: &str) -> bool {
    let base = key
        .strip_suffix("_batches")
        .or_else(|| key.strip_suffix("_flex"))
        .or_else(|| key.strip_suffix("_priority"))
        .unwrap_or(key);
    LITELLM_KEYS.iter().any(|(k, _)| *k == base)
        || tier_key(key).is_some()
        || matches!(
            key,
            "search_context_cost_per_query" | "input_cost_per_request"
        )
}

/// `<litellm key>_above_<N>k_tokens` (no variant suffix) → (key, N*1000).
fn tier_key(key: &str) -> Option<(&'static str, u64)> {
    let (head, tail) = key.split_once("_above_")?;
    let n = tail.strip_suffix("k_tokens")?;
    let n: u64 = n.parse().ok()?;
    let (_, peekr) = LITELLM_KEYS.iter().find(|(k, _)| *k == head)?;
    Some((peekr, n * 1000))
}

/// Converts LiteLLM's `model_prices_and_context_window.json` to a raw catalog plus diagnostics.
///
/// Each key becomes a model of the provider named by `litellm_provider`, with LiteLLM's
/// routing prefix (`gemini/`, `azure/`, `fireworks_ai/accounts/fireworks/models/` …) removed.
/// Per-token costs become per-million prices by exact decimal shifting; `_above_Nk_tokens`
/// keys become tiers (`>` N×1000), `_batches`/`_flex`/`_priority` keys the variants,
/// `search_context_cost_per_query` (medium) the per-search fee. Entries priced per image,
/// second or character, and region- or commitment-specific keys (`azure/eu/…`,
/// `bedrock/us-east-1/…`), are skipped with a diagnostic.
///
/// # Errors
///
/// A message when the text is not a JSON object.
pub fn raw_from_litellm_json(text: &str) -> Result<(RawCatalog, Vec<String>), String> {
    let root: Value = serde_json::from_str(text).map_err(|e| format!("line {}: {e}", e.line()))?;
    let entries = root.as_object().ok_or_else(|| {
        "LiteLLM model_prices_and_context_window.json must be an object".to_owned()
    })?;
    let mut raw = RawCatalog::default();
    let mut diags = Vec::new();
    let mut seen_providers: Vec<String> = Vec::new();
    let mut seen_models: std::collections::HashSet<(String, String)> =
        std::collections::HashSet::new();
    for (key, v) in entries {
        if key == "sample_spec" {
            continue;
        }
        let Some(v) = v.as_object() else {
            diags.push(format!("{key}: not an object; skipped"));
            continue;
        };
        let Some(lp) = v.get("litellm_provider").and_then(Value::as_str) else {
            diags.push(format!("{key}: no litellm_provider; skipped"));
            continue;
        };
        let provider = litellm_provider_id(lp);
        let mut name = key.as_str();
        for prefix in LITELLM_PREFIXES {
            if let Some(rest) = name.strip_prefix(prefix) {
                name = rest;
                break;
            }
        }
        let id = name.to_ascii_lowercase();
        if matches!(
            provider.as_str(),
            "azure" | "aws-bedrock" | "google-vertex" | "anthropic-vertex"
        ) && id.contains('/')
        {
            diags.push(format!(
                "{key}: region- or commitment-specific entry; skipped"
            ));
            continue;
        }
        match litellm_model(&provider, &id, v) {
            Ok((model, ignored)) => {
                if !seen_models.insert((provider.clone(), id.clone())) {
                    diags.push(format!("{key}: duplicate of `{id}` ({provider}); skipped"));
                    continue;
                }
                if !ignored.is_empty() {
                    diags.push(format!(
                        "{key}: price keys not supported, ignored: {}",
                        ignored.join(", ")
                    ));
                }
                if !seen_providers.contains(&provider) {
                    seen_providers.push(provider.clone());
                    raw.provider.push(RawProvider {
                        id: provider.clone(),
                        name: None,
                        aliases: if provider == lp {
                            Vec::new()
                        } else {
                            vec![lp.to_ascii_lowercase()]
                        },
                    });
                }
                raw.model.push(model);
            }
            Err(why) => diags.push(format!("{key}: {why}; skipped")),
        }
    }
    Ok((raw, diags))
}

fn litellm_model(
    provider: &str,
    id: &str,
    v: &Map<String, Value>,
) -> Result<(RawModel, Vec<String>), String> {
    let mode = v.get("mode").and_then(Value::as_str).unwrap_or("chat");
    let mut period = RawPeriod {
        prices: litellm_prices(v, "")?,
        ..RawPeriod::default()
    };
    if period.prices.input.is_none() {
        return Err(format!(
            "no per-token input price (mode `{mode}`, priced per image/second/character)"
        ));
    }
    if period.prices.output.is_none() {
        period.prices.output = num("0".to_owned());
    }
    if let Some(t) = v.get("input_cost_per_request").and_then(number_text) {
        period.prices.per_request = num(shift_decimal(&t, 0)?);
    }
    if let Some(t) = v
        .get("search_context_cost_per_query")
        .and_then(|s| s.get("search_context_size_medium"))
        .and_then(number_text)
        && !is_zero(&t)
    {
        period.prices.per_web_search = num(shift_decimal(&t, 0)?);
    }
    let mut tiers: BTreeMap<u64, RawPrices> = BTreeMap::new();
    let mut ignored = Vec::new();
    for (k, x) in v {
        let Some(t) = number_text(x) else {
            if (k.contains("cost") || k.contains("price")) && k != "search_context_cost_per_query" {
                ignored.push(k.clone());
            }
            continue;
        };
        if let Some((peekr, above)) = tier_key(k) {
            set_price(
                tiers.entry(above).or_default(),
                peekr,
                shift_decimal(&t, 6)?,
            );
        } else if (k.contains("cost") || k.contains("price"))
            && !litellm_known_key(k)
            && !is_zero(&t)
        {
            ignored.push(k.clone());
        }
    }
    // A 1-hour cache write above a threshold: `cache_creation_input_token_cost_above_1hr_above_200k_tokens`.
    for (k, x) in v {
        if let Some(rest) = k.strip_prefix("cache_creation_input_token_cost_above_1hr_above_")
            && let Some(n) = rest
                .strip_suffix("k_tokens")
                .and_then(|n| n.parse::<u64>().ok())
            && let Some(t) = number_text(x)
        {
            set_price(
                tiers.entry(n * 1000).or_default(),
                "cache_write_1h",
                shift_decimal(&t, 6)?,
            );
            ignored.retain(|i| i != k);
        }
    }
    period.tier = tiers
        .into_iter()
        .map(|(above, prices)| RawTier {
            above,
            inclusive: false,
            prices,
            ..RawTier::default()
        })
        .collect();
    for (suffix, slot) in [
        ("_batches", &mut period.batch),
        ("_flex", &mut period.flex),
        ("_priority", &mut period.priority),
    ] {
        let p = litellm_prices(v, suffix)?;
        if !prices_empty(&p) {
            *slot = Some(RawVariant {
                multiplier: None,
                prices: p,
                ..RawVariant::default()
            });
        }
    }
    let kind = match mode {
        "embedding" => Some("embedding"),
        "audio_transcription" | "audio_speech" => Some("audio"),
        "moderation" => Some("moderation"),
        "image_generation" => Some("image"),
        _ => None,
    };
    Ok((
        RawModel {
            id: id.to_owned(),
            provider: provider.to_owned(),
            aliases: Vec::new(),
            kind: kind.map(str::to_owned),
            source: v
                .get("source")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| Some("LiteLLM model_prices_and_context_window.json".to_owned())),
            checked: None,
            retired: false,
            data_zone_multiplier: None,
            price: vec![period],
        },
        ignored,
    ))
}

#[cfg(test)]
mod tests {
    use super::shift_decimal;

    #[test]
    fn per_token_becomes_exact_per_million() {
        assert_eq!(shift_decimal("2.5e-06", 6).unwrap(), "2.5");
        assert_eq!(shift_decimal("2.5e-6", 6).unwrap(), "2.5");
        assert_eq!(shift_decimal("1.25E-7", 6).unwrap(), "0.125");
        assert_eq!(shift_decimal("0.000015", 6).unwrap(), "15");
        assert_eq!(shift_decimal("3e-09", 6).unwrap(), "0.003");
        assert_eq!(shift_decimal("0", 6).unwrap(), "0");
        assert_eq!(shift_decimal("10", -3).unwrap(), "0.01");
        assert_eq!(shift_decimal("35", -3).unwrap(), "0.035");
        assert_eq!(shift_decimal("1.1e-05", 6).unwrap(), "11");
        assert!(shift_decimal("-1", 6).is_err());
        assert!(shift_decimal("abc", 6).is_err());
    }
}
