//! The strict reading of a message body (MCP's JSON-RPC): one pass that
//! keeps the members JSON-RPC defines and finds the first key given twice
//! at the top level or in `params`, which serde_json alone would resolve
//! silently to the last one.

use crate::bounded::client_string;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::map::Entry;
use serde_json::{Map, Value};
use std::fmt;

/// A key found twice: at the message's top level, or at that of its `params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Duplicate {
    /// Inside `params` (else at the top level).
    pub(super) in_params: bool,
    /// The key, bounded (it is the client's text).
    pub(super) key: String,
}

impl fmt::Display for Duplicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Quoted as JSON, so a key with quotes or control characters reads unambiguously.
        let key = Value::String(self.key.clone());
        match self.in_params {
            false => write!(f, "duplicate key {key} in the message (each member may appear once)"),
            true => write!(f, "duplicate key {key} in \"params\" (each member may appear once)"),
        }
    }
}

/// The body, read in one pass: a message object's members (only the ones
/// JSON-RPC defines keep their values) and the first key found twice at
/// its top level or at that of its `params`, or what else the body is.
/// Detecting the duplicates costs one map lookup per key, which building
/// the map does anyway.
pub(super) enum Body {
    /// A JSON object.
    Object {
        /// Its members; an unknown member's value is dropped (`null`).
        members: Map<String, Value>,
        /// The first key seen twice (the first value is kept).
        duplicate: Option<Duplicate>,
    },
    /// A JSON array (a batch).
    Array,
    /// Any other JSON value, by its type name.
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BodyVisitor)
    }
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = Body;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Body, E> {
        Ok(Body::Other("boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Body, E> {
        Ok(Body::Other("number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Body, E> {
        Ok(Body::Other("number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Body, E> {
        Ok(Body::Other("number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Body, E> {
        Ok(Body::Other("string"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Body, E> {
        Ok(Body::Other("null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Body, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Body::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Body, A::Error> {
        let mut members = Map::new();
        let mut duplicate = None;
        while let Some(key) = map.next_key::<String>()? {
            let value = match key.as_str() {
                "params" => {
                    let Params { value, duplicate: inner } = map.next_value()?;
                    if duplicate.is_none() {
                        duplicate = inner.map(|key| Duplicate { in_params: true, key });
                    }
                    value
                }
                "jsonrpc" | "id" | "method" | "result" | "error" => map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    Value::Null
                }
            };
            match members.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(first) if duplicate.is_none() => {
                    duplicate = Some(Duplicate { in_params: false, key: client_string(first.key()) });
                }
                Entry::Occupied(_) => {}
            }
        }
        Ok(Body::Object { members, duplicate })
    }
}

/// The `params` member, and the first key found twice at its top level.
struct Params {
    value: Value,
    duplicate: Option<String>,
}

impl<'de> Deserialize<'de> for Params {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ParamsVisitor)
    }
}

struct ParamsVisitor;

impl ParamsVisitor {
    fn plain<E>(value: Value) -> Result<Params, E> {
        Ok(Params { value, duplicate: None })
    }
}

impl<'de> Visitor<'de> for ParamsVisitor {
    type Value = Params;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Params, E> {
        Self::plain(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Params, E> {
        Self::plain(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Params, E> {
        Self::plain(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Params, E> {
        Self::plain(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Params, E> {
        Self::plain(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Params, E> {
        Self::plain(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Params, E> {
        Self::plain(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Params, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Self::plain(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Params, A::Error> {
        let mut members = Map::new();
        let mut duplicate = None;
        while let Some(key) = map.next_key::<String>()? {
            let value: Value = map.next_value()?;
            match members.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(first) if duplicate.is_none() => duplicate = Some(client_string(first.key())),
                Entry::Occupied(_) => {}
            }
        }
        Ok(Params { value: Value::Object(members), duplicate })
    }
}
