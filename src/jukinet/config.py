"""Settings, read from the environment (``JUKINET_*``) and validated at start-up.

Fail closed: outside development and tests the node refuses to start with a missing or
placeholder secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused outside dev/test
DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    """Node settings. ``JUKINET_DATABASE_URL`` selects SQLite (default) or PostgreSQL."""

    model_config = SettingsConfigDict(env_prefix="JUKINET_", extra="ignore")

    environment: Literal["dev", "test", "production"] = "dev"
    database_url: str = f"sqlite:///{DEFAULT_DATA_DIR / 'jukinet.sqlite3'}"
    secret_key: str = DEV_SECRET
    municipality_code: str = "132292"
    #: This node's role on the network and its code (a prefecture's 2 digits, "jlis" for the
    #: national centre); a municipality's code is ``municipality_code``.
    role: Literal["municipality", "prefecture", "national"] = "municipality"
    node_code: str | None = None
    #: A municipality may be disconnected from the network (as Kunitachi was, 2002–2012): the
    #: counter works, nothing is sent; connecting later sends an initial load.
    participation: Literal["connected", "disconnected"] = "connected"
    #: Whether residents may opt out of upstream notification (the Yokohama method, 2002–2006).
    allow_opt_out: bool = False
    #: The network PKI folder holding this node's credentials, the CA and the CRL.
    pki_dir: Path | None = None
    #: Ed25519 key that signs the access log's tree heads on a node without network credentials
    #: (a networked node signs with its network signing key). Default: next to a SQLite file,
    #: else ``var/audit-signing-key.pem``; created on first use.
    audit_key_path: Path | None = None
    #: Neighbours' base URLs, e.g. {"prefecture:13": "https://127.0.0.1:8413"}.
    peers: dict[str, str] = {}
    #: Delivery tuning: envelopes per request and the longest back-off between retries.
    delivery_batch: int = 2000
    delivery_max_backoff_seconds: float = 30.0
    #: Lifetime of API bearer tokens, in seconds (short on purpose).
    token_ttl_seconds: int = 900
    #: Lifetime of a page session without activity, in seconds.
    session_ttl_seconds: int = 8 * 3600
    #: argon2 cost; tests lower it (the default costs ~240 ms a hash on a 2-core machine).
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment == "production" and (
            self.secret_key == DEV_SECRET or len(self.secret_key) < 32
        ):
            msg = (
                "JUKINET_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production (本番環境では JUKINET_SECRET_KEY に"
                "32文字以上の乱数を設定してください)"
            )
            raise ValueError(msg)
        return self


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (used by tests and the CLI)."""
    # BaseSettings reads the environment only in __init__, so overrides must be keyword
    # arguments; their types are checked by pydantic at run time, not by mypy here.
    return Settings(**overrides)  # type: ignore[arg-type]
