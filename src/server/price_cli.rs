//! `peekr price` and `peekr prices list|check [FILE]` (DESIGN §7), as library functions the
//! binary calls. They need no server: they price against a [`PricingTable`] in memory.
//!
//! ```text
//! peekr price --model M [--provider P] --input N --output N [--cache-read N] [--cache-write N]
//!             [--cache-write-1h N] [--reasoning N] [--audio-input N] [--audio-output N]
//!             [--web-searches N] [--service-tier flex|priority] [--batch] [--at RFC3339] [--json]
//! peekr prices list [--summary] [--provider P] [--json]
//! peekr prices check [FILE]
//! ```
//!
//! Exit codes of `peekr price`: 0 priced, 3 unknown model, 2 bad arguments. Of `peekr prices
//! check`: 0 valid, 1 errors found (or the file cannot be read).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::pricing::{ModelKind, ModelPrice, PriceError, PriceRequest, PricingTable, external};
use crate::usage::{ServiceTier, Usage};

/// Exit code: priced / valid.
pub const EXIT_OK: i32 = 0;
/// Exit code of `prices check`: the file has errors.
pub const EXIT_INVALID: i32 = 1;
/// Exit code: bad arguments (including inconsistent token counts).
pub const EXIT_BAD_ARGS: i32 = 2;
/// Exit code of `price`: the model is not in the catalog.
pub const EXIT_UNKNOWN_MODEL: i32 = 3;

/// Service tier accepted by `--service-tier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TierArg {
    /// Flex processing.
    Flex,
    /// Priority processing.
    Priority,
}

/// `peekr price`: the cost of one call.
///
/// Token counts follow OpenTelemetry: `--input` is all input tokens, including cache reads,
/// cache writes and audio input; `--output` is all output tokens, including reasoning and audio
/// output. `--cache-write` counts 5-minute cache writes and `--cache-write-1h` 1-hour writes
/// (the two add up to all cache writes).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PriceArgs {
    /// Model name as a span carries it (`gpt-4o`, `anthropic.claude-3-5-sonnet-20240620-v1:0`,
    /// `azure/eu/gpt-4o`, `ft:gpt-4o-mini-2024-07-18:org::id`, …).
    #[arg(long)]
    pub model: String,
    /// Provider (`gen_ai.provider.name` value or catalog id), to choose among providers.
    #[arg(long)]
    pub provider: Option<String>,
    /// All input tokens (including cache reads/writes and audio input).
    #[arg(long)]
    pub input: u64,
    /// All output tokens (including reasoning and audio output).
    #[arg(long)]
    pub output: u64,
    /// Input tokens read from the prompt cache.
    #[arg(long, default_value_t = 0)]
    pub cache_read: u64,
    /// Input tokens written to the cache with a 5-minute lifetime.
    #[arg(long, default_value_t = 0)]
    pub cache_write: u64,
    /// Input tokens written to the cache with a 1-hour lifetime.
    #[arg(long = "cache-write-1h", default_value_t = 0)]
    pub cache_write_1h: u64,
    /// Output tokens spent on reasoning.
    #[arg(long, default_value_t = 0)]
    pub reasoning: u64,
    /// Audio input tokens.
    #[arg(long, default_value_t = 0)]
    pub audio_input: u64,
    /// Audio output tokens.
    #[arg(long, default_value_t = 0)]
    pub audio_output: u64,
    /// Web-search calls billed with the request.
    #[arg(long, default_value_t = 0)]
    pub web_searches: u64,
    /// Service tier (default: standard).
    #[arg(long, value_enum)]
    pub service_tier: Option<TierArg>,
    /// Batch API pricing.
    #[arg(long)]
    pub batch: bool,
    /// Price at this time (RFC 3339 or YYYY-MM-DD); default now.
    #[arg(long)]
    pub at: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `peekr prices`: inspect the catalog or validate a price file.
#[derive(Debug, Clone, clap::Args)]
pub struct PricesArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: PricesCommand,
}

/// `peekr prices` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PricesCommand {
    /// List the models of the catalog (built-in plus any --prices files).
    List(PricesListArgs),
    /// Validate a price file (Peekr TOML/JSON, genai-prices data.json or LiteLLM JSON) strictly;
    /// without FILE, the built-in catalog.
    Check(PricesCheckArgs),
}

/// `peekr prices list`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PricesListArgs {
    /// Counts per provider instead of one line per model.
    #[arg(long)]
    pub summary: bool,
    /// Only this provider.
    #[arg(long)]
    pub provider: Option<String>,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

