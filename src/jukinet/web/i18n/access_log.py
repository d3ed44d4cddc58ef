"""Texts of the access log shared by the pages that show it (transparency, disclosure).

The channels' Japanese names are the domain's (:attr:`Channel.label_ja`); only the English ones
are kept here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from jukinet.domain.access_log import Channel

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    # How the data went (提供方法)
    "channel.counter": (Channel.COUNTER.label_ja, "Counter terminal"),
    "channel.agency_api": (Channel.AGENCY_API.label_ja, "Agency query (online)"),
    "channel.batch": (Channel.BATCH.label_ja, "Batch query"),
    "channel.network": (Channel.NETWORK.label_ja, "Network (between nodes)"),
    "channel.export": (Channel.EXPORT.label_ja, "Export"),
    "channel.system": (Channel.SYSTEM.label_ja, "System"),
}
