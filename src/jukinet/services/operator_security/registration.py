"""The WebAuthn registration ceremony, shared by the card administrator registering a security
key as a card and a demo operator enrolling their own: options out, a verified key back."""

from __future__ import annotations

from webauthn import generate_registration_options, options_to_json, verify_registration_response
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import InvalidJSONStructure, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webauthn.registration.verify_registration_response import VerifiedRegistration

from jukinet.services.context import ServiceContext


def registration_options(
    node: ServiceContext,
    *,
    user_name: str,
    user_id: bytes,
    display_name: str,
    challenge: bytes,
    algorithms: list[COSEAlgorithmIdentifier] | None = None,
) -> str:
    """Options (JSON) asking for a new key with user verification (its PIN), not resident;
    ``algorithms`` narrows the keys accepted (the library's default list otherwise)."""
    options = generate_registration_options(
        rp_id=node.settings.webauthn_rp_id,
        rp_name="jukinet",
        user_name=user_name,
        user_id=user_id,
        user_display_name=display_name,
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        supported_pub_key_algs=algorithms,
    )
    return options_to_json(options)


def verified_registration(
    node: ServiceContext, *, credential: str, challenge: bytes, origins: list[str]
) -> VerifiedRegistration | None:
    """The new key if the browser's answer is genuine (challenge, origin, PIN), else ``None``."""
    try:
        return verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=node.settings.webauthn_rp_id,
            expected_origin=origins,
            require_user_verification=True,
        )
    except (InvalidRegistrationResponse, InvalidJSONStructure, ValueError, KeyError):
        return None
