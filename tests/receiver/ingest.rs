use opentelemetry_proto::tonic::common::v1::ArrayValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as PValue;
use peekr::server::store::Store;
use tonic::Code;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_without_cost_are_priced_stored_and_acknowledged() {
    let r = Running::start(|_| {}).await;
    let key = r.key("shop");
    let mut client = r.client().await;
    let mut provided = chat_attrs("gpt-4o-mini", 10, 10);
    provided.push(kv("gen_ai.usage.cost", PValue::DoubleValue(0.25)));
    let req = request(
        "checkout",
        vec![
            span(
                1,
                1,
                None,
                "invoke_agent shop",
                vec![
                    s("gen_ai.operation.name", "invoke_agent"),
                    s("tenant.id", "acme"),
                ],
            ),
            // gpt-4o-mini: $0.15 in / $0.60 out per 1M (OpenAI pricing page, checked 2026-12-04)
            span(
                1,
                2,
                Some(1),
                "chat gpt-4o-mini",
                chat_attrs("gpt-4o-mini", 1_000_000, 100_000),
            ),
            span(1, 3, Some(1), "chat gpt-4o-mini", provided),
        ],
    );
    let resp = client
        .export(with_key(req, &key))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.partial_success, None);
    // Acknowledged means committed: the rows are there now, no waiting.
    let rows = sql(
        &r.db(),
        "SELECT span_id, project, service, cost_status, cost_usd, tokens_total FROM spans WHERE cost_status IS NOT NULL ORDER BY span_id",
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], "0202020202020202");
    assert_eq!(rows[0][1], "shop");
    assert_eq!(rows[0][2], "checkout");
    assert_eq!(rows[0][3], "priced");
    assert_eq!(rows[0][4], 0.21);
    assert_eq!(rows[0][5], 1_100_000);
    assert_eq!(rows[1][3], "provided");
    assert_eq!(rows[1][4], 0.25);
    let attrs = sql(
        &r.db(),
        "SELECT json_extract(attributes, '$.\"gen_ai.usage.cost\"'), json_extract(attributes, '$.\"peekr.pricing.model\"') FROM spans WHERE span_id = '0202020202020202'",
    );
    assert_eq!(
        attrs[0],
        vec![serde_json::json!(0.21), serde_json::json!("gpt-4o-mini")]
    );
    // The trace total is computed in the store over all its spans: $0.21 + $0.25.
    let traces = r
        .store
        .top_traces(
            "shop",
            peekr::server::store::Window::ending(jiff::civil::date(2025, 11, 24), 30),
            10,
        )
        .unwrap();
    assert_eq!(traces.len(), 1);
    assert_eq!(traces[0].cost_nanos, 460_000_000);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_required_checked_and_revocable() {
    let r = Running::start(|_| {}).await;
    let mut client = r.client().await;
    let req = || request("svc", vec![span(2, 1, None, "root", vec![])]);

    let err = client.export(tonic::Request::new(req())).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = client.export(with_key(req(), "pk_0000")).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    let created = r.keys.create("p1", KeyScope::Ingest).unwrap();
    let mut by_header = tonic::Request::new(req());
    by_header
        .metadata_mut()
        .insert("x-api-key", created.secret.parse().unwrap());
    client.export(by_header).await.unwrap();

    let read_only = r.keys.create("p1", KeyScope::Read).unwrap();
    let err = client
        .export(with_key(req(), &read_only.secret))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    r.keys.revoke(&created.info.id.to_string()).unwrap();
    let err = client
        .export(with_key(req(), &created.secret))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::Unauthenticated,
        "revoked keys stop working without a restart"
    );
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_never_sees_another_projects_spans() {
    let r = Running::start(|_| {}).await;
    let (a, b) = (r.key("alpha"), r.key("beta"));
    let mut client = r.client().await;
    client
        .export(with_key(
            request(
                "s",
                vec![span(3, 1, None, "chat", chat_attrs("gpt-4o-mini", 1000, 0))],
            ),
            &a,
        ))
        .await
        .unwrap();
    client
        .export(with_key(
            request(
                "s",
                vec![span(4, 1, None, "chat", chat_attrs("gpt-4o-mini", 2000, 0))],
            ),
            &b,
        ))
        .await
        .unwrap();
    let w = peekr::server::store::Window::ending(jiff::civil::date(2025, 11, 24), 30);
    let alpha: Vec<String> = r
        .store
        .top_traces("alpha", w, 10)
        .unwrap()
        .into_iter()
        .map(|t| t.trace_id)
        .collect();
    let beta: Vec<String> = r
        .store
        .top_traces("beta", w, 10)
        .unwrap()
        .into_iter()
        .map(|t| t.trace_id)
        .collect();
    assert_eq!(alpha, vec!["03".repeat(16)]);
    assert_eq!(beta, vec!["04".repeat(16)]);
    assert!(
        r.store
            .trace_spans("alpha", &"04".repeat(16))
            .unwrap()
            .is_empty(),
        "cross-project read returns nothing"
    );
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_attribute_values_get_a_status_not_a_crash() {
    let r = Running::start(|_| {}).await;
    let key = r.key("g");
    let mut client = r.client().await;
    let garbage = vec![
        s("gen_ai.operation.name", "chat"),
        kv("gen_ai.request.model", PValue::IntValue(42)),
        kv("gen_ai.usage.input_tokens", PValue::DoubleValue(f64::NAN)),
        kv(
            "gen_ai.usage.output_tokens",
            PValue::ArrayValue(ArrayValue { values: vec![] }),
        ),
        kv("gen_ai.usage.cost", PValue::StringValue("free".into())),
        kv("tenant.id", PValue::BytesValue(vec![0xff, 0x00])),
    ];
    let negative = chat_attrs("gpt-4o-mini", -1, 5);
    let unknown = chat_attrs("definitely-not-a-model", 5, 5);
    let req = request(
        "svc",
        vec![
            span(5, 1, None, "chat", garbage),
            span(5, 2, Some(1), "chat", negative),
            span(5, 3, Some(1), "chat", unknown),
        ],
    );
    client.export(with_key(req, &key)).await.unwrap();
    let rows = sql(
        &r.db(),
        "SELECT span_id, cost_status, cost_usd FROM spans ORDER BY span_id",
    );
    assert_eq!(rows[0][1], "invalid_usage");
    assert_eq!(rows[1][1], "invalid_usage");
    assert_eq!(rows[2][1], "unpriced_model");
    assert!(
        rows.iter().all(|r| r[2].is_null()),
        "never a silent $0: {rows:?}"
    );
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_with_bad_ids_are_rejected_as_partial_success() {
    let r = Running::start(|_| {}).await;
    let key = r.key("p");
    let mut client = r.client().await;
    let mut bad = span(6, 2, None, "bad", vec![]);
    bad.trace_id = vec![1, 2, 3];
    let resp = client
        .export(with_key(
            request("svc", vec![span(6, 1, None, "ok", vec![]), bad]),
            &key,
        ))
        .await
        .unwrap()
        .into_inner();
    let partial = resp.partial_success.unwrap();
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial.error_message.contains("invalid trace_id"),
        "{}",
        partial.error_message
    );
    assert_eq!(sql(&r.db(), "SELECT COUNT(*) FROM spans")[0][0], 1);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_and_zstd_requests_are_accepted() {
    let r = Running::start(|_| {}).await;
    let key = r.key("c");
    for (n, enc) in [
        (1u8, tonic::codec::CompressionEncoding::Gzip),
        (2, tonic::codec::CompressionEncoding::Zstd),
    ] {
        let mut client = r.client().await.send_compressed(enc);
        client
            .export(with_key(
                request("svc", vec![span(7, n, None, "root", vec![])]),
                &key,
            ))
            .await
            .unwrap();
    }
    assert_eq!(sql(&r.db(), "SELECT COUNT(*) FROM spans")[0][0], 2);
    r.stop().await;
}

/// A codec that sends raw bytes, to put malformed protobuf on the wire.
#[derive(Debug, Clone, Default)]
struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        let n = bytes::Buf::remaining(src);
        Ok(Some(bytes::Buf::copy_to_bytes(src, n).to_vec()))
    }
}