/// `peekr prices check`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PricesCheckArgs {
    /// The file to check; the built-in catalog when omitted.
    pub file: Option<std::path::PathBuf>,
}

/// What a command printed and its exit code. The binary writes `stdout` to standard output,
/// `stderr` to standard error, and exits with `code`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CliOutput {
    /// Text for standard output.
    pub stdout: String,
    /// Text for standard error.
    pub stderr: String,
    /// Process exit code.
    pub code: i32,
}

impl CliOutput {
    fn out(stdout: String, code: i32) -> Self {
        CliOutput {
            stdout,
            stderr: String::new(),
            code,
        }
    }
    fn err(stderr: String, code: i32) -> Self {
        CliOutput {
            stdout: String::new(),
            stderr,
            code,
        }
    }

    /// Prints the output and returns the exit code (for the binary's `main`).
    #[must_use]
    pub fn emit(self) -> i32 {
        print!("{}", self.stdout);
        eprint!("{}", self.stderr);
        self.code
    }
}

fn parse_at(text: &str) -> Result<i64, String> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| {
        format!("--at `{text}` is not RFC 3339 (2025-06-10T12:00:00Z) or YYYY-MM-DD")
    })?;
    jiff::tz::Offset::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .map(|ts| ts.as_second())
        .map_err(|_| format!("--at `{text}` is out of range"))
}

fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).map_or_else(|_| secs.to_string(), |t| t.to_string())
}

fn tier_name(t: ServiceTier) -> &'static str {
    match t {
        ServiceTier::Standard => "standard",
        ServiceTier::Flex => "flex",
        ServiceTier::Priority => "priority",
    }
}

/// `peekr price`: prices one call against `table`.
///
/// Exit code 0 and the cost when priced; 3 and "unknown model" when the catalog has no entry
/// (never a silent $0); 2 for bad arguments (a bad `--at`, or parts larger than their totals).
/// With `--json`, standard output is one JSON object in every case but bad arguments:
/// `status` (`priced` | `unpriced_model`), `cost_usd` (decimal string exact to 1e-9, or null),
/// `model` (matched catalog id), `provider`, `source`, `components`, `requested_model`, `at`,
/// `service_tier`, `batch`, `usage`.
#[must_use]
pub fn run_price(args: &PriceArgs, table: &PricingTable) -> CliOutput {
    let at = match args.at.as_deref().map(parse_at).transpose() {
        Ok(at) => at.unwrap_or_else(|| jiff::Timestamp::now().as_second()),
        Err(e) => return CliOutput::err(format!("error: {e}\n"), EXIT_BAD_ARGS),
    };
    if args.model.trim().is_empty() {
        return CliOutput::err("error: --model is empty\n".to_owned(), EXIT_BAD_ARGS);
    }
    let usage = Usage {
        input: args.input,
        output: args.output,
        cache_read: args.cache_read,
        cache_write: args.cache_write.saturating_add(args.cache_write_1h),
        cache_write_1h: args.cache_write_1h,
        reasoning: args.reasoning,
        audio_input: args.audio_input,
        audio_output: args.audio_output,
        web_searches: args.web_searches,
    };
    let service_tier = match args.service_tier {
        None => ServiceTier::Standard,
        Some(TierArg::Flex) => ServiceTier::Flex,
        Some(TierArg::Priority) => ServiceTier::Priority,
    };
    let req = PriceRequest {
        model: &args.model,
        fallback_model: None,
        provider: args.provider.as_deref(),
        usage: &usage,
        at,
        service_tier,
        batch: args.batch,
    };
    let usage_json = json!({
        "input": usage.input, "output": usage.output, "cache_read": usage.cache_read,
        "cache_write": usage.cache_write, "cache_write_1h": usage.cache_write_1h,
        "reasoning": usage.reasoning, "audio_input": usage.audio_input,
        "audio_output": usage.audio_output, "web_searches": usage.web_searches,
    });
    match table.price(&req) {
        Ok(p) => {
            let c = p.cost;
            if args.json {
                let v = json!({
                    "status": "priced",
                    "cost_usd": c.total().to_string(),
                    "model": &*p.model,
                    "provider": &*p.provider,
                    "source": &*p.source,
                    "components": {
                        "input": c.input.to_string(),
                        "cache_read": c.cache_read.to_string(),
                        "cache_write": c.cache_write.to_string(),
                        "output": c.output.to_string(),
                        "other": c.other.to_string(),
                    },
                    "requested_model": &args.model,
                    "at": rfc3339(at),
                    "service_tier": tier_name(service_tier),
                    "batch": args.batch,
                    "usage": usage_json,
                });
                return CliOutput::out(format!("{v}\n"), EXIT_OK);
            }
            let mut s = String::new();
            let mode = if args.batch {
                "batch".to_owned()
            } else {
                tier_name(service_tier).to_owned()
            };
            let _ = writeln!(s, "model        {} ({})", p.model, p.provider);
            if *p.model != *args.model.trim().to_ascii_lowercase() {
                let _ = writeln!(s, "requested    {}", args.model);
            }
            let _ = writeln!(s, "priced at    {} [{mode}]", rfc3339(at));
            let _ = writeln!(s, "source       {}", p.source);
            for (name, v) in [
                ("input", c.input),
                ("cache read", c.cache_read),
                ("cache write", c.cache_write),
                ("output", c.output),
                ("other", c.other),
            ] {
                let _ = writeln!(s, "{name:<12} ${v}");
            }
            let _ = writeln!(s, "total        ${} USD", c.total());
            CliOutput::out(s, EXIT_OK)
        }
        Err(PriceError::UnknownModel { model }) => {
            let message = format!(
                "unknown model `{model}`: no catalog entry matches; not priced (never $0). Add it with a price file (--prices FILE)."
            );
            if args.json {
                let v = json!({
                    "status": "unpriced_model",
                    "cost_usd": Value::Null,
                    "model": Value::Null,
                    "provider": args.provider,
                    "requested_model": &args.model,
                    "at": rfc3339(at),
                    "error": message,
                    "usage": usage_json,
                });
                CliOutput {
                    stdout: format!("{v}\n"),
                    stderr: String::new(),
                    code: EXIT_UNKNOWN_MODEL,
                }
            } else {
                CliOutput {
                    stdout: String::new(),
                    stderr: format!("{message}\n"),
                    code: EXIT_UNKNOWN_MODEL,
                }
            }
        }
        Err(PriceError::InvalidUsage(e)) => CliOutput::err(format!("error: {e}\n"), EXIT_BAD_ARGS),
    }
}

