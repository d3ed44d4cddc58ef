"""A relying party's HTTP client for a prefecture's public JPKI endpoints (OCSP, the CA).

Plain HTTP like every public OCSP responder: what comes back is signed (by the delegated OCSP
responder, or is the CA certificate the caller pins), so the transport need not be trusted.
"""

from __future__ import annotations

from typing import Final

import httpx

from jukinet.domain.errors import Conflict

OCSP_REQUEST_TYPE: Final = "application/ocsp-request"
OCSP_RESPONSE_TYPE: Final = "application/ocsp-response"
TIMEOUT_SECONDS: Final = 15.0
#: The largest answer read (an OCSP response or a certificate is a few KiB).
MAX_ANSWER_BYTES: Final = 1024 * 1024


def unreachable(what: str) -> Conflict:
    """JUKI-JPKI-041: the responder could not be asked (names the endpoint, nothing personal)."""
    return Conflict(
        "JUKI-JPKI-041",
        ja=f"失効情報の提供元（{what}）に問い合わせできません。",
        en=f"The revocation service cannot be asked ({what}).",
        field="ocsp",
    )


def _answer(response: httpx.Response, *, what: str, content_type: str | None) -> bytes:
    if response.status_code != 200:
        raise unreachable(f"{what}: HTTP {response.status_code}")
    if content_type and response.headers.get("content-type", "").split(";")[0] != content_type:
        raise unreachable(f"{what}: not {content_type}")
    if len(response.content) > MAX_ANSWER_BYTES:
        raise unreachable(f"{what}: answer too large")
    return response.content


def post_ocsp(url: str, request_der: bytes, *, http: httpx.Client | None = None) -> bytes:
    """POST an OCSP request to ``url``; the DER response (still to be verified)."""
    try:
        if http is not None:
            response = http.post(
                url, content=request_der, headers={"content-type": OCSP_REQUEST_TYPE}
            )
        else:
            response = httpx.post(
                url,
                content=request_der,
                headers={"content-type": OCSP_REQUEST_TYPE},
                timeout=TIMEOUT_SECONDS,
            )
    except httpx.HTTPError as error:
        raise unreachable(f"OCSP: {type(error).__name__}") from error
    return _answer(response, what="OCSP", content_type=OCSP_RESPONSE_TYPE)


def get_der(url: str, *, http: httpx.Client | None = None) -> bytes:
    """GET a DER document (the CA certificate, the CRL) from ``url``."""
    try:
        response = (http or httpx).get(url, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        raise unreachable(f"GET: {type(error).__name__}") from error
    return _answer(response, what="GET", content_type=None)
