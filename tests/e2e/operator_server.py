"""A municipality's operator port for end-to-end tests: mutual TLS with terminal certificates,
the clock read from a file the test moves (``python -m tests.e2e.operator_server FOLDER PORT``).

Everything else is the production path: settings, the app, the terminal CA's TLS context and
uvicorn with the peer-certificate protocol (``operator_port_options``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from jukinet.config import Settings, load_settings
from jukinet.runtime.bootstrap import build_node
from jukinet.runtime.runner import operator_port_options
from jukinet.web.app import create_app
from tests.support.clock import FileClock

SECRET = "operator-e2e-secret-key-long-enough-0123456789"


def settings_for(folder: Path) -> Settings:
    """The node's settings: certificate terminals, real sign-in, the test's own hours."""
    return load_settings(
        environment="test",
        database_url=f"sqlite:///{folder / 'jukinet.sqlite3'}",
        municipality_code="132292",
        argon2_time_cost=1,
        argon2_memory_cost=8192,
        secret_key=SECRET,
        terminal_mode="certificate",
        terminal_dir=folder / "terminals",
        audit_key_path=folder / "audit" / "audit-signing-key.pem",
    )


def main() -> None:
    folder, port = Path(sys.argv[1]), int(sys.argv[2])
    node = build_node(settings_for(folder), clock=FileClock(folder / "now.txt"))
    uvicorn.run(
        create_app(node),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        **operator_port_options(node, "127.0.0.1"),
    )


if __name__ == "__main__":
    main()
