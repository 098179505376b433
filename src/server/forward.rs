//! Gateway forwarding: re-export enriched spans over OTLP/gRPC to Jaeger, Tempo or a Collector.
//!
//! Each destination has its own bounded queue (counted in spans) and one sender task. A
//! destination that is down is retried with exponential backoff while its queue absorbs new
//! batches; past the bound, new batches are dropped, counted, and logged once per episode.
//! Local ingest never waits on a destination: [`Forwarder::enqueue`] only ever appends or drops.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use tokio::sync::mpsc;
use tonic::metadata::{MetadataKey, MetadataValue};
use tonic::transport::{Channel, Endpoint};

/// Default bound on spans queued per destination.
pub const FORWARD_QUEUE_SPANS_DEFAULT: usize = 100_000;
/// First retry delay; doubles up to [`RETRY_MAX`].
pub const RETRY_INITIAL: Duration = Duration::from_millis(100);
/// Longest retry delay.
pub const RETRY_MAX: Duration = Duration::from_secs(5);

/// A destination: `URL` or `URL,header=value,header=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardTarget {
    /// OTLP/gRPC endpoint, e.g. `http://127.0.0.1:4317`.
    pub url: String,
    /// Extra request headers (API keys of the downstream).
    pub headers: Vec<(String, String)>,
}

impl FromStr for ForwardTarget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(',');
        let url = parts.next().unwrap_or_default().trim().to_owned();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "forward url `{url}` must start with http:// or https://"
            ));
        }
        let mut headers = Vec::new();
        for h in parts {
            let (k, v) = h
                .split_once('=')
                .ok_or_else(|| format!("forward header `{h}` is not name=value"))?;
            MetadataKey::<tonic::metadata::Ascii>::from_bytes(
                k.trim().to_ascii_lowercase().as_bytes(),
            )
            .map_err(|_| format!("forward header name `{k}` is invalid"))?;
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
        Ok(ForwardTarget { url, headers })
    }
}

/// Counters of one destination.
#[derive(Debug, Default)]
pub struct ForwardStats {
    /// Spans delivered.
    pub sent_spans: AtomicU64,
    /// Spans dropped because the queue was full.
    pub dropped_spans: AtomicU64,
    /// Spans dropped because the destination refused them for good (non-retryable status).
    pub failed_spans: AtomicU64,
    /// Spans waiting in the queue now.
    pub queued_spans: AtomicUsize,
}

#[derive(Debug)]
struct Destination {
    target: ForwardTarget,
    tx: mpsc::UnboundedSender<(usize, ExportTraceServiceRequest)>,
    stats: Arc<ForwardStats>,
    max_spans: usize,
    overflowing: AtomicBool,
}

/// Sends enriched spans on to every configured destination.
#[derive(Debug)]
pub struct Forwarder {
    destinations: Vec<Destination>,
}

fn span_count(req: &ExportTraceServiceRequest) -> usize {
    req.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

fn retryable(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::Unavailable
            | tonic::Code::DeadlineExceeded
            | tonic::Code::ResourceExhausted
            | tonic::Code::Aborted
            | tonic::Code::Cancelled
            | tonic::Code::Unknown
            | tonic::Code::Internal
    )
}

