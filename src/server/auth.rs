//! API keys: which project a request belongs to, and what it may do.
//!
//! A key is `pk_` followed by 64 hex digits (32 random bytes from the OS-seeded CSPRNG). It
//! is shown once, at creation; the database keeps only its SHA-256 hash, a short display
//! prefix (`pk_` and the first 8 hex digits), the project and the scope. Keys live in the
//! `api_keys` table of the same database file as the spans, so `peekr keys create` works on
//! a stopped or a running receiver alike.
//!
//! # Revocation and the cache
//!
//! [`KeyStore::authenticate`] runs once per request (an OTLP batch or a page load), not per
//! span. A hit in a small in-memory cache costs a hash and a map lookup; an entry is trusted for
//! at most the cache TTL (default [`CACHE_TTL_DEFAULT`], one second), after which the key is
//! looked up in the database again. So a key revoked by another process (`peekr keys revoke`
//! while `peekr serve` runs) stops working within a second, and one revoked through this
//! [`KeyStore`] stops at once (the cache is cleared).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::store::{self, Durability, StoreError};

/// How long a successful key lookup is trusted before the database is asked again.
pub const CACHE_TTL_DEFAULT: Duration = Duration::from_secs(1);
/// Most keys kept in the lookup cache; the cache is emptied when it would grow past this.
const CACHE_MAX: usize = 10_000;
/// Every key starts with this.
pub const KEY_PREFIX: &str = "pk_";
/// Hex digits of the secret shown in a key's display prefix.
const DISPLAY_HEX: usize = 8;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// Send spans (OTLP ingest) and read the project's data. For applications and collectors.
    Ingest,
    /// Read the project's data only: the Costs page and the query API. For dashboards.
    Read,
}

impl KeyScope {
    /// The name stored in the database and used on the command line.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::Ingest => "ingest",
            KeyScope::Read => "read",
        }
    }

    /// Whether the scope allows sending spans.
    #[must_use]
    pub fn can_ingest(self) -> bool {
        self == KeyScope::Ingest
    }

    fn parse(s: &str) -> Option<KeyScope> {
        match s {
            "ingest" => Some(KeyScope::Ingest),
            "read" => Some(KeyScope::Read),
            _ => None,
        }
    }
}

impl std::str::FromStr for KeyScope {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyScope::parse(s).ok_or_else(|| AuthError::InvalidScope(s.to_owned()))
    }
}

impl std::fmt::Display for KeyScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from key management.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A project name with characters outside `A-Z a-z 0-9 . _ -`, empty, or over 64 bytes.
    #[error("invalid project name {0:?}: use 1 to 64 of A-Z a-z 0-9 . _ -")]
    InvalidProject(String),
    /// A scope other than `ingest` or `read`.
    #[error("invalid key scope {0:?}: expected ingest or read")]
    InvalidScope(String),
    /// No active key has this id or prefix.
    #[error("no active api key with id or prefix {0:?}")]
    KeyNotFound(String),
    /// Several active keys share this prefix; revoke by id instead.
    #[error("{count} active api keys start with {prefix:?}; revoke by id")]
    AmbiguousPrefix {
        /// The prefix given.
        prefix: String,
        /// How many keys matched.
        count: usize,
    },
    /// A database error.
    #[error("sqlite error: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for AuthError {
    #[cold]
    #[inline(never)]
    fn from(error: rusqlite::Error) -> Self {
        AuthError::Sqlite(error)
    }
}

/// A key just created. [`NewKey::secret`] is the only time the key itself is available.
#[derive(Clone, PartialEq, Eq)]
pub struct NewKey {
    /// The key, `pk_` + 64 hex digits. Show it once; it cannot be recovered.
    pub secret: String,
    /// The key's details as [`KeyStore::list`] shows them.
    pub info: KeyInfo,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never log the secret by accident.
        f.debug_struct("NewKey")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// An API key's details (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// Row id; `peekr keys revoke ID`.
    pub id: i64,
    /// The project the key belongs to.
    pub project: String,
    /// What the key may do.
    pub scope: KeyScope,
    /// `pk_` and the first 8 hex digits, to recognise the key.
    pub prefix: String,
    /// When the key was created.
    #[serde(with = "store::display")]
    pub created_at: jiff::Timestamp,
    /// When the key was revoked, if it was.
    #[serde(with = "store::display::option")]
    pub revoked_at: Option<jiff::Timestamp>,
}

