//! Property tests of the cost arithmetic.

use peekr::pricing::{Nanos, PriceRequest};
use peekr::usage::Usage;
use proptest::prelude::*;

use super::test_table;

fn usage() -> impl Strategy<Value = Usage> {
    (
        0u64..5_000_000,
        0u64..5_000_000,
        0u64..=100,
        0u64..=100,
        0u64..=100,
    )
        .prop_map(|(input, output, cr, cw, rs)| Usage {
            input,
            output,
            cache_read: input * cr / 300,
            cache_write: input * cw / 300,
            reasoning: output * rs / 100,
            ..Usage::default()
        })
}

proptest! {
    #[test]
    fn components_always_sum_to_the_total(u in usage()) {
        let t = test_table();
        let p = t.price(&PriceRequest::new("test-chat", &u)).unwrap();
        let c = p.cost;
        prop_assert_eq!(c.total(), Nanos(c.input.0 + c.cache_read.0 + c.cache_write.0 + c.output.0 + c.other.0));
        prop_assert!(c.total().as_usd_f64().is_finite());
        prop_assert!(c.total() >= Nanos::ZERO);
    }

    #[test]
    fn cost_is_monotone_in_tokens(u in usage(), extra_in in 0u64..10_000, extra_out in 0u64..10_000) {
        let t = test_table();
        let more = Usage { input: u.input + extra_in, output: u.output + extra_out, ..u };
        let a = t.price(&PriceRequest::new("test-chat", &u)).unwrap().cost.total();
        let b = t.price(&PriceRequest::new("test-chat", &more)).unwrap().cost.total();
        prop_assert!(b >= a);
    }

    #[test]
    fn cost_is_additive_for_uncached_tokens(i1 in 0u64..1_000_000, i2 in 0u64..1_000_000) {
        // $2/M is 2,000 femto per token: whole nanos per 500 tokens, so sums are exact.
        let t = test_table();
        let p = |n: u64| t.price(&PriceRequest::new("test-chat", &Usage { input: n * 500, ..Usage::default() })).unwrap().cost.total();
        prop_assert_eq!(p(i1 + i2), Nanos(p(i1).0 + p(i2).0));
    }
}

#[test]
fn zero_tokens_cost_zero() {
    let t = test_table();
    let p = t
        .price(&PriceRequest::new("test-chat", &Usage::default()))
        .unwrap();
    assert_eq!(p.cost.total(), Nanos::ZERO);
}
