//! Prices and exact cost arithmetic.
//!
//! A [`PricingTable`] is a catalog of models, each with a dated price history, prompt-size
//! tiers and batch / service-tier variants (format: `docs/pricing-format.md`). It is built from
//! layered sources, later ones overriding earlier ones per `(provider, model id)`:
//!
//! 1. the built-in catalog compiled into Peekr ([`PricingTable::builtin`]);
//! 2. data files the user points at (Peekr's format, genai-prices `data.json`, LiteLLM's
//!    `model_prices_and_context_window.json`);
//! 3. explicit overrides (custom, fine-tuned or negotiated prices, deployment aliases).
//!
//! Costs are exact: prices are integer nano-USD per million tokens, products are integer
//! femto-USD, and each component is rounded once to nano-USD ([`Nanos`]).
//!
//! ```
//! use peekr::pricing::{PriceRequest, PricingTable};
//! use peekr::usage::Usage;
//!
//! let table = PricingTable::from_toml_str(r#"
//!     [[model]]
//!     id = "my-model"
//!     provider = "acme"
//!     [[model.price]]
//!     input = 2.5
//!     output = 10
//! "#, "inline").unwrap();
//! let usage = Usage { input: 1_000, output: 500, ..Usage::default() };
//! let priced = table.price(&PriceRequest::new("my-model", &usage)).unwrap();
//! assert_eq!(priced.cost.total().to_string(), "0.007500000");
//! ```

pub mod format;
mod matcher;
mod money;
mod table;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

pub use money::Nanos;
pub use table::{
    DeploymentAlias, ModelKind, ModelPrice, PartialPrices, Period, PriceSet, Provider, Tier,
    Variant,
};

use crate::usage::{ServiceTier, Usage, UsageError};
use format::RawCatalog;

/// The label of the built-in catalog, reported as `peekr.pricing.source`.
pub const BUILTIN_SOURCE: &str = concat!("builtin:", env!("CARGO_PKG_VERSION"));

/// Most distinct model strings whose resolution is cached per table.
pub const RESOLUTION_CACHE_CAPACITY: usize = 4096;

/// Errors from loading a price source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// The file is not valid TOML / JSON of the expected shape.
    #[error("{origin}:{line}: {message}")]
    Syntax {
        /// File path or label.
        origin: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// An entry is well-formed but invalid (negative price, missing output price, …).
    #[error("{origin}:{line}: {message}")]
    Invalid {
        /// File path or label.
        origin: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file could not be read.
    #[error("{origin}: cannot read price file: {message}")]
    Io {
        /// File path.
        origin: String,
        /// The I/O error.
        message: String,
    },
}

/// Why a call could not be priced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    /// No catalog entry matches the model.
    #[error("unknown model `{model}`")]
    UnknownModel {
        /// The model string that was looked up.
        model: String,
    },
    /// The usage is inconsistent.
    #[error("invalid usage: {0}")]
    InvalidUsage(#[from] UsageError),
}

/// Cost of one call, per component, exact to the nano-USD.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CostBreakdown {
    /// Uncached input (text and audio).
    pub input: Nanos,
    /// Cache reads.
    pub cache_read: Nanos,
    /// Cache writes (5-minute and 1-hour).
    pub cache_write: Nanos,
    /// Output (text, reasoning, audio).
    pub output: Nanos,
    /// Per-request and per-search fees.
    pub other: Nanos,
}

impl CostBreakdown {
    /// The total: the sum of the (already rounded) components.
    #[must_use]
    pub fn total(&self) -> Nanos {
        [
            self.input,
            self.cache_read,
            self.cache_write,
            self.output,
            self.other,
        ]
        .into_iter()
        .sum()
    }
}

/// A request to price one call.
#[derive(Debug, Clone, Copy)]
pub struct PriceRequest<'a> {
    /// The model to price (usually the response model).
    pub model: &'a str,
    /// The request model, tried when `model` is a snapshot the catalog does not know.
    pub fallback_model: Option<&'a str>,
    /// The provider reported by the span, if any.
    pub provider: Option<&'a str>,
    /// Token usage.
    pub usage: &'a Usage,
    /// When the call ended, Unix seconds; prices in force then apply.
    pub at: i64,
    /// Service tier.
    pub service_tier: ServiceTier,
    /// Batch API.
    pub batch: bool,
}

impl<'a> PriceRequest<'a> {
    /// A request for `model` with `usage`, at the current time, standard tier.
    #[must_use]
    pub fn new(model: &'a str, usage: &'a Usage) -> Self {
        PriceRequest {
            model,
            fallback_model: None,
            provider: None,
            usage,
            at: jiff::Timestamp::now().as_second(),
            service_tier: ServiceTier::Standard,
            batch: false,
        }
    }
}