/// Who a request is: the result of [`KeyStore::authenticate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The key's project; everything the request sees or writes is scoped to it.
    pub project: String,
    /// What the key may do.
    pub scope: KeyScope,
    /// The key's id.
    pub key_id: i64,
}

#[derive(Debug)]
struct Cached {
    principal: Principal,
    checked: Instant,
}

/// Creates, lists, revokes and checks API keys. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct KeyStore {
    conn: Mutex<Connection>,
    cache: RwLock<HashMap<[u8; 32], Cached>>,
    ttl: Duration,
}

impl KeyStore {
    /// Opens (creating and migrating if needed) the database file `path`.
    pub fn open(path: &Path) -> Result<KeyStore, AuthError> {
        // Key changes are rare and a printed key must not vanish: fsync each commit.
        let conn = store::open_connection(path, Durability::Power)?;
        Ok(KeyStore {
            conn: Mutex::new(conn),
            cache: RwLock::new(HashMap::new()),
            ttl: CACHE_TTL_DEFAULT,
        })
    }

    /// How long a successful lookup is trusted (default [`CACHE_TTL_DEFAULT`]); zero disables
    /// the cache.
    #[must_use]
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Creates a key for `project` with `scope`.
    pub fn create(&self, project: &str, scope: KeyScope) -> Result<NewKey, AuthError> {
        validate_project(project)?;
        let bytes: [u8; 32] = rand::random();
        let secret = format!("{KEY_PREFIX}{}", hex(&bytes));
        let prefix = secret[..KEY_PREFIX.len() + DISPLAY_HEX].to_owned();
        let now = jiff::Timestamp::now();
        let conn = self.conn();
        conn.execute(
            "INSERT INTO api_keys (project, scope, hash, prefix, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![project, scope.as_str(), hash(&secret).as_slice(), prefix, now.as_second()],
        )?;
        let id = conn.last_insert_rowid();
        Ok(NewKey {
            secret,
            info: KeyInfo {
                id,
                project: project.to_owned(),
                scope,
                prefix,
                created_at: jiff::Timestamp::from_second(now.as_second()).unwrap_or(now),
                revoked_at: None,
            },
        })
    }

