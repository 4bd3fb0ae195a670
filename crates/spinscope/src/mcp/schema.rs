//! A deliberately small JSON-Schema check of tool arguments, used when input
//! validation is on. It covers the keywords tool schemas actually use:
//! `type`, `enum`, `const`, `properties`, `required`, `additionalProperties`,
//! `minimum`/`maximum` (and their exclusive forms), `minLength`/`maxLength`,
//! `items`, `minItems`/`maxItems`. Every other keyword (`$ref`, `anyOf`,
//! `pattern`, `format`…) is ignored, so the check can only be more permissive
//! than a full validator, never stricter.
//!
//! Hand-written rather than a validator crate: those pull in regex and URL
//! parsing, several hundred kilobytes in every gateway instance, for
//! keywords tool schemas do not use.

use serde_json::{Map, Value};

use super::json_type;

/// Checks `args` against `schema`; the error names the offending argument,
/// e.g. `argument "text": expected string, got number`.
pub fn validate_arguments(schema: &Value, args: &Value) -> Result<(), String> {
    check(schema, args, "")
}

/// Where an error is, for messages: `arguments` or `argument "a.b[0]"`.
fn at(path: &str) -> String {
    if path.is_empty() {
        "arguments".to_owned()
    } else {
        format!("argument \"{path}\"")
    }
}

fn child_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn check(schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    let schema = match schema {
        Value::Bool(true) => return Ok(()),
        Value::Bool(false) => return Err(format!("{}: not allowed", at(path))),
        Value::Object(s) => s,
        // Not a schema; nothing we can check.
        _ => return Ok(()),
    };

    check_type(schema, value, path)?;

    if let Some(Value::Array(options)) = schema.get("enum") {
        if !options.iter().any(|o| json_equal(o, value)) {
            return Err(format!("{}: must be one of {}", at(path), Value::Array(options.clone())));
        }
    }
    if let Some(expected) = schema.get("const") {
        if !json_equal(expected, value) {
            return Err(format!("{}: must be {expected}", at(path)));
        }
    }

    match value {
        Value::Number(n) => check_number(schema, n.as_f64().unwrap_or(f64::NAN), path),
        Value::String(s) => check_string(schema, s, path),
        Value::Array(items) => check_array(schema, items, path),
        Value::Object(obj) => check_object(schema, obj, path),
        _ => Ok(()),
    }
}

fn check_type(schema: &Map<String, Value>, value: &Value, path: &str) -> Result<(), String> {
    let names: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    // An unknown type name is an unknown keyword value: ignore it (accept).
    let ok = names.is_empty() || names.iter().any(|t| type_matches(t, value).unwrap_or(true));
    if ok {
        Ok(())
    } else {
        Err(format!("{}: expected {}, got {}", at(path), names.join(" or "), json_type(value)))
    }
}

/// `None` for a type name JSON Schema does not define.
fn type_matches(name: &str, value: &Value) -> Option<bool> {
    Some(match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => is_integer(value),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => return None,
    })
}

/// JSON Schema counts `1.0` as an integer.
fn is_integer(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

/// Equality where numbers compare by value (`1 == 1.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() || y.is_f64() {
                x.as_f64() == y.as_f64()
            } else {
                x == y
            }
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn check_number(schema: &Map<String, Value>, n: f64, path: &str) -> Result<(), String> {
    let bound = |key: &str| schema.get(key).and_then(|v| v.as_f64().map(|f| (f, v)));
    // Draft 4 spelled exclusivity as a boolean next to minimum/maximum.
    let draft4_exclusive = |key: &str| schema.get(key).and_then(Value::as_bool).unwrap_or(false);

    if let Some((min, raw)) = bound("minimum") {
        if draft4_exclusive("exclusiveMinimum") {
            if n <= min {
                return Err(format!("{}: must be > {raw}", at(path)));
            }
        } else if n < min {
            return Err(format!("{}: must be >= {raw}", at(path)));
        }
    }
    if let Some((max, raw)) = bound("maximum") {
        if draft4_exclusive("exclusiveMaximum") {
            if n >= max {
                return Err(format!("{}: must be < {raw}", at(path)));
            }
        } else if n > max {
            return Err(format!("{}: must be <= {raw}", at(path)));
        }
    }
    if let Some((min, raw)) = bound("exclusiveMinimum") {
        if n <= min {
            return Err(format!("{}: must be > {raw}", at(path)));
        }
    }
    if let Some((max, raw)) = bound("exclusiveMaximum") {
        if n >= max {
            return Err(format!("{}: must be < {raw}", at(path)));
        }
    }
    Ok(())
}

