"""Server settings, from ``PUSHAUTH_*`` environment variables and ``.env``, read at app build.

Nothing here is read at import time: call :meth:`Settings.load` (or construct ``Settings``
directly in tests) and pass the result to :func:`pushauth_server.app.create_app`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./pushauth.db"


class Settings(BaseSettings):
    """Every field is settable as ``PUSHAUTH_<FIELD NAME IN UPPER CASE>``."""

    model_config = SettingsConfigDict(
        env_prefix="PUSHAUTH_", env_file=".env", extra="ignore", frozen=True
    )

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(8300, ge=0, le=65535, description="TCP port to listen on.")
    public_url: str | None = Field(
        None,
        description="The server's origin as devices see it, signed into every device message. "
        "Defaults to http://HOST:PORT.",
    )
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL: sqlite:///path.db (sqlite+aiosqlite:// is accepted too) or "
        "postgresql+asyncpg://user@host/db.",
    )
    api_key: SecretStr | None = Field(
        None,
        description="The bootstrap key (the built-in operator application, every scope; see "
        '"Applications and API keys"). Only its hash is kept once the app is built.',
    )
    challenge_ttl_seconds: float = Field(
        120.0, gt=0, le=3600, description="Default lifetime of a challenge, by server time."
    )
    challenge_ttl_max_seconds: float = Field(
        600.0, gt=0, le=3600, description="Longest lifetime a relying party may ask for."
    )
    verification_code_digits: int = Field(
        6, ge=2, le=8, description="Digits in the number-matching code (NIST SP 800-63B-4)."
    )
    allow_plain_approval: bool = Field(
        False,
        description="Allow relying parties to turn number matching off for a challenge "
        "(plain approve/deny). Off by default.",
    )
    enrollment_token_ttl_seconds: float = Field(
        600.0, gt=0, le=3600, description="Lifetime of a single-use enrollment token."
    )
    request_proof_window_seconds: float = Field(
        60.0, gt=0, le=60, description="How far a device request proof's timestamp may drift."
    )
    channels_backend: Literal["memory", "redis"] = Field(
        "memory", description="Real-time delivery backend: memory (one process) or redis."
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Used when channels_backend=redis."
    )
    secret: SecretStr | None = Field(
        None,
        description="A secret every process of this deployment shares (required with "
        "channels_backend=redis): events through Redis are authenticated with a key derived "
        "from it. Make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'",
    )
    redis_channel_prefix: str | None = Field(
        None,
        max_length=64,
        description="Prefix of this deployment's Redis channel names; by default one derived "
        "from the secret, so deployments sharing a Redis never see each other's events.",
    )
    stream_keepalive_seconds: float = Field(
        15.0, gt=0, description="Interval of SSE keep-alive comments on idle streams."
    )
    expiry_sweep_seconds: float = Field(
        0.5, gt=0, le=60, description="How often pending challenges past their expiry are expired."
    )
    sqlite_lock_timeout_seconds: float = Field(
        5.0,
        gt=0,
        le=60,
        description="How long a SQLite write waits for a lock another process holds, then 503.",
    )
    max_request_bytes: int = Field(65_536, ge=1024, description="Largest request body accepted.")

    # Operating it (pushauth_server/observability; docs/operations.md).
    log_format: Literal["text", "json"] = Field(
        "text",
        description="Log lines as text (key=value) or json (one object per line); "
        "`pushauth serve --log-format` sets it too.",
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="Serves GET /metrics (Prometheus) to requests with "
        "'Authorization: Bearer <this token>' (22 characters or more). Unset (the default): "
        "no /metrics at all.",
    )

    # Connections (pushauth_server/connections.py; docs/operations.md, "Connections").
    max_connections: int = Field(
        1000,
        ge=2,
        description="Open connections at most (also kept 64 below the open-file limit); "
        "past it a new connection gets 503 and is closed.",
    )
    max_connections_per_client: int = Field(
        250,
        ge=1,
        description="Open connections one client address may hold (at most half of "
        "max_connections). Behind a reverse proxy every client has the proxy's address.",
    )
    request_read_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=300,
        description="Time a connection has to send a whole request (line, headers and body), "
        "from when it opens or from its first byte after an idle keep-alive.",
    )
    keep_alive_timeout_seconds: int = Field(
        5, ge=1, le=300, description="An idle connection between requests is closed after this."
    )
    max_header_bytes: int = Field(
        16_384, ge=1024, le=1_048_576, description="Largest request head (line and headers)."
    )
    max_request_line_bytes: int = Field(
        8192, ge=256, le=65_536, description="Longest request line (method, target, version)."
    )

    # Push-bombing defences (NIST SP 800-63B-4 §3.1.3.2, §3.2.2). All enforced server-side.
    max_pending_per_user: int = Field(
        1, ge=1, le=10, description="Pending challenges a user may have at once."
    )
    challenge_window_seconds: float = Field(
        900.0, gt=0, description="The window in which challenges without an approval are counted."
    )
    challenge_window_max: int = Field(
        5,
        ge=1,
        description="Challenges per user in the window, without an approval, before refusal.",
    )
    rate_delay_initial_seconds: float = Field(
        30.0, gt=0, description="First block past the window limit; each new block doubles."
    )
    rate_delay_max_seconds: float = Field(3600.0, gt=0, description="Longest refusal delay.")
    max_consecutive_failures: int = Field(
        3, ge=1, description="Denials, wrong codes and expiries in a row before a lockout."
    )
    failure_lock_seconds: float = Field(900.0, gt=0, description="Length of that lockout.")

    # Bounded noise (domain/audit/noise.py): what failed requests may cost.
    failed_requests_per_minute: int = Field(
        30,
        ge=1,
        description="Failed authentications from one client address in a minute before it is "
        "answered 429 until the minute ends.",
    )
    failure_rows_per_minute: int = Field(
        600,
        ge=1,
        description="Audit rows that failed requests may write per minute, in all; past it they "
        "are counted in one security.failures_suppressed row.",
    )

    # Webhooks (domain/webhooks; docs/operations.md, "Webhooks").
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="Time one delivery attempt may take, connect to status."
    )
    webhook_poll_seconds: float = Field(
        2.0,
        gt=0,
        le=3600,
        description="How often each process looks for deliveries due (retries, and events "
        "committed by other processes); its own events wake it at once.",
    )
    webhook_retry_base_seconds: float = Field(
        5.0, gt=0, description="Wait after a delivery's first failed attempt; doubles each time."
    )
    webhook_retry_max_interval_seconds: float = Field(
        3600.0, gt=0, description="Longest wait between two attempts (before jitter)."
    )
    webhook_retry_for_seconds: float = Field(
        86_400.0,
        gt=0,
        description="How long a delivery is retried before it is marked failed (audited as "
        "webhook.failed; `pushauth webhooks retry ID` sends it again).",
    )
    webhook_secret_overlap_seconds: float = Field(
        86_400.0,
        ge=0,
        description="After `pushauth webhooks rotate-secret`, deliveries are signed with the old "
        "secret too for this long, so receivers can switch without losing one.",
    )

    @field_validator("metrics_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # A guessable token would publish who signs in and when: at least 128 bits' worth.
        if value is not None and len(value.get_secret_value()) < 22:
            raise ValueError(
                "PUSHAUTH_METRICS_TOKEN must be at least 22 characters; make one with: "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @property
    def origin(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Read the environment and ``.env`` now, with explicit ``overrides`` winning."""
        given = {key: value for key, value in overrides.items() if value is not None}
        return cls(**given)  # type: ignore[arg-type]
