//! The validated price table: exact integer prices, price history, tiers and variants.

use std::collections::HashMap;
use std::sync::Arc;

use super::PricingError;
use super::format::{RawCatalog, RawModel, RawNumber, RawPeriod, RawPrices, RawVariant};
use super::money::parse_decimal_scaled;

/// Unit prices of one period, tier or variant: nano-USD per million tokens for token prices,
/// nano-USD per unit for `per_request` and `per_web_search`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PriceSet {
    /// Text input.
    pub input: u64,
    /// Cache read.
    pub cache_read: u64,
    /// 5-minute cache write.
    pub cache_write: u64,
    /// 1-hour cache write.
    pub cache_write_1h: u64,
    /// Text output.
    pub output: u64,
    /// Reasoning output.
    pub reasoning: u64,
    /// Audio input.
    pub audio_input: u64,
    /// Audio output.
    pub audio_output: u64,
    /// Per request (nano-USD per request).
    pub per_request: u64,
    /// Per web search (nano-USD per search).
    pub per_web_search: u64,
}

/// A cliff tier: above `threshold` prompt tokens the whole request uses `prices`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// Threshold in prompt tokens (input including cache).
    pub threshold: u64,
    /// `>=` when true, `>` when false.
    pub inclusive: bool,
    /// The prices that apply above the threshold.
    pub prices: PriceSet,
}

impl Tier {
    /// Whether a prompt of `prompt` tokens is in this tier.
    #[must_use]
    pub fn applies(&self, prompt: u64) -> bool {
        if self.inclusive {
            prompt >= self.threshold
        } else {
            prompt > self.threshold
        }
    }
}

/// A batch or service-tier variant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variant {
    /// Multiplier in parts per million (500_000 = ×0.5), applied to every price not set
    /// explicitly.
    pub multiplier_ppm: Option<u64>,
    /// Explicit prices, as partial overrides.
    pub explicit: PartialPrices,
}

/// Prices of which only some are set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartialPrices {
    /// Text input.
    pub input: Option<u64>,
    /// Cache read.
    pub cache_read: Option<u64>,
    /// 5-minute cache write.
    pub cache_write: Option<u64>,
    /// 1-hour cache write.
    pub cache_write_1h: Option<u64>,
    /// Text output.
    pub output: Option<u64>,
    /// Reasoning output.
    pub reasoning: Option<u64>,
    /// Audio input.
    pub audio_input: Option<u64>,
    /// Audio output.
    pub audio_output: Option<u64>,
    /// Per request.
    pub per_request: Option<u64>,
    /// Per web search.
    pub per_web_search: Option<u64>,
}

impl PartialPrices {
    /// Overlays these prices on `base`; unset ones come from `fallback(base value)`.
    fn overlay(&self, base: &PriceSet, fallback: impl Fn(u64) -> u64) -> PriceSet {
        PriceSet {
            input: self.input.unwrap_or_else(|| fallback(base.input)),
            cache_read: self.cache_read.unwrap_or_else(|| fallback(base.cache_read)),
            cache_write: self
                .cache_write
                .unwrap_or_else(|| fallback(base.cache_write)),
            cache_write_1h: self
                .cache_write_1h
                .unwrap_or_else(|| fallback(base.cache_write_1h)),
            output: self.output.unwrap_or_else(|| fallback(base.output)),
            reasoning: self.reasoning.unwrap_or_else(|| fallback(base.reasoning)),
            audio_input: self
                .audio_input
                .unwrap_or_else(|| fallback(base.audio_input)),
            audio_output: self
                .audio_output
                .unwrap_or_else(|| fallback(base.audio_output)),
            per_request: self
                .per_request
                .unwrap_or_else(|| fallback(base.per_request)),
            per_web_search: self
                .per_web_search
                .unwrap_or_else(|| fallback(base.per_web_search)),
        }
    }

