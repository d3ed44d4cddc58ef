"""``jukinet serve``: the node's web application (API and counter pages)."""

from __future__ import annotations

import importlib.util
from typing import Annotated, Any

import typer

from jukinet.cli.common import cli_command, node_of
from jukinet.services.context import ServiceContext


def run_server(node: ServiceContext, *, host: str, port: int) -> None:
    """Serve ``node`` with uvicorn until interrupted; uvloop and httptools when installed."""
    import uvicorn

    from jukinet.web.app import create_app

    options: dict[str, Any] = {}
    if importlib.util.find_spec("uvloop") is not None:
        # The default asyncio loop stalls ~44 ms per request behind a shared socket.
        options["loop"] = "uvloop"
    if importlib.util.find_spec("httptools") is not None:
        options["http"] = "httptools"
    uvicorn.run(create_app(node), host=host, port=port, **options)


@cli_command
def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
) -> None:
    """Run the web application (JSON API under /api/v1, counter pages under /)."""
    run_server(node_of(ctx), host=host, port=port)
