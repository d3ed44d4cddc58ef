"""Publishing a tree head to a witness over the wire (mutual TLS), and what comes back.

A node POSTs ``{witness, head, from_size, proof}`` to its neighbour's :data:`WITNESS_PATH`;
a municipality reaches the centre through its prefecture, which passes the request on and the
centre's answer back untouched (the head and the countersignature are self-authenticating, so
a relay can drop them but not forge them). The answer is the witness's signed countersignature,
or ``409`` with the size of the head the witness holds (the proof must start there), or a
refusal with its reason.
"""

from __future__ import annotations

from typing import Any, Final

import httpx

from jukinet.network.context import NetworkContext, Rejected

WITNESS_PATH: Final = "/network/v1/witness"
#: How long a publisher waits for its witness.
HTTP_TIMEOUT_SECONDS: Final = 30.0


class StaleProof(Rejected):
    """The witness holds another head than the proof starts from; ``held_size`` is its size."""

    def __init__(self, held_size: int) -> None:
        super().__init__(
            f"the witness holds a head of {held_size} entries",
            status=409,
            details={"held_size": held_size},
        )
        self.held_size = held_size


def post_publication(
    net: NetworkContext, url: str, publication: dict[str, Any], *, client: httpx.Client | None
) -> dict[str, Any]:
    """POST ``publication`` to ``url``; the signed answer, still to be verified.

    Raises :class:`StaleProof` for a 409 naming the held size, :class:`Rejected` for any
    other refusal (its status and reason), and ``httpx.HTTPError``/``OSError`` when the
    witness cannot be reached.
    """
    if client is None:
        with httpx.Client(verify=net.client_ssl_context(), timeout=HTTP_TIMEOUT_SECONDS) as http:
            response = http.post(url, json=publication)
    else:
        response = client.post(url, json=publication)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise Rejected(f"HTTP {response.status_code}: not a JSON object", status=502)
    held = answer.get("held_size")
    if response.status_code == 409 and isinstance(held, int) and not isinstance(held, bool):
        raise StaleProof(held)
    if response.status_code != 200:
        reason = str(answer.get("error", ""))[:300] or f"HTTP {response.status_code}"
        raise Rejected(reason, status=response.status_code)
    return answer
