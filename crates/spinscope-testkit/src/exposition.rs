//! A strict parser of the Prometheus text format 0.0.4 ([`parse`]) and of
//! OpenMetrics 1.0 text ([`parse_openmetrics`]), used by the tests (unit and
//! end to end) to prove the exporter's output valid whatever label values
//! flowed in, and to read values back out of a scrape.
//!
//! It checks what an ingester would reject, and a little more, since it only
//! has to accept what spinscope writes: metric and label name charsets; label
//! syntax and escapes (`\\`, `\"`, `\n` in label values; `\\`, `\n` in 0.0.4
//! HELP text, plus `\"` in OpenMetrics; any other escape is refused); one
//! TYPE and one HELP per family, TYPE before the samples; families not
//! interleaved and series not repeated; counter values not negative;
//! histograms with increasing `le` bounds, cumulative counts, a last
//! `le="+Inf"` bucket equal to `_count`, and a `_sum`. In 0.0.4 mode the
//! text must end with a line feed; in OpenMetrics mode with `# EOF`, without
//! blank lines, other comments, or exemplars, and `# UNIT` must be a suffix
//! of the family name. Single spaces separate tokens, as spinscope writes.

use std::collections::{HashMap, HashSet};

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The full sample name, suffix included (`..._bucket`, `..._total`).
    pub name: String,
    /// Label pairs in the order written, unescaped.
    pub labels: Vec<(String, String)>,
    /// The sample value.
    pub value: f64,
}

/// A metric family: its metadata and samples.
#[derive(Debug, Clone)]
pub struct Family {
    /// The family name (in OpenMetrics, a counter's is without `_total`).
    pub name: String,
    /// The TYPE, or `untyped` (0.0.4) / `unknown` (OpenMetrics) without one.
    pub kind: String,
    /// The HELP text, unescaped.
    pub help: Option<String>,
    /// The UNIT (OpenMetrics only).
    pub unit: Option<String>,
    /// The samples, in the order written.
    pub samples: Vec<Sample>,
}

/// A parsed exposition, families in the order written.
#[derive(Debug, Default)]
pub struct Exposition {
    /// The families, in the order written.
    pub families: Vec<Family>,
}

impl Exposition {
    /// The family named `name`.
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    /// Every sample, in order.
    pub fn samples(&self) -> impl Iterator<Item = &Sample> {
        self.families.iter().flat_map(|f| f.samples.iter())
    }

    /// The sum of the samples named `name` whose labels include every pair
    /// in `labels` (so `&[]` sums the whole metric); `None` when no sample
    /// matches.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples()
            .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.iter().any(|(a, b)| a == k && b == v)))
            .map(|s| s.value)
            .reduce(|a, b| a + b)
    }
}

/// Label pairs, as written or sorted.
type Labels = Vec<(String, String)>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Prometheus,
    OpenMetrics,
}

/// Parses Prometheus text format 0.0.4, rejecting anything invalid.
pub fn parse(text: &str) -> Result<Exposition, String> {
    Parser::new(Dialect::Prometheus).run(text)
}

/// Parses OpenMetrics 1.0 text, rejecting anything invalid.
pub fn parse_openmetrics(text: &str) -> Result<Exposition, String> {
    Parser::new(Dialect::OpenMetrics).run(text)
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        // Reserved for Prometheus' own use.
        && !s.starts_with("__")
}

/// A sample value: a float, `+Inf`/`-Inf`/`NaN` (any case), no hex.
fn parse_value(s: &str) -> Result<f64, String> {
    let plain = s.strip_prefix(['+', '-']).unwrap_or(s);
    let named = ["inf", "infinity", "nan"].iter().any(|n| plain.eq_ignore_ascii_case(n));
    let numeric = !plain.is_empty()
        && plain.chars().any(|c| c.is_ascii_digit())
        && plain.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !(named || numeric) {
        return Err(format!("invalid value {s:?}"));
    }
    s.parse::<f64>().map_err(|_| format!("invalid value {s:?}"))
}

/// Unescapes `raw`; with `quote`, `"` must be escaped (label values,
/// OpenMetrics HELP), else it stands for itself (0.0.4 HELP).
fn unescape(raw: &str, quote: bool) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '"' && quote {
            return Err("unescaped double quote".into());
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quote => out.push('"'),
            other => return Err(format!("invalid escape sequence \\{}", other.map(String::from).unwrap_or_default())),
        }
    }
    Ok(out)
}

