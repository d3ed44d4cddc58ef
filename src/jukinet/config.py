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
    return Settings(**overrides)  # type: ignore[arg-type]
