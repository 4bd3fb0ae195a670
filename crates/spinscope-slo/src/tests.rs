use super::*;

#[test]
fn objectives_keep_their_digits() {
    let o: Objective = "99.9".parse().unwrap();
    assert_eq!(
        (o.percent(), o.ratio(), o.budget(), o.budget_percent()),
        ("99.9".into(), "0.999".into(), "0.001".into(), "0.1".into())
    );
    let o: Objective = "99.95%".parse().unwrap();
    assert_eq!((o.ratio(), o.budget()), ("0.9995".into(), "0.0005".into()));
    let o: Objective = "99".parse().unwrap();
    assert_eq!((o.percent(), o.ratio(), o.budget()), ("99".into(), "0.99".into(), "0.01".into()));
    let o: Objective = "99.5".parse().unwrap();
    assert_eq!(o.budget(), "0.005");
    let o: Objective = "0.0000001".parse().unwrap();
    assert_eq!(o.ratio(), "0.000000001");
    for bad in ["", "100", "0", "101", "-1", "99,9", "abc", "99.", ".9", "9 9", "99.00000001", "1e2"] {
        assert!(bad.parse::<Objective>().is_err(), "{bad:?} parsed");
    }
    assert!("99.0".parse::<Objective>().is_ok());
}

#[test]
fn thresholds_are_bucket_bounds() {
    for (s, ms, shown) in [
        ("1s", 1000, "1s"),
        ("0.5s", 500, "0.5s"),
        ("500ms", 500, "0.5s"),
        ("10ms", 10, "0.01s"),
        ("2m", 120000, "120s"),
        ("300s", 300000, "300s"),
    ] {
        let t: Threshold = s.parse().unwrap();
        assert_eq!((t.millis(), t.to_string()), (ms, shown.to_string()), "{s}");
    }
    for bad in ["1", "0.3s", "-1s", "0s", "400ms", "1h", "fast", "infs", "NaNs"] {
        assert!(bad.parse::<Threshold>().is_err(), "{bad:?} parsed");
    }
    let err = "0.3s".parse::<Threshold>().unwrap_err();
    assert!(err.contains("0.2s, 0.5s, 1s"), "{err}");
}

