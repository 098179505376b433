"""A tiny fake of the OpenAI chat-completions API (stdlib only), for the Python client tests.

    python fake_openai.py --port 0 --port-file PATH

Binds 127.0.0.1 only. `POST /v1/chat/completions` (and `/chat/completions`) returns one canned
completion whose `model` is the dated snapshot `gpt-4o-mini-2024-07-18` (what OpenAI returns
for `gpt-4o-mini`) and whose usage has cached prompt tokens:

    prompt_tokens 1200 (of which cached 1000), completion_tokens 300

so the expected list-price cost (gpt-4o-mini: $0.15 input, $0.075 cache read, $0.60 output per
1M tokens) is 200*0.15e-6 + 1000*0.075e-6 + 300*0.60e-6 = $0.000285 per call. Every request
body is appended to the log given by --requests-log (one JSON object per line) so the test can
check the client really called the fake.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
PROMPT_TOKENS = 1200
CACHED_TOKENS = 1000
COMPLETION_TOKENS = 300

_lock = threading.Lock()
_counter = 0


def completion(request_model: str) -> dict:
    global _counter
    with _lock:
        _counter += 1
        n = _counter
    return {
        "id": f"chatcmpl-fake{n:06d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": RESPONSE_MODEL if request_model == "gpt-4o-mini" else request_model,
        "system_fingerprint": "fp_fake",
        "service_tier": "default",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": f"canned answer {n}", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": COMPLETION_TOKENS,
            "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
            "prompt_tokens_details": {"cached_tokens": CACHED_TOKENS, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    requests_log: str | None = None

    def log_message(self, fmt: str, *args: object) -> None:  # keep CI output quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        if self.path in ("/health", "/v1/models"):
            self._send(200, {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send(400, {"error": {"message": "invalid JSON", "type": "invalid_request_error"}})
            return
        if self.requests_log:
            with _lock, open(self.requests_log, "a", encoding="utf-8") as f:
                f.write(json.dumps({"path": self.path, "body": body}) + "\n")
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
            return
        if body.get("stream"):
            self._send(400, {"error": {"message": "the fake does not stream", "type": "invalid_request_error"}})
            return
        self._send(200, completion(str(body.get("model", ""))))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--requests-log", help="append each request body here (JSON lines)")
    args = ap.parse_args()
    Handler.requests_log = args.requests_log
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)
    print(f"fake openai on http://127.0.0.1:{port}/v1", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
