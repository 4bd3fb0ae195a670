//! The parser proper: the text line by line, comments (`TYPE`, `HELP`,
//! `UNIT`), which family each sample belongs to, and series not repeated.

use super::sample::parse_sample;
use super::tokens::{is_metric_name, unescape};
use super::validate::check_family;
use super::{Dialect, Exposition, Family, Labels};
use std::collections::{HashMap, HashSet};

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

/// The state of one parse: the families so far and what they declared.
pub(super) struct Parser {
    dialect: Dialect,
    families: Vec<Family>,
    /// Declared kind of every family seen, to attribute suffixed samples.
    kinds: HashMap<String, String>,
    /// Families that ended (another family started after them).
    closed: HashSet<String>,
    series: HashSet<(String, Labels)>,
}

impl Parser {
    pub(super) fn new(dialect: Dialect) -> Self {
        Parser { dialect, families: Vec::new(), kinds: HashMap::new(), closed: HashSet::new(), series: HashSet::new() }
    }

    fn untyped(&self) -> &'static str {
        match self.dialect {
            Dialect::Prometheus => "untyped",
            Dialect::OpenMetrics => "unknown",
        }
    }

    /// Parses the whole `text`, then checks every family.
    pub(super) fn run(mut self, text: &str) -> Result<Exposition, String> {
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
        let sample = parse_sample(line, self.dialect)?;
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
}
