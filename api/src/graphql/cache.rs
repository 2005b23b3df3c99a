//! The response cache: a node answers a caller's repeated query from memory while nothing was
//! written since it stored the answer.
//!
//! - **What is cached.** Single operations (POST or GET) whose document holds only queries,
//!   answered without errors. Mutations, subscriptions, batches and answers with errors are not.
//! - **For whom.** Per caller scope ([`crate::policy::response_scope`]): an answer is reused
//!   only for the same user with the same role and organisation, the same integration token, or
//!   anonymous callers. The key also holds the document, the operation name, the variables and
//!   the extensions (an automatic persisted query's hash); keys are compared whole, so two keys
//!   never share an answer by a hash collision.
//! - **Exact.** Every committing write advances the data version in its own transaction
//!   (`db::commit`); the authenticating statement reads it (`auth::request`). An answer is
//!   stored with the version read before its first data statement, and served only while the
//!   version is unchanged — on any node, since the number lives in the database. (Read
//!   committed: a data statement sees at least what the earlier version statement saw, so an
//!   answer may be newer than its version, never older.)
//! - **The clock.** Fields whose value changes with time alone (an open phase, whether
//!   registration is open) record when it next changes ([`CacheHints::changes_at`]); the answer
//!   is served until then at most.
//! - **Bounded.** `PEARLS_RESPONSE_CACHE_MB` of keys and bodies, least recently used first out;
//!   `PEARLS_RESPONSE_CACHE=false` turns it off. Hits, misses, stores, evictions, entries and
//!   bytes are on `/metrics` (`pearls_response_cache_*`).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use lru::LruCache;
use prometheus::{IntCounter, IntGauge, Registry};

/// What execution learnt about whether its answer may be cached; one per request, written by
/// the extension (the document holds only queries) and by clock-dependent fields.
#[derive(Debug)]
pub struct CacheHints {
    queries_only: AtomicBool,
    /// Milliseconds since the epoch at which some field of the answer changes by time alone;
    /// `i64::MAX`: never.
    valid_until_ms: AtomicI64,
}

impl Default for CacheHints {
    fn default() -> Self {
        Self {
            queries_only: AtomicBool::new(false),
            valid_until_ms: AtomicI64::new(i64::MAX),
        }
    }
}

impl CacheHints {
    /// The document holds only queries (set when it is parsed).
    pub fn set_queries_only(&self, yes: bool) {
        self.queries_only.store(yes, Ordering::Relaxed);
    }

    /// A field's value changes at `at` by time alone (a phase opens, a deadline passes): the
    /// answer may be served until then. Instants in the past change nothing.
    pub fn changes_at(&self, at: DateTime<Utc>) {
        self.valid_until_ms
            .fetch_min(at.timestamp_millis(), Ordering::Relaxed);
    }

    /// A field that depends on the time between two instants (open from `starts` to `ends`):
    /// records the next of them after `now`.
    pub fn window(&self, now: DateTime<Utc>, starts: DateTime<Utc>, ends: DateTime<Utc>) {
        if now < starts {
            self.changes_at(starts);
        } else if now <= ends {
            // Open until `ends` inclusive: it closes one millisecond later.
            self.changes_at(ends + chrono::Duration::milliseconds(1));
        }
    }

    fn valid_until(&self) -> i64 {
        self.valid_until_ms.load(Ordering::Relaxed)
    }
}

/// One cached answer.
struct Entry {
    version: i64,
    valid_until_ms: i64,
    body: Bytes,
    /// The operation's name, so a hit is labelled like the execution it saves (`/metrics`).
    operation: Option<Arc<str>>,
}

/// A stored answer.
pub struct Hit {
    pub body: Bytes,
    pub operation: Option<Arc<str>>,
}

impl std::ops::Deref for Hit {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.body
    }
}

struct Inner {
    entries: LruCache<Box<str>, Entry>,
    bytes: usize,
}

/// Bookkeeping beside an entry's key and body (the map's slot, the entry's fields).
const ENTRY_OVERHEAD: usize = 96;

/// A node's response cache (see the module documentation).
pub struct ResponseCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
    hits: IntCounter,
    misses: IntCounter,
    stores: IntCounter,
    evictions: IntCounter,
    entries: IntGauge,
    bytes: IntGauge,
}

