//! Receiver webhooks against a real local HTTP server (axum on 127.0.0.1:0): signed JSON,
//! retried on 5xx, not retried on other 4xx.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use peekr::alerts::{AlertState, CostSpikeEvaluator, QuerySample};
use peekr::server::alerting::{SIGNATURE_HEADER, Webhook, WebhookError, deliver, payload, verify};

use crate::{FLAT_STEPS, at, cost, rule};

#[derive(Clone, Default)]
struct Hook {
    received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// Answer this status to the first `fail_first` requests.
    fail_first: Arc<AtomicU32>,
    fail_status: Arc<Mutex<Option<StatusCode>>>,
}

async fn handle(State(hook): State<Hook>, headers: HeaderMap, body: Bytes) -> StatusCode {
    hook.received.lock().unwrap().push((headers, body));
    let failing = hook
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    match *hook.fail_status.lock().unwrap() {
        Some(status) if failing => status,
        _ => StatusCode::NO_CONTENT,
    }
}

/// Serves `hook` on loopback; returns the URL and a shutdown sender.
async fn serve(hook: Hook) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(handle))
        .with_state(hook);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (format!("http://{addr}/hook"), stop)
}

/// The alert the simulated week fires.
fn fired_alert() -> peekr::alerts::Alert {
    let mut eval = CostSpikeEvaluator::new(rule());
    for k in 0..FLAT_STEPS + 3 {
        eval.record(&QuerySample::query(at(k), cost(k)));
        if let Some(a) = eval
            .evaluate(at(k) + Duration::from_secs(1))
            .into_iter()
            .next()
        {
            return a;
        }
    }
    panic!("the spike did not fire")
}

#[tokio::test]
async fn the_webhook_receives_signed_json_and_is_retried_after_a_server_error() {
    let hook = Hook::default();
    hook.fail_first.store(2, Ordering::SeqCst);
    *hook.fail_status.lock().unwrap() = Some(StatusCode::SERVICE_UNAVAILABLE);
    let (url, stop) = serve(hook.clone()).await;

    let alert = fired_alert();
    assert_eq!(alert.state, AlertState::Firing);
    let webhook = Webhook::new(&url, "s3cret")
        .unwrap()
        .with_backoff(Duration::from_millis(1));
    let body = payload("acme-project", &alert);
    assert_eq!(
        webhook.post_json(&body).await.unwrap(),
        3,
        "two 503s, then accepted"
    );

    let received = hook.received.lock().unwrap().clone();
    assert_eq!(received.len(), 3);
    for (headers, bytes) in &received {
        assert_eq!(headers["content-type"], "application/json");
        let signature = headers[SIGNATURE_HEADER].to_str().unwrap();
        assert!(signature.starts_with("sha256=") && signature.len() == 7 + 64);
        assert!(
            verify(b"s3cret", bytes, signature),
            "signature over the exact body"
        );
        assert!(!verify(b"wrong", bytes, signature));
    }
    let json: serde_json::Value = serde_json::from_slice(&received[2].1).unwrap();
    assert_eq!(json["project"], "acme-project");
    assert_eq!(json["state"], "firing");
    assert_eq!(json["kind"], "cost_spike");
    assert_eq!(json["window"]["queries"], 6);
    assert_eq!(json["window"]["cost_per_query_usd"], "0.001500000");
    assert_eq!(json["baseline"]["queries"], 1008);
    assert_eq!(json["baseline"]["cost_per_query_usd"], "0.001000000");
    assert_eq!(json["multiplier"], 1.5);
    let _ = stop.send(());
}

#[tokio::test]
async fn client_errors_are_not_retried_and_deliver_survives_a_dead_endpoint() {
    let hook = Hook::default();
    hook.fail_first.store(10, Ordering::SeqCst);
    *hook.fail_status.lock().unwrap() = Some(StatusCode::BAD_REQUEST);
    let (url, stop) = serve(hook.clone()).await;
    let webhook = Webhook::new(&url, "k")
        .unwrap()
        .with_backoff(Duration::from_millis(1));
    let err = webhook.post_json(&serde_json::json!({})).await.unwrap_err();
    assert!(
        matches!(
            err,
            WebhookError::Status {
                status: 400,
                attempts: 1
            }
        ),
        "{err:?}"
    );
    insta::assert_snapshot!(err, @"webhook answered 400 after 1 attempts");

    // A closed port fails every attempt; `deliver` logs it and still reaches the good hook.
    let dead = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    let good = Hook::default();
    let (good_url, good_stop) = serve(good.clone()).await;
    let hooks = [
        Webhook::new(&dead, "k")
            .unwrap()
            .with_max_attempts(2)
            .with_backoff(Duration::from_millis(1)),
        Webhook::new(&good_url, "k").unwrap(),
    ];
    deliver(&hooks, "p", &fired_alert()).await;
    assert_eq!(good.received.lock().unwrap().len(), 1);
    let _ = stop.send(());
    let _ = good_stop.send(());
}
