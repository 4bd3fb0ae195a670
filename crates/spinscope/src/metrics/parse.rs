//! A strict parser of the Prometheus text format 0.0.4, used by the tests
//! (unit and end to end) to prove the exporter's output valid whatever label
//! values flowed in, and to read values back out of a scrape.

use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

#[derive(Debug, Clone)]
pub struct Family {
    pub name: String,
    pub kind: String,
    pub help: Option<String>,
    pub samples: Vec<Sample>,
}

#[derive(Debug, Default)]
pub struct Exposition {
    pub families: Vec<Family>,
}

impl Exposition {
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    pub fn samples(&self) -> impl Iterator<Item = &Sample> {
        self.families.iter().flat_map(|f| f.samples.iter())
    }

    /// The sum of the samples named `name` whose labels include every pair
    /// in `labels`; `None` when no sample matches.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<f64> = self
            .samples()
            .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.iter().any(|(a, b)| a == k && b == v)))
            .map(|s| s.value)
            .collect();
        (!matching.is_empty()).then(|| matching.iter().sum())
    }
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with("__")
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s.parse::<f64>().map_err(|_| format!("invalid value {s:?}")),
    }
}

/// Parses `name{a="x",b="y"} value [timestamp]`.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(|c: char| c == '{' || c == ' ').ok_or("sample without value")?;
    let name = &line[..name_end];
    if !is_metric_name(name) {
        return Err(format!("invalid metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let mut chars = after.char_indices().peekable();
        let consumed: usize;
        loop {
            // label name
            let start = match chars.peek() {
                Some((_, '}')) => {
                    let (i, _) = chars.next().unwrap();
                    consumed = i + 1;
                    break;
                }
                Some((i, _)) => *i,
                None => return Err("unterminated label set".into()),
            };
            let mut eq = None;
            for (i, c) in chars.by_ref() {
                if c == '=' {
                    eq = Some(i);
                    break;
                }
            }
            let eq = eq.ok_or("label without '='")?;
            let lname = &after[start..eq];
            if !is_label_name(lname) {
                return Err(format!("invalid label name {lname:?}"));
            }
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err(format!("label {lname} value is not quoted"));
            }
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, 'n')) => value.push('\n'),
                        other => return Err(format!("invalid escape {other:?} in label {lname}")),
                    },
                    Some((_, '"')) => break,
                    Some((_, '\n')) => return Err("raw line feed in label value".into()),
                    Some((_, c)) => value.push(c),
                    None => return Err("unterminated label value".into()),
                }
            }
            if labels.iter().any(|(n, _): &(String, String)| n == lname) {
                return Err(format!("label {lname} repeated"));
            }
            labels.push((lname.to_string(), value));
            match chars.next() {
                Some((_, ',')) => continue,
                Some((i, '}')) => {
                    consumed = i + 1;
                    break;
                }
                other => return Err(format!("expected ',' or '}}' after a label, got {other:?}")),
            }
        }
        rest = &after[consumed..];
    }
    let rest = rest.strip_prefix(' ').ok_or("missing space before value")?;
    let mut parts = rest.split(' ');
    let value = parse_value(parts.next().ok_or("missing value")?)?;
    if let Some(ts) = parts.next() {
        ts.parse::<i64>().map_err(|_| format!("invalid timestamp {ts:?}"))?;
    }
    if parts.next().is_some() {
        return Err("trailing data after the sample".into());
    }
    Ok(Sample { name: name.to_string(), labels, value })
}

fn family_of(sample: &str, kind_of: &HashMap<String, String>) -> String {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = sample.strip_suffix(suffix) {
            if kind_of.get(base).map(String::as_str) == Some("histogram") {
                return base.to_string();
            }
        }
    }
    sample.to_string()
}

