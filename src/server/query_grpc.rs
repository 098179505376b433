//! The gRPC query API, `peekr.v1.QueryService` (proto/peekr/v1/query.proto), served by
//! `peekr serve` beside the OTLP `TraceService`.
//!
//! Each rpc authenticates exactly as ingest does ([`super::grpc::authenticate`]: any active
//! key, ingest or read-only), runs one function of [`super::query`] for the key's project on a
//! blocking thread, and converts the result to the generated messages. Status codes:
//!
//! | condition | status |
//! |---|---|
//! | no key, unknown or revoked key | `UNAUTHENTICATED` |
//! | a bad date, range or trace id | `INVALID_ARGUMENT` |
//! | no such trace in the project | `NOT_FOUND` |
//! | a store failure (detail logged, not returned) | `INTERNAL` |

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::auth::KeyStore;
use super::pb;
use super::pb::query_service_server::{QueryService, QueryServiceServer};
use super::query::{self, Query, QueryError};
use super::store::{BreakdownRow, DayCost, SpanGroup, Store, TraceSummary, Window};

/// The `QueryService` implementation.
#[derive(Clone)]
pub struct QueryGrpc {
    store: Arc<dyn Store>,
    keys: Arc<KeyStore>,
}

impl std::fmt::Debug for QueryGrpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryGrpc").finish_non_exhaustive()
    }
}

/// The service ready to add to a tonic server (gzip accepted and sent).
#[must_use]
pub fn query_service(store: Arc<dyn Store>, keys: Arc<KeyStore>) -> QueryServiceServer<QueryGrpc> {
    use tonic::codec::CompressionEncoding;
    QueryServiceServer::new(QueryGrpc { store, keys })
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
}

impl QueryGrpc {
    /// Authenticates, then runs `f` for the key's project on a blocking thread.
    async fn run<Req, T>(
        &self,
        request: Request<Req>,
        f: impl FnOnce(&dyn Store, &str, Req) -> Result<T, QueryError> + Send + 'static,
    ) -> Result<Response<T>, Status>
    where
        Req: Send + 'static,
        T: Send + 'static,
    {
        let principal = super::grpc::authenticate(&self.keys, request.metadata())?;
        let store = self.store.clone();
        let req = request.into_inner();
        let out = tokio::task::spawn_blocking(move || f(&*store, &principal.project, req))
            .await
            .map_err(|error| {
                tracing::error!(name: "QueryApi.TaskFailed", %error, "query task failed");
                Status::internal("query failed")
            })?
            .map_err(status)?;
        Ok(Response::new(out))
    }
}

fn status(error: QueryError) -> Status {
    match error {
        QueryError::TraceNotFound(_) => Status::not_found(error.to_string()),
        e if e.is_client_error() => Status::invalid_argument(e.to_string()),
        e => {
            tracing::error!(name: "QueryApi.Failed", error = %e, "query failed");
            Status::internal("query failed; see the server log")
        }
    }
}

fn opt(s: &str) -> Option<&str> {
    Some(s).filter(|s| !s.is_empty())
}

fn window(range: Option<&pb::DateRange>) -> Result<Window, QueryError> {
    let r = range.cloned().unwrap_or_default();
    Query::window(opt(&r.from), opt(&r.to), (r.days > 0).then_some(r.days))
}

fn to_query(q: Option<&pb::QueryRequest>) -> Result<Query, QueryError> {
    let q = q.cloned().unwrap_or_default();
    let f = q.filter.unwrap_or_default();
    Ok(Query {
        window: window(q.range.as_ref())?,
        filter: Query::filter(
            opt(&f.tenant),
            opt(&f.model),
            opt(&f.service),
            opt(&f.operation),
        ),
    })
}

fn group(by: i32) -> SpanGroup {
    match pb::GroupBy::try_from(by).unwrap_or(pb::GroupBy::Unspecified) {
        pb::GroupBy::Unspecified | pb::GroupBy::Model => SpanGroup::Model,
        pb::GroupBy::Operation => SpanGroup::Operation,
        pb::GroupBy::Tenant => SpanGroup::Tenant,
        pb::GroupBy::Service => SpanGroup::Service,
        pb::GroupBy::SpanName => SpanGroup::Name,
    }
}

fn group_pb(by: SpanGroup) -> pb::GroupBy {
    match by {
        SpanGroup::Model => pb::GroupBy::Model,
        SpanGroup::Operation => pb::GroupBy::Operation,
        SpanGroup::Tenant => pb::GroupBy::Tenant,
        SpanGroup::Service => pb::GroupBy::Service,
        SpanGroup::Name => pb::GroupBy::SpanName,
    }
}

// ===== conversions =====

fn day(d: &DayCost) -> pb::DayCost {
    pb::DayCost {
        day: d.day.to_string(),
        queries: d.queries,
        cost_nanos: d.cost_nanos,
        cost_per_query_nanos: d.cost_per_query_nanos,
        llm_calls: d.llm_calls,
        tokens_input: d.tokens_input,
        tokens_output: d.tokens_output,
    }
}

