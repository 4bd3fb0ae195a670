//! Redaction end to end: secrets of every shape `spinscope::redact` knows,
//! sent through the real gateway to a tool (in its arguments), back from
//! it (in its error texts), and as the client's own name and version
//! (`clientInfo`, in `initialize` and in a 2026-07-28 request's `_meta`),
//! never appear in what the host printed (every component's output, the
//! gateway's log lines at `trace`), in the spans a fake OTLP collector
//! received, nor in the metrics. The client, by contrast, gets the tool's
//! answers as they are, and a short message when a tool traps.

use serde_json::{json, Value};
use spinscope_e2e::*;

/// A token body long enough for any token format (alphanumeric).
const LONG: &str = "0123456789abcdefghijKLMNOPQRST";

/// Each secret, and the text that carries it (`{}` stands for the secret).
const SHAPES: [(&str, &str); 27] = [
    ("Qx7UrlPassw0rd", "postgres://app:{}@db.internal:5432/app"),
    ("Qx7BearerT0ken", "Bearer {}"),
    ("Qx7QueryT0ken", "https://app.example.com/cb?code=1&access_token={}&state=ok"),
    ("Qx7HeaderBasic", "Authorization: Basic {}"),
    ("Qx7CookieVal", "Cookie: sid={}; theme=dark"),
    ("Qx7EnvSecret", "export DB_PASSWORD='{}'"),
    ("Qx7JsonPwd", r#"{"db_pwd": "{}", "user": "bob"}"#),
    ("Qx7NamedValue", r#"{"name":"API_TOKEN","value":"{}"}"#),
    ("Qx7JwtSignatur3", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.{}"),
    ("Qx7OpenAi", "sk-proj-{}"),
    ("Qx7GitHub", "ghp_{}"),
    ("QX7AWSKEYID00000", "AKIA{}"),
    ("Qx7PemBody", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow{}\nIBAAK\n-----END RSA PRIVATE KEY-----"),
    ("Qx7SlackBot", "xoxb-{}"),
    // Short key words, as pairs in free text.
    ("Qx7DbPass", "db_pass: {}"),
    ("Qx7BarePass", "pass={}"),
    ("Qx7AuthVal", "auth: {}"),
    ("Qx7XAuthVal", "X-Auth: {}"),
    // Presigned URLs' signatures, a Slack webhook.
    ("Qx7AmzSig", "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={}&x-id=GetObject"),
    ("Qx7SasSig", "https://a.blob.core.windows.net/c/b?sv=2022-11-02&sig={}&se=2030-01-01"),
    ("Qx7SlackHook", "https://hooks.slack.com/services/T00000000/B00000000/{}"),
    // Bare Basic credentials: base64 of `user:Qx7BasicPass`.
    ("dXNlcjpReDdCYXNpY1Bhc3M=", "Basic {}"),
    ("Qx7BearerColon", "bearer:{}"),
    ("Qx7BearerEnc", "Authorization%3A%20Bearer%20{}"),
    ("Qx7MysqlPw", "mysql -uroot -p{} appdb"),
    // A key written with a JSON escape, in text.
    ("Qx7EscapedKey", r#"{"p\u0061ssword": "{}"}"#),
    // A multi-word value: the secret is its third word.
    ("Qx7Battery", "password=correct horse {} staple"),
];

/// The secrets as planted (token formats get the long body after them).
fn planted() -> Vec<(String, String)> {
    SHAPES
        .iter()
        .map(|(secret, shape)| {
            let secret = if shape.ends_with("_{}") || shape.ends_with("-{}") {
                format!("{secret}{LONG}")
            } else {
                secret.to_string()
            };
            (secret.clone(), shape.replace("{}", &secret))
        })
        .collect()
}

/// Secrets under sensitive keys (the value is whole, whatever its shape).
fn by_key() -> (Value, Vec<&'static str>) {
    let args = json!({
        "Authorization": "Qx7KeyAuthz",
        "headers": [{"Cookie": "Qx7KeyCookie"}, {"X-Api-Key": "Qx7KeyApi"}],
        "db": {"conn": {"PWD": "Qx7KeyPwd", "sslPassphrase": "Qx7KeyPassphrase"}},
        "aws": {"Credentials": {"AccessKeyId": "Qx7KeyCreds", "n": [1, 2]}},
        "ssh": {"private_key": "Qx7KeyPrivate"},
        "env": [{"Name": "SMTP_PASSWORD", "Value": "Qx7KeyNamed"}, {"name": "LOG_LEVEL", "value": "debug"}],
        "login": {"pass": "Qx7KeyPass", "db_pass": ["Qx7KeyDbPass"], "auth": {"u": "Qx7KeyAuth"}, "x-auth": "Qx7KeyXAuth"},
        "presigned": {"X-Amz-Signature": "Qx7KeyAmzSig", "sig": "Qx7KeySig"},
        "prose": {"passage": "plain passage stays", "author": "plain author stays", "signature": "plain signature stays"},
    });
    let secrets = vec![
        "Qx7KeyAuthz",
        "Qx7KeyCookie",
        "Qx7KeyApi",
        "Qx7KeyPwd",
        "Qx7KeyPassphrase",
        "Qx7KeyCreds",
        "Qx7KeyPrivate",
        "Qx7KeyNamed",
        "Qx7KeyPass",
        "Qx7KeyDbPass",
        "Qx7KeyAuth",
        "Qx7KeyXAuth",
        "Qx7KeyAmzSig",
        "Qx7KeySig",
    ];
    (args, secrets)
}

type Collector = OtlpReceiver;

fn app(collector: &Collector) -> HostBuilder {
    app_of(collector, &["gateway", "text-tools", "calc"])
}

fn app_of(collector: &Collector, components: &[&str]) -> HostBuilder {
    HostBuilder::app(Some(components))
        .var("tool_components", "text-tools,calc,faults")
        .var("log_level", "trace")
        .var("otlp_collector_host", &format!("http://127.0.0.1:{}", collector.port))
        .var("otlp_traces_endpoint", &format!("http://127.0.0.1:{}/v1/traces", collector.port))
}

/// A `tools/call` in trace `trace_id`; returns the CallToolResult.
fn call(mcp: &Mcp, trace_id: &str, tool: &str, arguments: Value) -> Value {
    let body =
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": tool, "arguments": arguments}});
    let reply = mcp.post_raw(&body.to_string(), &[("traceparent", &format!("00-{trace_id}-1111111111111111-01"))]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["result"].clone()
}

/// Everything the host printed: its own lines and every component's.
fn printed(host: &Host) -> String {
    format!("{}\n{}", host.stdout.text(), host.stderr.text())
}

fn assert_hidden(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} leaked into {what}:\n{text}");
    }
}

#[test]
fn secrets_in_arguments_never_reach_the_logs_or_the_spans() {
    let collector = Collector::start();
    let host = app(&collector).start();
    let (mcp, _) = Mcp::connect(&host);
    let planted = planted();
    let (by_key, key_secrets) = by_key();
    let mut secrets: Vec<&str> = planted.iter().map(|(s, _)| s.as_str()).collect();
    secrets.extend(&key_secrets);
    // One call per shape, so each fits whole in the logged arguments (1,000
    // characters), then the secrets under sensitive keys, then two shapes
    // deeper down.
    let mut calls: Vec<Value> = planted
        .iter()
        .map(|(_, text)| json!({"text": format!("see {text} here"), "visible": "plain words stay"}))
        .collect();
    calls.push(by_key);
    calls.push(json!({"nested": {"deeper": [{"note": planted[1].1, "more": [[planted[9].1]]}]}, "visible": "plain words stay"}));

    for (i, args) in calls.iter().enumerate() {
        let echoed = call(&mcp, &format!("aaaa{i:028}"), "echo", args.clone());
        assert_eq!(&echoed["structuredContent"], args, "the tool itself sees the arguments as sent");
    }
    // The start and completion lines, then the access lines written after.
    let lines = host.wait_for_logs(|lines| {
        let done = lines.iter().filter(|l| l.contains("Tool invocation completed successfully")).count();
        done >= calls.len() && lines.iter().filter(|l| l.contains("dur_ms=")).count() >= calls.len() + 2
    });
    collector.wait_for("execute_tool echo", &format!("aaaa{:028}", calls.len() - 1));
    let printed = printed(&host);
    assert_hidden("the host's output", &printed, &secrets);
    assert_hidden("the spans", &collector.text(), &secrets);
    let started: Vec<&String> = lines.iter().filter(|l| l.contains("Tool invocation started")).collect();
    assert_eq!(started.len(), calls.len(), "{lines:?}");
    for line in started {
        assert!(line.contains("<redacted>"), "{line}");
    }
    // What each shape left visible around the secret it lost.
    for kept in [
        "postgres://<redacted>@db.internal",
        "Bearer <redacted>",
        "access_token=<redacted>&state=ok",
        "Basic <redacted>",
        "plain words stay",
        "LOG_LEVEL",
        "X-Amz-Signature=<redacted>&x-id=GetObject",
        "&sig=<redacted>&se=2030-01-01",
        "hooks.slack.com/services/<redacted>",
        "bearer:<redacted>",
        "Bearer%20<redacted>",
        "mysql -uroot -p<redacted> appdb",
        "plain passage stays",
        "plain author stays",
        "plain signature stays",
    ] {
        assert!(printed.contains(kept), "{kept} missing from:\n{printed}");
    }
}

#[test]
fn secrets_in_tool_error_texts_never_reach_the_logs_or_the_spans() {
    let collector = Collector::start();
    let host = app(&collector).var("log_format", "json").start();
    let (mcp, _) = Mcp::connect(&host);
    let planted = planted();
    let secrets: Vec<&str> = planted.iter().map(|(s, _)| s.as_str()).collect();
    // In parts that each fit whole in the logged error (500 characters).
    let mut texts: Vec<String> = vec![String::new()];
    for (_, text) in &planted {
        let last = texts.last_mut().unwrap();
        if !last.is_empty() && last.len() + text.len() > 380 {
            texts.push(text.clone());
        } else {
            if !last.is_empty() {
                last.push('\n');
            }
            last.push_str(text);
        }
    }

    // A component that answers HTTP 500 with the secrets in its body, and a
    // tool whose error result quotes them: the client reads both as sent.
    let mut traces = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let status_trace = format!("bbbb{i:028}");
        let answered = call(&mcp, &status_trace, "failing", json!({"text": text, "status": 500}));
        assert_eq!(answered["isError"], true, "{answered}");
        let head: String = text.chars().take(40).collect();
        assert!(result_text(&answered).contains(&format!("HTTP 500: {head}")), "{answered}");
        let result_trace = format!("cccc{i:028}");
        let reported = call(&mcp, &result_trace, "failing", json!({"text": text, "status": 200}));
        assert_eq!(reported["isError"], true, "{reported}");
        assert_eq!(&result_text(&reported), text);
        traces.extend([status_trace, result_trace]);
    }

    let json_line = |l: &str| serde_json::from_str::<Value>(l).ok();
    let is_failure = |j: &Value| j["msg"] == "Tool invocation failed";
    let lines = host
        .wait_for_logs(|lines| lines.iter().filter_map(|l| json_line(l)).filter(is_failure).count() >= traces.len());
    let failures: Vec<Value> = lines.iter().filter_map(|l| json_line(l)).filter(is_failure).collect();
    assert_eq!(failures.len(), traces.len(), "{failures:?}");
    for line in &failures {
        let error = line["error"].as_str().unwrap();
        assert!(error.contains("<redacted>") && !error.ends_with('…'), "whole and redacted: {error}");
        assert!(line["arguments"].as_str().unwrap().contains("<redacted>"), "{line}");
    }
    let first = failures[0]["error"].as_str().unwrap();
    assert!(
        first.starts_with("tool 'failing' failed: its component answered HTTP 500: postgres://<redacted>@db"),
        "{first}"
    );

    for trace in &traces {
        let span = collector.wait_for("execute_tool failing", trace);
        let message = span["status"]["message"].as_str().unwrap_or_default();
        assert_eq!(span["status"]["code"], 2, "{span}");
        assert!(message.contains("<redacted>"), "the span says what failed, redacted: {span}");
    }
    host.wait_for_logs(|lines| lines.iter().filter(|l| l.contains("dur_ms=")).count() >= traces.len() + 2);
    assert_hidden("the host's output", &printed(&host), &secrets);
    assert_hidden("the spans", &collector.text(), &secrets);
}

/// A 2026-07-28 `tools/call` of `echo` in trace `trace_id`, whose `_meta`
/// gives `name` as the client's name and version.
fn modern_call_as(host: &Host, name: &str, trace_id: &str) {
    let request = ModernRequest::call("echo", json!({"x": 1}));
    let mut body = request.body();
    let meta = &mut body["params"]["_meta"];
    meta["io.modelcontextprotocol/clientInfo"] = json!({"name": name, "version": name});
    meta["traceparent"] = json!(format!("00-{trace_id}-1111111111111111-01"));
    let headers: Vec<(&str, &str)> = request.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let reply = host.post("/mcp", &headers, &body.to_string());
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.json().get("error").is_none(), "{}", reply.body);
}

#[test]
fn secrets_in_client_names_never_reach_the_logs_the_spans_or_the_metrics() {
    let collector = Collector::start();
    let host = app_of(&collector, &["gateway", "metrics", "text-tools", "calc"]).start();
    let planted = planted();
    let secrets: Vec<&str> = planted.iter().map(|(s, _)| s.as_str()).collect();
    // Each shape as a client's name and version: in `initialize` (then a
    // call in its session) and in a 2026-07-28 request, each in a trace of its own.
    for (i, (_, name)) in planted.iter().enumerate() {
        // The handshake era: the name is stored with the session, and every
        // request of the session reports it.
        let mut mcp = Mcp::new(&host);
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": name, "version": name}
        }});
        let reply = mcp.post_raw(&init.to_string(), &[("traceparent", &format!("00-eeee{i:028}-1111111111111111-01"))]);
        assert_eq!(reply.status, 200, "{}", reply.body);
        mcp.session = Some(reply.header("mcp-session-id").expect("session id").to_string());
        mcp.protocol_version = Some("2025-06-18".into());
        call(&mcp, &format!("ffff{i:028}"), "echo", json!({"x": 1}));
        // The modern era: the name comes with each request.
        modern_call_as(&host, name, &format!("9999{i:028}"));
    }

    let n = planted.len();
    let lines = host.wait_for_logs(|lines| {
        let created = lines.iter().filter(|l| l.contains("Session created")).count();
        let calls = lines.iter().filter(|l| l.contains("Tool invocation completed successfully")).count();
        created >= n && calls >= 2 * n && lines.iter().filter(|l| l.contains("dur_ms=")).count() >= 3 * n
    });
    let last = n - 1;
    for (span, prefix) in [("initialize", "eeee"), ("tools/call echo", "ffff"), ("tools/call echo", "9999")] {
        let server = collector.wait_for(span, &format!("{prefix}{last:028}"));
        assert!(span_attr(&server, "spinscope.client.name").to_string().contains("<redacted>"), "{server}");
    }
    let metrics_json = host.get("/metrics?format=json").body;
    let metrics_text = host.get("/metrics").body;
    assert_hidden("the host's output", &printed(&host), &secrets);
    assert_hidden("the spans", &collector.text(), &secrets);
    assert_hidden("the metrics' JSON", &metrics_json, &secrets);
    assert_hidden("the metrics", &metrics_text, &secrets);
    // What is left of the names says something was there.
    let created: Vec<&String> = lines.iter().filter(|l| l.contains("Session created")).collect();
    assert!(created.iter().all(|l| l.contains("<redacted>")), "{created:?}");
    let sessions = serde_json::from_str::<Value>(&metrics_json).unwrap()["sessions"].clone();
    let clients: Vec<&str> = sessions.as_array().unwrap().iter().filter_map(|s| s["client"].as_str()).collect();
    assert_eq!(clients.len(), n, "{sessions}");
    assert!(clients.iter().all(|c| c.contains("<redacted>")), "{clients:?}");
    assert!(clients.contains(&"mysql -uroot -p<redacted> appdb"), "{clients:?}");
}

