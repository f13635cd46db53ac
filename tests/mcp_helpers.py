"""Shared by the MCP tests: a person answering elicitations, and one-call clients."""

from __future__ import annotations

from mcp import Client, types


class Person:
    """An elicitation callback that records what it was shown and answers as told."""

    def __init__(self, action: str = "accept", approve: bool = True) -> None:
        self.action, self.approve, self.messages = action, approve, []

    async def __call__(self, context, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.messages.append(params.message)
        if self.action != "accept":
            return types.ElicitResult(action=self.action)
        return types.ElicitResult(action="accept", content={"approve": self.approve})


async def call(server, name: str, args: dict, **client_kwargs):
    """Connect a real MCP client to ``server``, call one tool, disconnect."""
    async with Client(server, **client_kwargs) as client:
        return await client.call_tool(name, args)