/// The sample-name suffixes a family of `kind` may have.
fn suffixes(kind: &str, dialect: Dialect) -> &'static [&'static str] {
    match (dialect, kind) {
        (Dialect::Prometheus, "histogram") => &["_bucket", "_sum", "_count"],
        (Dialect::Prometheus, "summary") => &["", "_sum", "_count"],
        (Dialect::Prometheus, _) => &[""],
        (Dialect::OpenMetrics, "counter") => &["_total", "_created"],
        (Dialect::OpenMetrics, "histogram") => &["_bucket", "_sum", "_count", "_created"],
        (Dialect::OpenMetrics, "gaugehistogram") => &["_bucket", "_gsum", "_gcount"],
        (Dialect::OpenMetrics, "summary") => &["", "_sum", "_count", "_created"],
        (Dialect::OpenMetrics, "info") => &["_info"],
        (Dialect::OpenMetrics, _) => &[""],
    }
}

struct Parser {
    dialect: Dialect,
    families: Vec<Family>,
    /// Declared kind of every family seen, to attribute suffixed samples.
    kinds: HashMap<String, String>,
    /// Families that ended (another family started after them).
    closed: HashSet<String>,
    series: HashSet<(String, Labels)>,
}

impl Parser {
    fn new(dialect: Dialect) -> Self {
        Parser { dialect, families: Vec::new(), kinds: HashMap::new(), closed: HashSet::new(), series: HashSet::new() }
    }