    /// Every key (revoked ones too), optionally of one project, oldest first.
    pub fn list(&self, project: Option<&str>) -> Result<Vec<KeyInfo>, AuthError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, project, scope, prefix, created_at, revoked_at FROM api_keys
             WHERE ?1 IS NULL OR project = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([project], key_info)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes the active key with this id, or whose display prefix starts with
    /// `id_or_prefix` (`pk_1a2b3c4d`; without `pk_`, a number is taken as an id first). The
    /// prefix must match exactly one active key. Takes effect at once for this [`KeyStore`],
    /// and within the cache TTL for other processes.
    pub fn revoke(&self, id_or_prefix: &str) -> Result<KeyInfo, AuthError> {
        let wanted = id_or_prefix.trim();
        let conn = self.conn();
        // A bare number is an id first; `pk_…` (or hex that is not an id) is a prefix.
        let mut ids: Vec<i64> = Vec::new();
        if let Some(id) = wanted
            .parse::<i64>()
            .ok()
            .filter(|_| !wanted.starts_with(KEY_PREFIX))
        {
            let mut stmt = conn
                .prepare_cached("SELECT id FROM api_keys WHERE id = ?1 AND revoked_at IS NULL")?;
            let rows = stmt.query_map([id], |row| row.get(0))?;
            ids = rows.collect::<Result<_, _>>()?;
        }
        if ids.is_empty() {
            let hex_part = wanted.strip_prefix(KEY_PREFIX).unwrap_or(wanted);
            // Only hex digits reach LIKE, so `%` and `_` cannot widen the match.
            if hex_part.is_empty() || !hex_part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(AuthError::KeyNotFound(wanted.to_owned()));
            }
            let mut stmt = conn.prepare_cached(
                "SELECT id FROM api_keys WHERE substr(prefix, 4) LIKE ?1 || '%' AND revoked_at IS NULL",
            )?;
            let rows = stmt.query_map([hex_part.to_ascii_lowercase()], |row| row.get(0))?;
            ids = rows.collect::<Result<_, _>>()?;
        }
        let id = match ids.as_slice() {
            [] => return Err(AuthError::KeyNotFound(wanted.to_owned())),
            [id] => *id,
            many => {
                return Err(AuthError::AmbiguousPrefix {
                    prefix: wanted.to_owned(),
                    count: many.len(),
                });
            }
        };
        conn.execute(
            "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1",
            params![id, jiff::Timestamp::now().as_second()],
        )?;
        self.cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let info = conn.query_row(
            "SELECT id, project, scope, prefix, created_at, revoked_at FROM api_keys WHERE id = ?1",
            [id],
            key_info,
        )?;
        Ok(info)
    }

    /// The project and scope of `key`, or `None` when the key is malformed, unknown or
    /// revoked.
    pub fn authenticate(&self, key: &str) -> Result<Option<Principal>, AuthError> {
        let key = key.trim();
        // Reject garbage without touching the database.
        let well_formed = key.strip_prefix(KEY_PREFIX).is_some_and(|hex| {
            hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if !well_formed {
            return Ok(None);
        }
        let hash = hash(key);
        if !self.ttl.is_zero() {
            let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(hit) = cache
                .get(&hash)
                .filter(|hit| hit.checked.elapsed() < self.ttl)
            {
                return Ok(Some(hit.principal.clone()));
            }
        }
        let found = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(
                "SELECT id, project, scope FROM api_keys WHERE hash = ?1 AND revoked_at IS NULL",
            )?;
            stmt.query_row([hash.as_slice()], |row| {
                let scope: String = row.get(2)?;
                Ok(Principal {
                    key_id: row.get(0)?,
                    project: row.get(1)?,
                    scope: KeyScope::parse(&scope).unwrap_or(KeyScope::Read),
                })
            })
            .optional()?
        };
        if !self.ttl.is_zero() {
            let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
            match &found {
                Some(principal) => {
                    if cache.len() >= CACHE_MAX {
                        cache.clear();
                    }
                    cache.insert(
                        hash,
                        Cached {
                            principal: principal.clone(),
                            checked: Instant::now(),
                        },
                    );
                }
                None => {
                    cache.remove(&hash);
                }
            }
        }
        Ok(found)
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The key in request metadata: `authorization: Bearer <key>` (scheme case-insensitive) or
/// else `x-api-key: <key>`.
#[must_use]
pub fn key_from_headers<'a>(
    authorization: Option<&'a str>,
    x_api_key: Option<&'a str>,
) -> Option<&'a str> {
    let bearer = authorization.and_then(|value| {
        let (scheme, key) = value.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
    });
    bearer
        .or_else(|| x_api_key.map(str::trim))
        .filter(|key| !key.is_empty())
}

/// Checks a project name: 1 to 64 bytes of `A-Z a-z 0-9 . _ -`.
pub fn validate_project(project: &str) -> Result<(), AuthError> {
    let ok = !project.is_empty()
        && project.len() <= 64
        && project
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::InvalidProject(project.to_owned()))
    }
}

fn key_info(row: &rusqlite::Row<'_>) -> rusqlite::Result<KeyInfo> {
    let scope: String = row.get(2)?;
    let created: i64 = row.get(4)?;
    let revoked: Option<i64> = row.get(5)?;
    let ts = |secs: i64| jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    Ok(KeyInfo {
        id: row.get(0)?,
        project: row.get(1)?,
        scope: KeyScope::parse(&scope).unwrap_or(KeyScope::Read),
        prefix: row.get(3)?,
        created_at: ts(created),
        revoked_at: revoked.map(ts),
    })
}

fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}