/// A priced call.
#[derive(Debug, Clone, PartialEq)]
pub struct Priced {
    /// The catalog model id that matched.
    pub model: Arc<str>,
    /// Its provider id.
    pub provider: Arc<str>,
    /// The source the entry came from.
    pub source: Arc<str>,
    /// The cost.
    pub cost: CostBreakdown,
}

/// How a model string resolved to a catalog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// Index into [`PricingTable::models`].
    pub index: usize,
    /// Apply the model's data-zone multiplier.
    pub data_zone: bool,
}

/// A validated price catalog with a model matcher and a per-model-string resolution cache.
#[derive(Debug)]
pub struct PricingTable {
    models: Vec<ModelPrice>,
    providers: Vec<Provider>,
    index: matcher::Index,
    /// model string → [(provider hint, answer)]; keyed by `Box<str>` so a hit is a lookup
    /// by `&str` with no allocation.
    cache: RwLock<ResolutionCache>,
}

/// Per model string, the answers for each provider hint seen with it.
type ResolutionCache =
    HashMap<Box<str>, Vec<(Box<str>, Option<Resolved>)>, std::hash::BuildHasherDefault<Fnv1a>>;

/// FNV-1a: model names are short, trusted-enough keys (the cache is bounded by
/// [`RESOLUTION_CACHE_CAPACITY`]), and SipHash's DoS resistance costs tens of nanoseconds per
/// span on the hot path.
#[derive(Debug, Clone, Copy)]
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl Clone for PricingTable {
    fn clone(&self) -> Self {
        PricingTable::assemble(table::Validated {
            providers: self.providers.clone(),
            models: self.models.clone(),
            aliases: self.index.aliases().to_vec(),
        })
    }
}

impl Default for PricingTable {
    fn default() -> Self {
        PricingTable::assemble(table::Validated::default())
    }
}

impl PricingTable {
    fn assemble(v: table::Validated) -> Self {
        let index = matcher::Index::build(&v.models, &v.providers, v.aliases);
        PricingTable {
            models: v.models,
            providers: v.providers,
            index,
            cache: RwLock::default(),
        }
    }

