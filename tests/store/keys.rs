//! API keys: create, list, revoke, authenticate.

use std::time::{Duration, Instant};

use peekr::server::auth::{AuthError, KeyScope, KeyStore, key_from_headers};

fn keys() -> (tempfile::TempDir, KeyStore) {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyStore::open(&dir.path().join("peekr.db")).unwrap();
    (dir, keys)
}

#[test]
fn a_created_key_authenticates_as_its_project_and_is_stored_only_hashed() {
    let (dir, keys) = keys();
    let key = keys.create("acme", KeyScope::Ingest).unwrap();
    assert!(key.secret.starts_with("pk_"));
    assert_eq!(key.secret.len(), 3 + 64);
    assert_eq!(key.info.prefix, key.secret[..11]);
    assert!(
        !format!("{key:?}").contains(&key.secret),
        "Debug must not print the secret"
    );

    let who = keys.authenticate(&key.secret).unwrap().unwrap();
    assert_eq!(
        (who.project.as_str(), who.scope, who.key_id),
        ("acme", KeyScope::Ingest, key.info.id)
    );
    assert!(who.scope.can_ingest());

    let stored = peekr::server::store::run_readonly_sql(
        &dir.path().join("peekr.db"),
        "SELECT hex(hash), prefix FROM api_keys",
        None,
    )
    .unwrap();
    let dump = serde_json::to_string(&stored.rows).unwrap();
    assert!(
        !dump.to_lowercase().contains(&key.secret[3..]),
        "the secret itself is stored"
    );
    assert_eq!(
        stored.rows[0][0].as_str().unwrap().len(),
        64,
        "a sha-256 hash"
    );
}

#[test]
fn unknown_malformed_and_other_projects_keys_are_rejected() {
    let (_dir, keys) = keys();
    let key = keys.create("acme", KeyScope::Ingest).unwrap();
    let mut other = key.secret.clone();
    let last = if other.ends_with('0') { "1" } else { "0" };
    other.replace_range(other.len() - 1.., last);
    for bad in [
        "",
        "pk_",
        "Bearer x",
        &other,
        &key.secret[..40],
        &key.secret.to_uppercase(),
    ] {
        assert_eq!(keys.authenticate(bad).unwrap(), None, "{bad:?}");
    }
}

#[test]
fn a_read_key_cannot_ingest() {
    let (_dir, keys) = keys();
    let key = keys.create("acme", KeyScope::Read).unwrap();
    let who = keys.authenticate(&key.secret).unwrap().unwrap();
    assert_eq!(who.scope, KeyScope::Read);
    assert!(!who.scope.can_ingest());
}

#[test]
fn list_shows_keys_without_secrets_and_filters_by_project() {
    let (_dir, keys) = keys();
    let a = keys.create("acme", KeyScope::Ingest).unwrap();
    let b = keys.create("beta", KeyScope::Read).unwrap();
    let all = keys.list(None).unwrap();
    assert_eq!(
        all.iter().map(|k| k.id).collect::<Vec<_>>(),
        [a.info.id, b.info.id]
    );
    assert_eq!(all[0], a.info);
    let json = serde_json::to_string(&all).unwrap();
    assert!(!json.contains(&a.secret[3..]) && !json.contains(&b.secret[3..]));
    assert_eq!(keys.list(Some("beta")).unwrap(), [b.info]);
}

#[test]
fn a_revoked_key_is_rejected_immediately() {
    let (_dir, keys) = keys();
    let key = keys.create("acme", KeyScope::Ingest).unwrap();
    assert!(
        keys.authenticate(&key.secret).unwrap().is_some(),
        "cached now"
    );
    let revoked = keys.revoke(&key.info.id.to_string()).unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(keys.authenticate(&key.secret).unwrap(), None);
    let error = keys.revoke(&key.info.id.to_string()).unwrap_err();
    insta::assert_snapshot!(error, @r#"no active api key with id or prefix "1""#);
}

#[test]
fn a_key_revoked_by_another_process_stops_working_within_a_second() {
    let (dir, server) = keys();
    let key = server.create("acme", KeyScope::Ingest).unwrap();
    assert!(
        server.authenticate(&key.secret).unwrap().is_some(),
        "cached now"
    );
    // `peekr keys revoke` in another process: a separate KeyStore on the same file.
    let cli = KeyStore::open(&dir.path().join("peekr.db")).unwrap();
    cli.revoke(&key.info.prefix).unwrap();
    let revoked_at = Instant::now();
    while server.authenticate(&key.secret).unwrap().is_some() {
        assert!(
            revoked_at.elapsed() < Duration::from_millis(1500),
            "still accepted after 1.5 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(revoked_at.elapsed() <= Duration::from_millis(1100));
}

#[test]
fn revoking_by_prefix_needs_exactly_one_match() {
    let (_dir, keys) = keys();
    let a = keys.create("acme", KeyScope::Ingest).unwrap();
    let b = keys.create("acme", KeyScope::Ingest).unwrap();
    let error = keys.revoke("pk_").unwrap_err();
    assert!(matches!(error, AuthError::KeyNotFound(_)), "{error}");
    let error = keys.revoke("%").unwrap_err();
    assert!(matches!(error, AuthError::KeyNotFound(_)), "{error}");
    // A one-digit prefix may match both keys.
    let common = a.secret[..4].to_owned();
    if b.secret[..4] == common {
        let error = keys.revoke(&common).unwrap_err();
        assert!(
            matches!(error, AuthError::AmbiguousPrefix { count: 2, .. }),
            "{error}"
        );
    }
    keys.revoke(&b.info.prefix).unwrap();
    assert!(keys.authenticate(&a.secret).unwrap().is_some());
    assert!(keys.authenticate(&b.secret).unwrap().is_none());
}

#[test]
fn project_names_and_scopes_are_validated_with_clear_messages() {
    let (_dir, keys) = keys();
    let error = keys.create("acme corp", KeyScope::Ingest).unwrap_err();
    insta::assert_snapshot!(error, @r#"invalid project name "acme corp": use 1 to 64 of A-Z a-z 0-9 . _ -"#);
    let error = "write".parse::<KeyScope>().unwrap_err();
    insta::assert_snapshot!(error, @r#"invalid key scope "write": expected ingest or read"#);
    assert_eq!("read".parse::<KeyScope>().unwrap(), KeyScope::Read);
}

#[test]
fn the_key_is_read_from_bearer_or_x_api_key() {
    assert_eq!(
        key_from_headers(Some("Bearer pk_abc"), None),
        Some("pk_abc")
    );
    assert_eq!(
        key_from_headers(Some("bearer  pk_abc "), Some("pk_other")),
        Some("pk_abc")
    );
    assert_eq!(
        key_from_headers(Some("Basic xyz"), Some("pk_other")),
        Some("pk_other")
    );
    assert_eq!(key_from_headers(None, Some(" ")), None);
    assert_eq!(key_from_headers(None, None), None);
}
