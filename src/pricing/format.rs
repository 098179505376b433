//! The raw, serde-level shape of a Peekr catalog file (see `docs/pricing-format.md`).
//!
//! Kept apart from the validated [`PricingTable`](super::PricingTable): these types accept what
//! a file may say; validation turns them into exact integer prices or a `path:line: message`.

use serde::Deserialize;

/// A whole catalog file: providers, models and deployment aliases.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalog {
    /// Providers listed in the file.
    #[serde(default)]
    pub provider: Vec<RawProvider>,
    /// Models listed in the file.
    #[serde(default)]
    pub model: Vec<RawModel>,
    /// Deployment-name aliases (Azure deployments and the like).
    #[serde(default)]
    pub alias: Vec<RawAlias>,
}

/// A provider entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    /// Lower-case id, e.g. `openai`.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Other provider names spans use for this provider.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// A model entry with its price history.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// Canonical id, e.g. `gpt-4o`.
    pub id: String,
    /// Provider id.
    pub provider: String,
    /// Other names that resolve to exactly this entry.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// `chat`, `embedding`, `audio`, `image` or `moderation`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Where the figures come from.
    #[serde(default)]
    pub source: Option<String>,
    /// When the figures were last checked (YYYY-MM-DD).
    #[serde(default)]
    pub checked: Option<String>,
    /// Whether the model is retired (kept for historical spans).
    #[serde(default)]
    pub retired: bool,
    /// Multiplier for data-zone / regional deployments.
    #[serde(default)]
    pub data_zone_multiplier: Option<RawNumber>,
    /// Price periods, oldest first.
    #[serde(default)]
    pub price: Vec<RawPeriod>,
}

/// A deployment alias: a name spans report, priced as a catalog model.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlias {
    /// The name on the span.
    pub name: String,
    /// The catalog model id.
    pub model: String,
    /// The provider of that model, when the id is ambiguous.
    #[serde(default)]
    pub provider: Option<String>,
    /// Apply the model's data-zone multiplier.
    #[serde(default)]
    pub data_zone: bool,
}

/// A number written as a TOML/JSON number or a decimal string.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RawNumber {
    /// An integer.
    Int(i64),
    /// A float (kept exact to 9 decimal places).
    Float(f64),
    /// A decimal string such as `"0.075"`.
    Str(String),
}

/// The unit prices one period, tier or variant may set. All optional here; validation fills
/// defaults.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawPrices {
    /// Text input, USD per million tokens.
    #[serde(default)]
    pub input: Option<RawNumber>,
    /// Cache read, USD per million tokens.
    #[serde(default)]
    pub cache_read: Option<RawNumber>,
    /// 5-minute cache write, USD per million tokens.
    #[serde(default)]
    pub cache_write: Option<RawNumber>,
    /// 1-hour cache write, USD per million tokens.
    #[serde(default)]
    pub cache_write_1h: Option<RawNumber>,
    /// Text output, USD per million tokens.
    #[serde(default)]
    pub output: Option<RawNumber>,
    /// Reasoning output, USD per million tokens.
    #[serde(default)]
    pub reasoning: Option<RawNumber>,
    /// Audio input, USD per million tokens.
    #[serde(default)]
    pub audio_input: Option<RawNumber>,
    /// Audio output, USD per million tokens.
    #[serde(default)]
    pub audio_output: Option<RawNumber>,
    /// USD per request.
    #[serde(default)]
    pub per_request: Option<RawNumber>,
    /// USD per web search.
    #[serde(default)]
    pub per_web_search: Option<RawNumber>,
}

/// One price period.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawPeriod {
    /// Start of validity, `YYYY-MM-DD` or RFC 3339; absent means since forever.
    #[serde(default)]
    pub from: Option<String>,
    /// Base prices.
    #[serde(flatten)]
    pub prices: RawPrices,
    /// Keys not understood (flatten rules out `deny_unknown_fields`; validation rejects these).
    #[serde(flatten)]
    pub unknown: std::collections::BTreeMap<String, serde_json::Value>,
    /// Prompt-size tiers.
    #[serde(default)]
    pub tier: Vec<RawTier>,
    /// Batch variant.
    #[serde(default)]
    pub batch: Option<RawVariant>,
    /// Flex service tier variant.
    #[serde(default)]
    pub flex: Option<RawVariant>,
    /// Priority service tier variant.
    #[serde(default)]
    pub priority: Option<RawVariant>,
}

/// A prompt-size tier (a cliff on the whole prompt).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawTier {
    /// Threshold in prompt tokens.
    pub above: u64,
    /// `true` for `>=`, `false` (default) for `>`.
    #[serde(default)]
    pub inclusive: bool,
    /// Prices that replace the base ones above the threshold.
    #[serde(flatten)]
    pub prices: RawPrices,
    /// Keys not understood (flatten rules out `deny_unknown_fields`; validation rejects these).
    #[serde(flatten)]
    pub unknown: std::collections::BTreeMap<String, serde_json::Value>,
}

/// A batch or service-tier variant.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawVariant {
    /// Multiplier applied to every base price not listed explicitly.
    #[serde(default)]
    pub multiplier: Option<RawNumber>,
    /// Explicit prices.
    #[serde(flatten)]
    pub prices: RawPrices,
    /// Keys not understood (flatten rules out `deny_unknown_fields`; validation rejects these).
    #[serde(flatten)]
    pub unknown: std::collections::BTreeMap<String, serde_json::Value>,
}