fn row(r: &BreakdownRow) -> pb::BreakdownRow {
    pb::BreakdownRow {
        key: r.key.clone(),
        cost_nanos: r.cost_nanos,
        share: r.share,
        llm_calls: r.llm_calls,
        spans: r.spans,
        tokens_input: r.tokens_input,
        tokens_output: r.tokens_output,
        errors: r.errors,
        error_cost_nanos: r.error_cost_nanos,
    }
}

fn trace_summary(t: &TraceSummary) -> pb::TraceSummary {
    pb::TraceSummary {
        trace_id: t.trace_id.clone(),
        day: t.day.map(|d| d.to_string()),
        root_name: t.root_name.clone(),
        service: t.service.clone(),
        start_time_unix_nano: t.start_time_ns,
        end_time_unix_nano: t.end_time_ns,
        cost_nanos: t.cost_nanos,
        llm_calls: t.llm_calls,
        tokens_input: t.tokens_input,
        tokens_output: t.tokens_output,
        spans: t.spans,
        errors: t.errors,
        tenant_id: t.tenant_id.clone(),
        session_id: t.session_id.clone(),
    }
}

fn period_pb(p: &query::PeriodTotals) -> pb::PeriodTotals {
    pb::PeriodTotals {
        from: p.from.to_string(),
        to: p.to.to_string(),
        queries: p.queries,
        cost_nanos: p.cost_nanos,
        cost_per_query_nanos: p.cost_per_query_nanos,
    }
}

fn changes(c: &[query::Change]) -> Vec<pb::Change> {
    c.iter()
        .map(|c| pb::Change {
            key: c.key.clone(),
            baseline_cost_nanos: c.baseline_cost_nanos,
            current_cost_nanos: c.current_cost_nanos,
            baseline_per_query_nanos: c.baseline_per_query_nanos,
            current_per_query_nanos: c.current_per_query_nanos,
            delta_per_query_nanos: c.delta_per_query_nanos,
        })
        .collect()
}

fn insight(i: &query::Insight) -> pb::Insight {
    pb::Insight {
        kind: i.kind.as_str().to_owned(),
        title: i.title.clone(),
        detail: i.detail.clone(),
        action: i.action.clone(),
        saving_per_day_nanos: i.saving_per_day_nanos,
        day: i.day.map(|d| d.to_string()),
        trace_id: i.trace_id.clone(),
        items: i
            .items
            .iter()
            .map(|it| pb::InsightItem {
                label: it.label.clone(),
                value: it.value.clone(),
            })
            .collect(),
    }
}

// ===== the rpcs =====

#[tonic::async_trait]
impl QueryService for QueryGrpc {
    async fn get_cost_per_query(
        &self,
        request: Request<pb::QueryRequest>,
    ) -> Result<Response<pb::CostPerQueryResponse>, Status> {
        self.run(request, |store, project, req| {
            let s = query::series(store, project, &to_query(Some(&req))?)?;
            let t = &s.totals;
            Ok(pb::CostPerQueryResponse {
                from: s.from.to_string(),
                to: s.to.to_string(),
                days: s.days.iter().map(day).collect(),
                totals: Some(pb::Totals {
                    queries: t.queries,
                    cost_nanos: t.cost_nanos,
                    cost_per_query_nanos: t.cost_per_query_nanos,
                    llm_calls: t.llm_calls,
                    tokens_input: t.tokens_input,
                    tokens_output: t.tokens_output,
                }),
            })
        })
        .await
    }

    async fn get_breakdown(
        &self,
        request: Request<pb::BreakdownRequest>,
    ) -> Result<Response<pb::BreakdownResponse>, Status> {
        self.run(request, |store, project, req| {
            let b = query::breakdown(
                store,
                project,
                &to_query(req.query.as_ref())?,
                group(req.by),
            )?;
            Ok(pb::BreakdownResponse {
                by: group_pb(b.by) as i32,
                queries: b.queries,
                total_cost_nanos: b.total_cost_nanos,
                rows: b.rows.iter().map(row).collect(),
                embedding_share: b.embedding_share,
                embedding_flag: b.embedding_flag,
            })
        })
        .await
    }

    async fn get_top_traces(
        &self,
        request: Request<pb::TopTracesRequest>,
    ) -> Result<Response<pb::TopTracesResponse>, Status> {
        self.run(request, |store, project, req| {
            let limit = if req.limit == 0 {
                query::TOP_TRACES_DEFAULT
            } else {
                req.limit as usize
            };
            let traces = query::top_traces(store, project, &to_query(req.query.as_ref())?, limit)?;
            Ok(pb::TopTracesResponse {
                traces: traces.iter().map(trace_summary).collect(),
            })
        })
        .await
    }