/// Parses a whole exposition, rejecting anything Prometheus would reject.
pub fn parse(text: &str) -> Result<Exposition, String> {
    let mut exposition = Exposition::default();
    let mut kind_of: HashMap<String, String> = HashMap::new();
    let mut closed: HashSet<String> = HashSet::new();
    let mut seen_series: HashSet<String> = HashSet::new();
    for (number, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", number + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut parts = comment.trim_start().splitn(3, ' ');
            let keyword = parts.next().unwrap_or_default();
            if keyword != "HELP" && keyword != "TYPE" {
                continue;
            }
            let name = parts.next().ok_or_else(|| at("no metric name".into()))?;
            if !is_metric_name(name) {
                return Err(at(format!("invalid metric name {name:?}")));
            }
            let rest = parts.next().unwrap_or_default();
            if closed.contains(name) {
                return Err(at(format!("{keyword} for {name} after its family ended")));
            }
            let current = exposition.families.last().map(|f| f.name.clone());
            if current.as_deref() != Some(name) {
                if let Some(c) = current {
                    closed.insert(c);
                }
                exposition.families.push(Family { name: name.to_string(), kind: "untyped".into(), help: None, samples: vec![] });
            }
            let family = exposition.families.last_mut().unwrap();
            if keyword == "TYPE" {
                if !family.samples.is_empty() || kind_of.contains_key(name) {
                    return Err(at(format!("TYPE for {name} repeated or after its samples")));
                }
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&rest) {
                    return Err(at(format!("unknown type {rest:?}")));
                }
                family.kind = rest.to_string();
                kind_of.insert(name.to_string(), rest.to_string());
            } else {
                if family.help.is_some() {
                    return Err(at(format!("HELP for {name} repeated")));
                }
                family.help = Some(rest.replace("\\n", "\n").replace("\\\\", "\\"));
            }
            continue;
        }
        let sample = parse_sample(line).map_err(at)?;
        let family_name = family_of(&sample.name, &kind_of);
        if closed.contains(&family_name) {
            return Err(at(format!("sample of {family_name} after its family ended")));
        }
        let mut key_labels = sample.labels.clone();
        key_labels.sort();
        if !seen_series.insert(format!("{}{:?}", sample.name, key_labels)) {
            return Err(at("duplicate series".into()));
        }
        match exposition.families.last_mut() {
            Some(f) if f.name == family_name => f.samples.push(sample),
            _ => {
                if let Some(f) = exposition.families.last() {
                    closed.insert(f.name.clone());
                }
                exposition.families.push(Family { name: family_name, kind: "untyped".into(), help: None, samples: vec![sample] });
            }
        }
    }
    for family in &exposition.families {
        if family.kind == "counter" {
            if let Some(s) = family.samples.iter().find(|s| s.value < 0.0) {
                return Err(format!("counter {} is negative", s.name));
            }
        }
        if family.kind == "histogram" {
            check_histogram(family)?;
        }
    }
    Ok(exposition)
}

fn check_histogram(family: &Family) -> Result<(), String> {
    let mut groups: HashMap<Vec<(String, String)>, (Vec<(f64, f64)>, Option<f64>, bool)> = HashMap::new();
    for s in &family.samples {
        let mut base: Vec<(String, String)> = s.labels.iter().filter(|(k, _)| k != "le").cloned().collect();
        base.sort();
        let group = groups.entry(base).or_default();
        if s.name.ends_with("_bucket") {
            let le = s.labels.iter().find(|(k, _)| k == "le").ok_or(format!("{}: bucket without le", family.name))?;
            group.0.push((parse_value(&le.1)?, s.value));
        } else if s.name.ends_with("_count") {
            group.1 = Some(s.value);
        } else if s.name.ends_with("_sum") {
            group.2 = true;
        }
    }
    for (labels, (buckets, count, has_sum)) in groups {
        let what = format!("{} {labels:?}", family.name);
        if buckets.windows(2).any(|w| w[0].0 >= w[1].0 || w[0].1 > w[1].1) {
            return Err(format!("{what}: buckets not increasing and cumulative"));
        }
        let last = buckets.last().ok_or(format!("{what}: no buckets"))?;
        if last.0 != f64::INFINITY {
            return Err(format!("{what}: last bucket is not le=\"+Inf\""));
        }
        if count != Some(last.1) {
            return Err(format!("{what}: +Inf bucket {} != _count {count:?}", last.1));
        }
        if !has_sum {
            return Err(format!("{what}: no _sum"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalog::*;
    use crate::metrics::{render_prometheus, Limits, Recorder, RenderContext, Snapshot};

    #[test]
    fn encoder_output_parses_with_hostile_labels() {
        let long = "x".repeat(10 * 1024);
        let hostile = ["quote\"d", "back\\slash", "new\nline", "ünïcødé ✓", "{}=,", "", long.as_str(), "# HELP x"];
        let mut r = Recorder::new();
        for h in hostile {
            r.inc(&TOOL_CALLS_TOTAL, &[h, h, "success"], 1);
            r.observe(&TOOL_CALL_DURATION_SECONDS, &[h, h], 0.3);
        }
        let mut s = Snapshot::new();
        s.apply(&r, &Limits::default());
        let text = render_prometheus(&s, &RenderContext::default());
        let parsed = parse(&text).unwrap();
        for h in hostile {
            assert_eq!(parsed.value("spinscope_tool_calls_total", &[("tool", h)]), Some(1.0), "{h:?}");
        }
        assert_eq!(parsed.family("spinscope_tool_call_duration_seconds").unwrap().kind, "histogram");
    }

    #[test]
    fn invalid_expositions_are_rejected() {
        for bad in [
            "metric{a=\"x} 1",
            "metric{a=x} 1",
            "1metric 1",
            "metric{a=\"\\t\"} 1",
            "metric 1\nmetric 2",
            "# TYPE m counter\nm -1",
            "# TYPE m counter\nm 1\n# TYPE m counter",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3",
            "a 1\nb 1\na{x=\"y\"} 1",
            "m{__reserved=\"x\"} 1",
            "m nope",
        ] {
            assert!(parse(bad).is_err(), "accepted: {bad}");
        }
        assert!(parse("# some comment\nm{a=\"1\",b=\"2\"} 3 1700000000\n").is_ok());
    }
}