    fn untyped(&self) -> &'static str {
        match self.dialect {
            Dialect::Prometheus => "untyped",
            Dialect::OpenMetrics => "unknown",
        }
    }

    fn run(mut self, text: &str) -> Result<Exposition, String> {
        let mut lines: Vec<&str> = text.split('\n').collect();
        match self.dialect {
            Dialect::Prometheus => {
                if !text.is_empty() && lines.pop() != Some("") {
                    return Err("the last line does not end with a line feed".into());
                }
            }
            Dialect::OpenMetrics => {
                if lines.last() == Some(&"") {
                    lines.pop();
                }
                if lines.pop() != Some("# EOF") {
                    return Err("the exposition does not end with # EOF".into());
                }
            }
        }
        for (number, line) in lines.iter().enumerate() {
            self.line(line).map_err(|e| format!("line {}: {e}: {line:?}", number + 1))?;
        }
        for family in &self.families {
            check_family(family, self.dialect)?;
        }
        Ok(Exposition { families: self.families })
    }

    /// The family a new name starts, closing the current one.
    fn open(&mut self, name: &str) -> Result<&mut Family, String> {
        if self.families.last().map(|f| f.name.as_str()) != Some(name) {
            if self.closed.contains(name) {
                return Err(format!("{name} continues after its family ended"));
            }
            if let Some(previous) = self.families.last() {
                self.closed.insert(previous.name.clone());
            }
            let kind = self.untyped().to_string();
            self.families.push(Family { name: name.to_string(), kind, help: None, unit: None, samples: vec![] });
        }
        Ok(self.families.last_mut().expect("just pushed"))
    }

    fn line(&mut self, line: &str) -> Result<(), String> {
        let om = self.dialect == Dialect::OpenMetrics;
        if line.is_empty() {
            return if om { Err("blank line".into()) } else { Ok(()) };
        }
        if let Some(comment) = line.strip_prefix('#') {
            return self.comment(comment);
        }
        let sample = self.sample(line)?;
        let dialect = self.dialect;
        let admits =
            |base: &str, kind: &str| suffixes(kind, dialect).iter().any(|s| sample.name.strip_suffix(s) == Some(base));
        // The sample belongs to the current family, or to the declared
        // family its name extends, or starts an undeclared one.
        let family = match self.families.last() {
            Some(f) if admits(&f.name, &f.kind) => f.name.clone(),
            _ => self
                .kinds
                .iter()
                .find(|(base, kind)| admits(base, kind))
                .map_or_else(|| sample.name.clone(), |(base, _)| base.clone()),
        };
        let mut key_labels = sample.labels.clone();
        key_labels.sort();
        if !self.series.insert((sample.name.clone(), key_labels)) {
            return Err("duplicate series".into());
        }
        let family = self.open(&family)?;
        if !suffixes(&family.kind, dialect).iter().any(|s| sample.name.strip_suffix(s) == Some(family.name.as_str())) {
            return Err(format!("{} is not a sample name of the {} family {}", sample.name, family.kind, family.name));
        }
        family.samples.push(sample);
        Ok(())
    }

    fn comment(&mut self, comment: &str) -> Result<(), String> {
        let om = self.dialect == Dialect::OpenMetrics;
        let Some(rest) = comment.strip_prefix(' ') else {
            return if om { Err("comment".into()) } else { Ok(()) };
        };
        let mut parts = rest.splitn(3, ' ');
        let keyword = parts.next().unwrap_or_default();
        let known = matches!(keyword, "HELP" | "TYPE") || (om && keyword == "UNIT");
        if !known {
            return if om { Err(format!("unexpected {keyword:?} line")) } else { Ok(()) };
        }
        let name = parts.next().ok_or("no metric name")?;
        if !is_metric_name(name) {
            return Err(format!("invalid metric name {name:?}"));
        }
        let value = parts.next().unwrap_or_default();
        let has_samples = self.families.last().is_some_and(|f| f.name == name && !f.samples.is_empty());
        if om && has_samples {
            return Err(format!("{keyword} for {name} after its samples"));
        }
        let dialect = self.dialect;
        let declared = self.kinds.contains_key(name);
        let family = self.open(name)?;
        match keyword {
            "TYPE" => {
                let types: &[&str] = match dialect {
                    Dialect::Prometheus => &["counter", "gauge", "histogram", "summary", "untyped"],
                    Dialect::OpenMetrics => {
                        &["counter", "gauge", "histogram", "gaugehistogram", "stateset", "info", "summary", "unknown"]
                    }
                };
                if !types.contains(&value) {
                    return Err(format!("unknown type {value:?}"));
                }
                if has_samples || declared {
                    return Err(format!("TYPE for {name} repeated or after its samples"));
                }
                family.kind = value.to_string();
            }
            "HELP" => {
                if family.help.is_some() {
                    return Err(format!("HELP for {name} repeated"));
                }
                family.help = Some(unescape(value, om)?);
            }
            _ => {
                if family.unit.is_some() {
                    return Err(format!("UNIT for {name} repeated"));
                }
                if !value.is_empty() && !name.ends_with(&format!("_{value}")) {
                    return Err(format!("{name} does not end with its unit {value:?}"));
                }
                family.unit = Some(value.to_string());
            }
        }
        if keyword == "TYPE" {
            self.kinds.insert(name.to_string(), value.to_string());
        }
        Ok(())
    }

    /// Parses `name{a="x",b="y"} value [timestamp]`.
    fn sample(&self, line: &str) -> Result<Sample, String> {
        let name_end = line.find(['{', ' ']).ok_or("sample without value")?;
        let name = &line[..name_end];
        if !is_metric_name(name) {
            return Err(format!("invalid metric name {name:?}"));
        }
        let mut rest = &line[name_end..];
        let mut labels: Vec<(String, String)> = Vec::new();
        if let Some(mut after) = rest.strip_prefix('{') {
            loop {
                if let Some(end) = after.strip_prefix('}') {
                    if !labels.is_empty() {
                        return Err("'}' after ','".into());
                    }
                    rest = end;
                    break;
                }
                let eq = after.find('=').ok_or("label without '='")?;
                let label = &after[..eq];
                if !is_label_name(label) {
                    return Err(format!("invalid label name {label:?}"));
                }
                let quoted = after[eq + 1..].strip_prefix('"').ok_or(format!("value of {label} is not quoted"))?;
                // The value ends at the first quote not escaped.
                let mut end = None;
                let mut escaped = false;
                for (i, c) in quoted.char_indices() {
                    match (escaped, c) {
                        (false, '\\') => escaped = true,
                        (false, '"') => {
                            end = Some(i);
                            break;
                        }
                        _ => escaped = false,
                    }
                }
                let end = end.ok_or(format!("unterminated value of {label}"))?;
                let value = unescape(&quoted[..end], true).map_err(|e| format!("label {label}: {e}"))?;
                if labels.iter().any(|(n, _)| n == label) {
                    return Err(format!("label {label} repeated"));
                }
                labels.push((label.to_string(), value));
                after = &quoted[end + 1..];
                if let Some(next) = after.strip_prefix(',') {
                    after = next;
                } else if let Some(end) = after.strip_prefix('}') {
                    rest = end;
                    break;
                } else {
                    return Err(format!("expected ',' or '}}' after label {label}"));
                }
            }
        }
        let rest = rest.strip_prefix(' ').ok_or("missing space before the value")?;
        let mut parts = rest.split(' ');
        let value = parse_value(parts.next().unwrap_or_default())?;
        if let Some(ts) = parts.next() {
            let valid = match self.dialect {
                Dialect::Prometheus => ts.parse::<i64>().is_ok(),
                Dialect::OpenMetrics => parse_value(ts).is_ok_and(f64::is_finite),
            };
            if !valid {
                return Err(format!("invalid timestamp {ts:?}"));
            }
        }
        if parts.next().is_some() {
            return Err("trailing data after the sample (exemplars are not expected)".into());
        }
        Ok(Sample { name: name.to_string(), labels, value })
    }
}

