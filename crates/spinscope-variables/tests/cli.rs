//! The binary as `make up` runs it: the file it writes, its mode, and what
//! it prints (names and counts, never a value).

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const MANIFEST: &str = "spin_manifest_version = 2\n[application]\nname = \"a\"\n[variables]\naudit_key = { default = \"\", secret = true }\nlog_level = { default = \"info\" }\ntoken = { required = true }\n";

fn run(dir: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_spinscope-variables"));
    cmd.current_dir(dir).args(["static-provider", "--manifest", "spin.toml", "--out", "state/runtime-config.toml"]);
    cmd.args(extra).env_remove("SPINSCOPE_RUNTIME_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn it_writes_the_values_in_a_file_only_its_owner_reads_and_prints_no_value() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.toml"), MANIFEST).unwrap();
    std::fs::write(dir.path().join(".env"), "SPIN_VARIABLE_LOG_LEVEL=debug\n").unwrap();
    let secret = "hmac-secret-value-0123456789";
    let out = run(dir.path(), &[], &[("SPIN_VARIABLE_AUDIT_KEY", secret)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("2 variable(s) in a static provider"), "{printed}");
    assert!(printed.contains("left to Spin: token"), "{printed}");
    assert!(!printed.contains(secret) && !printed.contains("debug"), "{printed}");
    let path = dir.path().join("state/runtime-config.toml");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let doc: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    let values = &doc["variables_provider"].as_array().unwrap()[0]["values"];
    assert_eq!(values["audit_key"].as_str(), Some(secret));
    assert_eq!(values["log_level"].as_str(), Some("debug"), "the .env file's value");
    assert!(values.get("token").is_none());
}

#[test]
fn a_base_with_its_own_providers_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.toml"), MANIFEST).unwrap();
    std::fs::write(dir.path().join("base.toml"), "[[variables_provider]]\ntype = \"vault\"\nurl = \"http://v\"\n")
        .unwrap();
    let out = run(dir.path(), &["--base", "base.toml"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("variables_provider"));
    assert!(!dir.path().join("state/runtime-config.toml").exists());
}