/// `peekr prices list|check`: `table` is the catalog in use (built-in plus any files).
#[must_use]
pub fn run_prices(args: &PricesArgs, table: &PricingTable) -> CliOutput {
    match &args.command {
        PricesCommand::List(a) => run_prices_list(a, table),
        PricesCommand::Check(a) => match &a.file {
            Some(path) => run_prices_check(path),
            None => check_table("built-in catalog", table),
        },
    }
}

fn kind_name(k: ModelKind) -> &'static str {
    match k {
        ModelKind::Chat => "chat",
        ModelKind::Embedding => "embedding",
        ModelKind::Audio => "audio",
        ModelKind::Image => "image",
        ModelKind::Moderation => "moderation",
    }
}

fn nanos_per_million(v: u64) -> String {
    crate::pricing::Nanos(i64::try_from(v).unwrap_or(i64::MAX))
        .to_string()
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_owned()
}

fn model_json(m: &ModelPrice, now: i64) -> Value {
    let p = m.period_at(now);
    json!({
        "id": &*m.id,
        "provider": &*m.provider,
        "kind": kind_name(m.kind),
        "aliases": m.aliases.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        "input": nanos_per_million(p.base.input),
        "cache_read": nanos_per_million(p.base.cache_read),
        "output": nanos_per_million(p.base.output),
        "tiers": p.tiers.len(),
        "periods": m.periods.len(),
        "batch": p.batch.is_some(),
        "flex": p.flex.is_some(),
        "priority": p.priority.is_some(),
        "retired": m.retired,
        "source": m.source.as_deref(),
        "checked": m.checked.as_deref(),
    })
}

#[derive(Default)]
struct Counts {
    models: usize,
    embeddings: usize,
    retired: usize,
    with_history: usize,
    with_tiers: usize,
    with_cache_write: usize,
    with_audio: usize,
    with_batch: usize,
    with_service_tiers: usize,
    with_source: usize,
}

fn counts<'a>(models: impl Iterator<Item = &'a ModelPrice>) -> BTreeMap<String, Counts> {
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    for m in models {
        let c = out.entry(m.provider.to_string()).or_default();
        let last = m.periods.last();
        c.models += 1;
        c.embeddings += usize::from(m.kind == ModelKind::Embedding);
        c.retired += usize::from(m.retired);
        c.with_history += usize::from(m.periods.len() > 1);
        c.with_tiers += usize::from(m.periods.iter().any(|p| !p.tiers.is_empty()));
        c.with_cache_write += usize::from(last.is_some_and(|p| p.base.cache_write != p.base.input));
        c.with_audio += usize::from(last.is_some_and(|p| {
            p.base.audio_input != p.base.input || p.base.audio_output != p.base.output
        }));
        c.with_batch += usize::from(last.is_some_and(|p| p.batch.is_some()));
        c.with_service_tiers +=
            usize::from(last.is_some_and(|p| p.flex.is_some() || p.priority.is_some()));
        c.with_source += usize::from(m.source.is_some() && m.checked.is_some());
    }
    out
}

