//! After the response: everything that reports on the request reads its
//! one record: the access line, the release of its in-flight slot, its
//! spans, and the one metrics write.

use crate::context::Context;
use spinscope::gateway::logger::TARGET_GATEWAY;
use spinscope::gateway::report::Answered;
use spinscope::gateway::spans;
use spinscope::log::Level;
use spinscope::metrics::series::RejectReason;
use spinscope_spin::outbound::{self, Outgoing};
use spinscope_spin::{in_flight, metrics_sink, refusals, time};
use std::time::Duration;

/// Reports on a request answered with `status` and a body of `response_bytes`.
pub fn finish(cx: &mut Context, status: u16, response_bytes: usize) {
    let duration_s = (time::monotonic_ns() - cx.record.began_ns) as f64 / 1e9;
    let answered = Answered { status, duration_s, response_bytes };
    println!("{}", cx.record.access_line(answered, time::now_unix_ms(), cx.config.log_format));
    if let (Some(slot), Ok(store)) = (cx.slot.take(), cx.store()) {
        let _ = in_flight::release(store, slot);
    }
    export_spans(cx, answered);
    if cx.config.metrics_enabled {
        // The instance's linear memory now: its high-water mark.
        cx.record.memory_measured(core::arch::wasm32::memory_size(0) as u64 * 65_536);
        write_metrics(cx, answered);
    }
}

/// The one metrics write (see `spinscope_spin::metrics_sink`); a failure
/// is logged, never the request's problem. A request refused for want of a
/// key is only counted, by `refusals` (sampled under a flood), so that
/// unauthenticated traffic cannot saturate the store.
fn write_metrics(cx: &mut Context, answered: Answered) {
    let recorder = cx.record.to_recorder(&cx.config.tool_components, answered, time::now_unix_ms());
    let unauthorized = cx.record.rejected == Some(RejectReason::Unauthorized);
    let default_store = match cx.store() {
        Ok(_) => cx.take_store(),
        Err(_) => None,
    };
    let written = metrics_sink::metrics_store(&cx.config, default_store.as_ref())
        .map_err(|e| format!("metrics store '{}': {e}", cx.config.metrics_store))
        .and_then(|store| match unauthorized {
            true => refusals::count(&store).map_err(|e| e.to_string()),
            false => metrics_sink::record(&store, &recorder, &cx.config),
        });
    if let Err(e) = written {
        cx.warn(Level::Warn, "Metrics not recorded", &e);
    }
}

/// Sends this request's spans to the collector, if export is on and the
/// trace is sampled. A collector that is down costs this one request, is
/// logged at `warn` and counted; the client has its answer already.
fn export_spans(cx: &mut Context, answered: Answered) {
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
