"""Fixed port blocks for tests that start a network on ``--base-port``.

A block is drawn below Linux's ephemeral range (``/proc/sys/net/ipv4/ip_local_port_range``,
32768–60999 by default): a port in that range can be taken at any moment as the local end of an
outgoing connection (a PostgreSQL client, an HTTP request), and a node then fails to bind it.
"""

from __future__ import annotations

import random

#: The lowest port of the ephemeral range on a default Linux kernel.
EPHEMERAL_START = 32_768
#: A block holds operator ports base.., network ports base+100.. and public ports base+200..
BLOCK = 300


def base_port() -> int:
    """A random base port whose whole block lies below the ephemeral range."""
    return random.randrange(20_000, EPHEMERAL_START - BLOCK, 200)
