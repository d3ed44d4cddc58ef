"""Settings, read from the environment (``JUKINET_*``) and validated at start-up.

Fail closed:

- The environment is ``production`` unless ``JUKINET_ENVIRONMENT`` (or an explicit override —
  the demo and the tests give one) says ``dev`` or ``test``. A forgotten variable never makes a
  development node.
- Outside ``dev`` and ``test`` a missing, placeholder or short secret key is refused.
- An unknown ``JUKINET_*`` variable is refused by name: a misspelt setting never silently falls
  back to its default.

Every ``JUKINET_*`` variable anything here reads is known in this module: one per
:class:`Settings` field, and :data:`OTHER_VARIABLES` for those read by the command line itself,
the test suite and the benchmarks. Every refusal says what to set, in Japanese and English
(:class:`SettingsError`).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jukinet.domain.deadlines import deadlines
from jukinet.domain.errors import ValidationError
from jukinet.domain.municipality import validate_municipality_code

ENV_PREFIX = "JUKINET_"
Environment = Literal["dev", "test", "production"]
#: The environments a placeholder secret is tolerated in; they must be chosen explicitly.
DEVELOPMENT_ENVIRONMENTS: frozenset[str] = frozenset({"dev", "test"})

DEV_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused outside dev/test
MIN_SECRET_LENGTH = 32
#: Fewer distinct characters than this is a typed pattern ("xxxx…", "abab…"), not a random value.
MIN_SECRET_VARIETY = 10
#: Words that mark a value as a stand-in someone forgot to replace.
PLACEHOLDER_MARKERS = ("change-me", "changeme", "replace-me", "placeholder", "insecure", "example")
#: How to make a good secret key (quoted in refusals).
SECRET_RECIPE = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'  # noqa: S105
DEFAULT_DATA_DIR = Path("var")

# Variables the command line reads itself (not settings of a node).
OPERATOR_VARIABLE = "JUKINET_OPERATOR"
OPERATOR_PASSWORD_VARIABLE = "JUKINET_OPERATOR_PASSWORD"  # noqa: S105 - a variable's name
CA_PIN_VARIABLE = "JUKINET_CA_PIN"
OPERATOR_CARD_VARIABLE = "JUKINET_OPERATOR_CARD"
OPERATOR_CARD_PIN_VARIABLE = "JUKINET_OPERATOR_CARD_PIN"
PKCS11_MODULE_VARIABLE = "JUKINET_PKCS11_MODULE"

#: Every ``JUKINET_*`` variable that is not a :class:`Settings` field, and who reads it.
OTHER_VARIABLES: Mapping[str, str] = {
    OPERATOR_VARIABLE: "command line: the acting operator (--operator)",
    OPERATOR_PASSWORD_VARIABLE: "command line: the acting operator's password",
    OPERATOR_CARD_VARIABLE: "command line: the serial (token label) of the acting operator's card",
    OPERATOR_CARD_PIN_VARIABLE: "command line: the PIN of the acting operator's card",
    PKCS11_MODULE_VARIABLE: "command line: the PKCS#11 module of operator cards (default: "
    "SoftHSM2's)",
    CA_PIN_VARIABLE: "command line and the node holding the CA: the user PIN of the PKCS#11 "
    "token with the CA key",
    "JUKINET_TEST_BACKENDS": "test suite: the storage backends to run on",
    "JUKINET_TEST_POSTGRES_URL": "test suite: the PostgreSQL admin URL",
    "JUKINET_E2E_DATABASE_URL": "test suite: the browser tests' server database",
    "JUKINET_E2E_SECRET_KEY": "test suite: the browser tests' server secret key",
    "JUKINET_CHROMIUM": "test suite: the Chromium binary for browser tests",
    "JUKINET_BENCH_BACKENDS": "benchmarks: the storage backends to measure",
    "JUKINET_BENCH_RESULTS": "benchmarks: where results are written",
    "JUKINET_BENCH_QUICK": "benchmarks: a smoke run (python -m bench --quick) that does not wait "
    "for a quiet machine",
}


@dataclass(frozen=True)
class SettingsProblem:
    """One thing wrong with the settings: which one, and what to do about it."""

    setting: str
    ja: str
    en: str


class SettingsError(ValueError):
    """Settings a node refuses to start with; each problem says what to set, in both languages.

    A ``ValueError``, so that raised inside :class:`Settings`' validators it reaches the caller
    of ``Settings(...)`` as a pydantic ``ValidationError`` (fail closed on every path);
    :func:`load_settings` turns that back into this error.
    """

    def __init__(self, problems: Iterable[SettingsProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.en} ({p.ja})" for p in self.problems))

    @classmethod
    def one(cls, setting: str, *, ja: str, en: str) -> SettingsError:
        """An error with a single problem."""
        return cls([SettingsProblem(setting, ja=ja, en=en)])

    @classmethod
    def from_validation(
        cls, error: pydantic.ValidationError, *, name: Callable[[str], str]
    ) -> SettingsError:
        """The problems of a pydantic error; ``name`` says how to call a field (its variable,
        its key in node.json …)."""
        problems: list[SettingsProblem] = []
        for item in error.errors():
            cause = (item.get("ctx") or {}).get("error")
            if isinstance(cause, SettingsError):
                problems.extend(cause.problems)
                continue
            field = ".".join(str(part) for part in item["loc"])
            where = name(field) if field else "settings"
            if item["type"] == "extra_forbidden":
                problems.append(
                    SettingsProblem(
                        where,
                        ja=f"{where} という設定はありません。名前を確認してください。",
                        en=f"unknown setting {where}; check its name",
                    )
                )
            else:
                problems.append(
                    SettingsProblem(
                        where,
                        ja=f"{where} の値が正しくありません（{item['msg']}）。",
                        en=f"{where} has an invalid value: {item['msg']}",
                    )
                )
        return cls(problems)


def variable_of(field: str) -> str:
    """The variable of a :class:`Settings` field: ``secret_key`` → ``JUKINET_SECRET_KEY``."""
    return ENV_PREFIX + field.upper()


def known_variables() -> list[str]:
    """Every ``JUKINET_*`` variable anything in jukinet reads, sorted."""
    return sorted({variable_of(f) for f in Settings.model_fields} | set(OTHER_VARIABLES))


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """The ``JUKINET_*`` variables in ``environ`` (default: this process's) nobody reads."""
    environ = os.environ if environ is None else environ
    known = set(known_variables())
    # Settings are read case-insensitively, so a lower-case name is a setting too.
    return sorted(
        name
        for name in environ
        if name.upper().startswith(ENV_PREFIX) and name.upper() not in known
    )


def unknown_variables_error(names: Iterable[str]) -> SettingsError:
    """The refusal of unknown variables: each named, with the closest known name if any."""
    known = known_variables()
    listing = ", ".join(known)
    problems = []
    for name in names:
        close = difflib.get_close_matches(name.upper(), known, n=1)
        hint_ja = f"（{close[0]} の誤りではありませんか）" if close else ""
        hint_en = f" (did you mean {close[0]}?)" if close else ""
        problems.append(
            SettingsProblem(
                name,
                ja=f"不明な設定 {name} があります{hint_ja}。名前を直すか、変数を削除してください"
                "（使える変数は known: の一覧のとおりです）。",
                en=f"unknown setting {name}{hint_en}; correct its name or unset it. "
                f"known: {listing}",
            )
        )
    return SettingsError(problems)


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Refuse unknown ``JUKINET_*`` variables, naming each (:class:`SettingsError`)."""
    unknown = unknown_variables(environ)
    if unknown:
        raise unknown_variables_error(unknown)


class Settings(BaseSettings):
    """Node settings. ``JUKINET_DATABASE_URL`` selects SQLite (default) or PostgreSQL.

    Constructing one refuses unknown ``JUKINET_*`` variables and, outside an explicit ``dev`` or
    ``test`` environment, a missing or placeholder secret key.
    """

    # Unknown keyword arguments (overrides, node.json keys) are refused like unknown variables.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    #: ``production`` unless set: development and tests must say so.
    environment: Environment = "production"
    database_url: str = f"sqlite:///{DEFAULT_DATA_DIR / 'jukinet.sqlite3'}"
    #: A read-only PostgreSQL streaming replica of ``database_url`` (optional): agency lookups
    #: read identity records there; grants and access-log entries stay on the primary. Reads go
    #: to the primary whenever it is unreachable or lags more than the bound below (seconds).
    database_replica_url: str | None = None
    database_replica_max_lag_seconds: float = Field(default=5.0, gt=0, le=3600)
    #: Signs sessions and API tokens. The default is a placeholder, refused outside dev/test.
    secret_key: str = DEV_SECRET
    municipality_code: str = "132292"
    #: This node's role on the network and its code (a prefecture's 2 digits, "jlis" for the
    #: national centre); a municipality's code is ``municipality_code``.
    role: Literal["municipality", "prefecture", "national"] = "municipality"
    node_code: str | None = None
    #: A municipality may be disconnected from the network (as Kunitachi was, 2002–2012) or
    #: never connected (Yamatsuri until 2015): the counter works, nothing is sent; connecting
    #: later sends an initial load. This is the state until an operator changes it
    #: (``jukinet node participation``); the changes are kept in the database.
    participation: Literal["connected", "disconnected", "never_connected"] = "connected"
    #: Whether residents may opt out of upstream notification (the Yokohama method, 2002–2006).
    allow_opt_out: bool = False
    #: Certificates (住民票の写し …): the mayor's name printed as issuer, the fee (yen), and the
    #: font every name is printed in (IPAmj Mincho: the MJ character set, with its variants).
    mayor_name: str = ""
    certificate_fee_yen: int = Field(default=300, ge=0, le=100_000)
    certificate_font: Path = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
    #: The network PKI folder holding this node's credentials, the CA and the CRL.
    pki_dir: Path | None = None
    #: Ed25519 key that signs the access log's tree heads on a node without network credentials
    #: (a networked node signs with its network signing key). Default: next to a SQLite file,
    #: else ``var/audit-signing-key.pem``; created on first use.
    audit_key_path: Path | None = None
    #: Neighbours' base URLs, e.g. {"prefecture:13": "https://127.0.0.1:8413"}.
    peers: dict[str, str] = {}
    #: The node process's event loop: ``auto`` (uvloop when installed, as uvicorn[standard]
    #: brings it), ``uvloop`` (required) or ``asyncio`` (the standard loop).
    event_loop: Literal["auto", "uvloop", "asyncio"] = "auto"
    #: Delivery tuning: envelopes per request and the longest back-off between retries.
    delivery_batch: int = 2000
    delivery_max_backoff_seconds: float = 30.0
    #: Delivery deadlines that differ from the defaults (:mod:`jukinet.domain.deadlines`):
    #: a notice kind's wire name → seconds, e.g. {"identity_notice": 1800}.
    delivery_deadlines: dict[str, float] = {}
    #: Lifetime of API bearer tokens, in seconds (short on purpose).
    token_ttl_seconds: int = 900
    #: Lifetime of a page session without activity, in seconds.
    session_ttl_seconds: int = 8 * 3600
    #: Failed sign-ins in a row that lock an operator's account (a security officer unlocks it).
    signin_lockout_after: int = Field(default=5, ge=1, le=100)
    #: A session without a request for this long ends (seconds; the absolute limit is
    #: ``session_ttl_seconds``).
    session_idle_seconds: int = Field(default=15 * 60, ge=60)
    #: An out-of-hours permit's length unless the request says otherwise (minutes).
    permit_default_minutes: int = Field(default=120, ge=5, le=24 * 60)
    #: The WebAuthn relying-party id: the host name operators' browsers use for the pages.
    webauthn_rp_id: str = "localhost"
    #: Origins a WebAuthn assertion may come from; empty: the page's own origin, whose host
    #: must be ``webauthn_rp_id``.
    webauthn_origins: list[str] = []
    #: How terminals are identified: ``certificate`` (a client certificate issued by the node's
    #: terminal CA, mutual TLS on the operator port) or ``loopback`` (dev/test/demo only: the
    #: operator port listens on 127.0.0.1 and this machine is the one, labelled, terminal).
    terminal_mode: Literal["certificate", "loopback"] = "certificate"
    #: The node's terminal CA and the operator port's server certificate (``jukinet terminal
    #: init``); default: ``terminals`` next to the PKI folder, else under the data folder.
    terminal_dir: Path | None = None
    #: Residents' card photos (写真付き住基カード), one private file each (0600 in a 0700 folder);
    #: default: ``card-photos`` under the data folder.
    card_photo_dir: Path | None = None
    #: dev/test/demo only: the counter is open around the clock (the demo and end-to-end tests
    #: run on the real clock, at any hour).
    always_open: bool = False
    #: dev/test/demo only: a demo operator without a card enrols the browser's own passkey or
    #: security key as their card at first sign-in (labelled on every page).
    demo_card_enrolment: bool = False
    #: argon2 cost; tests lower it (the default costs ~240 ms a hash on a 2-core machine).
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    #: TEST ONLY: run the node process with its clock this many seconds ahead (libfaketime, so
    #: the TLS handshake's clock moves too). Refused outside ``dev`` and ``test``; only the node
    #: runner applies it (:mod:`jukinet.runtime.test_clock`), in-process handles ignore it.
    test_clock_offset_seconds: float = 0.0

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_variables(cls, data: Any) -> Any:
        check_environment()
        return data

    @model_validator(mode="after")
    def _refuse_a_wrong_municipality_code(self) -> Settings:
        # Checked whatever the role: a node must never run under a code with a wrong check digit
        # (it would name itself "131017" and be refused by every neighbour).
        variable = variable_of("municipality_code")
        try:
            validate_municipality_code(self.municipality_code, field=variable)
        except ValidationError as error:
            raise SettingsError.one(variable, ja=error.message_ja, en=error.message_en) from None
        return self

    @model_validator(mode="after")
    def _refuse_a_replica_that_is_not_postgresql(self) -> Settings:
        if not self.database_replica_url:
            return self
        variable = variable_of("database_replica_url")
        if not _is_postgresql(self.database_replica_url):
            raise SettingsError.one(
                variable,
                ja=f"{variable} は PostgreSQL の URL（postgresql+psycopg://…）にしてください。"
                "レプリカは PostgreSQL のストリーミングレプリケーションでのみ使えます。",
                en=f"{variable} must be a PostgreSQL URL (postgresql+psycopg://…): a read "
                "replica is a PostgreSQL streaming replica",
            )
        if not _is_postgresql(self.database_url):
            raise SettingsError.one(
                variable,
                ja=f"{variable} は JUKINET_DATABASE_URL が PostgreSQL のときだけ設定できます。",
                en=f"{variable} needs JUKINET_DATABASE_URL to be PostgreSQL too (a replica "
                "streams from a PostgreSQL primary)",
            )
        return self

    @model_validator(mode="after")
    def _refuse_unknown_deadlines(self) -> Settings:
        try:
            deadlines(self.delivery_deadlines)
        except ValidationError as error:
            variable = variable_of("delivery_deadlines")
            raise SettingsError.one(variable, ja=error.message_ja, en=error.message_en) from None
        return self

    @model_validator(mode="after")
    def _refuse_moved_clock_in_production(self) -> Settings:
        if self.test_clock_offset_seconds == 0 or self.environment in DEVELOPMENT_ENVIRONMENTS:
            return self
        raise SettingsError.one(
            variable_of("test_clock_offset_seconds"),
            ja="JUKINET_TEST_CLOCK_OFFSET_SECONDS は試験用です。本番環境では設定できません"
            "（0 にするか削除してください）。",
            en="JUKINET_TEST_CLOCK_OFFSET_SECONDS is for tests only and is refused in "
            "production: unset it (or set it to 0)",
        )

    @property
    def terminal_folder(self) -> Path:
        """Where the terminal CA lives (see ``terminal_dir``)."""
        if self.terminal_dir is not None:
            return self.terminal_dir
        if self.pki_dir is not None:
            return self.pki_dir.parent / "terminals"
        return DEFAULT_DATA_DIR / "terminals"

    @property
    def card_photo_folder(self) -> Path:
        """Where residents' card photos are kept (see ``card_photo_dir``)."""
        return self.card_photo_dir or DEFAULT_DATA_DIR / "card-photos"

    @model_validator(mode="after")
    def _refuse_demo_shortcuts_in_production(self) -> Settings:
        if self.environment in DEVELOPMENT_ENVIRONMENTS:
            # Development and tests run on this machine's loopback unless told otherwise.
            if "terminal_mode" not in self.model_fields_set:
                self.terminal_mode = "loopback"
            return self
        if self.terminal_mode == "loopback":
            raise SettingsError.one(
                variable_of("terminal_mode"),
                ja="JUKINET_TERMINAL_MODE=loopback は開発・試験・デモ用です。本番環境では端末を"
                "クライアント証明書で登録してください（certificate）。",
                en="JUKINET_TERMINAL_MODE=loopback is for development, tests and the demo; in "
                "production terminals are identified by client certificates (certificate)",
            )
        if self.always_open:
            raise SettingsError.one(
                variable_of("always_open"),
                ja="JUKINET_ALWAYS_OPEN はデモ・試験用です。"
                "本番環境では業務時間を設定してください。",
                en="JUKINET_ALWAYS_OPEN is for the demo and tests; in production set the "
                "operating hours",
            )
        if self.demo_card_enrolment:
            raise SettingsError.one(
                variable_of("demo_card_enrolment"),
                ja="JUKINET_DEMO_CARD_ENROLMENT はデモ用です。本番環境では操作者カードを"
                "カード管理者が登録します。",
                en="JUKINET_DEMO_CARD_ENROLMENT is for the demo only; in production a card "
                "administrator registers operator cards",
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment in DEVELOPMENT_ENVIRONMENTS:
            return self
        problem = secret_problem(self.secret_key)
        if problem is None:
            return self
        ja, en = problem
        if "environment" in self.model_fields_set:
            where_ja, where_en = "本番環境", "the environment is production"
        else:
            where_ja = "JUKINET_ENVIRONMENT が未設定のため本番環境"
            where_en = "the environment is production (JUKINET_ENVIRONMENT is not set)"
        raise SettingsError.one(
            variable_of("secret_key"),
            ja=f"{where_ja}ですが、JUKINET_SECRET_KEY {ja}。JUKINET_SECRET_KEY に"
            f"{MIN_SECRET_LENGTH}文字以上の乱数を設定してください（例: {SECRET_RECIPE}）。"
            "開発・試験なら JUKINET_ENVIRONMENT=dev（または test）を設定してください。",
            en=f"JUKINET_SECRET_KEY {en} and {where_en}: set JUKINET_SECRET_KEY to a random "
            f"value of at least {MIN_SECRET_LENGTH} characters (e.g. {SECRET_RECIPE}), or, for "
            "development or tests, set JUKINET_ENVIRONMENT=dev (or test)",
        )


def _is_postgresql(url: str) -> bool:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    return scheme.split("+", 1)[0] in ("postgresql", "postgres")


def secret_problem(secret: str) -> tuple[str, str] | None:
    """What is wrong with ``secret`` as a production secret key (Japanese, English), if anything."""
    if secret == DEV_SECRET:
        return (
            "が設定されていません（開発用の仮の値です）",
            "is not set (a development placeholder)",
        )
    lowered = secret.lower()
    for marker in PLACEHOLDER_MARKERS:
        if marker in lowered:
            return (
                f"は仮の値です（「{marker}」を含みます）",
                f"is a placeholder (it contains {marker!r})",
            )
    if len(secret) < MIN_SECRET_LENGTH:
        return f"が短すぎます（{len(secret)}文字）", f"is too short ({len(secret)} characters)"
    if len(set(secret)) < MIN_SECRET_VARIETY:
        return "が単純すぎます（乱数ではありません）", "is too simple to be a random value"
    return None


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (used by tests and the CLI).

    Raises :class:`SettingsError` — never a bare pydantic error — when the node must not start.
    """
    try:
        # BaseSettings reads the environment only in __init__, so overrides must be keyword
        # arguments; their types are checked by pydantic at run time, not by mypy here.
        return Settings(**overrides)  # type: ignore[arg-type]
    except pydantic.ValidationError as error:
        raise SettingsError.from_validation(error, name=_setting_name(overrides)) from None


def _setting_name(overrides: Mapping[str, object]) -> Callable[[str], str]:
    def name(field: str) -> str:
        if field in overrides or field not in Settings.model_fields:
            return field
        return variable_of(field)

    return name
