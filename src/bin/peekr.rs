//! The `peekr` command line: `serve`, `price`, `prices`, `report`, `sql`, `keys`.
//!
//! Run `peekr --help` for the commands; DESIGN.md §7 and the README describe each.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::{Args, Parser, Subcommand};
use peekr::enrich::Dialects;
use peekr::server::alerting::{AlertingConfig, Webhook};
use peekr::server::auth::{KeyScope, KeyStore};
use peekr::server::forward::ForwardTarget;
use peekr::server::prometheus::MetricsAccess;
use peekr::server::receiver::{DATA_DIR_DEFAULT, DB_FILE, HTTP_DEFAULT, LISTEN_DEFAULT};
use peekr::server::report::{ReportOptions, render_report};
use peekr::server::store::{Dimension, SqliteStore, run_readonly_sql};
use peekr::server::{Receiver, ReceiverConfig};

/// Cost per query for LLM agents.
#[derive(Debug, Parser)]
#[command(name = "peekr", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the OTLP/gRPC receiver, gateway and Costs page.
    Serve(ServeArgs),
    /// Price one call from token counts (exit 0 priced, 3 unknown model, 2 bad arguments).
    Price(PriceCmd),
    /// List the price catalog or check a price file.
    Prices(PricesCmd),
    /// Cost per query per day, with totals and a breakdown.
    Report(ReportArgs),
    /// Run one read-only SQL statement against the store.
    Sql(SqlArgs),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Args)]
struct DataArg {
    /// Data directory holding peekr.db.
    #[arg(long = "data", value_name = "DIR", env = "PEEKR_DATA", default_value = DATA_DIR_DEFAULT)]
    data: PathBuf,
}

impl DataArg {
    fn db(&self) -> PathBuf {
        self.data.join(DB_FILE)
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    data: DataArg,
    /// OTLP/gRPC listen address.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Costs page listen address.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// Forward enriched spans to this OTLP/gRPC endpoint (repeatable): URL[,header=value...].
    #[arg(long, value_name = "URL")]
    forward: Vec<ForwardTarget>,
    /// Price file layered over the built-in catalog (repeatable); reloaded when it changes.
    #[arg(long, value_name = "FILE")]
    prices: Vec<PathBuf>,
    /// Seed 30 days of demo traffic through the real processor and exporter.
    #[arg(long)]
    demo: bool,
    /// Demo queries per day.
    #[arg(long, value_name = "N", default_value_t = 60, requires = "demo")]
    demo_queries_per_day: u64,
    /// Delete data older than this many days.
    #[arg(long, value_name = "DAYS")]
    retention_days: Option<u32>,
    /// Also write these cost attribute dialects on forwarded spans: openinference, semconv, logfire.
    #[arg(long = "dialect", value_name = "NAME")]
    dialects: Vec<String>,
    /// Cost-spike alert: fire when today's cost per query is at least M times the 7 days
    /// before (per project, over the stored daily rollups).
    #[arg(long, value_name = "M")]
    alert_multiplier: Option<f64>,
    /// Seconds between alert evaluations (the first runs 10 s after start); 0 turns alerting off.
    #[arg(long, value_name = "SECS")]
    alert_interval_secs: Option<u64>,
    /// POST each fired/resolved alert as signed JSON to this http:// URL (repeatable).
    #[arg(long, value_name = "URL")]
    webhook: Vec<String>,
    /// HMAC-SHA256 secret signing every webhook body (header x-peekr-signature); required with
    /// --webhook.
    #[arg(
        long,
        value_name = "SECRET",
        env = "PEEKR_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    webhook_secret: Option<String>,
    /// Require `authorization: Bearer KEY` on GET /metrics; without it, /metrics answers
    /// loopback clients only.
    #[arg(
        long,
        value_name = "KEY",
        env = "PEEKR_METRICS_KEY",
        hide_env_values = true
    )]
    metrics_key: Option<String>,
    /// Optional TOML config file with the same keys as these flags (flags win).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// The optional `--config` file: the same settings as the flags.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeFile {
    data: Option<PathBuf>,
    listen: Option<SocketAddr>,
    http: Option<SocketAddr>,
    #[serde(default)]
    forward: Vec<String>,
    #[serde(default)]
    prices: Vec<PathBuf>,
    retention_days: Option<u32>,
    #[serde(default)]
    dialects: Vec<String>,
    alert_multiplier: Option<f64>,
    alert_interval_secs: Option<u64>,
    #[serde(default)]
    webhook: Vec<String>,
    webhook_secret: Option<String>,
    metrics_key: Option<String>,
}

