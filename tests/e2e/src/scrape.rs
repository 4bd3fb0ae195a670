//! Reading `/metrics` back in the tests: the gateway records a request's
//! metrics after answering it, so a test scrapes until its figures are in.

use crate::Host;
use spinscope_testkit::exposition::{parse, Exposition};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One scrape of `/metrics` (Prometheus text), checked and parsed.
pub fn scrape(host: &Host) -> Exposition {
    scrape_with(host, &[])
}

/// [`scrape`] with `headers` (a key or a token).
pub fn scrape_with(host: &Host, headers: &[(&str, &str)]) -> Exposition {
    let r = crate::request("GET", &host.url("/metrics"), headers, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    parse(&r.body).unwrap_or_else(|e| panic!("invalid exposition: {e}\n{}", r.body))
}

/// Scrapes until `done` holds (at most 20 s) and returns the last scrape
/// either way, for the test's assertions to tell what is missing.
pub fn scrape_until(host: &Host, done: impl Fn(&Exposition) -> bool) -> Exposition {
    scrape_until_with(host, &[], done)
}

/// [`scrape_until`] with `headers`.
pub fn scrape_until_with(host: &Host, headers: &[(&str, &str)], done: impl Fn(&Exposition) -> bool) -> Exposition {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let e = scrape_with(host, headers);
        if done(&e) || Instant::now() > deadline {
            return e;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The sum of `name`'s samples that carry `labels`, 0 when there is none.
pub fn value(e: &Exposition, name: &str, labels: &[(&str, &str)]) -> f64 {
    e.value(name, labels).unwrap_or(0.0)
}

/// `promtool check metrics` on `text`: Prometheus' own linter passes it.
pub fn promtool_check(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool not found: `make test` installs Debian's prometheus package");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
