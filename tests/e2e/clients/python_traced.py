"""The official Python MCP SDK calling a tool inside a trace, as
tests/e2e/tests/traces.rs runs it:

    python python_traced.py http://127.0.0.1:PORT/mcp MODE TRACEPARENT TRACESTATE

MODE is the SDK's `mode=` (`legacy`: the initialize handshake; `auto`:
2026-07-28). The caller's context is made current with the OpenTelemetry
API alone (no SDK is installed, so the SDK's own client span is a
non-recording one carrying that context): the MCP SDK then puts
`traceparent`/`tracestate` in `params._meta` (SEP-414), and no HTTP header
carries them, as with an OpenTelemetry SDK configured. Prints one JSON
object on stdout.
"""

import asyncio
import json
import sys

from mcp import Client
from opentelemetry import context
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState, set_span_in_context


def current(traceparent, tracestate):
    _, trace_id, span_id, flags = traceparent.split("-")
    state = TraceState([tuple(m.split("=", 1)) for m in tracestate.split(",")])
    span = SpanContext(int(trace_id, 16), int(span_id, 16), is_remote=True, trace_flags=TraceFlags(int(flags, 16)), trace_state=state)
    return set_span_in_context(NonRecordingSpan(span))


async def main(url, mode, traceparent, tracestate):
    token = context.attach(current(traceparent, tracestate))
    try:
        async with Client(url, mode=mode) as client:
            result = await client.call_tool("echo_headers", {})
            print(json.dumps({"protocol_version": client.protocol_version, "seen": result.structured_content}))
    finally:
        context.detach(token)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
