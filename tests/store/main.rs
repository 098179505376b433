//! The SQLite store, API keys, read-only SQL and the report, on real database files.

mod durability;
mod keys;
mod queries;
mod report;
mod sql;
mod writes;

use jiff::civil::{Date, date};
use peekr::server::record::SpanRecord;
use peekr::server::store::{SqliteStore, SqliteStoreConfig, Store};
use tempfile::TempDir;

/// A store in a fresh temporary directory; keep the `TempDir` alive while using it.
pub(crate) fn store() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(SqliteStoreConfig::in_dir(dir.path())).unwrap();
    (dir, store)
}

/// Unix nanoseconds of `day` at `hour`:00 UTC.
pub(crate) fn at(day: Date, hour: i64) -> i64 {
    let days = day.since(date(1970, 1, 1)).unwrap().get_days();
    (i64::from(days) * 86_400 + hour * 3600) * 1_000_000_000
}

/// A span builder for tests.
#[derive(Debug, Clone)]
pub(crate) struct S(pub(crate) SpanRecord);

impl S {
    /// A root span of trace `trace` ending on `day` at noon.
    pub(crate) fn root(trace: &str, span: &str, day: Date) -> S {
        S(SpanRecord {
            trace_id: format!("{trace:0>32}"),
            span_id: format!("{span:0>16}"),
            parent_span_id: None,
            name: "agent.run".into(),
            service: "api".into(),
            start_time_ns: at(day, 12) - 1_000_000_000,
            end_time_ns: at(day, 12),
            attributes: "{}".into(),
            ..SpanRecord::default()
        })
    }

    /// A child of `parent` in `trace`.
    pub(crate) fn child(trace: &str, span: &str, parent: &str, day: Date) -> S {
        let mut s = S::root(trace, span, day);
        s.0.parent_span_id = Some(format!("{parent:0>16}"));
        s.0.name = "chat".into();
        s
    }

    /// An LLM call: model, operation `chat`, status `priced`, cost and tokens.
    pub(crate) fn llm(mut self, model: &str, cost_nanos: i64, input: i64, output: i64) -> S {
        self.0.model = Some(model.into());
        self.0.operation = Some("chat".into());
        self.0.provider = Some("openai".into());
        self.0.cost_nanos = Some(cost_nanos);
        self.0.cost_status = Some("priced".into());
        self.0.tokens_input = input;
        self.0.tokens_output = output;
        self
    }

    pub(crate) fn op(mut self, operation: &str) -> S {
        self.0.operation = Some(operation.into());
        self
    }

    pub(crate) fn tenant(mut self, tenant: &str) -> S {
        self.0.tenant_id = Some(tenant.into());
        self
    }

    pub(crate) fn session(mut self, session: &str) -> S {
        self.0.session_id = Some(session.into());
        self
    }

    pub(crate) fn service(mut self, service: &str) -> S {
        self.0.service = service.into();
        self
    }

    pub(crate) fn name(mut self, name: &str) -> S {
        self.0.name = name.into();
        self
    }

    pub(crate) fn error(mut self) -> S {
        self.0.status_code = 2;
        self
    }

    pub(crate) fn hour(mut self, hour: i64) -> S {
        let day_start = self.0.end_time_ns - 12 * 3_600_000_000_000;
        self.0.end_time_ns = day_start + hour * 3_600_000_000_000;
        self.0.start_time_ns = self.0.end_time_ns - 1_000_000_000;
        self
    }

    pub(crate) fn build(self) -> SpanRecord {
        self.0
    }
}

/// Writes one batch and waits for the commit.
pub(crate) async fn write(
    store: &SqliteStore,
    project: &str,
    spans: Vec<S>,
) -> peekr::server::store::WriteAck {
    store
        .submit(project, spans.into_iter().map(S::build).collect())
        .unwrap()
        .await
        .unwrap()
}

/// Runs a one-value SQL query on the store's file.
pub(crate) fn scalar(store: &SqliteStore, sql: &str) -> serde_json::Value {
    let out = store.sql(sql, None).unwrap();
    out.rows[0][0].clone()
}
