use super::*;
use crate::gateway::error::Answering;
use crate::mcp::modern::Era;
use serde_json::json;

const BOUNDS: Bounds = Bounds { timeout_ms: 5_000, hard_cap: 1_000, reported: true };

fn answered(status: u16, body: &str) -> ToolAnswer {
    ToolAnswer::Answered { status, body: body.as_bytes().to_vec(), truncated: false }
}

fn text_of(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap()
}

#[test]
fn a_good_result_passes_through() {
    let body = r#"{"content":[{"type":"text","text":"3"}],"structuredContent":{"words":3}}"#;
    let ending = interpret("wc", answered(200, body), BOUNDS);
    assert_eq!(ending.outcome(), ToolOutcome::Success);
    assert_eq!(ending.result["structuredContent"]["words"], 3);
    assert!(ending.failure.is_none());
}

#[test]
fn a_timeout_is_its_own_outcome() {
    let ending = interpret("wc", ToolAnswer::Timeout, BOUNDS);
    assert_eq!(ending.outcome(), ToolOutcome::Timeout);
    assert_eq!(ending.result["isError"], true);
    assert_eq!(text_of(&ending.result), "tool 'wc' timed out after 5000 ms");
}

#[test]
fn a_trap_tells_the_client_the_code_and_the_log_the_backtrace() {
    let ending = interpret("wc", ToolAnswer::HttpError("internal-error (wasm backtrace: 0: f)".into()), BOUNDS);
    assert_eq!(text_of(&ending.result), "tool 'wc' could not be reached: HTTP error: internal-error");
    let failure = ending.failure.unwrap();
    assert_eq!(failure.detail.as_deref(), Some("internal-error (wasm backtrace: 0: f)"));
    assert!(failure.error.map(Answering { era: Era::Handshake, protocol_version: None }).is_error);
}

#[test]
fn a_non_200_shows_the_body_head_to_the_client_and_all_of_it_to_the_log() {
    let body = format!("boom {}", "x".repeat(400));
    let ending = interpret("wc", answered(500, &body), BOUNDS);
    let message = text_of(&ending.result);
    assert!(message.starts_with("tool 'wc' failed: its component answered HTTP 500: boom"), "{message}");
    assert!(message.len() < 300, "the head only");
    assert!(ending.failure.as_ref().unwrap().text.len() > 400, "the whole body, for redaction then the log");
    let quiet = interpret("wc", answered(503, ""), Bounds { reported: false, ..BOUNDS });
    assert_eq!(text_of(&quiet.result), "tool 'wc' failed: its component answered HTTP 503");
}

#[test]
fn oversized_and_invalid_answers_are_component_failures() {
    let big = interpret("wc", ToolAnswer::Answered { status: 200, body: vec![b'{'; 10], truncated: true }, BOUNDS);
    assert_eq!(big.output_truncated, 1);
    assert_eq!(text_of(&big.result), "tool 'wc' returned more than 1000 bytes; its output was discarded");
    let invalid = interpret("wc", answered(200, "not json"), BOUNDS);
    assert_eq!(invalid.outcome(), ToolOutcome::Error);
    assert!(text_of(&invalid.result).starts_with("tool 'wc' returned an invalid result"));
    for ending in [big, invalid] {
        let Some(Failure { error: GatewayError::ToolFailed { failure, .. }, .. }) = ending.failure else { panic!() };
        assert!(failure.is_component_failure());
    }
}

#[test]
fn the_tools_own_error_is_passed_on_as_it_is() {
    let body = r#"{"content":[{"type":"text","text":"no such file"}],"isError":true}"#;
    let ending = interpret("wc", answered(200, body), BOUNDS);
    assert_eq!(ending.outcome(), ToolOutcome::Error);
    assert_eq!(text_of(&ending.result), "no such file", "the tool's own result");
    let failure = ending.failure.unwrap();
    assert_eq!(failure.text, "no such file");
    let GatewayError::ToolFailed { failure, .. } = failure.error else { panic!() };
    assert!(!failure.is_component_failure(), "the tool answered");
}

#[test]
fn output_within_the_limit_is_untouched() {
    let mut result = json!({"content": [{"type": "text", "text": "hello"}]});
    let before = result.clone();
    assert_eq!(limit_output(&mut result, 1_000), None);
    assert_eq!(result, before);
}

#[test]
fn text_is_cut_on_a_character_boundary_with_a_note() {
    let mut result = json!({
        "content": [{"type": "text", "text": "ééééé"}, {"type": "text", "text": "more"}],
        "structuredContent": {"a": 1}
    });
    let size = limit_output(&mut result, 5).unwrap();
    assert!(size > 5);
    let items = result["content"].as_array().unwrap();
    assert_eq!(items[0]["text"], "éé", "5 bytes hold two 2-byte characters, not three");
    assert_eq!(items[1]["text"], "m", "the byte left goes to the next item");
    assert_eq!(items.len(), 3, "then the note");
    assert!(items[2]["text"].as_str().unwrap().starts_with("[spinscope: output truncated: the tool returned"));
    assert!(result.get("structuredContent").is_none());
}

#[test]
fn non_text_items_are_kept_whole_or_dropped() {
    let image = json!({"type": "image", "data": "AAAA", "mimeType": "image/png"});
    let mut result = json!({"content": [image.clone(), {"type": "text", "text": "x".repeat(100)}]});
    let image_len = image.to_string().len();
    limit_output(&mut result, image_len + 10).unwrap();
    let items = result["content"].as_array().unwrap();
    assert_eq!(items[0], image);
    assert_eq!(items[1]["text"].as_str().unwrap().len(), 10);
    let mut small = json!({"content": [image.clone(), {"type": "text", "text": "y"}]});
    limit_output(&mut small, 3).unwrap();
    assert_eq!(small["content"][0]["text"], "y", "an image that does not fit is dropped, not cut");
}

#[test]
fn an_open_breaker_tells_when_to_retry() {
    let ending = circuit_open("wc", 2_500);
    assert_eq!(ending.outcome(), ToolOutcome::CircuitOpen);
    assert_eq!(ending.result["isError"], true);
    assert_eq!(
        text_of(&ending.result),
        "tool 'wc' is temporarily unavailable (its component keeps failing); retry after 3 s"
    );
    assert_eq!(text_of(&circuit_open("wc", 10).result).rsplit(' ').nth(1), Some("1"), "at least a second");
}