    /// The built-in catalog, parsed once and shared.
    ///
    /// # Panics
    ///
    /// Never in a released build: the built-in files are validated by the test suite; an
    /// invalid built-in file would be a build defect, and is skipped (lossy) rather than
    /// panicking.
    #[must_use]
    pub fn builtin() -> Arc<PricingTable> {
        static BUILTIN: OnceLock<Arc<PricingTable>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let tables = builtin::BUILTIN_FILES.iter().map(|(name, text)| {
                    let origin = format!("{BUILTIN_SOURCE}/{name}");
                    let (table, diags) = PricingTable::from_toml_str_lossy(text, &origin);
                    for error in diags {
                        tracing::error!(name: "Pricing.BuiltinInvalid", %error, "built-in price entry skipped");
                    }
                    table
                });
                Arc::new(PricingTable::layered(tables).with_origin(BUILTIN_SOURCE))
            })
            .clone()
    }

    /// Sets the origin label of every entry (used for the built-in catalog).
    fn with_origin(mut self, origin: &str) -> Self {
        let origin: Arc<str> = Arc::from(origin);
        for m in &mut self.models {
            m.origin = origin.clone();
        }
        self
    }

    /// Parses a Peekr-format TOML catalog strictly: the first bad entry is an error
    /// `origin:line: message`.
    ///
    /// # Errors
    ///
    /// [`PricingError::Syntax`] for malformed TOML, [`PricingError::Invalid`] for a bad entry.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, PricingError> {
        let raw = parse_toml(text, origin)?;
        Self::from_raw(&raw, text, origin)
    }

    /// Parses a Peekr-format TOML catalog, skipping bad entries; each skipped entry is
    /// returned as a diagnostic. Malformed TOML yields an empty table and one diagnostic.
    #[must_use]
    pub fn from_toml_str_lossy(text: &str, origin: &str) -> (Self, Vec<PricingError>) {
        match parse_toml(text, origin) {
            Ok(raw) => Self::from_raw_lossy(&raw, text, origin),
            Err(e) => (PricingTable::default(), vec![e]),
        }
    }

    /// Parses a Peekr-format JSON catalog strictly.
    ///
    /// # Errors
    ///
    /// As [`PricingTable::from_toml_str`].
    pub fn from_json_str(text: &str, origin: &str) -> Result<Self, PricingError> {
        let raw: RawCatalog = serde_json::from_str(text).map_err(|e| PricingError::Syntax {
            origin: origin.to_owned(),
            line: e.line(),
            message: e.to_string(),
        })?;
        Self::from_raw(&raw, text, origin)
    }

    /// Validates a raw catalog strictly. `text` is the source text, used for line numbers.
    ///
    /// # Errors
    ///
    /// [`PricingError::Invalid`] for the first bad entry.
    pub fn from_raw(raw: &RawCatalog, text: &str, origin: &str) -> Result<Self, PricingError> {
        let (v, _) = table::validate(raw, text, origin, true)?;
        Ok(Self::assemble(v))
    }

    /// Validates a raw catalog, skipping bad entries with a diagnostic each.
    #[must_use]
    pub fn from_raw_lossy(raw: &RawCatalog, text: &str, origin: &str) -> (Self, Vec<PricingError>) {
        match table::validate(raw, text, origin, false) {
            Ok((v, diags)) => (Self::assemble(v), diags),
            Err(e) => (PricingTable::default(), vec![e]),
        }
    }

    /// Reads and strictly parses a price file; the format follows the extension (`.toml`, or
    /// `.json` in Peekr's, genai-prices' or LiteLLM's shape, detected from the content).
    ///
    /// # Errors
    ///
    /// [`PricingError::Io`] when the file cannot be read, else as the parsers.
    pub fn from_path(path: &std::path::Path) -> Result<Self, PricingError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PricingError::Io {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        Self::from_any_str(&text, &origin)
    }

    /// Parses a price file's text in any supported format (see [`PricingTable::from_path`]).
    ///
    /// # Errors
    ///
    /// As the underlying parser.
    pub fn from_any_str(text: &str, origin: &str) -> Result<Self, PricingError> {
        if looks_like_json(text) {
            Self::from_any_json(text, origin)
        } else {
            Self::from_toml_str(text, origin)
        }
    }

    fn from_any_json(text: &str, origin: &str) -> Result<Self, PricingError> {
        match external::detect(text) {
            external::Format::Peekr => Self::from_json_str(text, origin),
            external::Format::GenaiPrices => {
                let (raw, _diags) =
                    external::raw_from_genai_prices_json(text).map_err(|message| {
                        PricingError::Syntax {
                            origin: origin.to_owned(),
                            line: 1,
                            message,
                        }
                    })?;
                Ok(Self::from_raw_lossy(&raw, text, origin).0)
            }
            external::Format::Litellm => {
                let (raw, _diags) = external::raw_from_litellm_json(text).map_err(|message| {
                    PricingError::Syntax {
                        origin: origin.to_owned(),
                        line: 1,
                        message,
                    }
                })?;
                Ok(Self::from_raw_lossy(&raw, text, origin).0)
            }
        }
    }

    /// Layers tables: entries of later tables replace entries with the same
    /// `(provider, model id)` in earlier ones; deployment aliases and providers accumulate
    /// (later wins on the same name).
    #[must_use]
    pub fn layered<I: IntoIterator<Item = PricingTable>>(tables: I) -> Self {
        let mut models: Vec<ModelPrice> = Vec::new();
        let mut pos: HashMap<(Arc<str>, Arc<str>), usize> = HashMap::new();
        let mut providers: Vec<Provider> = Vec::new();
        let mut aliases: Vec<DeploymentAlias> = Vec::new();
        for t in tables {
            for m in t.models {
                match pos.get(&(m.provider.clone(), m.id.clone())) {
                    Some(&i) => models[i] = m,
                    None => {
                        pos.insert((m.provider.clone(), m.id.clone()), models.len());
                        models.push(m);
                    }
                }
            }
            for p in t.providers {
                match providers.iter_mut().find(|q| q.id == p.id) {
                    Some(q) => *q = p,
                    None => providers.push(p),
                }
            }
            aliases.extend(t.index.aliases().iter().cloned());
        }
        Self::assemble(table::Validated {
            providers,
            models,
            aliases,
        })
    }

    /// All models, in catalog order.
    #[must_use]
    pub fn models(&self) -> &[ModelPrice] {
        &self.models
    }

    /// All providers listed.
    #[must_use]
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// Resolves a model string (with an optional provider hint from the span) to a catalog
    /// entry, caching the answer per distinct `(model, provider)` pair.
    #[must_use]
    pub fn resolve(&self, model: &str, provider: Option<&str>) -> Option<Resolved> {
        let provider = provider.unwrap_or("");
        if let Ok(cache) = self.cache.read()
            && let Some(hit) = cache
                .get(model)
                .and_then(|v| v.iter().find(|(p, _)| &**p == provider))
        {
            return hit.1;
        }
        let hint = (!provider.is_empty()).then_some(provider);
        let answer = self.index.resolve(&self.models, model, hint);
        if let Ok(mut cache) = self.cache.write()
            && cache.len() < RESOLUTION_CACHE_CAPACITY
        {
            cache
                .entry(Box::from(model))
                .or_default()
                .push((Box::from(provider), answer));
        }
        answer
    }

    /// Prices one call.
    ///
    /// # Errors
    ///
    /// [`PriceError::InvalidUsage`] when a subset exceeds its total, [`PriceError::UnknownModel`]
    /// when neither the model nor the fallback model matches any entry. Never a silent zero.
    pub fn price(&self, req: &PriceRequest<'_>) -> Result<Priced, PriceError> {
        req.usage.validate()?;
        let resolved = self
            .resolve(req.model, req.provider)
            .or_else(|| {
                req.fallback_model
                    .and_then(|m| self.resolve(m, req.provider))
            })
            .ok_or_else(|| PriceError::UnknownModel {
                model: req.model.to_owned(),
            })?;
        let entry = &self.models[resolved.index];
        let period = entry.period_at(req.at);
        let mut prices = *period.for_prompt(req.usage.input);
        let variant = if req.batch {
            period.batch.as_ref()
        } else {
            match req.service_tier {
                ServiceTier::Flex => period.flex.as_ref(),
                ServiceTier::Priority => period.priority.as_ref(),
                ServiceTier::Standard => None,
            }
        };
        if let Some(v) = variant {
            prices = table::apply_variant(&prices, v);
        }
        let mut femto = table::cost_femto(req.usage, &prices);
        if resolved.data_zone
            && let Some(ppm) = entry.data_zone_ppm
        {
            let scale = |x: u128| (x * u128::from(ppm) + 500_000) / 1_000_000;
            femto.input = scale(femto.input);
            femto.cache_read = scale(femto.cache_read);
            femto.cache_write = scale(femto.cache_write);
            femto.output = scale(femto.output);
            femto.other = scale(femto.other);
        }
        Ok(Priced {
            model: entry.id.clone(),
            provider: entry.provider.clone(),
            source: entry.origin.clone(),
            cost: CostBreakdown {
                input: Nanos::from_femto(femto.input),
                cache_read: Nanos::from_femto(femto.cache_read),
                cache_write: Nanos::from_femto(femto.cache_write),
                output: Nanos::from_femto(femto.output),
                other: Nanos::from_femto(femto.other),
            },
        })
    }
}

