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
//!
//! The parts: `parser` reads the text line by line (comments, families,
//! series), `sample` one sample line, `tokens` names, values and escapes,
//! and `validate` the checks of each whole family.

mod parser;
mod sample;
mod tokens;
mod validate;

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

/// Which text format is parsed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Prometheus,
    OpenMetrics,
}

/// Parses Prometheus text format 0.0.4, rejecting anything invalid.
pub fn parse(text: &str) -> Result<Exposition, String> {
    parser::Parser::new(Dialect::Prometheus).run(text)
}

/// Parses OpenMetrics 1.0 text, rejecting anything invalid.
pub fn parse_openmetrics(text: &str) -> Result<Exposition, String> {
    parser::Parser::new(Dialect::OpenMetrics).run(text)
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
