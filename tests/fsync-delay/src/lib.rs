//! A slower disk for the benchmark (`make bench`, `SPINSCOPE_BENCH_FSYNC_MS`):
//! loaded into a host with `LD_PRELOAD`, it makes every `fsync` and
//! `fdatasync` wait `SPINSCOPE_FSYNC_DELAY_US` microseconds before doing
//! the real one. The wait is a sleep, as a slow disk's is: the calling
//! thread blocks without using CPU. SQLite (inside Spin and the local
//! host) syncs through these two calls, so the store's serialized commit
//! rate becomes what it is on a disk with that fsync latency, whatever the
//! machine's own disk is.

use std::ffi::{c_char, c_int, c_void};
use std::sync::OnceLock;
use std::time::Duration;

extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

/// `RTLD_NEXT`: the next definition after this library, libc's.
const RTLD_NEXT: *mut c_void = -1isize as *mut c_void;

type SyncFn = unsafe extern "C" fn(c_int) -> c_int;

fn delay() -> Duration {
    static DELAY: OnceLock<Duration> = OnceLock::new();
    *DELAY.get_or_init(|| {
        let micros = std::env::var("SPINSCOPE_FSYNC_DELAY_US").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
        Duration::from_micros(micros)
    })
}

fn next(name: &'static [u8], cell: &'static OnceLock<usize>) -> SyncFn {
    let address = *cell.get_or_init(|| {
        // SAFETY: `name` is NUL-terminated; RTLD_NEXT is a valid handle.
        unsafe { dlsym(RTLD_NEXT, name.as_ptr().cast()) as usize }
    });
    assert!(address != 0, "spinscope-fsync-delay: libc has no {}", String::from_utf8_lossy(name));
    // SAFETY: the symbol is libc's function of this very signature.
    unsafe { std::mem::transmute::<usize, SyncFn>(address) }
}

fn wait() {
    let delay = delay();
    if !delay.is_zero() {
        std::thread::sleep(delay);
    }
}

/// `fsync(2)`, later by the configured delay.
#[no_mangle]
pub extern "C" fn fsync(fd: c_int) -> c_int {
    static REAL: OnceLock<usize> = OnceLock::new();
    wait();
    // SAFETY: forwards the caller's argument to libc's own function.
    unsafe { next(b"fsync\0", &REAL)(fd) }
}

/// `fdatasync(2)`, later by the configured delay.
#[no_mangle]
pub extern "C" fn fdatasync(fd: c_int) -> c_int {
    static REAL: OnceLock<usize> = OnceLock::new();
    wait();
    // SAFETY: as for `fsync`.
    unsafe { next(b"fdatasync\0", &REAL)(fd) }
}
