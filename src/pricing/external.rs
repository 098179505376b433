//! Loaders for public price data files: genai-prices v2 `data.json` and LiteLLM's
//! `model_prices_and_context_window.json`, converted to Peekr's raw catalog.

use super::format::RawCatalog;

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

/// Converts genai-prices v2 `data.json` to a raw catalog plus diagnostics for skipped entries.
///
/// # Errors
///
/// A message when the text is not JSON of the expected shape.
pub fn raw_from_genai_prices_json(text: &str) -> Result<(RawCatalog, Vec<String>), String> {
    let _ = text;
    Err("genai-prices loader not available yet".to_owned())
}

/// Converts LiteLLM's `model_prices_and_context_window.json` to a raw catalog plus diagnostics.
///
/// # Errors
///
/// A message when the text is not JSON of the expected shape.
pub fn raw_from_litellm_json(text: &str) -> Result<(RawCatalog, Vec<String>), String> {
    let _ = text;
    Err("LiteLLM loader not available yet".to_owned())
}
