//! CostSpike on a simulated clock: a flat week, then a doubled cost per query.
//!
//! Queries arrive every 10 minutes (six an hour); the rule compares the last hour with the
//! 7 days before it, in 10-minute buckets. Every number asserted below follows from the
//! formula in `docs/alerts.md`.

mod processor;
#[cfg(feature = "server")]
mod webhook;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use peekr::alerts::{Alert, AlertState, CostSpike, CostSpikeEvaluator, QuerySample, Scope};
use peekr::pricing::Nanos;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);
/// One query every 10 minutes.
const STEP: Duration = Duration::from_secs(600);
/// $0.001 per query, flat.
const COST: i64 = 1_000_000;
/// 8 days of flat traffic: a full 7-day baseline behind a full window.
const FLAT_STEPS: u32 = 8 * 144;
/// Then 3 hours at twice the cost.
const SPIKE_STEPS: u32 = 18;

/// Simulated start: 2025-01-06 00:00:00 UTC.
pub(crate) fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_736_121_600)
}

/// Time of query number `k`.
pub(crate) fn at(k: u32) -> SystemTime {
    start() + STEP * k
}

/// Cost of query `k`: doubled during the spike.
pub(crate) fn cost(k: u32) -> Nanos {
    if (FLAT_STEPS..FLAT_STEPS + SPIKE_STEPS).contains(&k) {
        Nanos(2 * COST)
    } else {
        Nanos(COST)
    }
}

/// The rule under test: 1.5× over the last hour vs the 7 days before, 10-minute buckets.
pub(crate) fn rule() -> CostSpike {
    CostSpike::new(1.5)
        .with_window(HOUR)
        .with_baseline(7 * DAY)
        .with_resolution(STEP)
        .with_min_queries(6, 100)
        .with_cooldown(6 * HOUR)
}

/// Runs `steps` queries through `eval`, evaluating one second after each, and returns every
/// alert with the step it came at.
fn drive(
    eval: &mut CostSpikeEvaluator,
    steps: u32,
    sample: impl Fn(u32) -> Vec<QuerySample>,
) -> Vec<(u32, Alert)> {
    let mut out = Vec::new();
    for k in 0..steps {
        for s in sample(k) {
            eval.record(&s);
        }
        out.extend(
            eval.evaluate(at(k) + Duration::from_secs(1))
                .into_iter()
                .map(|a| (k, a)),
        );
    }
    out
}

#[test]
fn a_doubled_cost_per_query_fires_once_with_its_numbers_and_resolves_when_cost_returns() {
    let mut eval = CostSpikeEvaluator::new(rule());
    let alerts = drive(&mut eval, FLAT_STEPS + SPIKE_STEPS + 36, |k| {
        vec![QuerySample::query(at(k), cost(k))]
    });
    assert_eq!(alerts.len(), 2, "{alerts:#?}");

    // Fires when half the window is doubled: 3×$0.002 + 3×$0.001 over 6 queries = $0.0015,
    // exactly 1.5× the flat baseline of 1008 queries at $0.001.
    let (k, fired) = &alerts[0];
    assert_eq!(*k, FLAT_STEPS + 2);
    assert_eq!(fired.state, AlertState::Firing);
    assert_eq!(fired.scope, Scope::Project);
    assert_eq!(fired.key, None);
    assert_eq!(
        (fired.window.queries, fired.window.cost),
        (6, Nanos(9 * COST))
    );
    assert_eq!(fired.window.cost_per_query(), Nanos(1_500_000));
    assert_eq!(
        (fired.baseline.queries, fired.baseline.cost),
        (1008, Nanos(1008 * COST))
    );
    assert_eq!(fired.baseline.cost_per_query(), Nanos(COST));
    assert_eq!(fired.multiplier, 1.5);
    assert!((fired.ratio - 1.5).abs() < 1e-12);
    assert_eq!(fired.fired_at, at(FLAT_STEPS + 2) + Duration::from_secs(1));
    assert_eq!(
        fired.window.to.duration_since(fired.window.from).unwrap(),
        HOUR
    );
    assert_eq!(fired.baseline.to, fired.window.from);
    assert_eq!(
        fired
            .baseline
            .to
            .duration_since(fired.baseline.from)
            .unwrap(),
        7 * DAY
    );

    // Stays firing through the spike, resolves two queries after the cost returns: the window
    // then holds 3 doubled queries ($0.0015) while the baseline has absorbed 15 of them
    // (1023 × $0.001 / 1008), so 1.5 × baseline is above the window.
    let (k, resolved) = &alerts[1];
    assert_eq!(*k, FLAT_STEPS + SPIKE_STEPS + 2);
    assert_eq!(resolved.state, AlertState::Resolved);
    assert_eq!(resolved.fired_at, fired.fired_at);
    assert_eq!(
        (resolved.window.queries, resolved.window.cost),
        (6, Nanos(9 * COST))
    );
    assert_eq!(
        (resolved.baseline.queries, resolved.baseline.cost),
        (1008, Nanos(1023 * COST))
    );
    assert!(eval.firing().next().is_none());
}

