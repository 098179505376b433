//! Code generated from `proto/peekr/v1/query.proto` by protox and tonic-prost-build. Do not
//! edit: change the proto and regenerate with
//! `cargo test --features server --test dashboard -- --ignored regenerate_query_api_code`
//! (the same test binary fails when this code drifts from the proto).

/// The `peekr.v1` query API: messages, `QueryServiceClient` and `QueryServiceServer`.
#[rustfmt::skip]
#[allow(missing_docs, unreachable_pub, missing_debug_implementations, clippy::all, clippy::pedantic)]
pub mod pb {
    include!("peekr.v1.rs");
}
