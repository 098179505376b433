//! The Costs page and its JSON API, served by `peekr serve` (default `127.0.0.1:8080`).
//!
//! ```text
//!  GET  /                      the page (or the sign-in form, 401, without a key)
//!  GET  /login, POST /login    sign in with an API key or read-only dashboard key (sets a cookie)
//!  POST /logout                forget the cookie
//!  GET  /assets/{app.js,app.css,favicon.svg}   embedded in the binary; nothing from a CDN
//!  GET  /healthz               "ok"
//!  GET  /api/v1/...            JSON; 401 without a key (see `router`)
//!  GET  /api/v1/alert_history  the receiver's fired/resolved cost-spike alerts (alert history)
//! ```
//!
//! Every API route authenticates with `authorization: Bearer <key>`, `x-api-key: <key>` or the
//! `peekr_key` cookie, and answers for the key's project only. The handlers are thin: they parse
//! the request, run one function of [`super::query`] on a blocking thread (store reads block),
//! and serialize the result; the gRPC query API calls the same functions.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query as UrlQuery, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};

use super::HttpState;
use super::auth::{KeyScope, Principal, key_from_headers};
use super::query::{self, Query, QueryError};
use super::store::Store;

/// The cookie holding the key after a sign-in.
pub(crate) const COOKIE: &str = "peekr_key";
/// How long the sign-in cookie lasts: 7 days.
const COOKIE_MAX_AGE_SECS: u64 = 7 * 24 * 3600;

const INDEX_HTML: &str = include_str!("assets/index.html");
const LOGIN_HTML: &str = include_str!("assets/login.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");
const FAVICON_SVG: &str = include_str!("assets/favicon.svg");

/// Only this origin's scripts, styles and requests; no inline script, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The HTTP router: the page, its assets, the sign-in flow and the `/api/v1` JSON endpoints.
pub(crate) fn router(state: HttpState) -> Router {
    let api = Router::new()
        .route("/whoami", get(whoami))
        .route("/dashboard", get(dashboard))
        .route("/cost_per_query", get(cost_per_query))
        .route("/breakdown", get(breakdown))
        .route("/top_traces", get(top_traces))
        .route("/traces/{trace_id}", get(trace))
        .route("/compare", get(compare))
        .route("/errors", get(errors))
        .route("/insights", get(insights))
        .route("/alerts", get(alerts))
        .route("/alert_history", get(alert_history))
        .route("/filters", get(filters))
        .fallback(|| async { AppError::NotFound("no such endpoint".into()) });
    Router::new()
        .route("/", get(index))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/assets/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
        .route(
            "/assets/favicon.svg",
            get(|| async { asset("image/svg+xml", FAVICON_SVG) }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .nest("/api/v1", api)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // Assets change only with the binary; a short cache keeps reloads instant.
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

// ===== errors =====

/// What a handler can fail with. Server-side failures are logged with their detail and answered
/// with a generic body; client errors say what was wrong.
#[derive(Debug)]
pub(crate) enum AppError {
    /// No key, or an unknown or revoked one.
    Unauthenticated,
    /// A bad parameter.
    BadRequest(String),
    /// No such trace or endpoint.
    NotFound(String),
    /// Anything on the server side; the detail is logged, never returned.
    Internal(String),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            AppError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "missing or unknown API key: send `authorization: Bearer <key>` or sign in at /login",
            ),
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.as_str()),
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, m.as_str()),
            AppError::Internal(detail) => {
                tracing::error!(name: "Dashboard.RequestFailed", error = %detail, "dashboard request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; see the server log",
                )
            }
        };
        let mut res = (status, Json(ErrorBody { error: message })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"peekr\""),
            );
        }
        res
    }
}