#[test]
fn exactly_doubled_with_multiplier_two_fires() {
    let rule = CostSpike::new(2.0)
        .with_name("double")
        .with_window(HOUR)
        .with_baseline(7 * DAY)
        .with_resolution(STEP)
        .with_min_queries(6, 100);
    let mut eval = CostSpikeEvaluator::new(rule);
    let alerts = drive(&mut eval, FLAT_STEPS + SPIKE_STEPS, |k| {
        vec![QuerySample::query(at(k), cost(k))]
    });
    let fired: Vec<_> = alerts
        .iter()
        .filter(|(_, a)| a.state == AlertState::Firing)
        .collect();
    assert_eq!(fired.len(), 1);
    let (k, a) = fired[0];
    // The first evaluation whose whole window is doubled.
    assert_eq!(*k, FLAT_STEPS + 5);
    assert_eq!(a.rule, "double");
    assert_eq!(a.window.cost_per_query(), Nanos(2 * COST));
    assert_eq!(a.baseline.cost_per_query(), Nanos(COST));
}

#[test]
fn no_alert_below_the_minimum_query_counts() {
    // Six queries an hour never reach a window minimum of seven.
    let mut eval = CostSpikeEvaluator::new(rule().with_min_queries(7, 100));
    let alerts = drive(&mut eval, FLAT_STEPS + SPIKE_STEPS, |k| {
        vec![QuerySample::query(at(k), cost(k))]
    });
    assert!(alerts.is_empty(), "{alerts:#?}");

    // A baseline of 1008 queries never reaches a minimum of 2000.
    let mut eval = CostSpikeEvaluator::new(rule().with_min_queries(6, 2000));
    let alerts = drive(&mut eval, FLAT_STEPS + SPIKE_STEPS, |k| {
        vec![QuerySample::query(at(k), cost(k))]
    });
    assert!(alerts.is_empty(), "{alerts:#?}");
}

#[test]
fn tenant_scope_isolates_a_single_expensive_tenant() {
    // Three tenants; only `gamma` doubles. Per project the cost per query rises by a third,
    // below 1.5×; per tenant, `gamma` alone fires.
    let workload = |k: u32| {
        ["alpha", "beta", "gamma"]
            .into_iter()
            .map(|t| {
                let c = if t == "gamma" { cost(k) } else { Nanos(COST) };
                QuerySample::query(at(k), c).with_tenant(t)
            })
            .collect()
    };
    let steps = FLAT_STEPS + SPIKE_STEPS + 36;

    let mut per_tenant = CostSpikeEvaluator::new(rule().with_scope(Scope::Tenant));
    let alerts = drive(&mut per_tenant, steps, workload);
    let keys: Vec<_> = alerts
        .iter()
        .map(|(_, a)| (a.state, a.key.as_deref()))
        .collect();
    assert_eq!(
        keys,
        [
            (AlertState::Firing, Some("gamma")),
            (AlertState::Resolved, Some("gamma"))
        ]
    );
    let fired = &alerts[0].1;
    assert_eq!(fired.scope, Scope::Tenant);
    assert_eq!((fired.window.queries, fired.baseline.queries), (6, 1008));

    let mut project = CostSpikeEvaluator::new(rule());
    assert!(drive(&mut project, steps, workload).is_empty());
}