    async fn get_trace(
        &self,
        request: Request<pb::GetTraceRequest>,
    ) -> Result<Response<pb::TraceDetail>, Status> {
        let id = &request.get_ref().trace_id;
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Status::invalid_argument("trace_id must be 32 hex digits"));
        }
        self.run(request, |store, project, req| {
            let t = query::trace(store, project, &req.trace_id)?;
            Ok(pb::TraceDetail {
                trace_id: t.trace_id,
                root_name: t.root_name,
                start_time_unix_nano: t.start_time_ns,
                duration_ns: t.duration_ns,
                cost_nanos: t.cost_nanos,
                tokens_input: t.tokens_input,
                tokens_output: t.tokens_output,
                tenant_id: t.tenant_id,
                session_id: t.session_id,
                spans: t
                    .spans
                    .into_iter()
                    .map(|s| pb::SpanView {
                        span_id: s.span_id,
                        parent_span_id: s.parent_span_id,
                        depth: s.depth,
                        name: s.name,
                        service: s.service,
                        start_offset_ns: s.start_offset_ns,
                        duration_ns: s.duration_ns,
                        status_code: s.status_code,
                        operation: s.operation,
                        model: s.model,
                        tokens_input: s.tokens_input,
                        tokens_output: s.tokens_output,
                        cache_read_tokens: s.cache_read_tokens,
                        cost_nanos: s.cost_nanos,
                        cost_status: s.cost_status,
                        share: s.share,
                        typical_cost_nanos: s.typical_cost_nanos,
                        evaluation_score: s.evaluation_score,
                    })
                    .collect(),
            })
        })
        .await
    }

    async fn compare_periods(
        &self,
        request: Request<pb::ComparePeriodsRequest>,
    ) -> Result<Response<pb::ComparePeriodsResponse>, Status> {
        self.run(request, |store, project, req| {
            let f = req.filter.unwrap_or_default();
            let filter = Query::filter(
                opt(&f.tenant),
                opt(&f.model),
                opt(&f.service),
                opt(&f.operation),
            );
            let (default_current, default_baseline) =
                query::default_periods(super::store::today_utc());
            let period = |r: Option<pb::DateRange>, default: Window| match r {
                Some(r) if r != pb::DateRange::default() => {
                    // A single day may be given as `from` alone.
                    let to = if r.to.is_empty() && r.days == 0 {
                        r.from.clone()
                    } else {
                        r.to.clone()
                    };
                    Query::window(opt(&r.from), opt(&to), (r.days > 0).then_some(r.days))
                }
                _ => Ok(default),
            };
            let current = period(req.current, default_current)?;
            let baseline = period(req.baseline, default_baseline)?;
            let c = query::compare(store, project, &filter, current, baseline)?;
            Ok(pb::ComparePeriodsResponse {
                current: Some(period_pb(&c.current)),
                baseline: Some(period_pb(&c.baseline)),
                by_operation: changes(&c.by_operation),
                by_model: changes(&c.by_model),
                by_span_name: changes(&c.by_name),
            })
        })
        .await
    }

    async fn get_errors(
        &self,
        request: Request<pb::QueryRequest>,
    ) -> Result<Response<pb::ErrorsResponse>, Status> {
        self.run(request, |store, project, req| {
            let e = query::errors(store, project, &to_query(Some(&req))?)?;
            Ok(pb::ErrorsResponse {
                llm_calls: e.stats.llm_calls,
                errors: e.stats.errors,
                error_cost_nanos: e.stats.error_cost_nanos,
                retried_calls: e.stats.retried_calls,
                retried_cost_nanos: e.stats.retried_cost_nanos,
                error_rate: e.error_rate,
                by_model: e.by_model.iter().map(row).collect(),
            })
        })
        .await
    }

    async fn get_insights(
        &self,
        request: Request<pb::QueryRequest>,
    ) -> Result<Response<pb::InsightsResponse>, Status> {
        self.run(request, |store, project, req| {
            let list = query::insights(store, project, &to_query(Some(&req))?)?;
            Ok(pb::InsightsResponse {
                insights: list.iter().map(insight).collect(),
            })
        })
        .await
    }

    async fn get_alerts(
        &self,
        request: Request<pb::QueryRequest>,
    ) -> Result<Response<pb::AlertsResponse>, Status> {
        self.run(request, |store, project, req| {
            let list = query::alerts(store, project, &to_query(Some(&req))?)?;
            Ok(pb::AlertsResponse {
                alerts: list
                    .iter()
                    .map(|a| pb::Alert {
                        day: a.day.to_string(),
                        state: a.state.to_owned(),
                        queries: a.queries,
                        cost_per_query_nanos: a.cost_per_query_nanos,
                        baseline_cost_per_query_nanos: a.baseline_cost_per_query_nanos,
                        ratio: a.ratio,
                        multiplier: a.multiplier,
                    })
                    .collect(),
            })
        })
        .await
    }
}