async fn raw_export(addr: std::net::SocketAddr, key: &str, body: Vec<u8>) -> tonic::Status {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    );
    grpc.unary::<Vec<u8>, Vec<u8>, RawCodec>(with_key(body, key), path, RawCodec)
        .await
        .unwrap_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_protobuf_is_invalid_argument() {
    let r = Running::start(|_| {}).await;
    let key = r.key("m");
    // Field 1 (resource_spans) declared as a 100-byte message, then the bytes stop.
    let status = raw_export(r.addr, &key, vec![0x0a, 0x64, 0x01, 0x02]).await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(sql(&r.db(), "SELECT COUNT(*) FROM spans")[0][0], 0);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_message_is_resource_exhausted() {
    let r = Running::start(|c| c.max_message_bytes = 4 * 1024).await;
    let key = r.key("big");
    let mut client = r.client().await;
    let spans = (0..200u8)
        .map(|n| {
            span(
                8,
                n,
                None,
                "a-rather-long-span-name-to-fill-the-message",
                vec![s("k", &"v".repeat(50))],
            )
        })
        .collect();
    let err = client
        .export(with_key(request("svc", spans), &key))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_accept_answers_unavailable_so_exporters_retry() {
    // A full queue and a closed store take the same path (`StoreError::Full` / `Closed` →
    // `UNAVAILABLE`); the store's own tests fill the queue deterministically.
    let r = Running::start(|_| {}).await;
    let key = r.key("q");
    let mut client = r.client().await;
    let store = r.store.clone();
    tokio::task::spawn_blocking(move || store.close())
        .await
        .unwrap()
        .unwrap();
    let err = client
        .export(with_key(
            request("svc", vec![span(9, 1, None, "s", vec![])]),
            &key,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert_eq!(
        r.stats
            .requests_unavailable
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_price_file_is_reloaded_and_a_bad_one_keeps_the_old_prices() {
    let prices = tempfile::NamedTempFile::new().unwrap();
    let write = |input: &str| {
        std::fs::write(
            prices.path(),
            format!("[[model]]\nid = \"house-model\"\nprovider = \"acme\"\n[[model.price]]\ninput = {input}\noutput = 0\n"),
        )
        .unwrap();
    };
    write("1");
    let path = prices.path().to_path_buf();
    let r = Running::start(move |c| c.price_files = vec![path]).await;
    let key = r.key("reload");
    let mut client = r.client().await;
    let mut n = 0u8;
    let mut send_and_read = async |client: &mut TraceServiceClient<Channel>| {
        n += 1;
        let req = request(
            "svc",
            vec![span(
                20,
                n,
                None,
                "chat",
                chat_attrs("house-model", 1_000_000, 0),
            )],
        );
        client.export(with_key(req, &key)).await.unwrap();
        let span_id = format!("{n:02x}").repeat(8);
        sql(
            &r.db(),
            &format!("SELECT cost_usd FROM spans WHERE span_id = '{span_id}'"),
        )[0][0]
            .clone()
    };
    assert_eq!(send_and_read(&mut client).await, 1.0);
    // A new price: picked up without a restart (the watcher polls every second).
    std::thread::sleep(std::time::Duration::from_millis(20));
    write("3");
    let mut cost = serde_json::Value::Null;
    for _ in 0..50 {
        cost = send_and_read(&mut client).await;
        if cost == 3.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(cost, 3.0);
    // A broken file: the previous catalog stays in force.
    std::fs::write(
        prices.path(),
        "[[model]]\nid = \"house-model\"\nprovider = \"acme\"\n[[model.price]]\ninput = -5\n",
    )
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert_eq!(send_and_read(&mut client).await, 3.0);
    r.stop().await;
}