    /// Fills a complete price set, defaulting cache and reasoning/audio prices from the text
    /// prices as the format documents.
    fn complete(&self) -> Option<PriceSet> {
        let input = self.input?;
        let output = self.output?;
        let cache_write = self.cache_write.unwrap_or(input);
        Some(PriceSet {
            input,
            cache_read: self.cache_read.unwrap_or(input),
            cache_write,
            cache_write_1h: self.cache_write_1h.unwrap_or(cache_write),
            output,
            reasoning: self.reasoning.unwrap_or(output),
            audio_input: self.audio_input.unwrap_or(input),
            audio_output: self.audio_output.unwrap_or(output),
            per_request: self.per_request.unwrap_or(0),
            per_web_search: self.per_web_search.unwrap_or(0),
        })
    }
}

/// Scales a price by a ppm multiplier, rounding half-up to the nano-USD.
pub(crate) fn scale_ppm(price: u64, ppm: u64) -> u64 {
    let scaled = (u128::from(price) * u128::from(ppm) + 500_000) / 1_000_000;
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// One period of a model's price history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// Valid from this Unix time (seconds); `i64::MIN` for "since forever".
    pub from: i64,
    /// Base prices.
    pub base: PriceSet,
    /// Tiers, ascending by threshold.
    pub tiers: Vec<Tier>,
    /// Batch variant.
    pub batch: Option<Variant>,
    /// Flex variant.
    pub flex: Option<Variant>,
    /// Priority variant.
    pub priority: Option<Variant>,
}

impl Period {
    /// The prices for a prompt of `prompt` tokens: the highest tier that applies, else base.
    #[must_use]
    pub fn for_prompt(&self, prompt: u64) -> &PriceSet {
        self.tiers
            .iter()
            .rev()
            .find(|t| t.applies(prompt))
            .map_or(&self.base, |t| &t.prices)
    }
}

/// What a model is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelKind {
    /// Chat / completion.
    Chat,
    /// Embeddings.
    Embedding,
    /// Audio (speech, transcription, realtime).
    Audio,
    /// Image generation.
    Image,
    /// Moderation.
    Moderation,
}

/// A model with its price history.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPrice {
    /// Canonical id, lower-case.
    pub id: Arc<str>,
    /// Provider id.
    pub provider: Arc<str>,
    /// Other names that resolve to this entry.
    pub aliases: Vec<Arc<str>>,
    /// Kind.
    pub kind: ModelKind,
    /// Where the figures come from.
    pub source: Option<Arc<str>>,
    /// When they were last checked.
    pub checked: Option<Arc<str>>,
    /// Retired model kept for historical spans.
    pub retired: bool,
    /// Data-zone multiplier in ppm (1_100_000 = ×1.1), if the provider charges one.
    pub data_zone_ppm: Option<u64>,
    /// Price periods, oldest first.
    pub periods: Vec<Period>,
    /// Which source (built-in catalog version or file) this entry came from.
    pub origin: Arc<str>,
}

impl ModelPrice {
    /// The period in force at Unix time `at` (seconds): the latest that started on or before
    /// it; a time before the first period uses the first.
    #[must_use]
    pub fn period_at(&self, at: i64) -> &Period {
        let idx = self.periods.partition_point(|p| p.from <= at);
        &self.periods[idx.saturating_sub(1)]
    }
}

/// A deployment alias from an override file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentAlias {
    /// Name on the span, lower-case.
    pub name: Arc<str>,
    /// Catalog model id.
    pub model: Arc<str>,
    /// Provider, when given.
    pub provider: Option<Arc<str>>,
    /// Apply the data-zone multiplier.
    pub data_zone: bool,
}

/// A provider entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// Id.
    pub id: Arc<str>,
    /// Display name.
    pub name: Arc<str>,
    /// Other names spans use.
    pub aliases: Vec<Arc<str>>,
}

// ===== validation =====

/// Finds the 1-based line of the first occurrence of `needle` in `text`, else of the file start.
pub(crate) fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle).map_or(1, |pos| {
        text[..pos].bytes().filter(|&b| b == b'\n').count() + 1
    })
}