fn run_prices_list(args: &PricesListArgs, table: &PricingTable) -> CliOutput {
    let now = jiff::Timestamp::now().as_second();
    let want = args.provider.as_deref().map(str::to_ascii_lowercase);
    let models: Vec<&ModelPrice> = table
        .models()
        .iter()
        .filter(|m| want.as_deref().is_none_or(|p| &*m.provider == p))
        .collect();
    if args.summary {
        let per = counts(models.iter().copied());
        let total: usize = per.values().map(|c| c.models).sum();
        if args.json {
            let providers: serde_json::Map<String, Value> = per
                .iter()
                .map(|(p, c)| {
                    (
                        p.clone(),
                        json!({
                            "models": c.models, "embeddings": c.embeddings, "retired": c.retired,
                            "with_history": c.with_history, "with_tiers": c.with_tiers,
                            "with_cache_write": c.with_cache_write, "with_audio": c.with_audio,
                            "with_batch": c.with_batch, "with_service_tiers": c.with_service_tiers,
                            "with_source_and_checked": c.with_source,
                        }),
                    )
                })
                .collect();
            let v = json!({ "models": total, "providers": per.len(), "by_provider": providers });
            return CliOutput::out(format!("{v}\n"), EXIT_OK);
        }
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<18} {:>6} {:>6} {:>7} {:>7} {:>6} {:>7} {:>6} {:>6} {:>8}",
            "provider",
            "models",
            "embed",
            "retired",
            "history",
            "tiers",
            "c.write",
            "audio",
            "batch",
            "flex/pri"
        );
        for (p, c) in &per {
            let _ = writeln!(
                s,
                "{p:<18} {:>6} {:>6} {:>7} {:>7} {:>6} {:>7} {:>6} {:>6} {:>8}",
                c.models,
                c.embeddings,
                c.retired,
                c.with_history,
                c.with_tiers,
                c.with_cache_write,
                c.with_audio,
                c.with_batch,
                c.with_service_tiers
            );
        }
        let sourced: usize = per.values().map(|c| c.with_source).sum();
        let _ = writeln!(
            s,
            "total: {total} models, {} providers ({sourced} with source and checked date)",
            per.len()
        );
        return CliOutput::out(s, EXIT_OK);
    }
    if args.json {
        let v: Vec<Value> = models.iter().map(|m| model_json(m, now)).collect();
        return CliOutput::out(format!("{}\n", Value::Array(v)), EXIT_OK);
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<16} {:<48} {:>10} {:>10} {:>10}  notes",
        "provider", "model", "input/M", "cached/M", "output/M"
    );
    for m in &models {
        let p = m.period_at(now);
        let mut notes = Vec::new();
        if m.kind != ModelKind::Chat {
            notes.push(kind_name(m.kind).to_owned());
        }
        if !p.tiers.is_empty() {
            notes.push(format!("tier>{}", p.tiers[0].threshold));
        }
        if m.periods.len() > 1 {
            notes.push(format!("{} periods", m.periods.len()));
        }
        if p.batch.is_some() {
            notes.push("batch".to_owned());
        }
        if p.flex.is_some() || p.priority.is_some() {
            notes.push("flex/priority".to_owned());
        }
        if m.retired {
            notes.push("retired".to_owned());
        }
        let _ = writeln!(
            s,
            "{:<16} {:<48} {:>10} {:>10} {:>10}  {}",
            m.provider,
            m.id,
            nanos_per_million(p.base.input),
            nanos_per_million(p.base.cache_read),
            nanos_per_million(p.base.output),
            notes.join(", ")
        );
    }
    let _ = writeln!(s, "{} models", models.len());
    CliOutput::out(s, EXIT_OK)
}

