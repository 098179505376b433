//! The one enrichment core shared by [`CostProcessor`](crate::CostProcessor) (over SDK
//! `SpanData`) and the receiver (over OTLP protobuf spans).
//!
//! [`Enricher::enrich`] turns the [`SpanFacts`] of one span into an [`Enrichment`]: a status,
//! the exact cost and what priced it. [`Enrichment::attributes`] lists the attributes to write
//! (DESIGN.md §5); each caller writes them into its own span type.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::pricing::{CostBreakdown, Nanos, PriceError, PriceRequest, Priced, PricingTable};
use crate::semconv as sc;
use crate::usage::{SpanFacts, SpanKind, Usage};

/// `peekr.cost.status` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CostStatus {
    /// Priced by Peekr from the catalog.
    Priced,
    /// A cost was already on the span; kept, never overwritten.
    Provided,
    /// The model matches no catalog entry (or the span names no model).
    UnpricedModel,
    /// The span reports no token usage.
    NoUsage,
    /// A token count is invalid (negative, NaN, not a number, a subset above its total).
    InvalidUsage,
}

impl CostStatus {
    /// The attribute value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CostStatus::Priced => "priced",
            CostStatus::Provided => "provided",
            CostStatus::UnpricedModel => "unpriced_model",
            CostStatus::NoUsage => "no_usage",
            CostStatus::InvalidUsage => "invalid_usage",
        }
    }
}

/// Optional attribute dialects for backends that read other keys than `gen_ai.usage.cost`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dialects {
    /// Also write `llm.cost.total` (OpenInference: Arize Phoenix, Arize).
    pub openinference: bool,
    /// Write `gen_ai.usage.cost.amount` + `.currency` + `.source` (the open semconv proposal)
    /// **instead of** `gen_ai.usage.cost`: backends that nest dotted keys cannot hold both.
    pub semconv_proposal: bool,
    /// Also write `operation.cost` (Logfire).
    pub logfire: bool,
}

/// The result of enriching one GenAI inference span.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrichment {
    /// The status written as `peekr.cost.status`.
    pub status: CostStatus,
    /// The usage read from the span.
    pub usage: Usage,
    /// The computed cost, when `status` is [`CostStatus::Priced`].
    pub cost: Option<CostBreakdown>,
    /// The cost counted for this span: computed, or provided on the span.
    pub total: Option<Nanos>,
    /// What priced it.
    pub priced: Option<Priced>,
}

/// An attribute value Peekr writes.
#[derive(Debug, Clone, PartialEq)]
pub enum OutValue {
    /// A USD amount or other double.
    F64(f64),
    /// A count.
    I64(i64),
    /// A static string.
    Static(&'static str),
    /// A shared string (model, provider, source).
    Shared(Arc<str>),
}

impl Enrichment {
    /// The attributes to write, in a stable order; components only when non-zero.
    pub fn attributes(&self, dialects: Dialects, mut f: impl FnMut(&'static str, OutValue)) {
        f(
            sc::PEEKR_COST_STATUS,
            OutValue::Static(self.status.as_str()),
        );
        if let (Some(cost), Some(priced)) = (&self.cost, &self.priced) {
            let total = cost.total().as_usd_f64();
            if dialects.semconv_proposal {
                f(sc::GEN_AI_USAGE_COST_AMOUNT, OutValue::F64(total));
                f(sc::GEN_AI_USAGE_COST_CURRENCY, OutValue::Static("USD"));
                f(sc::GEN_AI_USAGE_COST_SOURCE, OutValue::Static("local"));
            } else {
                f(sc::GEN_AI_USAGE_COST, OutValue::F64(total));
            }
            for (key, part) in [
                (sc::PEEKR_COST_INPUT, cost.input),
                (sc::PEEKR_COST_CACHE_READ, cost.cache_read),
                (sc::PEEKR_COST_CACHE_WRITE, cost.cache_write),
                (sc::PEEKR_COST_OUTPUT, cost.output),
                (sc::PEEKR_COST_OTHER, cost.other),
            ] {
                if part != Nanos::ZERO {
                    f(key, OutValue::F64(part.as_usd_f64()));
                }
            }
            if dialects.openinference {
                f(sc::LLM_COST_TOTAL, OutValue::F64(total));
            }
            if dialects.logfire {
                f(sc::OPERATION_COST, OutValue::F64(total));
            }
            f(
                sc::PEEKR_PRICING_MODEL,
                OutValue::Shared(priced.model.clone()),
            );
            f(
                sc::PEEKR_PRICING_PROVIDER,
                OutValue::Shared(priced.provider.clone()),
            );
            f(
                sc::PEEKR_PRICING_SOURCE,
                OutValue::Shared(priced.source.clone()),
            );
        }
    }
}

/// Whether an attribute key is one Peekr writes on priced spans (and so replaces).
#[must_use]
pub fn is_written_key(key: &str) -> bool {
    // Every written key starts with `p`, `g`, `l` or `o`: one byte rules out most others.
    if !matches!(key.as_bytes().first(), Some(b'p' | b'g' | b'l' | b'o')) {
        return false;
    }
    key.starts_with("peekr.cost.")
        || key.starts_with("peekr.pricing.")
        || key.starts_with("peekr.trace.")
        || matches!(
            key,
            sc::GEN_AI_USAGE_COST_AMOUNT
                | sc::GEN_AI_USAGE_COST_CURRENCY
                | sc::GEN_AI_USAGE_COST_SOURCE
                | sc::LLM_COST_TOTAL
                | sc::OPERATION_COST
        )
}

/// Converts a provided USD cost to nano-USD (rounded half away from zero).
#[must_use]
pub fn usd_to_nanos(usd: f64) -> Nanos {
    // Bounded by the parse step (finite, non-negative); the cast saturates for absurd values.
    #[allow(clippy::cast_possible_truncation)]
    Nanos((usd * 1e9).round() as i64)
}

/// Prices spans against a hot-swappable [`PricingTable`].
#[derive(Debug)]
pub struct Enricher {
    table: ArcSwap<PricingTable>,
    warned: Mutex<HashSet<String>>,
}

impl Enricher {
    /// An enricher over `table`.
    #[must_use]
    pub fn new(table: Arc<PricingTable>) -> Self {
        Enricher {
            table: ArcSwap::new(table),
            warned: Mutex::default(),
        }
    }

