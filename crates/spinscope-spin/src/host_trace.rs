//! Spans through the host's tracer: `wasi:otel/tracing@0.2.0-rc.2`, which
//! Spin 4.x links only when run with `--experimental-wasi-otel`.
//!
//! Only the gateway's nested-trace build (`gateway-otel`) calls this; a
//! component that does not call it does not import the interface, so the
//! default components still run on a Spin without the flag (and on Spin
//! 3.x). What Spin does with it (its `factor-otel`):
//!
//! - [`outer`] is `outer-span-context`: the host's current span when the
//!   guest runs, Spin's span of this request;
//! - [`start`] is `on-start`: from then on, until the span is ended, the
//!   spans Spin makes for the guest's host calls (key-value, outbound HTTP,
//!   so the chained tool component too) are children of the latest guest
//!   span started and not yet ended;
//! - [`end`] is `on-end`: the finished span goes to Spin's span processor
//!   and out through Spin's exporter (`OTEL_EXPORTER_OTLP_*`). Ending a
//!   span that was not started is an error in Spin, so [`end`] ends only
//!   spans [`start`] started, each once.
//!
//! With the flag but no exporter configured, the three are no-ops in Spin
//! and [`outer`] gives an invalid context, which reads as `None`.

use crate::bindings_otel::wasi::clocks::wall_clock::Datetime;
use crate::bindings_otel::wasi::otel::tracing::{self as wt, SpanContext, SpanData, TraceFlags};
use crate::bindings_otel::wasi::otel::types::{InstrumentationScope, KeyValue};
use spinscope::gateway::spans::exported_tracestate;
use spinscope::otlp::{AttributeValue, Span, SpanKind};
use spinscope::trace::{hex, TraceContext, TraceParent, FLAG_SAMPLED};
use std::cell::RefCell;

thread_local! {
    /// The spans started and not yet ended, in this instance (one request).
    static OPEN: RefCell<Vec<[u8; 8]>> = const { RefCell::new(Vec::new()) };
}

/// The host's current span as a parent (its span id as `parent_id`), and
/// its `tracestate`; `None` when the host has no valid one (tracing off).
pub fn outer() -> Option<(TraceParent, Option<String>)> {
    let context = wt::outer_span_context();
    let flags = if context.trace_flags.contains(TraceFlags::SAMPLED) { FLAG_SAMPLED } else { 0 };
    let parent = TraceParent::parse(&format!("00-{}-{}-{flags:02x}", context.trace_id, context.span_id))?;
    let state = context.trace_state.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    Some((parent, (!state.is_empty()).then_some(state)))
}

fn span_context(trace_id: &[u8; 16], span_id: &[u8; 8], sampled: bool, state: Option<&str>) -> SpanContext {
    SpanContext {
        trace_id: hex(trace_id),
        span_id: hex(span_id),
        trace_flags: if sampled { TraceFlags::SAMPLED } else { TraceFlags::empty() },
        is_remote: false,
        trace_state: state
            .unwrap_or_default()
            .split(',')
            .filter_map(|m| m.trim().split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// Tells the host that the span `context` has started: Spin's spans for
/// the host calls that follow are its children until it ends.
pub fn start(context: &TraceContext) {
    let started = OPEN.with_borrow_mut(|open| {
        let new = !open.contains(&context.span_id);
        if new {
            open.push(context.span_id);
        }
        new
    });
    if started {
        // Spin's spans under it inherit its `tracestate` and export it: the
        // one the gateway's own spans would export, or none.
        let state = exported_tracestate(context.tracestate.as_deref());
        wt::on_start(&span_context(&context.trace_id, &context.span_id, context.sampled(), state.as_deref()));
    }
}

fn datetime(unix_nanos: u64) -> Datetime {
    Datetime { seconds: unix_nanos / 1_000_000_000, nanoseconds: (unix_nanos % 1_000_000_000) as u32 }
}

/// An attribute as wasi:otel carries it: the value JSON-encoded.
fn key_values(attributes: &[(String, AttributeValue)]) -> Vec<KeyValue> {
    attributes
        .iter()
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: match value {
                AttributeValue::Str(s) => serde_json::Value::from(s.as_str()).to_string(),
                AttributeValue::Int(i) => i.to_string(),
            },
        })
        .collect()
}

/// Ends `span` if [`start`] started it (else nothing: Spin refuses to end
/// a span it was not told of), handing it to the host's exporter with
/// the instrumentation scope `scope` at `version`. Whether it is exported
/// is the host's sampling flag's (and Spin's processor's) decision.
pub fn end(span: &Span, sampled: bool, scope: &str, version: &str) {
    let was_open = OPEN.with_borrow_mut(|open| {
        let at = open.iter().position(|id| *id == span.span_id);
        at.map(|i| open.remove(i)).is_some()
    });
    if !was_open {
        return;
    }
    let data = SpanData {
        span_context: span_context(&span.trace_id, &span.span_id, sampled, span.trace_state.as_deref()),
        parent_span_id: span.parent_span_id.map(|p| hex(&p)).unwrap_or_default(),
        span_kind: match span.kind {
            SpanKind::Internal => wt::SpanKind::Internal,
            SpanKind::Server => wt::SpanKind::Server,
            SpanKind::Client => wt::SpanKind::Client,
        },
        name: span.name.clone(),
        start_time: datetime(span.start_unix_nanos),
        end_time: datetime(span.end_unix_nanos.max(span.start_unix_nanos)),
        attributes: key_values(&span.attributes),
        events: Vec::new(),
        links: span
            .links
            .iter()
            .map(|l| wt::Link {
                span_context: span_context(&l.trace_id, &l.span_id, true, l.trace_state.as_deref()),
                attributes: key_values(&l.attributes),
            })
            .collect(),
        status: match &span.error {
            Some(message) => wt::Status::Error(message.clone()),
            None => wt::Status::Unset,
        },
        instrumentation_scope: InstrumentationScope {
            name: scope.to_string(),
            version: Some(version.to_string()),
            schema_url: None,
            attributes: Vec::new(),
        },
        dropped_attributes: 0,
        dropped_events: 0,
        dropped_links: 0,
    };
    wt::on_end(&data);
}
