"""The official Python MCP SDK (PyPI `mcp`, pinned in requirements.txt) as an
OAuth client of the gateway, as tests/e2e/tests/oauth_clients.rs runs it:

    OAUTH_CLIENT_SECRET=... python python_oauth.py URL ISSUER CLIENT_ID AUTH_METHOD

URL is the gateway's `/mcp` (its `oauth_resource`), ISSUER the authorization
server the client is registered with, AUTH_METHOD `client_secret_basic` or
`client_secret_post` (how the client authenticates at the token endpoint).
The secret comes from the environment, not the command line.

The flow is the SDK's own, `ClientCredentialsOAuthProvider`
(`mcp.client.auth.extensions.client_credentials`), an `httpx2.Auth` on the
HTTP client of the streamable HTTP transport: the first request goes
without a token and gets 401; the provider reads `resource_metadata` from
its `WWW-Authenticate`, fetches the Protected Resource Metadata (RFC 9728),
checks its `resource` against URL, takes the authorization server it names
(it must be ISSUER), fetches that server's RFC 8414 metadata, asks its
`token_endpoint` for a token with `grant_type=client_credentials` and
`resource` (RFC 8707), and sends the request again with the token. Nothing
here builds a request of that flow.

Prints one JSON object on stdout (never the token) and lets any exception
end the run with a traceback (exit code 1).
"""

import asyncio
import json
import os
import sys

import httpx2

from mcp import Client
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client


class MemoryStorage:
    """The SDK's `TokenStorage` protocol, in memory: each run starts without a token."""

    def __init__(self):
        self.tokens = None
        self.client_info = None
        self.tokens_stored = 0

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens
        self.tokens_stored += 1

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


def call_summary(result):
    return {
        "is_error": bool(result.is_error),
        "text": "".join(getattr(c, "text", "") for c in result.content),
        "structured": result.structured_content,
    }


async def main(url, issuer, client_id, auth_method):
    storage = MemoryStorage()
    provider = ClientCredentialsOAuthProvider(
        server_url=url,
        storage=storage,
        client_id=client_id,
        client_secret=os.environ["OAUTH_CLIENT_SECRET"],
        token_endpoint_auth_method=auth_method,
        issuer=issuer,
    )
    async with httpx2.AsyncClient(auth=provider, timeout=30) as http:
        async with Client(streamable_http_client(url, http_client=http), mode="auto") as client:
            call = await client.call_tool("word_count", {"text": "the quick brown fox"})
            protocol_version = client.protocol_version
    context = provider.context
    prm = context.protected_resource_metadata
    asm = context.oauth_metadata
    token = storage.tokens
    print(
        json.dumps(
            {
                "protocol_version": protocol_version,
                "call": call_summary(call),
                "protected_resource_metadata": prm.model_dump(mode="json", exclude_none=True) if prm else None,
                "authorization_server": context.auth_server_url,
                "authorization_server_metadata": {
                    "issuer": str(asm.issuer),
                    "token_endpoint": str(asm.token_endpoint),
                }
                if asm
                else None,
                "tokens_stored": storage.tokens_stored,
                "token": {"token_type": token.token_type, "scope": token.scope, "expires_in": token.expires_in}
                if token
                else None,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