    /// The current table.
    #[must_use]
    pub fn table(&self) -> Arc<PricingTable> {
        self.table.load_full()
    }

    /// Atomically replaces the table (hot reload).
    pub fn set_table(&self, table: Arc<PricingTable>) {
        self.table.store(table);
        if let Ok(mut warned) = self.warned.lock() {
            warned.clear();
        }
    }

    /// Enriches one span, given its facts, name and end time (Unix seconds). `None` for spans
    /// Peekr leaves alone: not GenAI, or GenAI wrappers (`invoke_agent`, tools).
    #[must_use]
    pub fn enrich(
        &self,
        facts: &SpanFacts<'_>,
        span_name: &str,
        end_secs: i64,
    ) -> Option<Enrichment> {
        if facts.kind(span_name) != SpanKind::Inference {
            return None;
        }
        let usage = facts.usage;
        let done = |status, cost: Option<CostBreakdown>, total, priced| {
            Some(Enrichment {
                status,
                usage,
                cost,
                total,
                priced,
            })
        };
        if let Some(usd) = facts.provided_cost {
            return done(CostStatus::Provided, None, Some(usd_to_nanos(usd)), None);
        }
        if facts.bad_count.is_some() || usage.validate().is_err() {
            return done(CostStatus::InvalidUsage, None, None, None);
        }
        if !facts.has_usage {
            return done(CostStatus::NoUsage, None, None, None);
        }
        let Some(model) = facts.model() else {
            return done(CostStatus::UnpricedModel, None, None, None);
        };
        let table = self.table.load();
        let request = PriceRequest {
            model,
            fallback_model: facts.request_model.filter(|m| *m != model),
            provider: facts.provider,
            usage: &usage,
            at: end_secs,
            service_tier: facts.service_tier,
            batch: facts.batch,
        };
        match table.price(&request) {
            Ok(priced) => {
                let cost = priced.cost;
                done(
                    CostStatus::Priced,
                    Some(cost),
                    Some(cost.total()),
                    Some(priced),
                )
            }
            Err(PriceError::InvalidUsage(_)) => done(CostStatus::InvalidUsage, None, None, None),
            Err(PriceError::UnknownModel { model }) => {
                self.warn_unknown(&model);
                done(CostStatus::UnpricedModel, None, None, None)
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn warn_unknown(&self, model: &str) {
        let first = self
            .warned
            .lock()
            .map(|mut w| w.len() < 10_000 && w.insert(model.to_owned()))
            .unwrap_or(false);
        if first {
            tracing::warn!(name: "CostProcessor.UnknownModel", model = %model, "no price for model; cost not recorded");
        }
    }
}
