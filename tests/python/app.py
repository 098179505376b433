"""The user's app: an OpenAI-client "agent" traced with the official OpenTelemetry Python SDK.

    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 \
    OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer%20$PEEKR_KEY" \
    OTEL_SERVICE_NAME=py-app \
    python app.py --base-url http://127.0.0.1:8000/v1 --queries 3

Nothing here knows about Peekr: it is the standard setup (TracerProvider + BatchSpanProcessor +
OTLP/gRPC exporter, configured by the OTEL_* environment variables) plus one GenAI
instrumentation of the `openai` client:

- `--instrumentation openai-v2` (default): the official OpenTelemetry one,
  `opentelemetry-instrumentation-openai-v2` (gen_ai.* attributes);
- `--instrumentation openinference`: Arize's `openinference-instrumentation-openai`
  (llm.* attributes), installed with Phoenix.

Each query is one root span (`handle_query`, with `tenant.id` and `session.id`) around one chat
completion. The exit code is non-zero when the exporter reported a failed export (e.g. a
missing or wrong API key: UNAUTHENTICATED), so a test never waits for spans that were refused.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult


class CheckedExporter(SpanExporter):
    """Delegates to the OTLP exporter and remembers whether every export succeeded."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.exported = 0
        self.failed = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.inner.export(spans)
        if result == SpanExportResult.SUCCESS:
            self.exported += len(spans)
        else:
            self.failed += len(spans)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


def main() -> int:
    ap = argparse.ArgumentParser(description="OpenAI client app traced with OpenTelemetry")
    ap.add_argument("--base-url", required=True, help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    ap.add_argument("--model", default="gpt-4o-mini")
    ap.add_argument("--queries", type=int, default=3)
    ap.add_argument("--tenant", default="acme")
    ap.add_argument("--instrumentation", choices=["openai-v2", "openinference"], default="openai-v2")
    args = ap.parse_args()

    # Resource from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES; exporter endpoint, headers,
    # compression and timeout from OTEL_EXPORTER_OTLP_*.
    provider = TracerProvider(resource=Resource.create())
    exporter = CheckedExporter(OTLPSpanExporter())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    if args.instrumentation == "openai-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    else:
        from openinference.instrumentation.openai import OpenAIInstrumentor
    OpenAIInstrumentor().instrument(tracer_provider=provider)

    import openai  # after instrument(), as the instrumentation's docs show

    client = openai.OpenAI(base_url=args.base_url, api_key="sk-fake-key-for-tests", max_retries=0, timeout=10)
    tracer = trace.get_tracer("peekr-python-test-app")
    for i in range(args.queries):
        with tracer.start_as_current_span(
            "handle_query",
            attributes={"tenant.id": args.tenant, "session.id": f"session-{i % 2}"},
        ):
            reply = client.chat.completions.create(
                model=args.model,
                messages=[
                    {"role": "system", "content": "You are a terse assistant."},
                    {"role": "user", "content": f"Question number {i}?"},
                ],
            )
            print(f"query {i}: {reply.model}: {reply.choices[0].message.content!r} usage={reply.usage.model_dump()}")

    provider.force_flush(30_000)
    provider.shutdown()
    print(f"exported {exporter.exported} spans, {exporter.failed} failed")
    if exporter.failed or exporter.exported == 0:
        print("error: the OTLP exporter did not deliver every span (see the exporter's log above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
