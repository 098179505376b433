//! A local fake of the OpenAI HTTP API, so the rig and genai examples and the `integrations`
//! tests run offline with real HTTP requests.
//!
//! It serves `POST /v1/chat/completions`, `POST /v1/responses` and `POST /v1/embeddings` on
//! `127.0.0.1:0` and answers each with a canned, OpenAI-shaped body whose `usage` is fixed
//! ([`CHAT_USAGE`], [`EMBEDDING_PROMPT_TOKENS`]), so the expected cost of every call is known in
//! advance. Chat completions also stream (server-sent events) the way OpenAI does: the usage
//! comes in a last chunk only when the request asks for it with
//! `stream_options.include_usage`. The other endpoints do not stream (`400`).
//!
//! Shared by `examples/rig.rs`, `examples/genai.rs` and `tests/integrations` through
//! `#[path]`; not every user needs every item.
#![allow(dead_code)] // Each includer uses a different subset.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// Token usage the fake reports for every chat completion (and Responses call).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChatUsage {
    /// `usage.prompt_tokens`: every input token, cached ones included (OpenAI semantics).
    pub(crate) prompt: u64,
    /// `usage.prompt_tokens_details.cached_tokens`.
    pub(crate) cached: u64,
    /// `usage.completion_tokens`: every output token, reasoning included.
    pub(crate) completion: u64,
    /// `usage.completion_tokens_details.reasoning_tokens`.
    pub(crate) reasoning: u64,
}

/// The usage on every chat reply: 1,200 prompt tokens (400 of them cached) and 300 completion
/// tokens (100 of them reasoning).
pub(crate) const CHAT_USAGE: ChatUsage = ChatUsage {
    prompt: 1_200,
    cached: 400,
    completion: 300,
    reasoning: 100,
};

/// `usage.prompt_tokens` on every embeddings reply, whatever the input.
pub(crate) const EMBEDDING_PROMPT_TOKENS: u64 = 5_000;

/// The `x-request-id` header on every reply.
pub(crate) const REQUEST_ID: &str = "req_peekr_fake_0001";

/// One request the fake received.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    /// The request path, e.g. `/v1/chat/completions`.
    pub(crate) path: &'static str,
    /// The `model` of the request body.
    pub(crate) model: String,
    /// The `authorization` header, if any.
    pub(crate) authorization: Option<String>,
    /// `stream: true`.
    pub(crate) stream: bool,
    /// `stream_options.include_usage: true`.
    pub(crate) include_usage: bool,
}

/// A running fake; dropping it stops the server.
#[derive(Debug)]
pub(crate) struct FakeOpenAi {
    /// Base URL including `/v1`, without a trailing slash: `http://127.0.0.1:PORT/v1`.
    pub(crate) base_url: String,
    received: Arc<Mutex<Vec<Received>>>,
    _shutdown: oneshot::Sender<()>,
}

impl FakeOpenAi {
    /// Binds `127.0.0.1:0` and serves on the current Tokio runtime.
    pub(crate) async fn start() -> FakeOpenAi {
        let received = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/v1/chat/completions", post(chat_completions))
            .route("/v1/responses", post(responses))
            .route("/v1/embeddings", post(embeddings))
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .expect("fake OpenAI server");
        });
        FakeOpenAi {
            base_url: format!("http://{addr}/v1"),
            received,
            _shutdown: shutdown,
        }
    }

    /// Every request received so far, in order.
    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().expect("fake state").clone()
    }
}

type Log = Arc<Mutex<Vec<Received>>>;

/// The model id a real provider answers with: OpenAI returns the dated snapshot behind an
/// alias, which Peekr's catalog knows as an alias of `gpt-4o-mini`.
fn served_model(requested: &str) -> String {
    match requested {
        "gpt-4o-mini" => "gpt-4o-mini-2024-07-18".to_owned(),
        "gpt-4o" => "gpt-4o-2024-08-06".to_owned(),
        other => other.to_owned(),
    }
}

fn record(log: &Log, path: &'static str, headers: &HeaderMap, body: &Value) -> Received {
    let received = Received {
        path,
        model: body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        stream: body.get("stream").and_then(Value::as_bool) == Some(true),
        include_usage: body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true),
    };
    log.lock().expect("fake state").push(received.clone());
    received
}