impl ResponseCache {
    pub fn new(max_bytes: usize) -> Self {
        let counter =
            |name: &str, help: &str| IntCounter::new(name, help).expect("a valid metric name");
        let gauge =
            |name: &str, help: &str| IntGauge::new(name, help).expect("a valid metric name");
        Self {
            inner: Mutex::new(Inner {
                entries: LruCache::unbounded(),
                bytes: 0,
            }),
            max_bytes,
            hits: counter(
                "pearls_response_cache_hits_total",
                "Queries answered from this node's response cache",
            ),
            misses: counter(
                "pearls_response_cache_misses_total",
                "Cacheable queries that found no valid answer in the response cache",
            ),
            stores: counter(
                "pearls_response_cache_stores_total",
                "Answers stored in the response cache",
            ),
            evictions: counter(
                "pearls_response_cache_evictions_total",
                "Answers dropped from the response cache to stay within its size",
            ),
            entries: gauge(
                "pearls_response_cache_entries",
                "Answers held in the response cache",
            ),
            bytes: gauge(
                "pearls_response_cache_bytes",
                "Bytes of keys and answers held in the response cache",
            ),
        }
    }

    /// Puts the cache's metrics on `/metrics`.
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        for c in [&self.hits, &self.misses, &self.stores, &self.evictions] {
            registry.register(Box::new(c.clone()))?;
        }
        for g in [&self.entries, &self.bytes] {
            registry.register(Box::new(g.clone()))?;
        }
        Ok(())
    }

    /// The key of an operation for a caller scope: every part length-prefixed, so no two
    /// different requests spell the same key.
    pub fn key(
        scope: &str,
        operation_name: Option<&str>,
        query: &str,
        variables: &str,
        extensions: &str,
    ) -> Box<str> {
        let mut k = String::with_capacity(
            scope.len() + query.len() + variables.len() + extensions.len() + 48,
        );
        for part in [
            scope,
            operation_name.unwrap_or("\u{0}"),
            query,
            variables,
            extensions,
        ] {
            k.push_str(&part.len().to_string());
            k.push(':');
            k.push_str(part);
        }
        k.into_boxed_str()
    }

    /// The stored answer for `key`, if it was stored at `version` and time has not changed it.
    /// (A miss is counted when the answer is stored: only queries are.)
    pub fn get(&self, key: &str, version: i64, now: DateTime<Utc>) -> Option<Hit> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let entry = inner.entries.get(key)?;
        if entry.version == version && now.timestamp_millis() < entry.valid_until_ms {
            let hit = Hit {
                body: entry.body.clone(),
                operation: entry.operation.clone(),
            };
            drop(inner);
            self.hits.inc();
            return Some(hit);
        }
        // Stale for good: versions only grow and time only passes.
        if let Some((k, e)) = inner.entries.pop_entry(key) {
            inner.bytes -= cost(&k, &e);
        }
        self.publish(&inner);
        None
    }

    /// Stores an answer computed at `version`, unless execution found it may not be cached.
    /// An answer larger than a sixteenth of the cache is not kept (it would push out many).
    pub fn put(
        &self,
        key: Box<str>,
        version: i64,
        hints: &CacheHints,
        body: Bytes,
        operation: Option<&str>,
    ) {
        if !hints.queries_only.load(Ordering::Relaxed) {
            return;
        }
        self.misses.inc();
        let entry = Entry {
            version,
            valid_until_ms: hints.valid_until(),
            body,
            operation: operation.map(Arc::from),
        };
        let size = cost(&key, &entry);
        if size > self.max_bytes / 16 {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = inner.entries.put(key.clone(), entry) {
            inner.bytes -= cost(&key, &old);
        }
        inner.bytes += size;
        while inner.bytes > self.max_bytes {
            match inner.entries.pop_lru() {
                Some((k, e)) => {
                    inner.bytes -= cost(&k, &e);
                    self.evictions.inc();
                }
                None => break,
            }
        }
        self.publish(&inner);
        drop(inner);
        self.stores.inc();
    }

    fn publish(&self, inner: &Inner) {
        self.entries.set(inner.entries.len() as i64);
        self.bytes.set(inner.bytes as i64);
    }
}

