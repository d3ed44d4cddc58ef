"""The delivery-ledger page (supervisors and security staff)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from jukinet.domain.errors import DomainError
from jukinet.services import deadlines, ledger
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import PageActor, error_page, node_label, render
from jukinet.web.ui.i18n import request_lang
from jukinet.web.ui.security.common import jst

router = APIRouter(include_in_schema=False)


@router.get("/network")
def network_page(request: Request, node: NodeDep, actor: PageActor) -> HTMLResponse:
    """Per link: sequence numbers, queue depth, oldest undelivered message, quarantine."""
    try:
        links = ledger.link_statuses(node, actor=actor)
        held = ledger.quarantined_messages(node, actor=actor, limit=50)
        overdue = deadlines.overdue_deliveries(node, actor=actor, limit=50)
    except DomainError as error:
        return error_page(request, actor, error)
    return render(
        request,
        "network.html",
        {
            "links": links,
            "held": held,
            "overdue": overdue,
            "jst": jst,
            # 国立市 beside municipality:132152; a link that never carried a message either way
            # is a neighbour not (yet) on the network, such as a disconnected town.
            "peer_names": {
                peer: node_label(peer, request_lang(request))
                for peer in {link.peer for link in links} | {m.peer for m in held}
            },
            "never_connected": {
                link.peer
                for link in links
                if link.last_sent == link.last_received == 0 and link.last_success_at is None
            },
            "node_name": str(node.node_id),
            "participation": node.participation,
        },
        actor=actor,
    )
