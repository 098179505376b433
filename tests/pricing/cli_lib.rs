//! `peekr price` / `peekr prices` as library functions (feature `server`), without the binary.

use peekr::pricing::PricingTable;
use peekr::server::price_cli::{
    PriceArgs, PricesArgs, PricesCheckArgs, PricesCommand, PricesListArgs, TierArg, run_price,
    run_prices, run_prices_check,
};

fn args(model: &str, input: u64, output: u64) -> PriceArgs {
    PriceArgs {
        model: model.to_owned(),
        input,
        output,
        at: Some("2025-07-01T00:00:00Z".to_owned()),
        ..PriceArgs::default()
    }
}

#[test]
fn price_json_has_exact_cost_status_model_provider_components() {
    let table = PricingTable::builtin();
    let mut a = args("claude-sonnet-4-5-20250929", 100_000, 2000);
    a.cache_read = 60_000;
    a.cache_write = 20_000;
    a.cache_write_1h = 10_000;
    a.json = true;
    let out = run_price(&a, &table);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["status"], "priced");
    assert_eq!(v["cost_usd"], "0.213000000");
    assert_eq!(v["model"], "claude-sonnet-4-5");
    assert_eq!(v["provider"], "anthropic");
    assert_eq!(v["components"]["input"], "0.030000000");
    assert_eq!(v["components"]["cache_read"], "0.018000000");
    assert_eq!(v["components"]["cache_write"], "0.135000000");
    assert_eq!(v["components"]["output"], "0.030000000");
    assert_eq!(v["components"]["other"], "0.000000000");
}

#[test]
fn price_human_output_and_flags() {
    let table = PricingTable::builtin();
    let out = run_price(&args("o3", 1000, 2000), &table);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("model        o3 (openai)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("total        $0.018000000 USD"),
        "{}",
        out.stdout
    );
    let mut a = args("o3", 1_000_000, 1_000_000);
    a.service_tier = Some(TierArg::Priority);
    assert!(
        run_price(&a, &table)
            .stdout
            .contains("total        $17.500000000 USD")
    );
    let mut a = args("o3", 1000, 2000);
    a.at = Some("2025-06-09".to_owned());
    assert!(
        run_price(&a, &table)
            .stdout
            .contains("total        $0.090000000 USD")
    );
    let mut a = args("gpt-4o", 1_000_000, 1_000_000);
    a.batch = true;
    assert!(run_price(&a, &table).stdout.contains("$6.250000000"));
}

#[test]
fn unknown_model_is_exit_3_and_bad_arguments_exit_2() {
    let table = PricingTable::builtin();
    let out = run_price(&args("my-private-llm", 10, 10), &table);
    assert_eq!(out.code, 3);
    assert!(out.stderr.contains("unknown model `my-private-llm`"));
    let mut a = args("my-private-llm", 10, 10);
    a.json = true;
    let out = run_price(&a, &table);
    assert_eq!(out.code, 3);
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["status"], "unpriced_model");
    assert!(v["cost_usd"].is_null());
    let mut a = args("gpt-4o", 10, 10);
    a.cache_read = 11;
    assert_eq!(run_price(&a, &table).code, 2);
    let mut a = args("gpt-4o", 10, 10);
    a.at = Some("yesterday".to_owned());
    assert_eq!(run_price(&a, &table).code, 2);
}

#[test]
fn prices_list_summary_counts() {
    let table = PricingTable::builtin();
    let list = |summary, json, provider: Option<&str>| {
        run_prices(
            &PricesArgs {
                command: PricesCommand::List(PricesListArgs {
                    summary,
                    json,
                    provider: provider.map(str::to_owned),
                }),
            },
            &table,
        )
    };
    let out = list(true, true, None);
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert!(v["models"].as_u64().unwrap() >= 400, "{v}");
    assert!(v["providers"].as_u64().unwrap() >= 12, "{v}");
    assert!(list(true, false, None).stdout.contains("total: "));
    let out = list(false, false, Some("anthropic"));
    assert!(out.stdout.contains("claude-sonnet-4-5"));
    assert!(!out.stdout.contains("gpt-4o"));
}

#[test]
fn prices_check_files() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[model]]\nid = \"x\"\nprovider = \"p\"\n[[model.price]]\ninput = 1\n",
    )
    .unwrap();
    let out = run_prices_check(&bad);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        format!(
            "{}:2: model `x`: price needs both `input` and `output`\n",
            bad.display()
        )
    );
    let fixture = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/genai-prices-v2-excerpt.json"
    ));
    let out = run_prices_check(fixture);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("warning: deepseek/deepseek-chat: price constraint"),
        "{}",
        out.stderr
    );
    let table = PricingTable::builtin();
    let out = run_prices(
        &PricesArgs {
            command: PricesCommand::Check(PricesCheckArgs { file: None }),
        },
        &table,
    );
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with("built-in catalog: ok, "));
}