fn cost(key: &str, e: &Entry) -> usize {
    key.len() + e.body.len() + ENTRY_OVERHEAD
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(queries_only: bool) -> CacheHints {
        let h = CacheHints::default();
        h.set_queries_only(queries_only);
        h
    }

    #[test]
    fn an_answer_is_served_only_at_the_version_it_was_stored_at() {
        let cache = ResponseCache::new(1 << 20);
        let key = ResponseCache::key("u:1", None, "{ me { email } }", "{}", "{}");
        let now = Utc::now();
        assert!(cache.get(&key, 7, now).is_none());
        cache.put(
            key.clone(),
            7,
            &hints(true),
            Bytes::from_static(b"{\"data\":1}"),
            None,
        );
        assert_eq!(
            cache.get(&key, 7, now).as_deref(),
            Some(&b"{\"data\":1}"[..])
        );
        // A write happened: the version moved on, and the old answer is gone for good.
        assert!(cache.get(&key, 8, now).is_none());
        assert!(cache.get(&key, 7, now).is_none());
        assert_eq!(cache.hits.get(), 1);
        assert_eq!(cache.misses.get(), 1);
    }

    #[test]
    fn mutations_are_never_stored() {
        let cache = ResponseCache::new(1 << 20);
        let key = ResponseCache::key("u:1", None, "mutation { x }", "{}", "{}");
        cache.put(
            key.clone(),
            1,
            &hints(false),
            Bytes::from_static(b"{}"),
            None,
        );
        assert!(cache.get(&key, 1, Utc::now()).is_none());
    }

    #[test]
    fn keys_differ_by_scope_operation_variables_and_extensions() {
        let base = ResponseCache::key("u:1", None, "q", "{}", "{}");
        for other in [
            ResponseCache::key("u:2", None, "q", "{}", "{}"),
            ResponseCache::key("u:1", Some("A"), "q", "{}", "{}"),
            ResponseCache::key("u:1", None, "q", "{\"a\":1}", "{}"),
            ResponseCache::key("u:1", None, "q", "{}", "{\"p\":1}"),
            // Length prefixes: moving text from one part to the next is another key.
            ResponseCache::key("u:1q", None, "", "{}", "{}"),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn time_ends_an_answer_that_depends_on_it() {
        let cache = ResponseCache::new(1 << 20);
        let key = ResponseCache::key("anon", None, "{ editions { currentPhase } }", "{}", "{}");
        let now = Utc::now();
        let h = hints(true);
        // A phase opens in a minute and another closed an hour ago (nothing changes then).
        h.window(
            now,
            now + chrono::Duration::minutes(1),
            now + chrono::Duration::days(1),
        );
        h.window(
            now,
            now - chrono::Duration::days(2),
            now - chrono::Duration::hours(1),
        );
        cache.put(key.clone(), 1, &h, Bytes::from_static(b"{}"), None);
        assert!(cache.get(&key, 1, now).is_some());
        assert!(
            cache
                .get(&key, 1, now + chrono::Duration::seconds(59))
                .is_some()
        );
        assert!(
            cache
                .get(&key, 1, now + chrono::Duration::minutes(1))
                .is_none()
        );
    }

    #[test]
    fn the_least_recently_used_answers_leave_first_and_the_size_holds() {
        let body = Bytes::from(vec![b'x'; 1000]);
        let cache = ResponseCache::new(16 * (1000 + 200));
        let keys: Vec<_> = (0..40)
            .map(|i| ResponseCache::key("u:1", None, &format!("q{i}"), "{}", "{}"))
            .collect();
        for k in &keys {
            cache.put(k.clone(), 1, &hints(true), body.clone(), None);
            // Keep the first one in use.
            assert!(cache.get(&keys[0], 1, Utc::now()).is_some());
        }
        let inner = cache.inner.lock().unwrap();
        assert!(inner.bytes <= cache.max_bytes);
        assert!(inner.entries.contains(&keys[0]));
        assert!(!inner.entries.contains(&keys[1]));
        assert!(cache.evictions.get() > 0);
        assert_eq!(cache.bytes.get() as usize, inner.bytes);
    }

    #[test]
    fn an_answer_too_large_for_its_share_is_not_kept() {
        let cache = ResponseCache::new(16 * 1024);
        let key = ResponseCache::key("u:1", None, "q", "{}", "{}");
        cache.put(
            key.clone(),
            1,
            &hints(true),
            Bytes::from(vec![0; 2048]),
            None,
        );
        assert!(cache.get(&key, 1, Utc::now()).is_none());
    }
}
