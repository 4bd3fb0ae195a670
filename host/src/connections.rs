//! The cap on open client connections (`--max-connections`). Before each
//! accept the server asks for room: under the cap there is room at once; at
//! the cap the connection idle longest (no request in progress, keep-alive
//! or never sent one) is told to close, and when every connection is busy
//! the server waits for one to finish its request. Idle sockets therefore cannot lock the
//! host out: each new connection pushes out the stalest idle one, and the
//! header-read timeout closes the rest in time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How often, at most, the host says that it is closing idle connections.
const REPORT_EVERY: Duration = Duration::from_secs(60);

pub struct Connections {
    max: usize,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    /// Told whenever a connection ends or becomes idle.
    freed: Notify,
    started: Instant,
    last_report: Mutex<Option<Instant>>,
}

/// The soft open-file limit (`ulimit -n`), when there is one.
pub fn open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct it is given, nothing else.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    (ok && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

/// One open connection, as the cap sees it.
pub struct Conn {
    in_flight: AtomicUsize,
    /// Milliseconds since the host started when it last became idle.
    idle_since: AtomicU64,
    /// Set once it has been told to close.
    evicted: AtomicBool,
    evict: Notify,
}

impl Connections {
    /// No cap when `max` is 0.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max: if max == 0 { usize::MAX } else { max },
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            freed: Notify::new(),
            started: Instant::now(),
            last_report: Mutex::new(None),
        })
    }

    pub fn max(&self) -> usize {
        self.max
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Returns once a new connection may be accepted (see the module doc).
    pub async fn room(&self) {
        loop {
            if self.make_room() {
                return;
            }
            self.freed.notified().await;
        }
    }

    /// True when there is room now; else tells the connection idle longest
    /// (if any) to close, and there will be room once it has.
    fn make_room(&self) -> bool {
        let open = self.open.lock().unwrap();
        if open.len() < self.max {
            return true;
        }
        let evicting = open.values().filter(|c| c.evicted.load(Ordering::Relaxed)).count();
        if open.len() - evicting >= self.max {
            let idle = open
                .values()
                .filter(|c| c.in_flight.load(Ordering::Acquire) == 0 && !c.evicted.load(Ordering::Relaxed))
                .min_by_key(|c| c.idle_since.load(Ordering::Relaxed));
            if let Some(conn) = idle {
                conn.evicted.store(true, Ordering::Relaxed);
                conn.evict.notify_one();
                self.report(open.len());
            }
        }
        false
    }

    fn report(&self, open: usize) {
        let mut last = self.last_report.lock().unwrap();
        if last.is_none_or(|at| at.elapsed() >= REPORT_EVERY) {
            *last = Some(Instant::now());
            eprintln!(
                "{open} client connections open, the most allowed (--max-connections): closing the one idle longest for each new one"
            );
        }
    }

    /// Registers an accepted connection; it counts until the guard drops.
    pub fn open(self: &Arc<Self>) -> ConnGuard {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(self.now_ms()),
            evicted: AtomicBool::new(false),
            evict: Notify::new(),
        });
        self.open.lock().unwrap().insert(id, conn.clone());
        ConnGuard { connections: self.clone(), id, conn }
    }
}

/// An open connection; dropping it closes its slot.
pub struct ConnGuard {
    connections: Arc<Connections>,
    id: u64,
    conn: Arc<Conn>,
}

impl ConnGuard {
    /// Marks a request in progress until the returned guard drops (when its
    /// response has been sent).
    pub fn busy(&self) -> Busy {
        self.conn.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy { connections: self.connections.clone(), conn: self.conn.clone() }
    }

    pub fn is_idle(&self) -> bool {
        self.conn.in_flight.load(Ordering::Acquire) == 0
    }

    /// Resolves when the cap wants this connection closed.
    pub async fn evicted(&self) {
        self.conn.evict.notified().await
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.connections.open.lock().unwrap().remove(&self.id);
        self.connections.freed.notify_one();
    }
}

/// A request in progress on a connection.
pub struct Busy {
    connections: Arc<Connections>,
    conn: Arc<Conn>,
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.conn.idle_since.store(self.connections.now_ms(), Ordering::Relaxed);
        self.conn.in_flight.fetch_sub(1, Ordering::AcqRel);
        // A server waiting at the cap with every connection busy may now
        // close this one.
        self.connections.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_the_cap_there_is_room() {
        let c = Connections::new(2);
        let _a = c.open();
        assert!(c.make_room());
        let _b = c.open();
        assert!(!c.make_room());
    }

    #[tokio::test]
    async fn at_the_cap_the_longest_idle_connection_is_told_to_close() {
        let c = Connections::new(3);
        let oldest_idle = c.open();
        let busy = c.open();
        let _request = busy.busy();
        std::thread::sleep(Duration::from_millis(5));
        let newer_idle = c.open();
        assert!(!c.make_room());
        // The oldest idle one is told, not the busy one nor the newer idle one.
        tokio::time::timeout(Duration::from_secs(1), oldest_idle.evicted()).await.expect("oldest idle told to close");
        assert!(tokio::time::timeout(Duration::from_millis(20), newer_idle.evicted()).await.is_err());
        assert!(tokio::time::timeout(Duration::from_millis(20), busy.evicted()).await.is_err());
        // Asking again while it closes tells no one else.
        assert!(!c.make_room());
        assert!(tokio::time::timeout(Duration::from_millis(20), newer_idle.evicted()).await.is_err());
        drop(oldest_idle);
        assert!(c.make_room());
        tokio::time::timeout(Duration::from_secs(1), c.room()).await.expect("room once it closed");
    }

    #[tokio::test]
    async fn at_the_cap_with_every_connection_busy_the_first_to_finish_makes_room() {
        let c = Connections::new(2);
        let (a, b) = (c.open(), c.open());
        let (request_a, _request_b) = (a.busy(), b.busy());
        let room = tokio::spawn({
            let c = c.clone();
            async move { c.room().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!room.is_finished(), "no room while every connection is busy");
        drop(request_a);
        tokio::time::timeout(Duration::from_secs(1), a.evicted()).await.expect("the one that finished is told");
        drop(a);
        tokio::time::timeout(Duration::from_secs(1), room).await.expect("room once it closed").unwrap();
    }

    #[test]
    fn when_every_connection_is_busy_no_one_is_told() {
        let c = Connections::new(1);
        let only = c.open();
        let _request = only.busy();
        assert!(!c.make_room());
        assert!(!only.conn.evicted.load(Ordering::Relaxed));
    }

    #[test]
    fn zero_means_no_cap() {
        let c = Connections::new(0);
        let _open: Vec<_> = (0..10).map(|_| c.open()).collect();
        assert!(c.make_room());
    }
}
