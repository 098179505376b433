//! `peekr report`: cost per query per UTC day, and where the money went.
//!
//! [`render_report`] builds the whole output as a `String`, as a human table or, with
//! `json`, as one stable JSON object; the CLI prints it. [`build_report`] returns the same
//! data as a [`Report`] for other front ends.
//!
//! Everything comes from the store's rollups, so a 30-day report costs the same at any
//! number of stored spans. Money stays in integer nano-USD until it is formatted: JSON
//! carries both the exact integer (`*_nanos`) and an exact decimal string (`*_usd`, nine
//! decimals); the table rounds half away from zero for display.

use jiff::civil::Date;
use serde::Serialize;

use super::store::{
    BreakdownRow, DayCost, Dimension, MAX_WINDOW_DAYS, Store, StoreError, Totals, Window, display,
};

/// Default `--days`.
pub const REPORT_DAYS_DEFAULT: u32 = 30;

/// What to report on: the flags of `peekr report`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ReportOptions {
    /// Number of UTC days, ending today (`--days`, default 30).
    pub days: u32,
    /// Breakdown dimension (`--by`, default model).
    pub by: Dimension,
    /// The project (`--project`); when `None`, the store's only project.
    pub project: Option<String>,
    /// Emit JSON instead of a table (`--json`).
    pub json: bool,
    /// The last day of the report; `None` means today (UTC). For tests and reproducible runs.
    pub today: Option<Date>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            days: REPORT_DAYS_DEFAULT,
            by: Dimension::Model,
            project: None,
            json: false,
            today: None,
        }
    }
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// `--days` outside `1..=3660`.
    #[error("invalid --days {0}: expected 1 to 3660")]
    InvalidDays(u32),
    /// No `--project` was given and the store holds no data at all.
    #[error("the store holds no spans yet; nothing to report")]
    NoProjects,
    /// No `--project` was given and the store holds several.
    #[error("the store holds several projects ({}); choose one with --project", .0.join(", "))]
    ChooseProject(Vec<String>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// JSON encoding failed (not expected).
    #[error("cannot encode the report as json: {0}")]
    Json(serde_json::Error),
}

/// A cost-per-query report; its JSON form is what `peekr report --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The project reported on.
    pub project: String,
    /// Number of days.
    pub days: u32,
    /// First day (inclusive).
    #[serde(with = "display")]
    pub from: Date,
    /// Last day (inclusive).
    #[serde(with = "display")]
    pub to: Date,
    /// Totals over the window.
    pub totals: MoneyTotals,
    /// One entry per day, oldest first, days without queries included.
    pub series: Vec<MoneyDay>,
    /// The breakdown dimension.
    pub by: Dimension,
    /// Breakdown rows, most expensive first.
    pub breakdown: Vec<MoneyBreakdownRow>,
}

/// [`Totals`] with decimal USD strings next to the nanos.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoneyTotals {
    /// Queries (root traces).
    pub queries: i64,
    /// Cost of those queries, nano-USD.
    pub cost_nanos: i64,
    /// The same, as an exact decimal string.
    pub cost_usd: String,
    /// Cost per query, nano-USD, rounded half up; null without queries.
    pub cost_per_query_nanos: Option<i64>,
    /// The same, as an exact decimal string.
    pub cost_per_query_usd: Option<String>,
    /// LLM calls.
    pub llm_calls: i64,
    /// Input tokens.
    pub tokens_input: i64,
    /// Output tokens.
    pub tokens_output: i64,
}

/// [`DayCost`] with decimal USD strings next to the nanos.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoneyDay {
    /// The UTC day.
    #[serde(with = "display")]
    pub day: Date,
    /// Queries whose root span ended that day.
    pub queries: i64,
    /// Their cost, nano-USD.
    pub cost_nanos: i64,
    /// The same, as an exact decimal string.
    pub cost_usd: String,
    /// Cost per query, nano-USD, rounded half up; null on a day without queries.
    pub cost_per_query_nanos: Option<i64>,
    /// The same, as an exact decimal string.
    pub cost_per_query_usd: Option<String>,
    /// LLM calls.
    pub llm_calls: i64,
    /// Input tokens.
    pub tokens_input: i64,
    /// Output tokens.
    pub tokens_output: i64,
}

/// [`BreakdownRow`] with decimal USD strings next to the nanos.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MoneyBreakdownRow {
    /// Model, operation or tenant; null for spans without one.
    pub key: Option<String>,
    /// Cost, nano-USD.
    pub cost_nanos: i64,
    /// The same, as an exact decimal string.
    pub cost_usd: String,
    /// Fraction of the breakdown's total cost.
    pub share: f64,
    /// LLM calls.
    pub llm_calls: i64,
    /// Input tokens.
    pub tokens_input: i64,
    /// Output tokens.
    pub tokens_output: i64,
    /// Spans with error status.
    pub errors: i64,
    /// Cost of those spans, nano-USD.
    pub error_cost_nanos: i64,
}

