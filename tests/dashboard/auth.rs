//! Who may see what: keys, cookies, the sign-in page, and project scoping.

use crate::support::{Server, WINDOW, trace_id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_requests_are_refused() {
    let server = Server::with_dataset().await;
    for path in [
        "/api/v1/dashboard",
        "/api/v1/cost_per_query",
        "/api/v1/whoami",
        "/api/v1/insights",
    ] {
        let (status, body) = server.get(path, None).await;
        assert_eq!(status, 401, "{path}");
        assert!(body.contains("missing or unknown API key"), "{body}");
        let (status, _) = server
            .get(path, Some(&format!("pk_{}", "0".repeat(64))))
            .await;
        assert_eq!(status, 401, "{path} with an unknown key");
    }
    // The page answers with the sign-in form, and no data.
    let (status, body) = server.get("/", None).await;
    assert_eq!(status, 401);
    assert!(body.contains("action=\"/login\""), "{body}");
    assert!(!body.contains("app.js"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_in_a_header_or_the_sign_in_cookie_opens_the_page() {
    let server = Server::with_dataset().await;
    let key = server.read_key.clone();
    let (status, body) = server
        .request(
            "GET",
            "/api/v1/whoami",
            Some(("x-api-key", key.clone())),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"project":"shop","scope":"read"}"#);

    let bad = server
        .request_full("POST", "/login", None, Some("key=pk_nope".into()))
        .await;
    assert_eq!(bad.status, 401);
    assert!(bad.body.contains("unknown or revoked"));
    assert!(bad.headers.get("set-cookie").is_none());

    let ok = server
        .request_full("POST", "/login", None, Some(format!("key={key}")))
        .await;
    assert_eq!(ok.status, 303);
    let cookie = ok
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with(&format!("peekr_key={key};")), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    let page = server
        .request_full("GET", "/", Some(("cookie", pair.clone())), None)
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("/assets/app.js"));
    let csp = page
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let (status, _) = server
        .request(
            "GET",
            &format!("/api/v1/dashboard?{WINDOW}"),
            Some(("cookie", pair)),
            None,
        )
        .await;
    assert_eq!(status, 200);

    let out = server.request_full("POST", "/logout", None, None).await;
    assert!(
        out.headers
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // The assets are public and embedded: no key needed, nothing from elsewhere.
    let (status, js) = server.get("/assets/app.js", None).await;
    assert_eq!(status, 200);
    assert!(
        !js.contains("https://"),
        "the page must not load anything from a CDN"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_sees_only_its_own_project() {
    let server = Server::with_dataset().await;
    let other = server.other_key.clone();
    let (status, body) = server
        .get(&format!("/api/v1/cost_per_query?{WINDOW}"), Some(&other))
        .await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["totals"]["queries"], 0);
    assert_eq!(v["totals"]["cost_nanos"], 0);
    let (status, _) = server
        .get(&format!("/api/v1/traces/{}", trace_id(4)), Some(&other))
        .await;
    assert_eq!(status, 404, "another project's trace is not found");
    let (_, body) = server
        .get(&format!("/api/v1/top_traces?{WINDOW}"), Some(&other))
        .await;
    assert_eq!(body, "[]");
    server.stop().await;
}