pub(crate) fn nanos_per_million(n: &RawNumber) -> Result<u64, String> {
    let text = match n {
        RawNumber::Int(i) if *i < 0 => return Err(format!("price `{i}` is negative")),
        RawNumber::Int(i) => i.to_string(),
        RawNumber::Float(f) if !f.is_finite() || *f < 0.0 => {
            return Err(format!("price `{f}` is not a non-negative number"));
        }
        // `{}` prints the shortest decimal that round-trips, i.e. what the file said.
        RawNumber::Float(f) => format!("{f}"),
        RawNumber::Str(s) => s.clone(),
    };
    let v = parse_decimal_scaled(&text, 9)?;
    u64::try_from(v).map_err(|_| format!("price `{text}` is too large"))
}

fn ppm(n: &RawNumber) -> Result<u64, String> {
    let text = match n {
        RawNumber::Int(i) => i.to_string(),
        RawNumber::Float(f) => format!("{f}"),
        RawNumber::Str(s) => s.clone(),
    };
    let v = parse_decimal_scaled(&text, 6).map_err(|e| format!("multiplier {e}"))?;
    u64::try_from(v).map_err(|_| format!("multiplier `{text}` is too large"))
}

fn partial(raw: &RawPrices) -> Result<PartialPrices, String> {
    let conv = |n: &Option<RawNumber>| n.as_ref().map(nanos_per_million).transpose();
    Ok(PartialPrices {
        input: conv(&raw.input)?,
        cache_read: conv(&raw.cache_read)?,
        cache_write: conv(&raw.cache_write)?,
        cache_write_1h: conv(&raw.cache_write_1h)?,
        output: conv(&raw.output)?,
        reasoning: conv(&raw.reasoning)?,
        audio_input: conv(&raw.audio_input)?,
        audio_output: conv(&raw.audio_output)?,
        per_request: conv(&raw.per_request)?,
        per_web_search: conv(&raw.per_web_search)?,
    })
}

fn reject_unknown(
    unknown: &std::collections::BTreeMap<String, serde_json::Value>,
    what: &str,
) -> Result<(), String> {
    match unknown.keys().next() {
        Some(key) => Err(format!("unknown key `{key}` in {what}")),
        None => Ok(()),
    }
}

/// Parses `YYYY-MM-DD` (UTC midnight) or an RFC 3339 timestamp into Unix seconds.
pub(crate) fn parse_date(text: &str) -> Result<i64, String> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    let date: jiff::civil::Date = text
        .parse()
        .map_err(|_| format!("date `{text}` is not YYYY-MM-DD or RFC 3339"))?;
    jiff::tz::Offset::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .map(|ts| ts.as_second())
        .map_err(|_| format!("date `{text}` is out of range"))
}

fn variant(raw: &Option<RawVariant>, what: &str) -> Result<Option<Variant>, String> {
    let Some(raw) = raw else { return Ok(None) };
    reject_unknown(&raw.unknown, what)?;
    Ok(Some(Variant {
        multiplier_ppm: raw.multiplier.as_ref().map(ppm).transpose()?,
        explicit: partial(&raw.prices)?,
    }))
}

