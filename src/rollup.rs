//! Bounded per-trace accumulation, so the local root span can carry its trace's totals.
//!
//! Children end before their parents, so by the time a local root span ends, every LLM call
//! under it in this process has been added here. The map is bounded in entries and age: a
//! trace whose root never ends here (it lives in another process) is evicted, and every
//! eviction is counted.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::pricing::Nanos;

/// Default bound on traces held at once.
pub const MAX_TRACES_DEFAULT: usize = 65_536;
/// Default bound on how long a trace is held waiting for its root.
pub const MAX_AGE_DEFAULT: Duration = Duration::from_secs(600);

const SHARDS: usize = 16;

/// Totals of one trace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TraceTotals {
    /// Sum of span costs.
    pub cost: Nanos,
    /// LLM calls (priced or not).
    pub llm_calls: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// LLM calls that could not be priced.
    pub unpriced_calls: u64,
}

impl TraceTotals {
    fn merge(&mut self, other: &TraceTotals) {
        self.cost = self.cost.saturating_add(other.cost);
        self.llm_calls += other.llm_calls;
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.unpriced_calls += other.unpriced_calls;
    }
}

/// Trace ids are random 128-bit numbers: their low 64 bits are already a good hash, so the
/// map skips SipHash (measurable on the span path).
#[derive(Debug, Default, Clone, Copy)]
struct TraceIdHasher(u64);

impl std::hash::Hasher for TraceIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        // Truncation intended: the low half of a random id.
        #[allow(clippy::cast_possible_truncation)]
        let low = n as u64;
        self.0 = low;
    }
}

type TraceMap = HashMap<u128, TraceTotals, std::hash::BuildHasherDefault<TraceIdHasher>>;

#[derive(Debug, Default)]
struct Shard {
    totals: TraceMap,
    order: VecDeque<(u128, Instant)>,
}

/// A bounded map from trace id to [`TraceTotals`].
#[derive(Debug)]
pub struct Rollup {
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
    max_age: Duration,
    evicted: AtomicU64,
}

impl Default for Rollup {
    fn default() -> Self {
        Rollup::new(MAX_TRACES_DEFAULT, MAX_AGE_DEFAULT)
    }
}

impl Rollup {
    /// A rollup holding at most about `max_traces` traces, each for at most `max_age`.
    #[must_use]
    pub fn new(max_traces: usize, max_age: Duration) -> Self {
        Rollup {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: max_traces.div_ceil(SHARDS).max(1),
            max_age,
            evicted: AtomicU64::new(0),
        }
    }

    fn shard(&self, trace: u128) -> &Mutex<Shard> {
        // Trace ids are random; their low bits spread evenly.
        &self.shards[(trace as usize) % SHARDS]
    }

    /// Adds a span's contribution to its trace.
    pub fn add(&self, trace: u128, part: &TraceTotals) {
        let Ok(mut shard) = self.shard(trace).lock() else {
            return;
        };
        let now = Instant::now();
        if let Some(t) = shard.totals.get_mut(&trace) {
            t.merge(part);
            return;
        }
        // Traces already taken leave their entry in `order`; with roots arriving quickly those
        // are nearly all of it. Drop them once they outnumber the bound, so `order` stays within
        // twice the map's bound however many traces pass per `max_age` (amortized O(1)).
        if shard.order.len() >= 2 * self.per_shard {
            let Shard { totals, order } = &mut *shard;
            order.retain(|(t, _)| totals.contains_key(t));
        }
        let mut evicted = 0;
        while let Some(&(old, at)) = shard.order.front() {
            let expired = now.duration_since(at) > self.max_age;
            if !expired && shard.totals.len() < self.per_shard {
                break;
            }
            shard.order.pop_front();
            if shard.totals.remove(&old).is_some() {
                evicted += 1;
            }
        }
        if evicted > 0 && self.evicted.fetch_add(evicted, Ordering::Relaxed) == 0 {
            tracing::warn!(name: "CostProcessor.TraceEvicted", "per-trace totals evicted before their root span ended; raise the bound if roots are local");
        }
        shard.totals.insert(trace, *part);
        shard.order.push_back((trace, now));
    }

    /// Removes and returns a trace's totals (at its local root span).
    pub fn take(&self, trace: u128) -> Option<TraceTotals> {
        let mut shard = self.shard(trace).lock().ok()?;
        // The entry in `order` stays until it reaches the front or `add` compacts the queue.
        shard.totals.remove(&trace)
    }

    /// Traces evicted before their root ended.
    #[must_use]
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    /// Traces currently held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map_or(0, |s| s.totals.len()))
            .sum()
    }

    /// Whether no trace is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(cost: i64) -> TraceTotals {
        TraceTotals {
            cost: Nanos(cost),
            llm_calls: 1,
            input_tokens: 10,
            output_tokens: 5,
            unpriced_calls: 0,
        }
    }

    #[test]
    fn totals_accumulate_per_trace_and_are_taken_once() {
        let r = Rollup::default();
        r.add(1, &call(100));
        r.add(1, &call(50));
        r.add(2, &call(7));
        let t = r.take(1).unwrap();
        assert_eq!((t.cost, t.llm_calls, t.input_tokens), (Nanos(150), 2, 20));
        assert_eq!(r.take(1), None);
        assert_eq!(r.take(2).unwrap().cost, Nanos(7));
    }

    #[test]
    fn the_map_is_bounded_and_evictions_are_counted() {
        let r = Rollup::new(16, MAX_AGE_DEFAULT); // one trace per shard
        for t in 0..64u128 {
            r.add(t, &call(1));
        }
        assert!(r.len() <= 16);
        assert_eq!(r.evicted(), 48);
    }

    #[test]
    fn taken_traces_do_not_pile_up_in_the_eviction_queue() {
        let r = Rollup::new(64, MAX_AGE_DEFAULT); // four traces per shard
        for t in 0..100_000u128 {
            r.add(t, &call(1));
            assert_eq!(r.take(t).unwrap().cost, Nanos(1));
        }
        for s in &r.shards {
            assert!(s.lock().unwrap().order.len() <= 8);
        }
        assert_eq!(r.evicted(), 0);
        assert!(r.is_empty());
    }

    #[test]
    fn old_traces_expire() {
        let r = Rollup::new(1000, Duration::ZERO);
        r.add(1, &call(1));
        std::thread::sleep(Duration::from_millis(2));
        r.add(17, &call(1)); // same shard as 1
        assert_eq!(r.take(1), None);
        assert_eq!(r.evicted(), 1);
    }
}
