//! The built command, as an operator runs it, and the shipped rule file
//! against its output.

use std::path::PathBuf;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_spinscope-slo");

fn run(args: &[&str]) -> (i32, String, String) {
    let Output { status, stdout, stderr } = Command::new(BIN).args(args).output().unwrap();
    (status.code().unwrap(), String::from_utf8(stdout).unwrap(), String::from_utf8(stderr).unwrap())
}

fn shipped() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ops/prometheus/slo.yml")
}

#[test]
fn the_shipped_rule_file_is_the_commands_output_for_the_defaults() {
    let (code, out, err) = run(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    let file = std::fs::read_to_string(shipped()).unwrap();
    assert!(
        file == out,
        "ops/prometheus/slo.yml is not `spinscope-slo`'s output for its defaults: run `make slo` \
         (and update ops/prometheus/tests/slo_test.yml and docs/slo.md if the defaults changed)"
    );
    // The defaults spelt out render the same.
    let (_, explicit, _) = run(&[
        "--availability",
        "99.9",
        "--latency",
        "1s",
        "--latency-objective",
        "99",
        "--bad-outcomes",
        "error,timeout,circuit_open",
    ]);
    assert_eq!(explicit, out);
}

#[test]
fn other_objectives_render_and_bad_ones_are_refused() {
    let (code, out, err) = run(&["--availability", "99.5", "--latency", "500ms"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("#   spinscope-slo --availability 99.5 --latency 0.5s --latency-objective 99\n"), "{out}");
    assert!(out.contains("expr: vector(0.995)"));

    let (code, out, err) = run(&["--latency", "0.3s"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("not a bucket bound") && err.contains("0.2s, 0.5s, 1s"), "{err}");

    for args in [&["--availability", "100"][..], &["--availability", "high"], &["--bad-outcomes", "success"]] {
        let (code, out, err) = run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}");
    }

    // An alert that can never fire is rendered, with a warning.
    let (code, out, err) = run(&["--latency-objective", "90"]);
    assert_eq!(code, 0);
    assert!(out.contains("SpinscopeLatencyBudgetBurnFast"));
    assert!(err.contains("warning: SpinscopeLatencyBudgetBurnFast"), "{err}");
}