#[test]
fn a_trap_gives_the_client_a_short_message_and_the_log_its_details() {
    let collector = Collector::start();
    let host = app(&collector).start();
    let (mcp, _) = Mcp::connect(&host);
    let trace = "dddd0000000000000000000000000004";
    let trapped = call(&mcp, trace, "trapping", json!({}));
    assert_eq!(trapped["isError"], true, "{trapped}");
    let told = result_text(&trapped);
    assert!(told.starts_with("tool 'trapping' "), "{told}");
    assert!(
        told.len() < 120 && !told.contains("backtrace") && !told.contains(".wasm"),
        "the client gets a short message: {told}"
    );

    let failed = host.wait_for_log(|l| l.contains("Tool invocation failed") && l.contains("tool_name=\"trapping\""));
    let span = collector.wait_for("execute_tool trapping", trace);
    assert_eq!(span["status"]["code"], 2, "{span}");
    match host.kind {
        // The local host hands the trap to the caller: the log keeps it.
        HostKind::Local => {
            assert!(failed.contains("detail=") && failed.contains("wasm backtrace"), "{failed}");
            assert!(!span.to_string().contains("backtrace"), "the span has the short message: {span}");
        }
        // Spin answers the caller 500 with no body, and logs the trap itself.
        HostKind::Spin => assert!(failed.contains("answered HTTP 500"), "{failed}"),
    }
}