#[test]
fn operation_scope_keys_by_operation() {
    let mut eval = CostSpikeEvaluator::new(rule().with_scope(Scope::Operation));
    let alerts = drive(&mut eval, FLAT_STEPS + SPIKE_STEPS, |k| {
        vec![
            QuerySample::query(at(k), cost(k)).with_operation("summarize"),
            QuerySample::query(at(k), Nanos(COST)).with_operation("search"),
        ]
    });
    let keys: Vec<_> = alerts.iter().map(|(_, a)| a.key.as_deref()).collect();
    assert_eq!(keys, [Some("summarize")]);
}

#[test]
fn pre_aggregated_daily_rollups_evaluate_like_single_queries() {
    // The receiver's view: one sample per day with the day's query count and cost.
    let rule = CostSpike::new(2.0)
        .with_window(DAY)
        .with_baseline(7 * DAY)
        .with_resolution(DAY)
        .with_min_queries(100, 500);
    let mut eval = CostSpikeEvaluator::new(rule);
    for day in 0..7u32 {
        eval.record(&QuerySample {
            queries: 1000,
            ..QuerySample::query(start() + DAY * day, Nanos(1000 * COST))
        });
    }
    eval.record(&QuerySample {
        queries: 400,
        ..QuerySample::query(start() + DAY * 7, Nanos(400 * 2 * COST))
    });
    let alerts = eval.evaluate(start() + DAY * 7 + 12 * HOUR);
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].window.queries, alerts[0].baseline.queries),
        (400, 7000)
    );
    assert_eq!(alerts[0].window.cost_per_query(), Nanos(2 * COST));
}

#[test]
fn alert_json_carries_exact_numbers() {
    let mut eval = CostSpikeEvaluator::new(rule());
    let alerts = drive(&mut eval, FLAT_STEPS + 3, |k| {
        vec![QuerySample::query(at(k), cost(k))]
    });
    let json = alerts[0].1.to_json();
    assert_eq!(json["kind"], "cost_spike");
    assert_eq!(json["state"], "firing");
    assert_eq!(json["scope"], "project");
    assert_eq!(json["window"]["queries"], 6);
    assert_eq!(json["window"]["cost_usd"], "0.009000000");
    assert_eq!(json["window"]["cost_per_query_usd"], "0.001500000");
    assert_eq!(json["baseline"]["cost_per_query_usd"], "0.001000000");
    assert_eq!(json["fired_at"], "2025-01-14T00:20:01Z");
    insta::assert_snapshot!(alerts[0].1.to_string(), @"cost_spike firing: cost per query 0.001500000 USD over 6 queries is 1.50x the baseline 0.001000000 USD over 1008 queries (multiplier 1.5)");
}

/// Collects every alert a sink receives.
#[derive(Debug, Default, Clone)]
pub(crate) struct Collected(pub(crate) Arc<Mutex<Vec<Alert>>>);

impl Collected {
    pub(crate) fn take(&self) -> Vec<Alert> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[test]
fn minute_resolution_window_rounds_to_whole_buckets() {
    let rule = CostSpike::new(2.0)
        .with_window(90 * MINUTE + Duration::from_secs(1))
        .with_resolution(HOUR);
    let eval = CostSpikeEvaluator::new(rule);
    let (w, _) = eval.periods(None, start());
    assert_eq!(w.to.duration_since(w.from).unwrap(), 2 * HOUR);
}