/// The checks that need a whole family.
fn check_family(family: &Family, dialect: Dialect) -> Result<(), String> {
    let what = |e: String| format!("{}: {e}", family.name);
    // The series of one metric point (label set without `le`) are written
    // together: never interleaved with another's.
    let mut seen: HashSet<Labels> = HashSet::new();
    let mut current: Option<Labels> = None;
    let mut groups: Vec<(Labels, Vec<&Sample>)> = Vec::new();
    for s in &family.samples {
        let mut key: Labels = s.labels.iter().filter(|(k, _)| k != "le").cloned().collect();
        key.sort();
        if current.as_ref() != Some(&key) {
            if !seen.insert(key.clone()) {
                return Err(what(format!("samples of {key:?} interleaved with others")));
            }
            current = Some(key.clone());
            groups.push((key, Vec::new()));
        }
        groups.last_mut().expect("pushed above").1.push(s);
    }
    let monotonic = matches!(family.kind.as_str(), "counter" | "histogram");
    if let Some(s) = family.samples.iter().find(|s| monotonic && !s.name.ends_with("_sum") && s.value < 0.0) {
        return Err(what(format!("{} is negative", s.name)));
    }
    if family.kind != "histogram" {
        if family.samples.iter().any(|s| s.labels.iter().any(|(k, _)| k == "le")) && family.kind != "gaugehistogram" {
            return Err(what("le label outside a histogram".into()));
        }
        return Ok(());
    }
    for (labels, samples) in groups {
        let what = |e: &str| format!("{} {labels:?}: {e}", family.name);
        let mut buckets: Vec<(f64, f64)> = Vec::new();
        let (mut count, mut sum) = (None, None);
        for s in samples {
            let le = s.labels.iter().find(|(k, _)| k == "le").map(|(_, v)| v);
            match (s.name.strip_prefix(&family.name).unwrap_or_default(), le) {
                ("_bucket", Some(le)) => buckets.push((parse_value(le).map_err(|e| what(&e))?, s.value)),
                ("_bucket", None) => return Err(what("bucket without le")),
                ("_count", None) => count = Some(s.value),
                ("_sum", None) => sum = Some(s.value),
                ("_created", None) => {}
                _ => return Err(what(&format!("unexpected sample {}", s.name))),
            }
        }
        let increasing = |a: f64, b: f64| b.partial_cmp(&a) == Some(std::cmp::Ordering::Greater);
        if buckets.windows(2).any(|w| !increasing(w[0].0, w[1].0) || w[0].1 > w[1].1) {
            return Err(what("buckets not in increasing le order with cumulative counts"));
        }
        match buckets.last() {
            Some((le, _)) if *le == f64::INFINITY => {}
            _ => return Err(what("the last bucket is not le=\"+Inf\"")),
        }
        let inf = buckets.last().map(|b| b.1);
        if count.is_some() && count != inf {
            return Err(what(&format!("+Inf bucket {inf:?} != _count {count:?}")));
        }
        if count.is_none() || sum.is_none() {
            // Prometheus expects both; OpenMetrics has them both or neither.
            if dialect == Dialect::Prometheus || count.is_some() != sum.is_some() {
                return Err(what("_sum and _count are not both there"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_prometheus_text_is_rejected() {
        for bad in [
            "metric{a=\"x} 1",
            "metric{a=x} 1",
            "metric{a=\"x\",} 1",
            "metric{a=\"x\"b=\"y\"} 1",
            "metric{a=\"x\",a=\"y\"} 1",
            "metric{1a=\"x\"} 1",
            "m{__reserved=\"x\"} 1",
            "1metric 1",
            "me-tric 1",
            "metric{a=\"\\t\"} 1",
            "metric{a=\"\\\"} 1",
            "metric  1",
            "metric 1 2 3",
            "metric 1 1.5",
            "m nope",
            "m 0x10",
            "metric 1\nmetric 2",
            "metric{a=\"1\",b=\"2\"} 1\nmetric{b=\"2\",a=\"1\"} 1",
            "# TYPE m counter\nm -1",
            "# TYPE m counter\nm 1\n# TYPE m counter",
            "# TYPE m gauge\n# TYPE m gauge",
            "# TYPE m counterx",
            "# TYPE m gaugehistogram",
            "# HELP m a\n# HELP m b",
            "# HELP m bad \\t escape",
            "# HELP 1m x",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1",
            "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2",
            "# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1",
            "# TYPE h histogram\nh_bucket{le=\"x\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1",
            "# TYPE h histogram\nh{le=\"+Inf\"} 1",
            "# TYPE h histogram\nh_bucket{a=\"1\",le=\"+Inf\"} 1\nh_bucket{a=\"2\",le=\"+Inf\"} 1\nh_sum{a=\"1\"} 1\nh_count{a=\"1\"} 1\nh_sum{a=\"2\"} 1\nh_count{a=\"2\"} 1",
            "g{le=\"1\"} 1",
            "a 1\nb 1\na{x=\"y\"} 1",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\nb 1\nh_sum{x=\"y\"} 1",
        ] {
            let text = format!("{bad}\n");
            assert!(parse(&text).is_err(), "accepted: {bad}");
        }
        assert!(parse("m 1").is_err(), "no final line feed");
        assert!(parse("m 1\r\n").is_err());
        assert_eq!(parse("").unwrap().families.len(), 0);
        let ok = parse(
            "# some comment\n#nospace\n\nm{a=\"1\",b=\"\\\\\\n\\\"\"} 3 1700000000\nm{} -Inf\nn +inf\no NaN\np 1e-3\n",
        )
        .unwrap();
        assert_eq!(ok.value("m", &[("b", "\\\n\"")]), Some(3.0));
        assert_eq!(ok.value("p", &[]), Some(0.001));
        assert_eq!(ok.family("m").unwrap().kind, "untyped");
    }

    #[test]
    fn invalid_openmetrics_is_rejected() {
        for bad in [
            "m 1",
            "m 1\n# EOF\nm 2\n",
            "m 1\n\n# EOF\n",
            "# a comment\n# EOF\n",
            "# TYPE c counter\nc 1\n# EOF\n",
            "# TYPE c counter\nc_total 1\n# HELP c late\n# EOF\n",
            "# TYPE c counter\nc_total -1\n# EOF\n",
            "# TYPE c_seconds counter\n# UNIT c_seconds bytes\n# EOF\n",
            "# TYPE m untyped\n# EOF\n",
            "# HELP m raw \" quote\n# EOF\n",
            "m 1 # {a=\"b\"} 1\n# EOF\n",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n# EOF\n",
        ] {
            assert!(parse_openmetrics(bad).is_err(), "accepted: {bad}");
        }
        let ok = parse_openmetrics(
            "# TYPE c_seconds counter\n# UNIT c_seconds seconds\n# HELP c_seconds say \\\"hi\\\"\nc_seconds_total 1.5 1520879607.789\n# TYPE h histogram\nh_bucket{le=\"1.0\"} 0\nh_bucket{le=\"+Inf\"} 1\n# EOF",
        )
        .unwrap();
        assert_eq!(ok.family("c_seconds").unwrap().help.as_deref(), Some("say \"hi\""));
        assert_eq!(ok.value("c_seconds_total", &[]), Some(1.5));
        assert_eq!(ok.value("h_bucket", &[("le", "+Inf")]), Some(1.0));
    }
}
