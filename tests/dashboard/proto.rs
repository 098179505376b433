//! The checked-in generated code of `proto/peekr/v1/query.proto` (src/server/generated) is
//! regenerated with protox (no protoc) and tonic-prost-build, and must match byte for byte.
//!
//! After changing the proto, regenerate with:
//!
//! ```text
//! cargo test --features server --test dashboard -- --ignored regenerate_query_api_code
//! ```

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Generates the Rust code for the query API into `out_dir`; returns the file written.
fn generate(out_dir: &Path) -> PathBuf {
    let fds = protox::compile(["peekr/v1/query.proto"], [root().join("proto")])
        .expect("proto/peekr/v1/query.proto compiles");
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(true)
        .emit_rerun_if_changed(false)
        .out_dir(out_dir)
        .compile_fds(fds)
        .expect("code generation succeeds");
    out_dir.join("peekr.v1.rs")
}

fn checked_in() -> PathBuf {
    root().join("src/server/generated/peekr.v1.rs")
}

#[test]
fn generated_query_api_code_matches_the_proto() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = std::fs::read_to_string(generate(dir.path())).unwrap();
    let pinned = std::fs::read_to_string(checked_in()).unwrap();
    assert!(
        fresh == pinned,
        "src/server/generated/peekr.v1.rs is out of date with proto/peekr/v1/query.proto; run\n  \
         cargo test --features server --test dashboard -- --ignored regenerate_query_api_code"
    );
}

#[test]
#[ignore = "writes src/server/generated; run after changing the proto"]
fn regenerate_query_api_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(generate(dir.path()), checked_in()).unwrap();
}
