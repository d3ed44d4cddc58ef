"""The security console page of every node, and the network map page at the centre.

Only security officers (:attr:`Permission.WATCH_SECURITY`) open them; each view is logged.
The map is a server-rendered SVG with a table beside it (no script); its JSON is in the API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from jukinet.domain.errors import DomainError
from jukinet.services import network_map, security_console
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import PageActor, error_page, node_label, render
from jukinet.web.ui.i18n import request_lang
from jukinet.web.ui.map_layout import SIZE, layout
from jukinet.web.ui.security.common import jst

router = APIRouter(include_in_schema=False)


@router.get("/security/console")
def console_page(request: Request, node: NodeDep, actor: PageActor) -> HTMLResponse:
    """Alerts, overdue deliveries, links, threat level and incidents from below."""
    try:
        view = security_console.console(node, actor=actor)
    except DomainError as error:
        return error_page(request, actor, error)
    lang = request_lang(request)
    peers = {link.peer for link in view.links} | {o.peer for o in view.overdue}
    peers |= {a.about for a in view.alerts} | {i.node for i in view.incidents}
    return render(
        request,
        "security/console.html",
        {
            "view": view,
            "peer_names": {peer: node_label(peer, lang) for peer in peers},
            "is_centre": view.role == "national",
            "jst": jst,
        },
        actor=actor,
    )


@router.get("/security/network-map")
def network_map_page(request: Request, node: NodeDep, actor: PageActor) -> HTMLResponse:
    """Every node of the network, its state and its link's health (the centre only)."""
    try:
        view = network_map.network_map(node, actor=actor)
    except DomainError as error:
        return error_page(request, actor, error)
    lang = request_lang(request)
    return render(
        request,
        "security/network_map.html",
        {
            "view": view,
            "placed": layout(view.nodes),
            "size": SIZE,
            "jst": jst,
            "names": {n.name: node_label(n.name, lang) for n in view.nodes},
        },
        actor=actor,
    )