/// Gathers the report's data from `store`.
pub fn build_report(store: &dyn Store, options: &ReportOptions) -> Result<Report, ReportError> {
    if options.days == 0 || options.days > MAX_WINDOW_DAYS {
        return Err(ReportError::InvalidDays(options.days));
    }
    let project = match &options.project {
        Some(project) => project.clone(),
        None => {
            let mut projects = store.projects()?;
            match projects.len() {
                0 => return Err(ReportError::NoProjects),
                1 => projects.remove(0),
                _ => return Err(ReportError::ChooseProject(projects)),
            }
        }
    };
    let window = match options.today {
        Some(today) => Window::ending(today, options.days),
        None => Window::last_days(options.days),
    };
    let days = store.cost_per_query(&project, window)?;
    let totals = Totals::from_days(&days);
    let breakdown = store.breakdown(&project, window, options.by)?;
    Ok(Report {
        project,
        days: window.days(),
        from: window.first_day(),
        to: window.last_day(),
        totals: MoneyTotals {
            queries: totals.queries,
            cost_nanos: totals.cost_nanos,
            cost_usd: usd_exact(totals.cost_nanos),
            cost_per_query_nanos: totals.cost_per_query_nanos,
            cost_per_query_usd: totals.cost_per_query_nanos.map(usd_exact),
            llm_calls: totals.llm_calls,
            tokens_input: totals.tokens_input,
            tokens_output: totals.tokens_output,
        },
        series: days.iter().map(money_day).collect(),
        by: options.by,
        breakdown: breakdown.iter().map(money_row).collect(),
    })
}

/// Renders `peekr report`: a table, or JSON when `options.json`.
pub fn render_report(store: &dyn Store, options: &ReportOptions) -> Result<String, ReportError> {
    let report = build_report(store, options)?;
    if options.json {
        let mut json = serde_json::to_string_pretty(&report).map_err(ReportError::Json)?;
        json.push('\n');
        Ok(json)
    } else {
        Ok(report.to_table())
    }
}

impl Report {
    /// The human table `peekr report` prints.
    #[must_use]
    pub fn to_table(&self) -> String {
        let mut out = format!(
            "cost per query, project {}, {} to {} ({} UTC days)\n\n",
            self.project, self.from, self.to, self.days
        );
        let mut rows = vec![row([
            "day",
            "queries",
            "cost",
            "cost/query",
            "¢/query",
            "llm calls",
            "tokens",
        ])];
        for day in &self.series {
            rows.push(row([
                day.day.to_string(),
                thousands(day.queries),
                usd(day.cost_nanos, 2),
                day.cost_per_query_nanos
                    .map_or_else(|| "-".into(), |n| usd(n, 4)),
                day.cost_per_query_nanos.map_or_else(|| "-".into(), cents),
                thousands(day.llm_calls),
                thousands(day.tokens_input.saturating_add(day.tokens_output)),
            ]));
        }
        let t = &self.totals;
        rows.push(row([
            "total".to_owned(),
            thousands(t.queries),
            usd(t.cost_nanos, 2),
            t.cost_per_query_nanos
                .map_or_else(|| "-".into(), |n| usd(n, 4)),
            t.cost_per_query_nanos.map_or_else(|| "-".into(), cents),
            thousands(t.llm_calls),
            thousands(t.tokens_input.saturating_add(t.tokens_output)),
        ]));
        table(&mut out, &rows, Some(rows.len() - 1));

        out.push_str(&format!(
            "\nby {} (each span on the UTC day it ended)\n\n",
            self.by
        ));
        if self.breakdown.is_empty() {
            out.push_str("no llm calls in this window\n");
            return out;
        }
        let mut rows = vec![row([
            self.by.as_str(),
            "cost",
            "share",
            "llm calls",
            "tokens in",
            "tokens out",
            "errors",
        ])];
        for r in &self.breakdown {
            rows.push(row([
                r.key.clone().unwrap_or_else(|| "(none)".into()),
                usd(r.cost_nanos, 2),
                format!("{:.1}%", r.share * 100.0),
                thousands(r.llm_calls),
                thousands(r.tokens_input),
                thousands(r.tokens_output),
                thousands(r.errors),
            ]));
        }
        table(&mut out, &rows, None);
        out
    }
}

fn money_day(day: &DayCost) -> MoneyDay {
    MoneyDay {
        day: day.day,
        queries: day.queries,
        cost_nanos: day.cost_nanos,
        cost_usd: usd_exact(day.cost_nanos),
        cost_per_query_nanos: day.cost_per_query_nanos,
        cost_per_query_usd: day.cost_per_query_nanos.map(usd_exact),
        llm_calls: day.llm_calls,
        tokens_input: day.tokens_input,
        tokens_output: day.tokens_output,
    }
}

