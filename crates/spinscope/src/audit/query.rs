//! `GET /audit`'s query: `since` (a sequence number or an RFC 3339 time),
//! `tool`, `tenant`, `outcome`, `kind`, `limit` (default 100, at most
//! 1000) and `cursor` (the sequence number to continue after, from the
//! previous page's `audit-next-cursor` header).

use super::chain::Sealed;
use super::event::Kind;
use percent_encoding::percent_decode_str;

/// The default page size.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest page.
pub const MAX_LIMIT: usize = 1000;

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// Events from this sequence number on.
    pub since_seq: Option<u64>,
    /// Events from this time (unix ms) on.
    pub since_ms: Option<u64>,
    /// Only this tool's.
    pub tool: Option<String>,
    /// Only this tenant's (a tenant key's scope is set here too).
    pub tenant: Option<String>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// Only this kind.
    pub kind: Option<Kind>,
    /// At most this many events.
    pub limit: usize,
    /// Events after this sequence number.
    pub cursor: Option<u64>,
}

impl Query {
    /// Parses a query string; an unknown parameter or a bad value is an
    /// error that names it (a typo must not silently widen the answer).
    pub fn parse(query: &str) -> Result<Query, String> {
        let mut q = Query { limit: DEFAULT_LIMIT, ..Query::default() };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode_str(&raw.replace('+', " "))
                .decode_utf8()
                .map_err(|_| format!("`{name}` is not UTF-8"))?
                .into_owned();
            let number = |v: &str| v.parse::<u64>().map_err(|_| format!("`{name}` must be a whole number"));
            match name {
                "since" => match value.parse::<u64>() {
                    Ok(seq) => q.since_seq = Some(seq),
                    Err(_) => {
                        q.since_ms = Some(parse_rfc3339(&value).ok_or_else(|| {
                            "`since` must be a sequence number or an RFC 3339 time (2026-12-07T10:00:00Z)".to_string()
                        })?)
                    }
                },
                "tool" => q.tool = Some(value),
                "tenant" => q.tenant = Some(value),
                "outcome" => q.outcome = Some(value),
                "kind" => q.kind = Some(Kind::parse(&value).ok_or_else(|| format!("unknown kind `{value}`"))?),
                "limit" => {
                    q.limit = number(&value)? as usize;
                    if !(1..=MAX_LIMIT).contains(&q.limit) {
                        return Err(format!("`limit` must be 1 to {MAX_LIMIT}"));
                    }
                }
                "cursor" => q.cursor = Some(number(&value)?),
                other => return Err(format!("unknown parameter `{other}`")),
            }
        }
        Ok(q)
    }

    /// Whether `e` is asked for (the cursor and the limit aside).
    pub fn matches(&self, e: &Sealed) -> bool {
        let is = |want: &Option<String>, have: &Option<String>| want.is_none() || want == have;
        self.since_seq.is_none_or(|s| e.seq >= s)
            && self.since_ms.is_none_or(|t| e.event.time_ms >= t)
            && self.cursor.is_none_or(|c| e.seq > c)
            && self.kind.is_none_or(|k| e.event.kind == k)
            && is(&self.tool, &e.event.tool)
            && is(&self.tenant, &e.event.tenant)
            && is(&self.outcome, &e.event.outcome)
    }

    /// The first sequence number the answer can hold (segments wholly
    /// before it need not be read).
    pub fn first_seq(&self) -> u64 {
        self.since_seq.unwrap_or(0).max(self.cursor.map_or(0, |c| c + 1))
    }
}

/// An RFC 3339 time (`2026-12-07T10:00:00Z`, `…T10:00:00.250+01:00`) as
/// unix ms; `None` when it is not one.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        s.get(from..to).filter(|d| d.bytes().all(|c| c.is_ascii_digit()))?.parse().ok()
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let first3: String = fraction[..digits].chars().chain("000".chars()).take(3).collect();
        millis = first3.parse().ok()?;
        rest = &fraction[digits..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let (h, m): (i64, i64) = (rest[1..3].parse().ok()?, rest[4..6].parse().ok()?);
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (h * 60 + m)
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_min * 60;
    u64::try_from(secs * 1000 + millis).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
