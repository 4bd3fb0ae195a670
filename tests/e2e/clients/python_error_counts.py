"""The official Python MCP SDK (PyPI `mcp`, pinned in scripts/install-deps.sh)
in the handshake era, driving a fixed mix of successes and errors for
tests/e2e/tests/error_counts.rs:

    python python_error_counts.py http://127.0.0.1:PORT/mcp

Two clients over the SDK's streamable HTTP transport, each with a session
(`initialize`, `notifications/initialized`, then the transport's own
`GET /mcp` probe for the optional event stream, and `DELETE` at the end):

- client A (`py-errors-a`), `mode="legacy"`: the SDK's own revision,
  2025-11-25. tools/list; word_count twice; `failing` answering isError;
  word_count with a number for `text` (a tool error result at this
  revision); an unknown tool; an unknown method (`nope/x`).
- client B (`py-errors-b`): the same SDK made to ask for 2025-06-18 (its
  `initialize` sends the module's LATEST_HANDSHAKE_VERSION, patched here).
  tools/list; word_count with a number for `text` (JSON-RPC -32602 at this
  revision); word_count once.

The SDK checks a tool's *output* against its outputSchema, never the
arguments against its inputSchema: the invalid arguments go to the server
as they are (the Rust test checks the gateway's own message came back).

Prints one JSON object on stdout; any unexpected exception ends the run with
a traceback (exit code 1).
"""

import asyncio
import json
import sys

import mcp.client.session as sdk_session
import mcp_types as types
from mcp import Client
from mcp.shared.exceptions import MCPError

INVALID = {"text": 5}


def call_summary(result):
    return {
        "is_error": bool(result.is_error),
        "text": "".join(getattr(c, "text", "") for c in result.content),
    }


def error_summary(error):
    return {"code": error.code, "message": error.message}


async def expect_error(awaitable):
    try:
        result = await awaitable
    except MCPError as e:
        return error_summary(e)
    raise AssertionError(f"expected a JSON-RPC error, got {result!r}")


async def client_a(url):
    info = types.Implementation(name="py-errors-a", version="1.0")
    async with Client(url, mode="legacy", client_info=info) as client:
        await client.list_tools()
        ok = [
            await client.call_tool("word_count", {"text": "the quick brown fox"}),
            await client.call_tool("word_count", {"text": "jumps"}),
        ]
        failing = await client.call_tool("failing", {"status": 200, "text": "deliberate isError"})
        invalid = await client.call_tool("word_count", INVALID)
        unknown_tool = await expect_error(client.call_tool("no_such_tool", {}))
        unknown_method = await expect_error(
            client.session.send_request(types.Request(method="nope/x", params=None), types.EmptyResult)
        )
        return {
            "protocol_version": client.protocol_version,
            "ok": [call_summary(r) for r in ok],
            "failing": call_summary(failing),
            "invalid": call_summary(invalid),
            "unknown_tool": unknown_tool,
            "unknown_method": unknown_method,
        }


async def client_b(url):
    info = types.Implementation(name="py-errors-b", version="1.0")
    latest = sdk_session.LATEST_HANDSHAKE_VERSION
    sdk_session.LATEST_HANDSHAKE_VERSION = "2025-06-18"
    try:
        async with Client(url, mode="legacy", client_info=info) as client:
            await client.list_tools()
            invalid = await expect_error(client.call_tool("word_count", INVALID))
            ok = [await client.call_tool("word_count", {"text": "over the lazy dog"})]
            return {
                "protocol_version": client.protocol_version,
                "invalid": invalid,
                "ok": [call_summary(r) for r in ok],
            }
    finally:
        sdk_session.LATEST_HANDSHAKE_VERSION = latest


async def main(url):
    a = await client_a(url)
    b = await client_b(url)
    print(json.dumps({"a": a, "b": b}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