impl Forwarder {
    /// Starts one sender task per target on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// When a URL is not a valid endpoint.
    pub fn start(targets: &[ForwardTarget], max_queue_spans: usize) -> Result<Forwarder, String> {
        let mut destinations = Vec::new();
        for target in targets {
            let endpoint = Endpoint::from_shared(target.url.clone())
                .map_err(|e| format!("forward url `{}`: {e}", target.url))?
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(10));
            let channel = endpoint.connect_lazy();
            let (tx, rx) = mpsc::unbounded_channel();
            let stats = Arc::new(ForwardStats::default());
            tokio::spawn(run(target.clone(), channel, rx, stats.clone()));
            destinations.push(Destination {
                target: target.clone(),
                tx,
                stats,
                max_spans: max_queue_spans.max(1),
                overflowing: AtomicBool::new(false),
            });
        }
        Ok(Forwarder { destinations })
    }

    /// Queues a batch for every destination; never blocks.
    pub fn enqueue(&self, req: ExportTraceServiceRequest) {
        let n = span_count(&req);
        if n == 0 {
            return;
        }
        let last = self.destinations.len().saturating_sub(1);
        let mut req = Some(req);
        for (i, d) in self.destinations.iter().enumerate() {
            let queued = d.stats.queued_spans.load(Ordering::Relaxed);
            if queued + n > d.max_spans {
                d.stats.dropped_spans.fetch_add(n as u64, Ordering::Relaxed);
                if !d.overflowing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(name: "Forwarder.QueueFull", url = %d.target.url, queued, limit = d.max_spans, "forward queue full; dropping spans for this destination (counted)");
                }
                continue;
            }
            d.overflowing.store(false, Ordering::Relaxed);
            let batch = if i == last {
                req.take().unwrap_or_default()
            } else {
                req.clone().unwrap_or_default()
            };
            d.stats.queued_spans.fetch_add(n, Ordering::Relaxed);
            if d.tx.send((n, batch)).is_err() {
                d.stats.queued_spans.fetch_sub(n, Ordering::Relaxed);
                d.stats.dropped_spans.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }

    /// Each destination's URL and counters.
    pub fn stats(&self) -> impl Iterator<Item = (&str, &ForwardStats)> {
        self.destinations
            .iter()
            .map(|d| (d.target.url.as_str(), &*d.stats))
    }

    /// Waits until every queue is empty or `timeout` passes; returns whether all drained.
    pub async fn drain(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self
                .destinations
                .iter()
                .all(|d| d.stats.queued_spans.load(Ordering::Relaxed) == 0)
            {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn run(
    target: ForwardTarget,
    channel: Channel,
    mut rx: mpsc::UnboundedReceiver<(usize, ExportTraceServiceRequest)>,
    stats: Arc<ForwardStats>,
) {
    let mut client =
        TraceServiceClient::new(channel).send_compressed(tonic::codec::CompressionEncoding::Gzip);
    let headers: Vec<(
        MetadataKey<tonic::metadata::Ascii>,
        MetadataValue<tonic::metadata::Ascii>,
    )> = target
        .headers
        .iter()
        .filter_map(|(k, v)| Some((MetadataKey::from_bytes(k.as_bytes()).ok()?, v.parse().ok()?)))
        .collect();
    let mut down = false;
    while let Some((n, batch)) = rx.recv().await {
        let mut delay = RETRY_INITIAL;
        loop {
            let mut request = tonic::Request::new(batch.clone());
            for (k, v) in &headers {
                request.metadata_mut().insert(k.clone(), v.clone());
            }
            match client.export(request).await {
                Ok(_) => {
                    stats.sent_spans.fetch_add(n as u64, Ordering::Relaxed);
                    if down {
                        tracing::info!(name: "Forwarder.Recovered", url = %target.url, "forward destination is reachable again");
                        down = false;
                    }
                    break;
                }
                Err(status) if retryable(status.code()) => {
                    if !down {
                        tracing::warn!(name: "Forwarder.Retrying", url = %target.url, code = ?status.code(), message = %status.message(), "forward destination unavailable; retrying with backoff");
                        down = true;
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(RETRY_MAX);
                }
                Err(status) => {
                    stats.failed_spans.fetch_add(n as u64, Ordering::Relaxed);
                    tracing::error!(name: "Forwarder.Rejected", url = %target.url, code = ?status.code(), message = %status.message(), "forward destination rejected a batch; dropped");
                    break;
                }
            }
        }
        stats.queued_spans.fetch_sub(n, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_headers() {
        let t: ForwardTarget = "http://127.0.0.1:4317,x-api-key=abc,Authorization=Bearer k"
            .parse()
            .unwrap();
        assert_eq!(t.url, "http://127.0.0.1:4317");
        assert_eq!(
            t.headers,
            vec![
                ("x-api-key".into(), "abc".into()),
                ("authorization".into(), "Bearer k".into())
            ]
        );
        assert_eq!(
            "127.0.0.1:4317".parse::<ForwardTarget>().unwrap_err(),
            "forward url `127.0.0.1:4317` must start with http:// or https://"
        );
    }
}
