//! `text-tools`: an example tool component (`word_count`, `sha256`, `change_case`).
//!
//! It follows the tool contract (FTL's) that `spinscope-tool` implements and
//! docs/tools.md describes.

mod case;

use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spinscope_tool::{args, error_result, serve, structured_result, text_result};

use case::Case;

#[http_component]
fn handle(req: Request) -> Response {
    serve(&req, tools, call)
}

fn tools() -> Value {
    let text_input = |description: &str| {
        json!({
            "type": "object",
            "properties": {"text": {"type": "string", "description": description}},
            "required": ["text"],
        })
    };
    json!([
        {
            "name": "word_count",
            "title": "Word count",
            "description": "Counts the words, lines and characters (Unicode scalar values) of a text.",
            "inputSchema": text_input("The text to count."),
            "outputSchema": {
                "type": "object",
                "properties": {
                    "words": {"type": "integer"},
                    "lines": {"type": "integer"},
                    "characters": {"type": "integer"},
                },
                "required": ["words", "lines", "characters"],
            },
            "annotations": {"readOnlyHint": true, "idempotentHint": true, "openWorldHint": false},
        },
        {
            "name": "sha256",
            "title": "SHA-256",
            "description": "The SHA-256 digest of a text's UTF-8 bytes, in lowercase hex.",
            "inputSchema": text_input("The text to hash."),
            "annotations": {"readOnlyHint": true, "idempotentHint": true, "openWorldHint": false},
        },
        {
            "name": "change_case",
            "title": "Change case",
            "description": "Rewrites a text in upper, lower, title, snake or kebab case.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "text": {"type": "string", "description": "The text to convert."},
                    "case": {"type": "string", "enum": ["upper", "lower", "title", "snake", "kebab"]},
                },
                "required": ["text", "case"],
            },
            "annotations": {"readOnlyHint": true, "idempotentHint": true, "openWorldHint": false},
        },
    ])
}

/// Runs `tool` on the raw arguments; `None` if there is no such tool.
fn call(tool: &str, body: &[u8]) -> Option<Value> {
    let result = match tool {
        "word_count" => args(tool, body).map(|a: TextArgs| word_count(&a.text)),
        "sha256" => args(tool, body).map(|a: TextArgs| text_result(sha256_hex(&a.text))),
        "change_case" => args(tool, body).map(|a: CaseArgs| text_result(a.case.apply(&a.text))),
        _ => return None,
    };
    Some(result.unwrap_or_else(error_result))
}

#[derive(Deserialize)]
struct TextArgs {
    text: String,
}

#[derive(Deserialize)]
struct CaseArgs {
    text: String,
    case: Case,
}

fn word_count(text: &str) -> Value {
    structured_result(json!({
        "words": text.split_whitespace().count(),
        "lines": text.lines().count(),
        "characters": text.chars().count(),
    }))
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let result = word_count("one two\nthree  four\n");
        assert_eq!(result["structuredContent"], json!({"words": 4, "lines": 2, "characters": 20}));
        assert_eq!(word_count("")["structuredContent"]["lines"], 0);
    }

    #[test]
    fn hashes() {
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn bad_arguments_are_tool_errors() {
        let result = call("change_case", br#"{"text": "x", "case": "camel"}"#).unwrap();
        assert_eq!(result["isError"], true);
        let message = result["content"][0]["text"].as_str().unwrap();
        assert!(message.starts_with("invalid arguments for change_case: unknown variant `camel`"));
        assert_eq!(
            call("sha256", b"").unwrap()["content"][0]["text"],
            "invalid arguments for sha256: missing field `text` at line 1 column 2"
        );
        assert!(call("nope", b"{}").is_none());
    }
}
