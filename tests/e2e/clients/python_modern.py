"""The official Python MCP SDK (PyPI `mcp`, pinned in scripts/install-deps.sh)
against the gateway, as tests/e2e/tests/clients.rs runs it:

    python python_modern.py http://127.0.0.1:PORT/mcp

`Client(url, mode="auto")` probes `server/discover` and speaks 2026-07-28 when
the server offers it, else falls back to `initialize`; the Rust test, not
this script, decides which was right. Prints one JSON object on stdout and
lets any exception end the run with a traceback (exit code 1).
"""

import asyncio
import json
import sys

from mcp import Client


def call_summary(result):
    return {
        "is_error": bool(result.is_error),
        "text": "".join(getattr(c, "text", "") for c in result.content),
        "structured": result.structured_content,
    }


async def main(url):
    async with Client(url, mode="auto") as client:
        tools = await client.list_tools()
        ok = await client.call_tool("word_count", {"text": "the quick brown fox"})
        # Wrong argument type: from 2025-11-25 on a tool execution error the
        # model can read (SEP-1303), not a JSON-RPC error (which would raise).
        invalid = await client.call_tool("word_count", {"text": 5})
        info = client.server_info
        print(
            json.dumps(
                {
                    "protocol_version": client.protocol_version,
                    "server_info": info.model_dump() if info else None,
                    "tools": sorted(t.name for t in tools.tools),
                    "call": call_summary(ok),
                    "invalid_call": call_summary(invalid),
                }
            )
        )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