fn period(raw: &RawPeriod, model_kind: ModelKind) -> Result<Period, String> {
    reject_unknown(&raw.unknown, "price")?;
    let from = raw
        .from
        .as_deref()
        .map(parse_date)
        .transpose()?
        .unwrap_or(i64::MIN);
    let mut base_partial = partial(&raw.prices)?;
    if model_kind == ModelKind::Embedding && base_partial.output.is_none() {
        // Embeddings produce no output tokens.
        base_partial.output = Some(0);
    }
    let base = base_partial
        .complete()
        .ok_or_else(|| "price needs both `input` and `output`".to_owned())?;
    let mut tiers = Vec::with_capacity(raw.tier.len());
    for t in &raw.tier {
        reject_unknown(&t.unknown, "tier")?;
        let p = partial(&t.prices)?;
        // A tier's missing cache/reasoning prices follow its own input/output price when it
        // sets them, else the base price.
        let input = p.input.unwrap_or(base.input);
        let output = p.output.unwrap_or(base.output);
        let derived = PartialPrices {
            input: Some(input),
            output: Some(output),
            cache_read: p.cache_read.or(if p.input.is_some() {
                None
            } else {
                Some(base.cache_read)
            }),
            cache_write: p.cache_write.or(if p.input.is_some() {
                None
            } else {
                Some(base.cache_write)
            }),
            cache_write_1h: p
                .cache_write_1h
                .or(if p.input.is_some() || p.cache_write.is_some() {
                    None
                } else {
                    Some(base.cache_write_1h)
                }),
            reasoning: p.reasoning.or(if p.output.is_some() {
                None
            } else {
                Some(base.reasoning)
            }),
            audio_input: p.audio_input.or(Some(base.audio_input)),
            audio_output: p.audio_output.or(Some(base.audio_output)),
            per_request: p.per_request.or(Some(base.per_request)),
            per_web_search: p.per_web_search.or(Some(base.per_web_search)),
        };
        let prices = derived.complete().unwrap_or(base);
        tiers.push(Tier {
            threshold: t.above,
            inclusive: t.inclusive,
            prices,
        });
    }
    tiers.sort_by_key(|t| t.threshold);
    Ok(Period {
        from,
        base,
        tiers,
        batch: variant(&raw.batch, "batch")?,
        flex: variant(&raw.flex, "flex")?,
        priority: variant(&raw.priority, "priority")?,
    })
}

fn kind(raw: Option<&str>) -> Result<ModelKind, String> {
    Ok(match raw.unwrap_or("chat") {
        "chat" | "completion" => ModelKind::Chat,
        "embedding" | "embeddings" => ModelKind::Embedding,
        "audio" => ModelKind::Audio,
        "image" => ModelKind::Image,
        "moderation" => ModelKind::Moderation,
        other => return Err(format!("unknown model kind `{other}`")),
    })
}

/// Validates one raw model.
pub(crate) fn model(raw: &RawModel, origin: &Arc<str>) -> Result<ModelPrice, String> {
    if raw.id.trim().is_empty() {
        return Err("model id is empty".to_owned());
    }
    if raw.provider.trim().is_empty() {
        return Err(format!("model `{}` has no provider", raw.id));
    }
    if raw.price.is_empty() {
        return Err(format!("model `{}` has no [[model.price]]", raw.id));
    }
    let model_kind = kind(raw.kind.as_deref()).map_err(|e| format!("model `{}`: {e}", raw.id))?;
    let mut periods = Vec::with_capacity(raw.price.len());
    for p in &raw.price {
        periods.push(period(p, model_kind).map_err(|e| format!("model `{}`: {e}", raw.id))?);
    }
    if periods.windows(2).any(|w| w[0].from >= w[1].from) {
        return Err(format!(
            "model `{}`: price periods must be in increasing `from` order",
            raw.id
        ));
    }
    if let Some(d) = &raw.checked {
        parse_date(d).map_err(|e| format!("model `{}`: checked {e}", raw.id))?;
    }
    let lower = |s: &str| Arc::<str>::from(s.trim().to_ascii_lowercase());
    Ok(ModelPrice {
        id: lower(&raw.id),
        provider: lower(&raw.provider),
        aliases: raw.aliases.iter().map(|a| lower(a)).collect(),
        kind: model_kind,
        source: raw.source.as_deref().map(Arc::from),
        checked: raw.checked.as_deref().map(Arc::from),
        retired: raw.retired,
        data_zone_ppm: raw
            .data_zone_multiplier
            .as_ref()
            .map(ppm)
            .transpose()
            .map_err(|e| format!("model `{}`: {e}", raw.id))?,
        periods,
        origin: origin.clone(),
    })
}

/// Everything validated from one source.
#[derive(Debug, Clone, Default)]
pub(crate) struct Validated {
    pub(crate) providers: Vec<Provider>,
    pub(crate) models: Vec<ModelPrice>,
    pub(crate) aliases: Vec<DeploymentAlias>,
}

