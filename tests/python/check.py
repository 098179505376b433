"""Assertions of tests/python/run.sh (stdlib only).

    check.py store   --data DIR --project P --queries N --instrumentation openai-v2|openinference
    check.py phoenix --url URL --project P --queries N --data GATEWAY_DIR [--openinference]

Every check prints `ok:` or `FAIL:` with what it compared, and is appended to $RESULTS (one
`pass`/`fail` per line) for run.sh's closing count. Exit status 1 when any check failed.
Waits are bounded (--timeout seconds, default 30).

Expected costs are computed here from gpt-4o-mini's OpenAI list price (per 1M tokens: $0.15
input, $0.075 cached input, $0.60 output; src/pricing/data/openai.toml, from
platform.openai.com/docs/pricing) and the canned usage of fake_openai.py (1200 prompt tokens of
which 1000 cached, 300 completion tokens), in integer nano-USD like Peekr.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any, Callable

# Per 1M tokens, in nano-USD per token: $0.15/1M = 150 nano-USD per token.
NANOS_PER_TOKEN_INPUT = 150
NANOS_PER_TOKEN_CACHE_READ = 75
NANOS_PER_TOKEN_OUTPUT = 600

PROMPT_TOKENS = 1200
CACHED_TOKENS = 1000
COMPLETION_TOKENS = 300
REQUEST_MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"

# opentelemetry-instrumentation-openai-v2 2.4b0 does not record
# usage.prompt_tokens_details.cached_tokens on chat-completion spans (no
# gen_ai.usage.cache_read.input_tokens), so all 1200 prompt tokens are priced as uncached input.
V2_INPUT_NANOS = PROMPT_TOKENS * NANOS_PER_TOKEN_INPUT  # 180_000
V2_OUTPUT_NANOS = COMPLETION_TOKENS * NANOS_PER_TOKEN_OUTPUT  # 180_000
V2_COST_NANOS = V2_INPUT_NANOS + V2_OUTPUT_NANOS  # 360_000 = $0.00036

# openinference-instrumentation-openai records llm.token_count.prompt_details.cache_read.
OI_INPUT_NANOS = (PROMPT_TOKENS - CACHED_TOKENS) * NANOS_PER_TOKEN_INPUT  # 30_000
OI_CACHE_READ_NANOS = CACHED_TOKENS * NANOS_PER_TOKEN_CACHE_READ  # 75_000
OI_COST_NANOS = OI_INPUT_NANOS + OI_CACHE_READ_NANOS + V2_OUTPUT_NANOS  # 285_000 = $0.000285

failures = 0


def record(ok: bool, what: str, detail: str = "") -> None:
    global failures
    print(f"  {'ok' if ok else 'FAIL'}: {what}" + (f" ({detail})" if detail else ""), flush=True)
    if not ok:
        failures += 1
    results = os.environ.get("RESULTS")
    if results:
        with open(results, "a", encoding="utf-8") as f:
            f.write(("pass" if ok else "fail") + "\t" + what + "\n")


def check_eq(what: str, got: Any, want: Any) -> None:
    record(got == want, f"{what} == {want!r}", "" if got == want else f"got {got!r}")


def usd(nanos: int) -> float:
    """Nano-USD as the double Peekr writes (`Nanos::as_usd_f64`)."""
    return nanos / 1e9


def peekr_sql(data: str, statement: str) -> list[dict[str, Any]]:
    peekr = os.environ["PEEKR_BIN"]
    out = subprocess.run(
        [peekr, "sql", "--data", data, "--json", statement],
        check=True, capture_output=True, text=True, timeout=30,
    )
    return json.loads(out.stdout)["rows"]


def wait_for(what: str, timeout: float, probe: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = probe()
            if done(last):
                record(True, what)
                return last
        except (subprocess.SubprocessError, urllib.error.URLError, OSError, ValueError, KeyError) as e:
            last = e
        if time.monotonic() > deadline:
            record(False, what, f"timed out after {timeout:.0f} s; last saw {last!r}"[:600])
            return last if not isinstance(last, Exception) else None
        time.sleep(0.25)


def store(args: argparse.Namespace) -> None:
    oi = args.instrumentation == "openinference"
    n = args.queries
    print(f"store: project {args.project}, {n} queries through {args.instrumentation}")
    count_sql = f"SELECT COUNT(*) AS n FROM spans WHERE project = '{args.project}'"
    wait_for(
        f"{2 * n} spans ({n} root + {n} LLM) committed for project {args.project}",
        args.timeout,
        lambda: peekr_sql(args.data, count_sql)[0]["n"],
        lambda got: got >= 2 * n,
    )
    rows = peekr_sql(
        args.data,
        "SELECT span_id, parent_span_id, name, service, operation, provider, model, cost_status, cost_usd,"
        " cost_nanos, tokens_input, tokens_output, tokens_total, cache_read_tokens, attributes"
        f" FROM spans WHERE project = '{args.project}' AND cost_status IS NOT NULL ORDER BY start_time",
    )
    check_eq("priced LLM spans", len(rows), n)
    want_nanos = OI_COST_NANOS if oi else V2_COST_NANOS
    for i, r in enumerate(rows):
        attrs = json.loads(r["attributes"])
        tag = f"span {i} ({r['name']})"
        check_eq(f"{tag} model", r["model"], RESPONSE_MODEL)
        check_eq(f"{tag} cost_status", r["cost_status"], "priced")
        check_eq(f"{tag} cost_nanos", r["cost_nanos"], want_nanos)
        check_eq(f"{tag} cost_usd", r["cost_usd"], usd(want_nanos))
        check_eq(f"{tag} tokens_input", r["tokens_input"], PROMPT_TOKENS)
        check_eq(f"{tag} tokens_output", r["tokens_output"], COMPLETION_TOKENS)
        check_eq(f"{tag} operation", r["operation"], "chat")
        record(r["parent_span_id"] is not None, f"{tag} has a parent (the handle_query root span)")
        check_eq(f"{tag} gen_ai.usage.cost", attrs.get("gen_ai.usage.cost"), usd(want_nanos))
        check_eq(f"{tag} peekr.pricing.model (dated snapshot resolved to its alias)", attrs.get("peekr.pricing.model"), REQUEST_MODEL)
        if oi:
            check_eq(f"{tag} cache_read_tokens", r["cache_read_tokens"], CACHED_TOKENS)
            check_eq(f"{tag} peekr.cost.cache_read", attrs.get("peekr.cost.cache_read"), usd(OI_CACHE_READ_NANOS))
            check_eq(f"{tag} peekr.cost.input", attrs.get("peekr.cost.input"), usd(OI_INPUT_NANOS))
        else:
            check_eq(f"{tag} provider", r["provider"], "openai")
            check_eq(f"{tag} peekr.cost.input", attrs.get("peekr.cost.input"), usd(V2_INPUT_NANOS))
            check_eq(f"{tag} peekr.cost.output", attrs.get("peekr.cost.output"), usd(V2_OUTPUT_NANOS))
            # Documents the instrumentation's gap that the expected cost above depends on: when a
            # new version records cached tokens, expect OI_COST_NANOS here instead.
            record(
                "gen_ai.usage.cache_read.input_tokens" not in attrs,
                f"{tag} has no gen_ai.usage.cache_read.input_tokens (instrumentation-openai-v2 2.4b0 does not record cached tokens)",
            )
            check_eq(f"{tag} cache_read_tokens", r["cache_read_tokens"], 0)
    totals = peekr_sql(
        args.data,
        "SELECT SUM(cost_nanos) AS total, COUNT(DISTINCT trace_id) AS traces,"
        " SUM(CASE WHEN parent_span_id IS NULL THEN 1 ELSE 0 END) AS roots"
        f" FROM spans WHERE project = '{args.project}'",
    )[0]
    check_eq("total cost_nanos of the project", totals["total"], n * want_nanos)
    check_eq("root spans (one per query)", totals["roots"], n)
    if totals["total"] is not None and totals["traces"]:
        check_eq("cost per query in nano-USD (total / root traces)", totals["total"] // totals["traces"], want_nanos)
    else:
        record(False, "cost per query", "no spans")


def phoenix_get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)


def phoenix(args: argparse.Namespace) -> None:
    n = args.queries
    print(f"phoenix: project {args.project}, {n} queries, llm.cost.total {'expected' if args.openinference else 'not expected'}")
    spans_url = f"{args.url}/v1/projects/{args.project}/spans?limit=1000"
    data = wait_for(
        f"Phoenix REST API lists {2 * n} spans of project {args.project}",
        args.timeout,
        lambda: phoenix_get(spans_url)["data"],
        lambda got: len(got) >= 2 * n,
    ) or []
    llm = [s for s in data if "gen_ai.request.model" in s.get("attributes", {})]
    check_eq("LLM spans in Phoenix", len(llm), n)
    stored = {
        r["span_id"]: r
        for r in peekr_sql(args.data, "SELECT span_id, cost_usd, cost_nanos FROM spans WHERE cost_status IS NOT NULL")
    }
    for s in llm:
        sid = s["context"]["span_id"]
        attrs = s["attributes"]
        tag = f"Phoenix span {sid}"
        want = usd(V2_COST_NANOS)
        check_eq(f"{tag} gen_ai.usage.cost", attrs.get("gen_ai.usage.cost"), want)
        row = stored.get(sid)
        record(row is not None, f"{tag} is stored by the gateway too")
        if row is not None:
            check_eq(f"{tag} gen_ai.usage.cost equals the gateway's stored cost_usd", attrs.get("gen_ai.usage.cost"), row["cost_usd"])
        check_eq(f"{tag} peekr.cost.status", attrs.get("peekr.cost.status"), "priced")
        check_eq(f"{tag} peekr.pricing.model", attrs.get("peekr.pricing.model"), REQUEST_MODEL)
        if args.openinference:
            check_eq(f"{tag} llm.cost.total", attrs.get("llm.cost.total"), want)
        else:
            record("llm.cost.total" not in attrs, f"{tag} has no llm.cost.total without --dialect openinference")


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("store")
    s.add_argument("--data", required=True)
    s.add_argument("--project", required=True)
    s.add_argument("--queries", type=int, required=True)
    s.add_argument("--instrumentation", choices=["openai-v2", "openinference"], default="openai-v2")
    s.add_argument("--timeout", type=float, default=30)
    p = sub.add_parser("phoenix")
    p.add_argument("--url", required=True)
    p.add_argument("--project", required=True)
    p.add_argument("--queries", type=int, required=True)
    p.add_argument("--data", required=True, help="the forwarding gateway's data dir")
    p.add_argument("--openinference", action="store_true")
    p.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    {"store": store, "phoenix": phoenix}[args.cmd](args)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