#[derive(Debug, Args)]
struct PriceCmd {
    #[command(flatten)]
    args: peekr::server::price_cli::PriceArgs,
    /// Price file layered over the built-in catalog (repeatable).
    #[arg(long, value_name = "FILE")]
    prices: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct PricesCmd {
    #[command(flatten)]
    args: peekr::server::price_cli::PricesArgs,
    /// Price file layered over the built-in catalog (repeatable).
    #[arg(long, value_name = "FILE", global = true)]
    prices: Vec<PathBuf>,
}

fn catalog(files: &[PathBuf]) -> Result<peekr::PricingTable, ExitCode> {
    peekr::server::receiver::load_prices(files).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

#[derive(Debug, Args)]
struct ReportArgs {
    #[command(flatten)]
    data: DataArg,
    /// Number of days, ending today (UTC).
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Breakdown: model, operation or tenant.
    #[arg(long, default_value = "model")]
    by: Dimension,
    /// Project (default: the only project in the store).
    #[arg(long)]
    project: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Print insights instead: prompt bloat, model mismatch, embedding share, wasted spend and
    /// cost-per-query jumps, each with what to do and the saving per day.
    #[arg(long)]
    insights: bool,
}

#[derive(Debug, Args)]
struct SqlArgs {
    #[command(flatten)]
    data: DataArg,
    /// The statement, e.g. "SELECT model, SUM(cost_usd) FROM spans GROUP BY model".
    statement: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// At most this many rows.
    #[arg(long, default_value_t = 10_000)]
    max_rows: usize,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key and print it once.
    Create {
        #[command(flatten)]
        data: DataArg,
        /// The project the key belongs to.
        #[arg(long)]
        project: String,
        /// `ingest` (send spans and read) or `read` (Costs page only).
        #[arg(long, default_value = "ingest")]
        scope: String,
    },
    /// List keys (never the secrets).
    List {
        #[command(flatten)]
        data: DataArg,
        /// Only this project's keys.
        #[arg(long)]
        project: Option<String>,
    },
    /// Revoke a key by id or display prefix.
    Revoke {
        #[command(flatten)]
        data: DataArg,
        /// Key id or prefix (`pk_1a2b3c4d`).
        key: String,
    },
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
}

fn parse_dialects(names: &[String]) -> Result<Dialects, String> {
    let mut d = Dialects::default();
    for n in names {
        match n.as_str() {
            "openinference" => d.openinference = true,
            "semconv" => d.semconv_proposal = true,
            "logfire" => d.logfire = true,
            other => {
                return Err(format!(
                    "unknown dialect `{other}` (expected openinference, semconv or logfire)"
                ));
            }
        }
    }
    Ok(d)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Price(cmd) => match catalog(&cmd.prices) {
            Ok(table) => exit_code(peekr::server::price_cli::run_price(&cmd.args, &table).emit()),
            Err(code) => code,
        },
        Command::Prices(cmd) => match catalog(&cmd.prices) {
            Ok(table) => exit_code(peekr::server::price_cli::run_prices(&cmd.args, &table).emit()),
            Err(code) => code,
        },
        Command::Report(args) => {
            let store = match open_existing(&args.data.db()) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let options = ReportOptions {
                days: args.days,
                by: args.by,
                project: args.project,
                json: args.json,
                today: None,
            };
            let rendered = if args.insights {
                peekr::server::query::insights_report(&store, &options)
            } else {
                render_report(&store, &options)
            };
            match rendered {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Sql(args) => sql(&args),
        Command::Keys(cmd) => keys(cmd),
    }
}

fn open_existing(db: &Path) -> Result<SqliteStore, ExitCode> {
    if !db.exists() {
        return Err(fail(format!(
            "no store at {}: run `peekr serve` first (or pass --data DIR)",
            db.display()
        )));
    }
    SqliteStore::open_path(db).map_err(fail)
}

fn sql(args: &SqlArgs) -> ExitCode {
    let db = args.data.db();
    if !db.exists() {
        return fail(format!(
            "no store at {}: run `peekr serve` first (or pass --data DIR)",
            db.display()
        ));
    }
    match run_readonly_sql(&db, &args.statement, Some(args.max_rows)) {
        Ok(out) => {
            if args.json {
                let rows: Vec<serde_json::Value> = out
                    .rows
                    .iter()
                    .map(|r| {
                        serde_json::Value::Object(
                            out.columns.iter().cloned().zip(r.iter().cloned()).collect(),
                        )
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({ "columns": out.columns, "rows": rows, "truncated": out.truncated })
                );
            } else {
                print!("{}", table(&out.columns, &out.rows));
                if out.truncated {
                    println!("(truncated at {} rows)", args.max_rows);
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "NULL".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn table(columns: &[String], rows: &[Vec<serde_json::Value>]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(cell).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r.get(i).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
                .max(c.len())
        })
        .collect();
    let line = |vals: &[String]| {
        vals.iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
            + "\n"
    };
    let mut out = line(columns);
    out += &(widths
        .iter()
        .map(|w| "-".repeat(*w))
        .collect::<Vec<_>>()
        .join("  ")
        + "\n");
    for r in &cells {
        out += &line(r);
    }
    out
}

fn keys(cmd: KeysCommand) -> ExitCode {
    let open = |data: &DataArg| -> Result<KeyStore, ExitCode> {
        std::fs::create_dir_all(&data.data)
            .map_err(|e| fail(format!("cannot create {}: {e}", data.data.display())))?;
        KeyStore::open(&data.db()).map_err(fail)
    };
    match cmd {
        KeysCommand::Create {
            data,
            project,
            scope,
        } => {
            let scope = match scope.as_str() {
                "ingest" => KeyScope::Ingest,
                "read" => KeyScope::Read,
                other => {
                    eprintln!("error: unknown scope `{other}` (expected ingest or read)");
                    return ExitCode::from(2);
                }
            };
            let ks = match open(&data) {
                Ok(k) => k,
                Err(c) => return c,
            };
            match ks.create(&project, scope) {
                Ok(k) => {
                    println!("{}", k.secret);
                    eprintln!(
                        "created {} key {} for project `{}`; it is shown only once",
                        scope.as_str(),
                        k.info.prefix,
                        project
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        KeysCommand::List { data, project } => {
            let ks = match open(&data) {
                Ok(k) => k,
                Err(c) => return c,
            };
            match ks.list(project.as_deref()) {
                Ok(list) => {
                    let columns = [
                        "id",
                        "project",
                        "scope",
                        "prefix",
                        "created_at",
                        "revoked_at",
                    ]
                    .map(String::from);
                    let rows: Vec<Vec<serde_json::Value>> = list
                        .iter()
                        .map(|k| {
                            vec![
                                k.id.into(),
                                k.project.clone().into(),
                                k.scope.as_str().into(),
                                k.prefix.clone().into(),
                                k.created_at.to_string().into(),
                                k.revoked_at
                                    .map_or(serde_json::Value::Null, |t| t.to_string().into()),
                            ]
                        })
                        .collect();
                    print!("{}", table(&columns, &rows));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        KeysCommand::Revoke { data, key } => {
            let ks = match open(&data) {
                Ok(k) => k,
                Err(c) => return c,
            };
            match ks.revoke(&key) {
                Ok(info) => {
                    println!(
                        "revoked key {} ({}) of project `{}`",
                        info.id, info.prefix, info.project
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}

/// The alerting settings from the flags, else the config file, else the defaults.
fn alerting_config(args: &ServeArgs, file: &ServeFile) -> Result<AlertingConfig, String> {
    let defaults = AlertingConfig::default();
    let multiplier = args
        .alert_multiplier
        .or(file.alert_multiplier)
        .unwrap_or(defaults.multiplier);
    if !multiplier.is_finite() || multiplier < 1.0 {
        return Err(format!(
            "--alert-multiplier must be a number >= 1.0 (got {multiplier})"
        ));
    }
    let interval = args
        .alert_interval_secs
        .or(file.alert_interval_secs)
        .map_or(defaults.interval, Duration::from_secs);
    let urls = if args.webhook.is_empty() {
        &file.webhook
    } else {
        &args.webhook
    };
    let secret = args
        .webhook_secret
        .as_ref()
        .or(file.webhook_secret.as_ref());
    let webhooks = match (urls.is_empty(), secret) {
        (true, _) => Vec::new(),
        (false, None) => {
            return Err(
                "--webhook needs --webhook-secret (or PEEKR_WEBHOOK_SECRET) to sign the alerts"
                    .to_owned(),
            );
        }
        (false, Some(secret)) => urls
            .iter()
            .map(|u| Webhook::new(u.trim(), secret.as_bytes()).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?,
    };
    Ok(AlertingConfig {
        multiplier,
        interval,
        webhooks,
        ..defaults
    })
}

fn serve(args: ServeArgs) -> ExitCode {
    let file = match &args.config {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| toml::from_str::<ServeFile>(&t).map_err(|e| e.to_string()))
        {
            Ok(f) => f,
            Err(e) => return fail(format!("{}: {e}", path.display())),
        },
        None => ServeFile::default(),
    };
    // Flags win over the config file, which wins over defaults.
    let data_dir = if args.data.data.as_os_str() != DATA_DIR_DEFAULT {
        args.data.data.clone()
    } else {
        file.data.clone().unwrap_or_else(|| args.data.data.clone())
    };
    let listen = args.listen.or(file.listen).unwrap_or_else(|| {
        LISTEN_DEFAULT
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 4317)))
    });
    let http = args.http.or(file.http).unwrap_or_else(|| {
        HTTP_DEFAULT
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080)))
    });
    let mut forward = args.forward.clone();
    if forward.is_empty() {
        for f in &file.forward {
            match f.parse() {
                Ok(t) => forward.push(t),
                Err(e) => return fail(e),
            }
        }
    }
    let prices = if args.prices.is_empty() {
        file.prices.clone()
    } else {
        args.prices.clone()
    };
    let dialects = match parse_dialects(if args.dialects.is_empty() {
        &file.dialects
    } else {
        &args.dialects
    }) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let alerting = match alerting_config(&args, &file) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let metrics_access = match args.metrics_key.clone().or(file.metrics_key.clone()) {
        Some(key) if key.trim().is_empty() => {
            eprintln!("error: --metrics-key must not be empty");
            return ExitCode::from(2);
        }
        Some(key) => MetricsAccess::Key(key.trim().into()),
        None => MetricsAccess::Loopback,
    };
    let config = ReceiverConfig {
        data_dir: data_dir.clone(),
        price_files: prices,
        forward,
        retention_days: args.retention_days.or(file.retention_days),
        dialects,
        alerting,
        metrics_access,
        ..ReceiverConfig::default()
    };
    let metrics_note = match config.metrics_access {
        MetricsAccess::Loopback => "loopback clients only; --metrics-key to open it",
        MetricsAccess::Key(_) => "bearer key required",
    };
    let alert_note = if config.alerting.enabled() {
        format!(
            "cost-spike alerts at {}x every {} s to the log and {} webhook(s)",
            config.alerting.multiplier,
            config.alerting.interval.as_secs(),
            config.alerting.webhooks.len()
        )
    } else {
        "cost-spike alerts off".to_owned()
    };
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start runtime: {e}")),
    };
    let result = runtime.block_on(async move {
        let receiver = Receiver::open(config).map_err(|e| e.to_string())?;
        let grpc = tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let http_l = tokio::net::TcpListener::bind(http).await.map_err(|e| format!("cannot listen on {http}: {e}"))?;
        let grpc_addr = grpc.local_addr().map_err(|e| e.to_string())?;
        let http_addr = http_l.local_addr().map_err(|e| e.to_string())?;
        eprintln!("peekr: receiving OTLP/gRPC on {grpc_addr}, Costs page on http://{http_addr}, data in {}", data_dir.display());
        eprintln!("peekr: Prometheus metrics on http://{http_addr}/metrics ({metrics_note}); {alert_note}");
        if args.demo {
            let keys = receiver.keys().clone();
            let already = {
                use peekr::server::store::Store as _;
                receiver.store().projects().map(|p| p.iter().any(|p| p == peekr::server::demo::DEMO_PROJECT)).unwrap_or(false)
            };
            let demo_days = args.demo_queries_per_day;
            tokio::spawn(async move {
                if let Err(e) = run_demo(keys, grpc_addr, http_addr, demo_days, already).await {
                    eprintln!("peekr: demo failed: {e}");
                }
            });
        }
        receiver.serve_with_shutdown(grpc, Some(http_l), peekr::server::receiver::shutdown_signal()).await.map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

async fn run_demo(
    keys: Arc<KeyStore>,
    grpc: SocketAddr,
    http: SocketAddr,
    per_day: u64,
    already_seeded: bool,
) -> Result<(), String> {
    use peekr::server::demo::{DEMO_PROJECT, send_demo_traffic};
    let ingest = keys
        .create(DEMO_PROJECT, KeyScope::Ingest)
        .map_err(|e| e.to_string())?;
    let read = keys
        .create(DEMO_PROJECT, KeyScope::Read)
        .map_err(|e| e.to_string())?;
    if already_seeded {
        eprintln!(
            "peekr: demo data already in this store (project `{DEMO_PROJECT}`); not seeding again\n\
             peekr:   ingest key (send your own spans): {}\n\
             peekr:   dashboard key (read-only):        {}\n\
             peekr: open http://{http}/ and sign in with the dashboard key, or run `peekr report`",
            ingest.secret, read.secret
        );
        return Ok(());
    }
    let endpoint = format!("http://{grpc}");
    let secret = ingest.secret.clone();
    let handle = tokio::runtime::Handle::current();
    let summary = tokio::task::spawn_blocking(move || {
        let _enter = handle.enter();
        send_demo_traffic(&endpoint, &secret, SystemTime::now(), per_day)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    eprintln!(
        "peekr: demo sent {} queries ({} spans) over 30 days through CostProcessor → OTLP → this receiver\n\
         peekr: project `{DEMO_PROJECT}`\n\
         peekr:   ingest key (send your own spans): {}\n\
         peekr:   dashboard key (read-only):        {}\n\
         peekr: open http://{http}/ and sign in with the dashboard key, or run `peekr report`",
        summary.queries, summary.spans, ingest.secret, read.secret
    );
    Ok(())
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("PEEKR_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