impl From<QueryError> for AppError {
    fn from(error: QueryError) -> Self {
        match error {
            QueryError::TraceNotFound(_) => AppError::NotFound(error.to_string()),
            e if e.is_client_error() => AppError::BadRequest(e.to_string()),
            e => AppError::Internal(e.to_string()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::BadRequest(rejection.body_text())
    }
}

// ===== authentication =====

/// The caller, authenticated by header or cookie.
#[derive(Debug, Clone)]
pub(crate) struct Authed(pub(crate) Principal);

/// The key a request carries: header first, then the sign-in cookie.
fn request_key(headers: &HeaderMap) -> Option<String> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(key) = key_from_headers(
        text(header::AUTHORIZATION),
        headers.get("x-api-key").and_then(|v| v.to_str().ok()),
    ) {
        return Some(key.to_owned());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn authenticate(state: &HttpState, key: &str) -> Result<Option<Principal>, AppError> {
    state
        .keys
        .authenticate(key)
        .map_err(|e| AppError::Internal(format!("key lookup failed: {e}")))
}

impl FromRequestParts<HttpState> for Authed {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        let key = request_key(&parts.headers).ok_or(AppError::Unauthenticated)?;
        authenticate(state, &key)?
            .map(Authed)
            .ok_or(AppError::Unauthenticated)
    }
}

// ===== pages =====

async fn index(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    let signed_in = match request_key(&headers) {
        Some(key) => authenticate(&state, &key),
        None => Ok(None),
    };
    match signed_in {
        Ok(Some(_)) => page(StatusCode::OK, INDEX_HTML.to_owned()),
        Ok(None) => login_response(StatusCode::UNAUTHORIZED, ""),
        Err(e) => e.into_response(),
    }
}

fn page(status: StatusCode, html: String) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

fn login_response(status: StatusCode, message: &str) -> Response {
    // The message is one of ours, but escape it anyway: it lands in HTML.
    page(
        status,
        LOGIN_HTML.replace("{{message}}", &escape_html(message)),
    )
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn login_page() -> Response {
    login_response(StatusCode::OK, "")
}

#[derive(Deserialize)]
struct LoginForm {
    key: String,
}

async fn login(State(state): State<HttpState>, Form(form): Form<LoginForm>) -> Response {
    let key = form.key.trim();
    match authenticate(&state, key) {
        Ok(Some(_)) => {
            let cookie = format!(
                "{COOKIE}={key}; Path=/; HttpOnly; SameSite=Strict; Max-Age={COOKIE_MAX_AGE_SECS}"
            );
            let mut res = Redirect::to("/").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Ok(None) => login_response(StatusCode::UNAUTHORIZED, "That key is unknown or revoked."),
        Err(e) => e.into_response(),
    }
}

async fn logout() -> Response {
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("peekr_key=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    res
}

// ===== the API =====

/// Query-string parameters shared by the API routes.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Params {
    from: Option<String>,
    to: Option<String>,
    days: Option<u32>,
    tenant: Option<String>,
    model: Option<String>,
    service: Option<String>,
    operation: Option<String>,
    by: Option<String>,
    limit: Option<usize>,
    current_from: Option<String>,
    current_to: Option<String>,
    baseline_from: Option<String>,
    baseline_to: Option<String>,
}

impl Params {
    fn query(&self) -> Result<Query, QueryError> {
        Ok(Query {
            window: Query::window(self.from.as_deref(), self.to.as_deref(), self.days)?,
            filter: Query::filter(
                self.tenant.as_deref(),
                self.model.as_deref(),
                self.service.as_deref(),
                self.operation.as_deref(),
            ),
        })
    }
}

type ParamsResult = Result<UrlQuery<Params>, QueryRejection>;

/// Runs `f` over the store on a blocking thread (store reads block) and answers with JSON.
async fn run<T, F>(state: &HttpState, principal: &Principal, f: F) -> Result<Json<T>, AppError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&dyn Store, &str) -> Result<T, QueryError> + Send + 'static,
{
    let store: Arc<dyn Store> = state.store.clone();
    let project = principal.project.clone();
    let out = tokio::task::spawn_blocking(move || f(&*store, &project))
        .await
        .map_err(|e| AppError::Internal(format!("query task failed: {e}")))??;
    Ok(Json(out))
}

#[derive(Serialize)]
struct WhoAmI {
    project: String,
    scope: KeyScope,
}

async fn whoami(Authed(p): Authed) -> Json<WhoAmI> {
    Json(WhoAmI {
        project: p.project,
        scope: p.scope,
    })
}

async fn dashboard(
    State(s): State<HttpState>,
    Authed(p): Authed,
    params: ParamsResult,
) -> Result<Response, AppError> {
    let q = params?.query()?;
    Ok(run(&s, &p, move |store, project| {
        query::dashboard(store, project, &q)
    })
    .await?
    .into_response())
}

async fn cost_per_query(
    State(s): State<HttpState>,
    Authed(p): Authed,
    params: ParamsResult,
) -> Result<Response, AppError> {
    let q = params?.query()?;
    Ok(run(&s, &p, move |store, project| {
        query::series(store, project, &q)
    })
    .await?
    .into_response())
}

async fn breakdown(
    State(s): State<HttpState>,
    Authed(p): Authed,
    params: ParamsResult,
) -> Result<Response, AppError> {
    let params = params?;
    let q = params.query()?;
    let by = query::parse_group(params.by.as_deref().unwrap_or("model"))?;
    Ok(run(&s, &p, move |store, project| {
        query::breakdown(store, project, &q, by)
    })
    .await?
    .into_response())
}

async fn top_traces(
    State(s): State<HttpState>,
    Authed(p): Authed,
    params: ParamsResult,
) -> Result<Response, AppError> {
    let params = params?;
    let q = params.query()?;
    let limit = params.limit.unwrap_or(query::TOP_TRACES_DEFAULT);
    Ok(run(&s, &p, move |store, project| {
        query::top_traces(store, project, &q, limit)
    })
    .await?
    .into_response())
}

async fn trace(
    State(s): State<HttpState>,
    Authed(p): Authed,
    Path(trace_id): Path<String>,
) -> Result<Response, AppError> {
    if trace_id.len() != 32 || !trace_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::BadRequest(
            "trace id must be 32 hex digits".into(),
        ));
    }
    Ok(run(&s, &p, move |store, project| {
        query::trace(store, project, &trace_id)
    })
    .await?
    .into_response())
}

async fn compare(
    State(s): State<HttpState>,
    Authed(p): Authed,
    params: ParamsResult,
) -> Result<Response, AppError> {
    let params = params?;
    let q = params.query()?;
    let (default_current, default_baseline) = query::default_periods(super::store::today_utc());
    let period = |from: &Option<String>, to: &Option<String>, default: super::store::Window| match (
        from, to,
    ) {
        (None, None) => Ok(default),
        (from, to) => Query::window(
            from.as_deref().or(to.as_deref()),
            to.as_deref().or(from.as_deref()),
            None,
        ),
    };
    let current = period(&params.current_from, &params.current_to, default_current)?;
    let baseline = period(&params.baseline_from, &params.baseline_to, default_baseline)?;
    Ok(run(&s, &p, move |store, project| {
        query::compare(store, project, &q.filter, current, baseline)
    })
    .await?
    .into_response())
}

async fn errors(
    State(s): State<HttpState>,
    Authed(p): Authed,
    params: ParamsResult,
) -> Result<Response, AppError> {
    let q = params?.query()?;
    Ok(run(&s, &p, move |store, project| {
        query::errors(store, project, &q)
    })
    .await?
    .into_response())
}

async fn insights(
    State(s): State<HttpState>,
    Authed(p): Authed,
    params: ParamsResult,
) -> Result<Response, AppError> {
    let q = params?.query()?;
    Ok(run(&s, &p, move |store, project| {
        query::insights(store, project, &q)
    })
    .await?
    .into_response())
}

async fn alerts(
    State(s): State<HttpState>,
    Authed(p): Authed,
    params: ParamsResult,
) -> Result<Response, AppError> {
    let q = params?.query()?;
    Ok(run(&s, &p, move |store, project| {
        query::alerts(store, project, &q)
    })
    .await?
    .into_response())
}

/// Default and largest number of rows of `/api/v1/alert_history`.
const ALERT_HISTORY_LIMIT_DEFAULT: usize = 100;
const ALERT_HISTORY_LIMIT_MAX: usize = 1000;

#[derive(Serialize)]
struct AlertHistoryBody {
    project: String,
    alerts: Vec<super::alerting::AlertRecord>,
}

/// The alerts the receiver fired (and resolved) for the key's project, newest first
/// (`?limit=N`, default 100, at most 1000). Empty when the receiver keeps no history.
async fn alert_history(
    State(s): State<HttpState>,
    Authed(p): Authed,
    params: ParamsResult,
) -> Result<Response, AppError> {
    let limit = params?
        .limit
        .unwrap_or(ALERT_HISTORY_LIMIT_DEFAULT)
        .min(ALERT_HISTORY_LIMIT_MAX);
    let project = p.project;
    let Some(history) = s.alerts.clone() else {
        return Ok(Json(AlertHistoryBody {
            project,
            alerts: Vec::new(),
        })
        .into_response());
    };
    let alerts = tokio::task::spawn_blocking({
        let project = project.clone();
        move || history.list(&project, limit)
    })
    .await
    .map_err(|e| AppError::Internal(format!("alert history task failed: {e}")))?
    .map_err(|e| AppError::Internal(format!("alert history: {e}")))?;
    Ok(Json(AlertHistoryBody { project, alerts }).into_response())
}

async fn filters(
    State(s): State<HttpState>,
    Authed(p): Authed,
    params: ParamsResult,
) -> Result<Response, AppError> {
    let q = params?.query()?;
    Ok(run(&s, &p, move |store, project| {
        Ok(store.filter_values(project, q.window)?)
    })
    .await?
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_comes_from_a_header_or_the_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(request_key(&h), None);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; peekr_key=pk_1 ; c=d"),
        );
        assert_eq!(request_key(&h).as_deref(), Some("pk_1"));
        h.insert("x-api-key", HeaderValue::from_static("pk_2"));
        assert_eq!(request_key(&h).as_deref(), Some("pk_2"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer pk_3"),
        );
        assert_eq!(request_key(&h).as_deref(), Some("pk_3"));
    }

    /// The router without a socket (`tower::ServiceExt::oneshot`); the real-socket tests are
    /// in `tests/dashboard`.
    #[tokio::test]
    async fn the_router_refuses_without_a_key_and_serves_assets_with_a_strict_csp() {
        use tower::ServiceExt as _;
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            super::super::store::SqliteStore::open_path(dir.path().join("peekr.db")).unwrap(),
        );
        let keys = Arc::new(super::super::auth::KeyStore::open(store.path()).unwrap());
        let key = keys.create("p", KeyScope::Read).unwrap().secret;
        let app = router(super::super::http_state(store, keys, Arc::default(), None));
        let get = |uri: &str, key: Option<&str>| {
            let mut req = axum::http::Request::get(uri);
            if let Some(k) = key {
                req = req.header("x-api-key", k);
            }
            req.body(axum::body::Body::empty()).unwrap()
        };
        let res = app
            .clone()
            .oneshot(get("/api/v1/dashboard", None))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = app
            .clone()
            .oneshot(get("/api/v1/nope", Some(&key)))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = app
            .clone()
            .oneshot(get("/api/v1/whoami", Some(&key)))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.oneshot(get("/assets/app.js", None)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_SECURITY_POLICY], CSP);
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
