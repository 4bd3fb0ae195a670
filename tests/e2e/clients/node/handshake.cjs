// The official TypeScript MCP SDK (1.x, pinned in package.json) against the
// gateway, as tests/e2e/tests/clients.rs runs it:
//
//   NODE_PATH=target/mcp-clients/node/node_modules node handshake.cjs http://127.0.0.1:PORT/mcp
//
// SDK 1.x knows only the handshake era: initialize, a session, DELETE at the
// end. CommonJS, so that NODE_PATH finds the SDK installed under target/
// (ES module imports ignore NODE_PATH). Prints one JSON object on stdout; an
// exception ends the run with exit code 1.
"use strict";

const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");

function summary(result) {
  return {
    is_error: Boolean(result.isError),
    text: result.content.map((c) => c.text || "").join(""),
    structured: result.structuredContent ?? null,
  };
}

async function main(url) {
  const client = new Client({ name: "spinscope-e2e-ts", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  const session = transport.sessionId;
  const tools = await client.listTools();
  const call = await client.callTool({ name: "calculate", arguments: { expression: "(1.5 + 2) * 4" } });
  const invalid = await client.callTool({ name: "calculate", arguments: { expression: 42 } });
  const version = transport.protocolVersion;
  // DELETE /mcp with the session id: the SDK leaves ending the session to the
  // application (close() alone only drops the connection).
  await transport.terminateSession();
  const ended = transport.sessionId === undefined;
  await client.close();
  console.log(
    JSON.stringify({
      protocol_version: version,
      server_info: client.getServerVersion() ?? null,
      session,
      ended,
      tools: tools.tools.map((t) => t.name).sort(),
      call: summary(call),
      invalid_call: summary(invalid),
    }),
  );
}

main(process.argv[2]).catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
