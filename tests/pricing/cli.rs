//! `peekr price` and `peekr prices` through the real binary (feature `server`).

use std::process::Command;

fn peekr(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_peekr"))
        .args(args)
        .output()
        .expect("runs peekr");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn price_human_output() {
    let (out, err, code) = peekr(&[
        "price",
        "--model",
        "gpt-4o",
        "--input",
        "1000000",
        "--output",
        "1000000",
        "--at",
        "2025-01-01T00:00:00Z",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("gpt-4o (openai)"), "{out}");
    assert!(out.contains("total        $12.500000000 USD"), "{out}");
}

#[test]
fn price_json_output() {
    let (out, err, code) = peekr(&[
        "price",
        "--model",
        "claude-sonnet-4-5-20250929",
        "--input",
        "100000",
        "--cache-read",
        "60000",
        "--cache-write",
        "20000",
        "--cache-write-1h",
        "10000",
        "--output",
        "2000",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(v["status"], "priced");
    assert_eq!(v["model"], "claude-sonnet-4-5");
    assert_eq!(v["provider"], "anthropic");
    // 10k text x $3 + 60k read x $0.30 + 20k 5m write x $3.75 + 10k 1h write x $6 + 2k out x $15.
    assert_eq!(v["cost_usd"], "0.213000000");
    assert_eq!(v["components"]["cache_write"], "0.135000000");
}

#[test]
fn price_flags_service_tier_batch_and_at() {
    let (out, _, code) = peekr(&[
        "price",
        "--model",
        "o3",
        "--input",
        "1000000",
        "--output",
        "1000000",
        "--service-tier",
        "flex",
        "--json",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("\"cost_usd\":\"5.000000000\""), "{out}");
    let (out, _, code) = peekr(&[
        "price",
        "--model",
        "o3",
        "--input",
        "1000",
        "--output",
        "2000",
        "--at",
        "2025-05-01T00:00:00Z",
        "--json",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("\"cost_usd\":\"0.090000000\""), "{out}");
    let (out, _, code) = peekr(&[
        "price", "--model", "gpt-4o", "--input", "1000000", "--output", "1000000", "--batch",
        "--json",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("\"cost_usd\":\"6.250000000\""), "{out}");
}

#[test]
fn unknown_model_exits_3_never_zero() {
    let (out, err, code) = peekr(&[
        "price",
        "--model",
        "my-private-llm",
        "--input",
        "10",
        "--output",
        "10",
    ]);
    assert_eq!(code, 3);
    assert!(err.contains("unknown model `my-private-llm`"), "{out}{err}");
    let (out, _, code) = peekr(&[
        "price",
        "--model",
        "my-private-llm",
        "--input",
        "10",
        "--output",
        "10",
        "--json",
    ]);
    assert_eq!(code, 3);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(v["status"], "unpriced_model");
    assert!(v["cost_usd"].is_null());
}

#[test]
fn bad_arguments_exit_2() {
    assert_eq!(
        peekr(&[
            "price", "--model", "gpt-4o", "--input", "ten", "--output", "1"
        ])
        .2,
        2
    );
    assert_eq!(peekr(&["price", "--model", "gpt-4o", "--output", "1"]).2, 2);
    assert_eq!(
        peekr(&[
            "price",
            "--model",
            "gpt-4o",
            "--input",
            "1",
            "--output",
            "1",
            "--service-tier",
            "turbo"
        ])
        .2,
        2
    );
    assert_eq!(
        peekr(&[
            "price",
            "--model",
            "gpt-4o",
            "--input",
            "1",
            "--output",
            "1",
            "--at",
            "yesterday"
        ])
        .2,
        2
    );
    assert_eq!(
        peekr(&[
            "price",
            "--model",
            "gpt-4o",
            "--input",
            "1",
            "--output",
            "1",
            "--cache-read",
            "5"
        ])
        .2,
        2
    );
}

#[test]
fn prices_list_summary_prints_the_counts() {
    let (out, err, code) = peekr(&["prices", "list", "--summary"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("total: "), "{out}");
    let (out, _, code) = peekr(&["prices", "list", "--summary", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(v["models"].as_u64().unwrap() >= 400);
    assert!(v["providers"].as_u64().unwrap() >= 12);
    let (out, _, code) = peekr(&["prices", "list", "--provider", "anthropic"]);
    assert_eq!(code, 0);
    assert!(out.contains("claude-sonnet-4-5"), "{out}");
}

#[test]
fn prices_check_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[[model]]\nid = \"x\"\nprovider = \"p\"\n[[model.price]]\ninput = 1\noutput = 2\n",
    )
    .unwrap();
    let (out, _, code) = peekr(&["prices", "check", good.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("ok, 1 models"), "{out}");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[model]]\nid = \"x\"\nprovider = \"p\"\n[[model.price]]\ninput = 1\n",
    )
    .unwrap();
    let (_, err, code) = peekr(&["prices", "check", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "{}:2: model `x`: price needs both `input` and `output`",
            bad.display()
        )),
        "{err}"
    );
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/litellm-model-prices-excerpt.json"
    );
    let (out, err, code) = peekr(&["prices", "check", fixture]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(": ok, "), "{out}");
    assert!(
        err.contains("warning: whisper-1: no per-token input price"),
        "{err}"
    );
    let (out, _, code) = peekr(&["prices", "check"]);
    assert_eq!(code, 0);
    assert!(out.contains("built-in catalog: ok"), "{out}");
}
