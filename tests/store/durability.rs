//! An acknowledged span survives `kill -9` of the process (WAL, `synchronous=NORMAL`).
//!
//! The test re-runs this test binary as a child that writes batches and prints each
//! acknowledgement; the parent SIGKILLs it mid-stream and checks that every acknowledged span
//! is in the file.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use jiff::civil::date;
use peekr::server::store::{SqliteStore, Store};

use crate::S;

const CHILD_ENV: &str = "PEEKR_STORE_CRASH_CHILD";
const BATCH: usize = 200;

#[test]
fn acknowledged_spans_survive_kill_9() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        child(&path);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("peekr.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durability::acknowledged_spans_survive_kill_9",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = 0;
    let mut acks = 0;
    while acks < 25 {
        let line = lines.next().expect("child exited early").unwrap();
        if let Some(n) = line.strip_prefix("acked ") {
            acked = n.parse::<usize>().unwrap();
            acks += 1;
        }
    }
    child.kill().unwrap(); // SIGKILL: no destructors, no clean close, WAL left behind
    child.wait().unwrap();

    let store = SqliteStore::open_path(&path).unwrap();
    let stored = crate::scalar(&store, "SELECT COUNT(*) FROM spans")
        .as_u64()
        .unwrap() as usize;
    assert!(
        stored >= acked,
        "acknowledged {acked} spans, found {stored}"
    );
    // The rollups committed with the spans: they agree with what is there.
    let window = peekr::server::store::Window::ending(date(2025, 3, 1), 1);
    assert_eq!(
        store.totals("acme", window).unwrap().llm_calls as usize,
        stored
    );
}

fn child(path: &str) {
    let store = SqliteStore::open_path(path).unwrap();
    let day = date(2025, 3, 1);
    let mut out = std::io::stdout();
    let mut total = 0;
    for b in 0..100_000 {
        let spans = (0..BATCH)
            .map(|i| {
                let trace = format!("{b}x{}", i / 10);
                let span = if i % 10 == 0 {
                    S::root(&trace, "1", day)
                } else {
                    S::child(&trace, &format!("{}", i % 10 + 1), "1", day)
                };
                span.llm("gpt-4o", 1_000, 10, 1).build()
            })
            .collect();
        total += store
            .submit("acme", spans)
            .unwrap()
            .wait()
            .unwrap()
            .inserted;
        writeln!(out, "acked {total}").unwrap();
        out.flush().unwrap();
    }
}