/// JSON starts with `{` or with `[` followed by a value; TOML may start with `[table]` or
/// `[[array]]`, so a bracket alone does not decide.
fn looks_like_json(text: &str) -> bool {
    let t = text.trim_start();
    match t.strip_prefix('[') {
        Some(rest) => {
            let next = rest.trim_start().chars().next();
            matches!(next, Some('{' | ']' | '"')) || next.is_some_and(|c| c.is_ascii_digit())
        }
        None => t.starts_with('{'),
    }
}

fn parse_toml(text: &str, origin: &str) -> Result<RawCatalog, PricingError> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |span| {
            text[..span.start.min(text.len())].matches('\n').count() + 1
        });
        PricingError::Syntax {
            origin: origin.to_owned(),
            line,
            message: e.message().to_owned(),
        }
    })
}

mod builtin;
pub mod external;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_loads_without_diagnostics() {
        for (name, text) in builtin::BUILTIN_FILES {
            if let Err(e) = PricingTable::from_toml_str(text, name) {
                panic!("{e}");
            }
        }
        assert!(PricingTable::builtin().models().len() >= 400);
    }

    fn usage(input: u64, output: u64) -> Usage {
        Usage {
            input,
            output,
            ..Usage::default()
        }
    }

    fn table() -> PricingTable {
        PricingTable::from_toml_str(
            r#"
            [[model]]
            id = "m"
            provider = "p"
            data_zone_multiplier = 1.1
            [[model.price]]
            input = 2
            output = 8
            cache_read = 0.5
            cache_write = 2.5
            cache_write_1h = 4
            [[model.price.tier]]
            above = 10000000
            input = 4
            output = 16
            [model.price.batch]
            multiplier = 0.5
            [model.price.flex]
            input = 1
            [[model.price]]
            from = "2025-06-10"
            input = 1
            output = 4
            "#,
            "t.toml",
        )
        .unwrap()
    }

    fn req<'a>(model: &'a str, u: &'a Usage, at: &str) -> PriceRequest<'a> {
        PriceRequest {
            at: table::parse_date(at).unwrap(),
            ..PriceRequest::new(model, u)
        }
    }

    #[test]
    fn components_sum_to_total_and_parts_use_their_rates() {
        let t = table();
        let u = Usage {
            input: 1000,
            output: 100,
            cache_read: 200,
            cache_write: 300,
            cache_write_1h: 100,
            reasoning: 50,
            ..Usage::default()
        };
        let p = t.price(&req("m", &u, "2025-01-01")).unwrap();
        // 500 text in × $2/M = 0.001; 200 × 0.5 = 0.0001; 200 × 2.5 + 100 × 4 = 0.0009; 100 out × 8 = 0.0008
        assert_eq!(p.cost.input, Nanos(1_000_000));
        assert_eq!(p.cost.cache_read, Nanos(100_000));
        assert_eq!(p.cost.cache_write, Nanos(900_000));
        assert_eq!(p.cost.output, Nanos(800_000));
        assert_eq!(p.cost.total(), Nanos(2_800_000));
    }

    #[test]
    fn tiers_are_cliffs_above_the_threshold() {
        let t = table();
        let at = usage(10_000_000, 0);
        let above = usage(10_000_001, 0);
        assert_eq!(
            t.price(&req("m", &at, "2025-01-01")).unwrap().cost.total(),
            Nanos(20_000_000_000)
        );
        assert_eq!(
            t.price(&req("m", &above, "2025-01-01"))
                .unwrap()
                .cost
                .total(),
            Nanos(40_000_004_000)
        );
    }

    #[test]
    fn history_prices_a_span_at_its_own_time() {
        let t = table();
        let u = usage(1_000_000, 0);
        assert_eq!(
            t.price(&req("m", &u, "2025-06-09T23:59:59Z"))
                .unwrap()
                .cost
                .total(),
            Nanos(2_000_000_000)
        );
        assert_eq!(
            t.price(&req("m", &u, "2025-06-10")).unwrap().cost.total(),
            Nanos(1_000_000_000)
        );
    }

    #[test]
    fn variants_and_data_zone_apply() {
        let t = table();
        let u = usage(1_000_000, 1_000_000);
        let mut r = req("m", &u, "2025-01-01");
        r.batch = true;
        assert_eq!(t.price(&r).unwrap().cost.total(), Nanos(5_000_000_000));
        r.batch = false;
        r.service_tier = ServiceTier::Flex;
        assert_eq!(t.price(&r).unwrap().cost.total(), Nanos(9_000_000_000));
        let r = req("azure/eu/m", &u, "2025-01-01");
        assert_eq!(t.price(&r).unwrap().cost.total(), Nanos(11_000_000_000));
    }

    #[test]
    fn unknown_models_and_bad_usage_are_errors_not_zero() {
        let t = table();
        let u = usage(10, 10);
        assert_eq!(
            t.price(&req("nope", &u, "2025-01-01")),
            Err(PriceError::UnknownModel {
                model: "nope".into()
            })
        );
        let bad = Usage {
            input: 10,
            cache_read: 11,
            ..Usage::default()
        };
        assert!(matches!(
            t.price(&req("m", &bad, "2025-01-01")),
            Err(PriceError::InvalidUsage(_))
        ));
    }

    #[test]
    fn strict_loading_names_the_file_and_line() {
        let err = PricingTable::from_toml_str(
            "[[model]]\nid = \"x\"\nprovider = \"p\"\n[[model.price]]\ninput = -1\noutput = 1\n",
            "f.toml",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.toml:2: model `x`: price `-1` is negative"
        );
        let err = PricingTable::from_toml_str(
            "[[model]]\nid = \"x\"\nprovider = \"p\"\n[[model.price]]\ninput = 1\n",
            "f.toml",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.toml:2: model `x`: price needs both `input` and `output`"
        );
        let err = PricingTable::from_toml_str("[[model]]\nid = \"x\"\nprovider = \"p\"\n[[model.price]]\ninput = 1\noutput = 1\nouptut = 2\n", "f.toml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.toml:2: model `x`: unknown key `ouptut` in price"
        );
        let (t, diags) = PricingTable::from_toml_str_lossy(
            "[[model]]\nid = \"x\"\nprovider = \"p\"\n[[model.price]]\ninput = 1\n\n[[model]]\nid = \"y\"\nprovider = \"p\"\n[[model.price]]\ninput = 1\noutput = 2\n",
            "f.toml",
        );
        assert_eq!(t.models().len(), 1);
        assert_eq!(diags.len(), 1);
    }
}
