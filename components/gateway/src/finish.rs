//! After the response: everything that reports on the request reads its
//! one record: the access line, the release of its in-flight slot, its
//! spans, and the one metrics write.

use crate::context::Context;
use spinscope::audit::Event;
use spinscope::gateway::logger::TARGET_GATEWAY;
use spinscope::gateway::report::Answered;
use spinscope::gateway::spans;
use spinscope::log::Level;
use spinscope::metrics::Recorder;
use spinscope_spin::metrics_sink::Audit;
use spinscope_spin::outbound::{self, Outgoing};
use spinscope_spin::{audit, in_flight, metrics_sink, time};
use std::time::Duration;

/// Before the answer leaves: a request with audit events makes its one
/// write now (its metrics, and the events, see `spinscope_spin::audit`),
/// so that no client holds an answer whose event a crash could lose. The
/// metrics then measure the request up to its answer being ready. `Err`
/// when the events could not be written: the caller withholds the answer.
pub fn before_answer(cx: &mut Context, status: u16, response_bytes: usize) -> Result<(), String> {
    if !cx.config.audit_enabled {
        return Ok(());
    }
    let answered = answered(cx, status, response_bytes);
    let key = cx.config.audit_key.as_ref().map(|k| k.bytes());
    let events = spinscope::gateway::audit::events(&cx.record, answered, time::now_unix_ms(), key);
    if events.is_empty() {
        return Ok(());
    }
    write_metrics(cx, answered, &events)?;
    cx.recorded = true;
    Ok(())
}

/// Reports on a request answered with `status` and a body of `response_bytes`.
pub fn finish(cx: &mut Context, status: u16, response_bytes: usize) {
    let answered = answered(cx, status, response_bytes);
    println!("{}", cx.record.access_line(answered, time::now_unix_ms(), cx.config.log_format));
    if let (Some(slot), Ok(store)) = (cx.slot.take(), cx.store()) {
        let _ = in_flight::release(store, slot);
    }
    export_spans(cx, answered);
    let written = if cx.config.metrics_enabled && !cx.recorded {
        write_metrics(cx, answered, &[])
    } else if cx.recorded && cx.record.trace_export_failures > 0 {
        // Written before the spans were: this failure alone, in a record of
        // its own (a collector that is down costs one write per request).
        let mut recorder = Recorder::new();
        recorder.trace_export_failures(cx.record.trace_export_failures);
        write(cx, &recorder, &[])
    } else {
        Ok(())
    };
    if let Err(e) = written {
        cx.warn(Level::Warn, "Metrics not recorded", &e);
    }
    if let Some(store) = cx.take_store() {
        if let Ok(metrics_store) = metrics_sink::metrics_store(&cx.config, Some(&store)) {
            metrics_sink::now_and_then(&metrics_store, &store, &cx.config);
        }
    }
}

fn answered(cx: &Context, status: u16, response_bytes: usize) -> Answered {
    let duration_s = (time::monotonic_ns() - cx.record.began_ns) as f64 / 1e9;
    Answered { status, duration_s, response_bytes }
}

/// The one metrics write (see `spinscope_spin::metrics_sink`), with the
/// request's audit events; a failure is logged, never the request's
/// problem. A request refused for want of a key is only counted, by
/// `refusals` (sampled under a flood), so that unauthenticated traffic
/// cannot saturate the store.
fn write_metrics(cx: &mut Context, answered: Answered, events: &[Event]) -> Result<(), String> {
    let mut recorder = Recorder::new();
    if cx.config.metrics_enabled {
        // The instance's linear memory now: its high-water mark.
        cx.record.memory_measured(core::arch::wasm32::memory_size(0) as u64 * 65_536);
        recorder = cx.record.to_recorder(&cx.config.tool_components, answered, time::now_unix_ms());
        recorder.audit_events(events);
    }
    if let Some(reason) = cx.record.rejected.filter(|r| r.is_unauthenticated()) {
        let exemplar = audit::refusal_exemplar(cx.header("origin"), &cx.record.request_id);
        return audit::count_refusal(&cx.config, cx.store().ok(), reason, &exemplar);
    }
    write(cx, &recorder, events)
}

/// Writes `recorder` and `events` in the metrics layout (one write).
fn write(cx: &Context, recorder: &Recorder, events: &[Event]) -> Result<(), String> {
    let default_store = cx.store().ok();
    metrics_sink::metrics_store(&cx.config, default_store)
        .map_err(|e| format!("metrics store '{}': {e}", cx.config.metrics_store))
        .and_then(|store| {
            let shared = matches!(store, metrics_sink::MetricsStore::Shared(_));
            let audit = Audit { events, default_store: if shared { None } else { default_store } };
            metrics_sink::record(&store, recorder, audit)
        })
}

/// The instrumentation scope of the spans ended through the host.
#[cfg(feature = "wasi-otel")]
const SCOPE: &str = "spinscope";

/// The nested mode ends the tool-call span as soon as the call is in the
/// record, so that the host's spans after it (the store's) are the server
/// span's children, not the call's. Nothing otherwise.
pub fn tool_call_ended(cx: &Context) {
    #[cfg(feature = "wasi-otel")]
    if cx.host_parent.is_some() {
        if let Some(span) = spans::tool_call(&cx.record) {
            spinscope_spin::host_trace::end(&span, cx.record.trace.sampled(), SCOPE, crate::VERSION);
        }
    }
    let _ = cx;
}

/// Sends this request's spans to the collector, if export is on and the
/// trace is sampled. A collector that is down costs this one request, is
/// logged at `warn` and counted; the client has its answer already. In
/// the nested mode they are ended through the host instead (its exporter,
/// its sampling flag), whatever `otlp_traces_endpoint` says.
fn export_spans(cx: &mut Context, answered: Answered) {
    #[cfg(feature = "wasi-otel")]
    if cx.host_parent.is_some() {
        let spans = spans::build(&cx.record, (answered.duration_s * 1e9) as u64, answered.status);
        // Children first: a tool-call span still open, then the server span.
        for span in spans.iter().rev() {
            spinscope_spin::host_trace::end(span, cx.record.trace.sampled(), SCOPE, crate::VERSION);
        }
        return;
    }
    let Some(endpoint) = cx.config.otlp_traces_endpoint.clone() else { return };
    let trace = &cx.record.trace;
    let parent_sampled = trace.parent_span_id.map(|_| trace.sampled());
    if !spinscope::otlp::sampled(parent_sampled, &trace.trace_id, cx.config.otlp_sampling_ratio) {
        return;
    }
    let spans = spans::build(&cx.record, (answered.duration_s * 1e9) as u64, answered.status);
    let body = spinscope::otlp::export_request(&cx.config.service_name, crate::VERSION, &spans).to_string();
    let request = Outgoing::post(endpoint.as_str(), body).header("content-type", "application/json");
    let failure = match outbound::send(request, Duration::from_secs(2), 64 * 1024) {
        Ok(r) if (200..300).contains(&r.status) => None,
        Ok(r) => Some(format!("collector answered HTTP {}", r.status)),
        Err(e) => Some(e.to_string()),
    };
    if let Some(error) = failure {
        cx.record.trace_export_failed();
        let line = cx
            .log
            .line(Level::Warn, TARGET_GATEWAY, "Trace export failed")
            .field("endpoint", endpoint.as_str())
            .field("error", error.as_str());
        cx.log.emit(line);
    }
}
