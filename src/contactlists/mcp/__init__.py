"""Agent tools: the Contact Lists API as an MCP server.

`tools` builds the server (tools and resources) over `contactlists.client`;
`stdio` runs it for a desktop agent (`contactlists mcp`); `http` mounts it on
the API itself at `/mcp` when `CONTACTLISTS_MCP=true`. Nothing here is
imported by the API unless that setting is on: the `mcp` SDK is heavy.
"""
