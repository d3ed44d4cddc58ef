"""``jukinet serve``: the node's web application (API and counter pages)."""

from __future__ import annotations

import importlib.util
from typing import Annotated, Any

import typer

from jukinet.cli.common import cli_command, node_of
from jukinet.runtime.background import retention_keeper, tree_head_publisher
from jukinet.services import audit
from jukinet.services.context import ServiceContext

#: Default seconds between signed tree heads while the log grows (as a network node's).
TREE_HEAD_INTERVAL = 60.0


def run_server(
    node: ServiceContext, *, host: str, port: int, tree_head_interval: float = TREE_HEAD_INTERVAL
) -> None:
    """Serve ``node`` with uvicorn until interrupted; uvloop and httptools when installed.

    Refuses to start without the key that signs the access log (``jukinet audit init-key``);
    while serving, signs a tree head every ``tree_head_interval`` seconds the log has grown
    (so the entries a running node records are covered within that interval) and applies the
    7-year retention.
    """
    import uvicorn

    from jukinet.runtime.runner import operator_port_options
    from jukinet.web.app import create_app

    audit.require_log_key(node)
    options: dict[str, Any] = {}
    if importlib.util.find_spec("uvloop") is not None:
        # The default asyncio loop stalls ~44 ms per request behind a shared socket.
        options["loop"] = "uvloop"
    if importlib.util.find_spec("httptools") is not None:
        options["http"] = "httptools"
    # Terminals: client certificates on this port, or the loopback terminal (dev/test/demo).
    options |= operator_port_options(node, host)
    background = [tree_head_publisher(node, interval=tree_head_interval), retention_keeper(node)]
    for task in background:
        task.start()
    try:
        uvicorn.run(create_app(node), host=host, port=port, **options)
    finally:
        for task in background:
            task.stop()
        for task in background:
            task.join(timeout=10)


@cli_command
def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    tree_head_interval: Annotated[
        float,
        typer.Option(
            "--tree-head-interval",
            min=0.1,
            help="Seconds between signed tree heads while the access log grows.",
        ),
    ] = TREE_HEAD_INTERVAL,
) -> None:
    """Run the web application (JSON API under /api/v1, counter pages under /)."""
    run_server(node_of(ctx), host=host, port=port, tree_head_interval=tree_head_interval)