/// Validates a raw catalog. Strict mode stops at the first error; lossy mode skips the bad
/// entry and records a diagnostic. `text` is used only to find line numbers.
pub(crate) fn validate(
    raw: &RawCatalog,
    text: &str,
    origin: &str,
    strict: bool,
) -> Result<(Validated, Vec<PricingError>), PricingError> {
    let origin_arc: Arc<str> = Arc::from(origin);
    let mut out = Validated::default();
    let mut diags = Vec::new();
    let mut seen: HashMap<(String, String), ()> = HashMap::new();
    for p in &raw.provider {
        out.providers.push(Provider {
            id: Arc::from(p.id.to_ascii_lowercase()),
            name: Arc::from(p.name.clone().unwrap_or_else(|| p.id.clone())),
            aliases: p
                .aliases
                .iter()
                .map(|a| Arc::from(a.to_ascii_lowercase()))
                .collect(),
        });
    }
    for m in &raw.model {
        let result = model(m, &origin_arc).and_then(|v| {
            let key = (v.provider.to_string(), v.id.to_string());
            if seen.insert(key, ()).is_some() {
                Err(format!(
                    "model `{}` of provider `{}` is listed twice",
                    v.id, v.provider
                ))
            } else {
                Ok(v)
            }
        });
        match result {
            Ok(v) => out.models.push(v),
            Err(message) => {
                let line = line_of_model(text, &m.id);
                let err = PricingError::Invalid {
                    origin: origin.to_owned(),
                    line,
                    message,
                };
                if strict {
                    return Err(err);
                }
                diags.push(err);
            }
        }
    }
    for a in &raw.alias {
        out.aliases.push(DeploymentAlias {
            name: Arc::from(a.name.trim().to_ascii_lowercase()),
            model: Arc::from(a.model.trim().to_ascii_lowercase()),
            provider: a
                .provider
                .as_deref()
                .map(|p| Arc::from(p.to_ascii_lowercase())),
            data_zone: a.data_zone,
        });
    }
    Ok((out, diags))
}

fn line_of_model(text: &str, id: &str) -> usize {
    // TOML writes `id = "x"`, JSON `"id": "x"`; find whichever the file used.
    for needle in [
        format!("id = \"{id}\""),
        format!("\"id\": \"{id}\""),
        format!("\"{id}\""),
    ] {
        if text.contains(&needle) {
            return line_of(text, &needle);
        }
    }
    1
}

// ===== cost =====

/// The price of one call, before rounding, in femto-USD per component.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FemtoCost {
    pub(crate) input: u128,
    pub(crate) cache_read: u128,
    pub(crate) cache_write: u128,
    pub(crate) output: u128,
    pub(crate) other: u128,
}

/// Computes the cost of `usage` at `prices`. `usage` must be valid (subsets within totals).
pub(crate) fn cost_femto(usage: &crate::usage::Usage, p: &PriceSet) -> FemtoCost {
    let m = |tokens: u64, price: u64| u128::from(tokens) * u128::from(price);
    let text_in = usage
        .input
        .saturating_sub(usage.cache_read)
        .saturating_sub(usage.cache_write)
        .saturating_sub(usage.audio_input);
    let short_writes = usage.cache_write.saturating_sub(usage.cache_write_1h);
    let text_out = usage
        .output
        .saturating_sub(usage.reasoning)
        .saturating_sub(usage.audio_output);
    FemtoCost {
        input: m(text_in, p.input) + m(usage.audio_input, p.audio_input),
        cache_read: m(usage.cache_read, p.cache_read),
        cache_write: m(short_writes, p.cache_write) + m(usage.cache_write_1h, p.cache_write_1h),
        output: m(text_out, p.output)
            + m(usage.reasoning, p.reasoning)
            + m(usage.audio_output, p.audio_output),
        // Per-unit fees are nano-USD per unit: ×1e6 to femto.
        other: (u128::from(p.per_request) + m(usage.web_searches, p.per_web_search)) * 1_000_000,
    }
}

/// Applies a variant to a price set.
pub(crate) fn apply_variant(base: &PriceSet, v: &Variant) -> PriceSet {
    match v.multiplier_ppm {
        Some(ppm) => v.explicit.overlay(base, |x| scale_ppm(x, ppm)),
        None => v.explicit.overlay(base, |x| x),
    }
}