fn check_string(schema: &Map<String, Value>, s: &str, path: &str) -> Result<(), String> {
    // JSON Schema lengths count code points, i.e. `char`s.
    let len = s.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
        if len < min {
            return Err(format!("{}: must be at least {min} characters long", at(path)));
        }
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
        if len > max {
            return Err(format!("{}: must be at most {max} characters long", at(path)));
        }
    }
    Ok(())
}

fn check_array(schema: &Map<String, Value>, items: &[Value], path: &str) -> Result<(), String> {
    let len = items.len() as u64;
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
        if len < min {
            return Err(format!("{}: must have at least {min} items", at(path)));
        }
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
        if len > max {
            return Err(format!("{}: must have at most {max} items", at(path)));
        }
    }
    match schema.get("items") {
        // Draft 4 tuple form: one schema per position.
        Some(Value::Array(per_position)) => {
            for (i, (sub, item)) in per_position.iter().zip(items).enumerate() {
                check(sub, item, &format!("{path}[{i}]"))?;
            }
        }
        Some(sub) => {
            for (i, item) in items.iter().enumerate() {
                check(sub, item, &format!("{path}[{i}]"))?;
            }
        }
        None => {}
    }
    Ok(())
}

fn check_object(schema: &Map<String, Value>, obj: &Map<String, Value>, path: &str) -> Result<(), String> {
    if let Some(Value::Array(required)) = schema.get("required") {
        for key in required.iter().filter_map(Value::as_str) {
            if !obj.contains_key(key) {
                return Err(format!("missing required argument \"{}\"", child_key(path, key)));
            }
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    if let Some(props) = properties {
        for (key, sub) in props {
            if let Some(v) = obj.get(key) {
                check(sub, v, &child_key(path, key))?;
            }
        }
    }
    // Without regex support `patternProperties` cannot be evaluated, and
    // applying `additionalProperties` without it would reject valid input.
    if schema.contains_key("patternProperties") {
        return Ok(());
    }
    let is_declared = |k: &str| properties.is_some_and(|p| p.contains_key(k));
    match schema.get("additionalProperties") {
        Some(Value::Bool(false)) => {
            if let Some(extra) = obj.keys().find(|k| !is_declared(k)) {
                return Err(format!("unexpected argument \"{}\"", child_key(path, extra)));
            }
        }
        Some(sub @ Value::Object(_)) => {
            for (key, v) in obj.iter().filter(|(k, _)| !is_declared(k)) {
                check(sub, v, &child_key(path, key))?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(schema: Value, args: Value) -> String {
        validate_arguments(&schema, &args).expect_err(&format!("{args} should fail {schema}"))
    }

    fn ok(schema: Value, args: Value) {
        if let Err(e) = validate_arguments(&schema, &args) {
            panic!("{args} should pass {schema}: {e}");
        }
    }

    #[test]
    fn types() {
        let cases = [
            ("object", json!({}), json!([])),
            ("array", json!([]), json!({})),
            ("string", json!("s"), json!(1)),
            ("number", json!(1.5), json!("1")),
            ("integer", json!(3), json!(3.5)),
            ("boolean", json!(true), json!(0)),
            ("null", json!(null), json!(false)),
        ];
        for (t, good, bad) in cases {
            ok(json!({"type": t}), good);
            let e = err(json!({"type": t}), bad.clone());
            assert_eq!(e, format!("arguments: expected {t}, got {}", json_type(&bad)));
        }
        ok(json!({"type": "integer"}), json!(2.0));
        ok(json!({"type": "integer"}), json!(-9223372036854775808i64));
        ok(json!({"type": "number"}), json!(7));
        ok(json!({"type": ["string", "null"]}), json!(null));
        assert_eq!(
            err(json!({"type": ["string", "null"]}), json!(1)),
            "arguments: expected string or null, got number"
        );
        ok(json!({"type": "madeup"}), json!(1));
    }

    #[test]
    fn property_type_message() {
        let schema = json!({"type": "object", "properties": {"text": {"type": "string"}}});
        assert_eq!(err(schema.clone(), json!({"text": 5})), "argument \"text\": expected string, got number");
        ok(schema, json!({"other": 5}));
    }

    #[test]
    fn required_and_nesting() {
        let schema = json!({
            "type": "object",
            "required": ["url"],
            "properties": {
                "url": {"type": "string"},
                "opts": {"type": "object", "required": ["depth"], "properties": {"depth": {"type": "integer"}}}
            }
        });
        assert_eq!(err(schema.clone(), json!({})), "missing required argument \"url\"");
        assert_eq!(err(schema.clone(), json!({"url": "u", "opts": {}})), "missing required argument \"opts.depth\"");
        assert_eq!(
            err(schema.clone(), json!({"url": "u", "opts": {"depth": "x"}})),
            "argument \"opts.depth\": expected integer, got string"
        );
        ok(schema, json!({"url": "u", "opts": {"depth": 2}}));
    }

    #[test]
    fn enum_and_const() {
        let schema = json!({"properties": {"mode": {"enum": ["fast", "slow", 1]}}});
        ok(schema.clone(), json!({"mode": "fast"}));
        ok(schema.clone(), json!({"mode": 1.0}));
        assert_eq!(err(schema, json!({"mode": "medium"})), "argument \"mode\": must be one of [\"fast\",\"slow\",1]");
        ok(json!({"const": {"a": [1]}}), json!({"a": [1.0]}));
        assert!(err(json!({"const": "x"}), json!("y")).contains("must be \"x\""));
    }

    #[test]
    fn additional_properties() {
        let schema = json!({"type": "object", "properties": {"a": {}}, "additionalProperties": false});
        ok(schema.clone(), json!({"a": 1}));
        assert_eq!(err(schema, json!({"a": 1, "b": 2})), "unexpected argument \"b\"");
        let schema = json!({"additionalProperties": {"type": "number"}});
        ok(schema.clone(), json!({"x": 1}));
        assert_eq!(err(schema, json!({"x": "1"})), "argument \"x\": expected number, got string");
        // No regex engine: patternProperties disables the check rather than
        // rejecting keys the patterns would have allowed.
        ok(json!({"patternProperties": {"^x": {}}, "additionalProperties": false}), json!({"xy": 1}));
        let nested = json!({"properties": {"o": {"additionalProperties": false}}});
        assert_eq!(err(nested, json!({"o": {"z": 1}})), "unexpected argument \"o.z\"");
    }

    #[test]
    fn numeric_bounds() {
        let schema = json!({"properties": {"n": {"type": "number", "minimum": 1, "maximum": 10}}});
        ok(schema.clone(), json!({"n": 1}));
        ok(schema.clone(), json!({"n": 10}));
        assert_eq!(err(schema.clone(), json!({"n": 0.5})), "argument \"n\": must be >= 1");
        assert_eq!(err(schema, json!({"n": 11})), "argument \"n\": must be <= 10");
        let excl = json!({"exclusiveMinimum": 0, "exclusiveMaximum": 1.5});
        ok(excl.clone(), json!(1));
        assert_eq!(err(excl.clone(), json!(0)), "arguments: must be > 0");
        assert_eq!(err(excl, json!(1.5)), "arguments: must be < 1.5");
        let draft4 = json!({"minimum": 0, "exclusiveMinimum": true, "maximum": 5, "exclusiveMaximum": true});
        assert_eq!(err(draft4.clone(), json!(0)), "arguments: must be > 0");
        assert_eq!(err(draft4.clone(), json!(5)), "arguments: must be < 5");
        ok(draft4, json!(4));
        // Bounds do not apply to other types.
        ok(json!({"minimum": 5}), json!("abc"));
    }

    #[test]
    fn string_lengths_count_chars() {
        let schema = json!({"minLength": 2, "maxLength": 3});
        ok(schema.clone(), json!("🦀🦀🦀"));
        ok(schema.clone(), json!("ab"));
        assert_eq!(err(schema.clone(), json!("a")), "arguments: must be at least 2 characters long");
        assert_eq!(err(schema, json!("éééé")), "arguments: must be at most 3 characters long");
    }

    #[test]
    fn items() {
        let schema = json!({"properties": {"tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3}}});
        ok(schema.clone(), json!({"tags": ["a", "b"]}));
        assert_eq!(err(schema.clone(), json!({"tags": ["a", 2]})), "argument \"tags[1]\": expected string, got number");
        assert_eq!(err(schema, json!({"tags": ["a", "b", "c", "d"]})), "argument \"tags\": must have at most 3 items");
        let nested = json!({"items": {"items": {"type": "object", "required": ["id"]}}});
        assert_eq!(err(nested, json!([[{"id": 1}], [{"id": 2}, {}]])), "missing required argument \"[1][1].id\"");
        let tuple = json!({"items": [{"type": "string"}, {"type": "integer"}], "minItems": 1});
        ok(tuple.clone(), json!(["a", 1, true]));
        assert_eq!(err(tuple.clone(), json!(["a", "b"])), "argument \"[1]\": expected integer, got string");
        assert_eq!(err(tuple, json!([])), "arguments: must have at least 1 items");
    }

    #[test]
    fn boolean_schemas_and_unknown_keywords() {
        ok(json!(true), json!({"anything": 1}));
        ok(json!({}), json!(42));
        ok(json!({"pattern": "^x$", "format": "email", "$ref": "#/x", "anyOf": [{"type": "string"}]}), json!(1));
        let schema = json!({"properties": {"never": false}});
        assert_eq!(err(schema.clone(), json!({"never": 1})), "argument \"never\": not allowed");
        ok(schema, json!({}));
    }
}
