//! `kill -9` a real `peekr serve` process mid-ingest: every acknowledged span is in the store.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_dash_nine_loses_no_acknowledged_span() {
    let bin = env!("CARGO_BIN_EXE_peekr");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin)
        .args(["keys", "create", "--project", "crash", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let (grpc, http) = (free_port(), free_port());
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{grpc}"),
            "--http",
            &format!("127.0.0.1:{http}"),
            "--data",
        ])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut client = None;
    for _ in 0..200 {
        if let Ok(c) = TraceServiceClient::connect(format!("http://127.0.0.1:{grpc}")).await {
            client = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let client = client.expect("peekr serve did not start");

    // Two concurrent senders; each records the batches the server acknowledged.
    let mut senders = Vec::new();
    let acks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for sender in 0..2u8 {
        let mut client = client.clone();
        let key = key.clone();
        let acks = acks.clone();
        senders.push(tokio::spawn(async move {
            let mut acked: Vec<u8> = Vec::new();
            for n in 0..250u8 {
                let trace = sender * 128 + n / 2;
                let spans = (0..40u8)
                    .map(|i| {
                        span(
                            trace,
                            i + 40 * (n % 2),
                            None,
                            "chat",
                            chat_attrs("gpt-4o-mini", 100, 10),
                        )
                    })
                    .collect();
                match client.export(with_key(request("crash", spans), &key)).await {
                    Ok(_) => {
                        acked.push(n);
                        acks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    Err(_) => break,
                }
            }
            (sender, acked)
        }));
    }
    // Kill mid-ingest: once a few batches are acknowledged (however slow the machine is), while
    // the senders keep going.
    for _ in 0..1_200 {
        if acks.load(std::sync::atomic::Ordering::Relaxed) >= 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut acknowledged = 0;
    let mut expected = Vec::new();
    for s in senders {
        let (sender, acked) = s.await.unwrap();
        for n in acked {
            acknowledged += 40;
            let trace = format!("{:02x}", sender * 128 + n / 2).repeat(16);
            expected.push((trace, 40 * (n % 2)));
        }
    }
    assert!(
        acknowledged > 0,
        "the kill came before any acknowledgement; nothing was tested"
    );
    let db = dir.path().join("peekr.db");
    for (trace, first) in expected {
        let rows = sql(
            &db,
            &format!(
                "SELECT COUNT(*) FROM spans WHERE trace_id = '{trace}' AND span_id >= '{:02x}' AND span_id < '{:02x}'",
                first,
                first + 40
            ),
        );
        assert_eq!(
            rows[0][0], 40,
            "acknowledged batch of trace {trace} lost after kill -9"
        );
    }
    let stored = sql(&db, "SELECT COUNT(*) FROM spans")[0][0]
        .as_i64()
        .unwrap();
    assert!(
        stored >= acknowledged,
        "{stored} stored < {acknowledged} acknowledged"
    );
}