fn check_table(label: &str, table: &PricingTable) -> CliOutput {
    let per = counts(table.models().iter());
    let total: usize = per.values().map(|c| c.models).sum();
    let missing: Vec<String> = table
        .models()
        .iter()
        .filter(|m| m.source.is_none() || m.checked.is_none())
        .map(|m| {
            format!(
                "{label}: model `{}` ({}) has no source or checked date",
                m.id, m.provider
            )
        })
        .collect();
    if missing.is_empty() {
        CliOutput::out(
            format!("{label}: ok, {total} models, {} providers\n", per.len()),
            EXIT_OK,
        )
    } else {
        CliOutput {
            stdout: String::new(),
            stderr: format!("{}\n", missing.join("\n")),
            code: EXIT_INVALID,
        }
    }
}

/// Whether a price file without a telling extension is JSON: an object, or a list of objects
/// (genai-prices). A TOML file may also start with `[` (`[[model]]`).
fn looks_like_json(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('{')
        || t.strip_prefix('[')
            .is_some_and(|rest| rest.trim_start().starts_with(['{', ']']))
}

/// `peekr prices check FILE`: validates a price file strictly. The format follows the
/// extension (`.toml`, or `.json` in Peekr's, genai-prices' or LiteLLM's shape, detected from
/// the content). Errors print as `path:line: message`; entries of the public files that the
/// catalog cannot represent print as `path: warning: …` and do not fail the check.
#[must_use]
pub fn run_prices_check(path: &Path) -> CliOutput {
    let origin = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return CliOutput::err(
                format!("{origin}: cannot read price file: {e}\n"),
                EXIT_INVALID,
            );
        }
    };
    let is_json = match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("json") => true,
        Some("toml") => false,
        _ => looks_like_json(&text),
    };
    let mut warnings = String::new();
    let result = if !is_json {
        PricingTable::from_toml_str(&text, &origin)
    } else {
        match external::detect(&text) {
            external::Format::Peekr => PricingTable::from_json_str(&text, &origin),
            fmt => {
                let converted = if fmt == external::Format::GenaiPrices {
                    external::raw_from_genai_prices_json(&text)
                } else {
                    external::raw_from_litellm_json(&text)
                };
                match converted {
                    Err(message) => {
                        return CliOutput::err(format!("{origin}:1: {message}\n"), EXIT_INVALID);
                    }
                    Ok((raw, diags)) => {
                        for d in diags {
                            let _ = writeln!(warnings, "{origin}: warning: {d}");
                        }
                        let (table, errors) = PricingTable::from_raw_lossy(&raw, &text, &origin);
                        if errors.is_empty() {
                            Ok(table)
                        } else {
                            let mut s = warnings;
                            for e in &errors {
                                let _ = writeln!(s, "{e}");
                            }
                            return CliOutput {
                                stdout: String::new(),
                                stderr: s,
                                code: EXIT_INVALID,
                            };
                        }
                    }
                }
            }
        }
    };
    match result {
        Ok(table) => {
            let providers: std::collections::BTreeSet<&str> =
                table.models().iter().map(|m| &*m.provider).collect();
            CliOutput {
                stdout: format!(
                    "{origin}: ok, {} models, {} providers\n",
                    table.models().len(),
                    providers.len()
                ),
                stderr: warnings,
                code: EXIT_OK,
            }
        }
        Err(e) => CliOutput {
            stdout: String::new(),
            stderr: format!("{warnings}{e}\n"),
            code: EXIT_INVALID,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(model: &str, input: u64, output: u64) -> PriceArgs {
        PriceArgs {
            model: model.to_owned(),
            input,
            output,
            at: Some("2026-12-01".to_owned()),
            ..PriceArgs::default()
        }
    }

    #[test]
    fn prices_a_known_model_as_json() {
        let table = PricingTable::builtin();
        let mut a = args("gpt-4o", 1_000_000, 1_000_000);
        a.json = true;
        let out = run_price(&a, &table);
        assert_eq!(out.code, EXIT_OK);
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["cost_usd"], "12.500000000");
        assert_eq!(v["status"], "priced");
        assert_eq!(v["model"], "gpt-4o");
        assert_eq!(v["provider"], "openai");
        assert_eq!(v["components"]["output"], "10.000000000");
    }

    #[test]
    fn unknown_model_exits_3_and_bad_usage_exits_2() {
        let table = PricingTable::builtin();
        assert_eq!(
            run_price(&args("no-such-model-x", 10, 10), &table).code,
            EXIT_UNKNOWN_MODEL
        );
        let mut a = args("gpt-4o", 10, 10);
        a.cache_read = 11;
        assert_eq!(run_price(&a, &table).code, EXIT_BAD_ARGS);
        let mut a = args("gpt-4o", 10, 10);
        a.at = Some("yesterday".to_owned());
        assert_eq!(run_price(&a, &table).code, EXIT_BAD_ARGS);
    }
}
