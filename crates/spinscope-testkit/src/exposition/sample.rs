//! One sample line: `name{a="x",b="y"} value [timestamp]`.

use super::tokens::{is_label_name, is_metric_name, parse_value, unescape};
use super::{Dialect, Sample};

/// Parses `name{a="x",b="y"} value [timestamp]` (no exemplar).
pub(super) fn parse_sample(line: &str, dialect: Dialect) -> Result<Sample, String> {
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
        let valid = match dialect {
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