fn money_row(r: &BreakdownRow) -> MoneyBreakdownRow {
    MoneyBreakdownRow {
        key: r.key.clone(),
        cost_nanos: r.cost_nanos,
        cost_usd: usd_exact(r.cost_nanos),
        share: r.share,
        llm_calls: r.llm_calls,
        tokens_input: r.tokens_input,
        tokens_output: r.tokens_output,
        errors: r.errors,
        error_cost_nanos: r.error_cost_nanos,
    }
}

// ===== formatting =====

/// Nano-USD as an exact decimal string with nine decimals: `1234567` → `"0.001234567"`.
#[must_use]
pub fn usd_exact(nanos: i64) -> String {
    fixed(nanos, 9, 9, false)
}

/// Nano-USD for people: `$` and at least `min_decimals` decimals, more for small amounts so
/// that three significant digits show (`$0.000123`), rounded half away from zero.
#[must_use]
pub fn usd(nanos: i64, min_decimals: u32) -> String {
    let decimals = min_decimals.max(significant_decimals(nanos, 9)).min(9);
    let text = fixed(nanos, 9, decimals, true);
    match text.strip_prefix('-') {
        Some(positive) => format!("-${positive}"),
        None => format!("${text}"),
    }
}

/// Nano-USD as cents: `12_345_678` → `1.23¢`; three significant digits below one cent.
#[must_use]
pub fn cents(nanos: i64) -> String {
    // One cent is 1e7 nano-USD.
    let decimals = 2_u32.max(significant_decimals(nanos, 7)).min(7);
    format!("{}¢", fixed(nanos, 7, decimals, true))
}

/// Decimals needed to show three significant digits of `value / 10^scale` when it is below 1.
fn significant_decimals(value: i64, scale: u32) -> u32 {
    let magnitude = value.unsigned_abs();
    if magnitude == 0 || magnitude >= 10_u64.pow(scale) {
        return 0;
    }
    let digits = magnitude.ilog10() + 1;
    scale - digits + 3
}

/// `value / 10^scale` with `decimals` decimals (`decimals <= scale`), rounded half away from
/// zero, optionally with thousands separators. Integer arithmetic only.
fn fixed(value: i64, scale: u32, decimals: u32, separators: bool) -> String {
    let magnitude = u128::from(value.unsigned_abs());
    let unit = 10_u128.pow(scale - decimals.min(scale));
    let rounded = (magnitude + unit / 2) / unit;
    let one = 10_u128.pow(decimals.min(scale));
    let (int, frac) = (rounded / one, rounded % one);
    let int = if separators {
        group(int)
    } else {
        int.to_string()
    };
    let sign = if value < 0 && rounded != 0 { "-" } else { "" };
    if decimals == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac:0width$}", width = decimals as usize)
    }
}

/// An integer with `,` every three digits.
fn thousands(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", group(u128::from(n.unsigned_abs())))
}

fn group(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn row<S: Into<String>, const N: usize>(cells: [S; N]) -> Vec<String> {
    cells.into_iter().map(Into::into).collect()
}

/// Appends `rows` as a table: first column left-aligned, the rest right-aligned, two spaces
/// between columns, and a rule above row `rule_before` (the totals).
fn table(out: &mut String, rows: &[Vec<String>], rule_before: Option<usize>) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let total_width = widths.iter().sum::<usize>() + 2 * columns.saturating_sub(1);
    for (i, cells) in rows.iter().enumerate() {
        if Some(i) == rule_before {
            out.push_str(&"-".repeat(total_width));
            out.push('\n');
        }
        let mut line = String::new();
        for (c, cell) in cells.iter().enumerate() {
            let pad = widths[c].saturating_sub(cell.chars().count());
            if c == 0 {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str("  ");
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_formatted_from_integers_with_sensible_precision() {
        assert_eq!(usd_exact(1_234_567), "0.001234567");
        assert_eq!(usd_exact(-5), "-0.000000005");
        assert_eq!(usd_exact(12_000_000_000), "12.000000000");
        assert_eq!(usd(1_234_567_890_123, 2), "$1,234.57");
        assert_eq!(usd(12_345_000, 4), "$0.0123");
        assert_eq!(usd(123_456, 4), "$0.000123");
        assert_eq!(usd(5, 4), "$0.000000005");
        assert_eq!(usd(0, 2), "$0.00");
        assert_eq!(usd(-1_500_000_000, 2), "-$1.50");
        assert_eq!(usd(15_000_000, 2), "$0.0150");
        assert_eq!(cents(12_345_678), "1.23¢");
        assert_eq!(cents(1_234_567), "0.123¢");
        assert_eq!(cents(1_000_000_000), "100.00¢");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-12), "-12");
    }
}