#[test]
fn the_le_matcher_takes_both_spellings_of_a_whole_bound() {
    assert_eq!("1s".parse::<Threshold>().unwrap().le_matcher(), r#"le=~"1|1\\.0""#);
    assert_eq!("300s".parse::<Threshold>().unwrap().le_matcher(), r#"le=~"300|300\\.0""#);
    assert_eq!("0.5s".parse::<Threshold>().unwrap().le_matcher(), r#"le="0.5""#);
    assert_eq!("10ms".parse::<Threshold>().unwrap().le_matcher(), r#"le="0.01""#);
}

#[test]
fn bad_outcomes_are_known_and_ordered() {
    assert_eq!(parse_outcomes("timeout, error").unwrap(), ["error", "timeout"]);
    assert_eq!(parse_outcomes("circuit_open,timeout,timeout").unwrap(), ["timeout", "circuit_open"]);
    assert!(parse_outcomes("success").is_err());
    assert!(parse_outcomes("failed").is_err());
    assert!(parse_outcomes(",").is_err());
}

/// The names rendered are the catalog's: metric names, outcomes, buckets.
#[test]
fn names_outcomes_and_buckets_are_the_catalogs() {
    use spinscope::metrics::catalog;
    use spinscope::metrics::series::ToolOutcome;
    assert_eq!(TOOL_CALLS, catalog::TOOL_CALLS_TOTAL.full_name());
    assert_eq!(catalog::TOOL_CALLS_TOTAL.labels, ["tool", "component", "outcome"]);
    assert_eq!(OPERATION_DURATION, catalog::MCP_SERVER_OPERATION_DURATION_SECONDS.full_name());
    assert!(catalog::MCP_SERVER_OPERATION_DURATION_SECONDS.labels.contains(&"mcp_method_name"));
    let outcomes = [ToolOutcome::Success, ToolOutcome::Error, ToolOutcome::Timeout, ToolOutcome::CircuitOpen];
    assert_eq!(TOOL_OUTCOMES, outcomes.map(ToolOutcome::as_str));
    let buckets: Vec<u64> = catalog::MCP_SERVER_OPERATION_DURATION_SECONDS
        .buckets
        .iter()
        .map(|b| {
            let ms = (b * 1000.0).round();
            assert_eq!(ms / 1000.0, *b, "a bound below a millisecond");
            ms as u64
        })
        .collect();
    assert_eq!(buckets, LATENCY_BUCKETS_MS);
}

#[test]
fn the_default_renders_both_objectives_every_window_and_six_alerts() {
    let text = render(&Config::default());
    for w in WINDOWS {
        assert_eq!(text.matches(&format!("record: spinscope:slo_errors:ratio_rate{w}\n")).count(), 2, "{w}");
    }
    assert_eq!(text.matches("record: spinscope:slo_objective:ratio\n").count(), 2);
    assert_eq!(text.matches("record: spinscope:slo_error_budget_remaining:ratio_30d\n").count(), 2);
    assert!(text.contains("expr: vector(0.999)\n"));
    assert!(text.contains("expr: vector(0.99)\n"));
    assert!(text.contains("outcome=~\"error|timeout|circuit_open\""));
    assert!(text.contains(r#"le=~"1|1\\.0""#));
    let alerts: Vec<&str> = text.lines().filter_map(|l| l.trim().strip_prefix("- alert: ")).collect();
    assert_eq!(
        alerts,
        [
            "SpinscopeAvailabilityBudgetBurnFast",
            "SpinscopeAvailabilityBudgetBurnMedium",
            "SpinscopeAvailabilityBudgetBurnSlow",
            "SpinscopeLatencyBudgetBurnFast",
            "SpinscopeLatencyBudgetBurnMedium",
            "SpinscopeLatencyBudgetBurnSlow",
        ]
    );
    assert!(text.contains("spinscope:slo_errors:ratio_rate1h{slo=\"availability\"} > (14.4 * 0.001)\n"));
    assert!(text.contains("and spinscope:slo_errors:ratio_rate30m{slo=\"latency\"} > (6 * 0.01)\n"));
    assert!(text.contains("spinscope:slo_errors:ratio_rate3d{slo=\"availability\"} > (1 * 0.001)\n"));
    assert!(!text.contains('\t'));
    assert!(Config::default().unreachable_alerts().is_empty());
}

#[test]
fn other_objectives_change_only_their_numbers() {
    let config =
        Config { availability: "99.5".parse().unwrap(), latency: "0.5s".parse().unwrap(), ..Config::default() };
    let text = render(&config);
    assert!(text.contains("#   spinscope-slo --availability 99.5 --latency 0.5s --latency-objective 99\n"));
    assert!(text.contains("expr: vector(0.995)\n"));
    assert!(text.contains("> (14.4 * 0.005)\n"));
    assert!(text.contains("/ 0.005\n"));
    assert!(text.contains(r#"le="0.5""#));
    assert!(text.contains("took longer than 0.5s"));
    let default = render(&Config::default());
    assert_eq!(text.lines().count(), default.lines().count());

    let narrow = Config { bad_outcomes: parse_outcomes("timeout,circuit_open").unwrap(), ..Config::default() };
    let text = render(&narrow);
    assert!(text.contains("--bad-outcomes timeout,circuit_open\n"));
    assert!(text.contains("outcome=~\"timeout|circuit_open\""));
    assert!(text.contains("ended in timeout or circuit_open"));

    let loose = Config { latency_objective: "90".parse().unwrap(), ..Config::default() };
    let warnings = loose.unreachable_alerts();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("SpinscopeLatencyBudgetBurnFast: 14.4× a budget of 10%"), "{warnings:?}");
}
