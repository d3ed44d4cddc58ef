"""The delivery-ledger page (supervisors and security staff)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from jukinet.domain.errors import DomainError
from jukinet.services import ledger
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import PageActor, error_page, render

router = APIRouter(include_in_schema=False)


@router.get("/network")
def network_page(request: Request, node: NodeDep, actor: PageActor) -> HTMLResponse:
    """Per link: sequence numbers, queue depth, oldest undelivered message, quarantine."""
    try:
        links = ledger.link_statuses(node, actor=actor)
        held = ledger.quarantined_messages(node, actor=actor, limit=50)
    except DomainError as error:
        return error_page(request, actor, error)
    return render(
        request,
        "network.html",
        {
            "links": links,
            "held": held,
            "node_name": str(node.node_id),
            "participation": node.participation,
        },
        actor=actor,
    )