fn no_streaming() -> Response {
    let error = json!({"error": {"message": "the fake streams chat completions only", "type": "invalid_request_error"}});
    (StatusCode::BAD_REQUEST, Json(error)).into_response()
}

fn reply(body: Value) -> Response {
    ([("x-request-id", REQUEST_ID)], Json(body)).into_response()
}

async fn chat_completions(
    State(log): State<Log>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let request = record(&log, "/v1/chat/completions", &headers, &body);
    let model = served_model(&request.model);
    if request.stream {
        return chat_stream(&model, request.include_usage);
    }
    reply(json!({
        "id": "chatcmpl-peekr-fake-1",
        "object": "chat.completion",
        "created": 1_767_225_600,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "Paris.", "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": chat_usage(),
        "service_tier": "default",
        "system_fingerprint": "fp_peekr_fake"
    }))
}

fn chat_usage() -> Value {
    let u = CHAT_USAGE;
    json!({
        "prompt_tokens": u.prompt,
        "completion_tokens": u.completion,
        "total_tokens": u.prompt + u.completion,
        "prompt_tokens_details": {"cached_tokens": u.cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": u.reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    })
}

/// A streamed chat completion as OpenAI sends it: a content delta, a finish reason, then (only
/// when asked for) a last chunk with no choices and the usage; every other chunk has
/// `"usage": null` when usage was asked for.
fn chat_stream(model: &str, include_usage: bool) -> Response {
    let chunk = |choices: Value, usage: Option<Value>| {
        let mut chunk = json!({
            "id": "chatcmpl-peekr-fake-1",
            "object": "chat.completion.chunk",
            "created": 1_767_225_600,
            "model": model,
            "system_fingerprint": "fp_peekr_fake",
            "choices": choices
        });
        if include_usage {
            chunk["usage"] = usage.unwrap_or(Value::Null);
        }
        format!("data: {chunk}\n\n")
    };
    let mut body = String::new();
    body += &chunk(
        json!([{"index": 0, "delta": {"role": "assistant", "content": "Paris."}, "finish_reason": null}]),
        None,
    );
    body += &chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        None,
    );
    if include_usage {
        body += &chunk(json!([]), Some(chat_usage()));
    }
    body += "data: [DONE]\n\n";
    (
        [
            ("content-type", "text/event-stream"),
            ("x-request-id", REQUEST_ID),
        ],
        body,
    )
        .into_response()
}

async fn responses(
    State(log): State<Log>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let request = record(&log, "/v1/responses", &headers, &body);
    if request.stream {
        return no_streaming();
    }
    let model = request.model;
    let u = CHAT_USAGE;
    reply(json!({
        "id": "resp_peekr_fake_1",
        "object": "response",
        "created_at": 1_767_225_600,
        "status": "completed",
        "model": served_model(&model),
        "output": [{
            "type": "message",
            "id": "msg_peekr_fake_1",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Paris.", "annotations": []}]
        }],
        "usage": {
            "input_tokens": u.prompt,
            "input_tokens_details": {"cached_tokens": u.cached},
            "output_tokens": u.completion,
            "output_tokens_details": {"reasoning_tokens": u.reasoning},
            "total_tokens": u.prompt + u.completion
        },
        "service_tier": "default"
    }))
}

async fn embeddings(
    State(log): State<Log>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let request = record(&log, "/v1/embeddings", &headers, &body);
    if request.stream {
        return no_streaming();
    }
    let model = request.model;
    let inputs = match body.get("input") {
        Some(Value::Array(items)) => items.len(),
        _ => 1,
    };
    let dimensions = body.get("dimensions").and_then(Value::as_u64).unwrap_or(8);
    let data: Vec<Value> = (0..inputs)
        .map(|index| {
            let vector: Vec<f64> = (0..dimensions).map(|d| (d as f64 + 1.0) / 16.0).collect();
            json!({"object": "embedding", "index": index, "embedding": vector})
        })
        .collect();
    reply(json!({
        "object": "list",
        "data": data,
        "model": served_model(&model),
        "usage": {"prompt_tokens": EMBEDDING_PROMPT_TOKENS, "total_tokens": EMBEDDING_PROMPT_TOKENS}
    }))
}
