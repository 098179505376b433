//! Gateway forwarding to a second receiver that is down for a while, then comes up.

use std::sync::atomic::Ordering;
use std::time::Duration;

use peekr::server::forward::ForwardTarget;

use super::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn batch(trace: u8, n: u8) -> ExportTraceServiceRequest {
    request(
        "gateway-test",
        (0..n)
            .map(|i| {
                span(
                    trace,
                    i,
                    None,
                    "chat",
                    chat_attrs("gpt-4o-mini", 1_000, 100),
                )
            })
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_survives_a_down_destination_and_loses_nothing_within_the_bound() {
    // The downstream receiver's data dir and key exist before it runs.
    let down_dir = tempfile::tempdir().unwrap();
    let down_key = KeyStore::open(&down_dir.path().join("peekr.db"))
        .unwrap()
        .create("downstream", KeyScope::Ingest)
        .unwrap()
        .secret;
    let port = free_port();
    let target: ForwardTarget = format!("http://127.0.0.1:{port},authorization=Bearer {down_key}")
        .parse()
        .unwrap();
    let gw = Running::start(|c| {
        c.forward = vec![target];
        c.forward_queue_spans = 1_000;
    })
    .await;
    let key = gw.key("edge");
    let mut client = gw.client().await;
    for t in 0..10u8 {
        // Local ingest is acknowledged while the destination is down.
        client.export(with_key(batch(t, 50), &key)).await.unwrap();
    }
    assert_eq!(sql(&gw.db(), "SELECT COUNT(*) FROM spans")[0][0], 500);
    let fwd = gw.forwarder.get().unwrap().clone();
    let (_, stats) = fwd.stats().next().unwrap();
    assert_eq!(stats.sent_spans.load(Ordering::Relaxed), 0);
    assert_eq!(stats.dropped_spans.load(Ordering::Relaxed), 0);

    // The destination comes up: everything queued arrives, enriched.
    let downstream = Running::start_at(down_dir, port, |_| {}).await;
    let mut arrived = 0;
    for _ in 0..400 {
        arrived = sql(&downstream.db(), "SELECT COUNT(*) FROM spans")[0][0]
            .as_i64()
            .unwrap();
        if arrived == 500 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(arrived, 500);
    assert_eq!(stats.sent_spans.load(Ordering::Relaxed), 500);
    let cost = sql(
        &downstream.db(),
        "SELECT DISTINCT cost_status, json_extract(attributes, '$.\"gen_ai.usage.cost\"') FROM spans",
    );
    // 1,000 × $0.15/M + 100 × $0.60/M = $0.00021, computed by the gateway, kept downstream.
    assert_eq!(
        cost,
        vec![vec![
            serde_json::json!("provided"),
            serde_json::json!(0.00021)
        ]]
    );
    gw.stop().await;
    downstream.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_queue_bound_forwarded_spans_are_dropped_and_counted_not_ingest() {
    let port = free_port();
    let gw = Running::start(|c| {
        c.forward = vec![format!("http://127.0.0.1:{port}").parse().unwrap()];
        c.forward_queue_spans = 100;
    })
    .await;
    let key = gw.key("edge");
    let mut client = gw.client().await;
    for t in 0..6u8 {
        client.export(with_key(batch(t, 50), &key)).await.unwrap();
    }
    assert_eq!(
        sql(&gw.db(), "SELECT COUNT(*) FROM spans")[0][0],
        300,
        "local ingest never loses spans"
    );
    let fwd = gw.forwarder.get().unwrap().clone();
    let (_, stats) = fwd.stats().next().unwrap();
    // The sender holds one batch in flight (retrying); the queue holds up to 100 spans.
    let dropped = stats.dropped_spans.load(Ordering::Relaxed);
    let queued = stats.queued_spans.load(Ordering::Relaxed) as u64;
    assert_eq!(dropped + queued, 300);
    assert_eq!(queued, 100);
    gw.stop().await;
}
