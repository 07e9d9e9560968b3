"""Settings from environment variables, each with a documented default.

One frozen object built once at start-up and passed explicitly; nothing reads the environment later.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> (default, meaning); README's "Settings" table is generated from this.
DOCUMENTED: dict[str, tuple[str, str]] = {
    "LANDFLOW_DATABASE_URL": ("sqlite:///./var/landflow.db", "SQLAlchemy URL; PostgreSQL as postgresql+psycopg://…"),
    "LANDFLOW_VAR_DIR": ("./var", "where the embedded database, keys and exports live"),
    "LANDFLOW_OFFICE_HOURS": ("07:30-11:30,13:00-17:00", "working periods of a working day, local time"),
    "LANDFLOW_TIMEZONE": ("Asia/Ho_Chi_Minh", "time zone of the working calendar"),
    "LANDFLOW_CALENDAR_FILE": ("config/calendar.toml", "make-up working days and extra days off"),
    "LANDFLOW_ORGANISATION_DIR": ("config/organisation", "units, roles, jurisdiction, demo officers"),
    "LANDFLOW_REMOTE_EXTENSION": (
        "P10D",
        "default extra time for remote communes when a procedure names none",
    ),
    "LANDFLOW_SLA_OVERRIDES": ("", "procedure limits set by config, e.g. 'mortgage_registration=P1D'"),
    "LANDFLOW_TRANSITIONAL_CLOCK": (
        "continue",
        "transitional dossiers: 'continue' the old clock or 'restart'",
    ),
    "LANDFLOW_MAX_BPMN_BYTES": ("2000000", "size cap for an uploaded BPMN/DMN file"),
    "LANDFLOW_WORKFLOW_CACHE": ("20000", "live workflows kept in memory per process"),
    "LANDFLOW_DEMO": ("0", "1 enables the demo accounts (password 'demo')"),
    # deadlines and accountability (README, "Deadlines and accountability")
    "LANDFLOW_SWEEP_SECONDS": ("60", "how often the scheduler sweeps deadlines, timers and KPI facts"),
    "LANDFLOW_DUE_SOON": ("P1D", "working time before a dossier's deadline when `due_soon` is recorded"),
    "LANDFLOW_ESCALATION_DELAY": ("P1D", "working time a work item may be overdue before it is escalated"),
    "LANDFLOW_IDLE_CLAIM": ("P2D", "working time a claimed item may sit untouched before `idle_claim`"),
    "LANDFLOW_EXPLANATION_LIMIT": ("P3D", "working time an officer has to explain a signal opened as a review"),
    "LANDFLOW_CHECKPOINT_MINUTES": ("60", "minutes between signed checkpoints (0: only on demand)"),
    "LANDFLOW_CHECKPOINT_KEY": ("", "Ed25519 private key of checkpoints (default <var dir>/keys/checkpoint.pem)"),
    "LANDFLOW_CHECKPOINT_COPIES": ("", "folder where each signed checkpoint is also written, outside the database "
                                   "(default <var dir>/checkpoints; production: other storage)"),
    "LANDFLOW_SIGNATURE_WINDOW": ("900", "seconds a decision signature stays acceptable after its signed_at"),
    # certificates and signed results (docs/signatures.md)
    "LANDFLOW_TRUST_ROOTS": ("", "trusted root CA certificates for officers' signatures and PDF checks: a PEM "
                             "file or a folder (default <var dir>/trust)"),
    "LANDFLOW_CRL": ("", "certificate revocation list(s) checked for every signature: a file, a folder or an "
                     "http(s) URL (empty: no revocation check)"),
    "LANDFLOW_OCSP": ("", "OCSP for every signature where the CA's responder answers: 'aia' (the responder each "
                      "certificate names) or an http(s) URL; no answer leaves the CRL to decide (empty: no OCSP)"),
    "LANDFLOW_ED25519_KEYS": ("", "1 accepts officers' Ed25519 keys instead of certificates (development "
                              "option; empty: only in demo mode)"),
    "LANDFLOW_SEAL_CERT": ("", "the office's seal certificate (PEM, with its chain) that signs the result PDFs "
                           "and slips (default <var dir>/keys/seal-cert.pem when present)"),
    "LANDFLOW_SEAL_KEY": ("", "the seal certificate's private key (PEM, server-held; default "
                          "<var dir>/keys/seal-key.pem)"),
    "LANDFLOW_SIGNER_AGENT_URL": ("http://127.0.0.1:8765", "where the pages reach the officer's local signing agent "
                                  "(landflow signer-agent or a CA plugin) on their own PC"),
    "LANDFLOW_TSA_URL": ("", "RFC 3161 timestamp authority for the signed PDFs (empty: no timestamp)"),
    "LANDFLOW_MAX_WORKFLOW_DATA_BYTES": ("262144", "size cap of one step's workflow data (as JSON); a command "
                                        "past it is a procedure incident (0 = no cap)"),
    "LANDFLOW_KPI_FILE": ("config/kpi.toml", "KPI rating thresholds (excellent / good / completed)"),
    "LANDFLOW_TOKEN_HOURS": ("8", "lifetime of an API bearer token, in hours"),
    "LANDFLOW_LOGIN_RATE": ("10/minute", "failed sign-ins allowed per client address and username"),
    "LANDFLOW_MAX_BODY_BYTES": ("1000000", "size cap of a JSON request body (uploads: 4 × LANDFLOW_MAX_BPMN_BYTES)"),
    "LANDFLOW_SQLITE_BUSY_SECONDS": ("30", "SQLite: how long a write waits for the lock before the API answers 503"),
    "LANDFLOW_UNSEEN_ATTEMPTS": ("20", "actions on dossiers/items the officer cannot read (or no such id) written "
                                 "to the audit log per officer, minute and worker; beyond that counted, not written"),
    # web pages (README, "Web pages")
    "LANDFLOW_SECRET_KEY": ("", "key that signs the pages' session cookie (default: <var dir>/keys/session.key, "
                            "created on first use)"),
    "LANDFLOW_SECRET_KEY_FALLBACKS": ("", "older session keys still accepted (comma-separated) while a new "
                                      "LANDFLOW_SECRET_KEY takes over (docs/operations.md, Keys)"),
    "LANDFLOW_COOKIE_SECURE": ("auto", "session cookie `Secure`: auto (when the request came over https), 1 or 0"),
    "LANDFLOW_BLOB_DIR": ("", "folder of the dossiers' files, content-addressed (default <var dir>/blobs)"),
    "LANDFLOW_LOOKUP_KEY": ("", "key of the receipts' QR tokens (default: <var dir>/keys/lookup.key, created on "
                            "first use); changing it kills the QR codes already printed"),
    "LANDFLOW_LOOKUP_RATE": ("30/minute", "the citizen's look-ups (page and JSON) allowed per client address"),
    "LANDFLOW_PUBLIC_URL": ("http://127.0.0.1:8080", "the address citizens reach landflow at (the QR of receipts)"),
    "LANDFLOW_MAX_UPLOAD_BYTES": ("20000000", "size cap of one uploaded paper (PDF, JPEG or PNG)"),
    "LANDFLOW_PROXIES": ("0", "reverse proxies in front of landflow whose X-Forwarded-For/-Proto/-Host are trusted"),
    # monitoring (docs/operations.md, "Monitoring")
    "LANDFLOW_SCHEDULER_STALE_SECONDS": ("180", "readiness fails when no scheduler has beaten for this long"),
    "LANDFLOW_METRICS_ALLOW": ("127.0.0.1/32,::1/128", "client networks that may read /metrics without a token"),
    "LANDFLOW_METRICS_TOKEN": ("", "bearer token that reads /metrics from anywhere (empty: none)"),
    # notifications to applicants (docs/notifications.md)
    "LANDFLOW_SMTP_HOST": ("", "SMTP server of the applicants' emails (empty: no email)"),
    "LANDFLOW_SMTP_PORT": ("587", "SMTP port"),
    "LANDFLOW_SMTP_USER": ("", "SMTP user name (empty: no login)"),
    "LANDFLOW_SMTP_PASSWORD": ("", "SMTP password"),
    "LANDFLOW_SMTP_FROM": ("", "the emails' From address, e.g. 'Một cửa Hải Châu <motcua@haichau.gov.vn>'"),
    "LANDFLOW_SMTP_STARTTLS": ("1", "1: STARTTLS before login and sending; 0: plain (a local relay)"),
    "LANDFLOW_SMS_URL": ("", "the SMS gateway's URL: POST JSON {to, text, idempotency_key} (empty: no SMS)"),
    "LANDFLOW_SMS_TOKEN": ("", "bearer token sent to the SMS gateway"),
    "LANDFLOW_NOTIFY_SECONDS": ("30", "how often the scheduler sends pending notifications"),
    "LANDFLOW_NOTIFY_MAX_ATTEMPTS": ("8", "tries of one notification before it is marked failed"),
    "LANDFLOW_NOTIFY_BACKOFF_SECONDS": ("60", "wait after the first failed try; doubled after each next one (≤ 1 h)"),
    "LANDFLOW_NOTIFY_LEASE_SECONDS": ("300", "how long a claimed notification is left to its sender before "
                                             "another tries it again (with the same idempotency key)"),
    "LANDFLOW_NOTIFY_LATE_MINUTES": ("60", "a notification not sent this long after its event is shown late"),
}


def _get(env: dict[str, str], name: str) -> str:
    return env.get(name, DOCUMENTED[name][0])


def _path(value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else (Path.cwd() / p)


def _config_path(value: str) -> Path:
    """Config files resolve against the checkout, so commands work from any directory."""
    p = Path(value)
    return p if p.is_absolute() else (ROOT / p)


def _overrides(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, (x.strip() for x in text.split(","))):
        key, _, value = part.partition("=")
        out[key.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    office_hours: str
    timezone: str
    calendar_file: Path
    organisation_dir: Path
    remote_extension: str
    sla_overrides: dict[str, str] = field(default_factory=dict)
    transitional_clock: str = "continue"
    max_bpmn_bytes: int = 2_000_000
    workflow_cache: int = 20_000
    demo: bool = False
    sweep_seconds: int = 60
    due_soon: str = "P1D"
    escalation_delay: str = "P1D"
    idle_claim: str = "P2D"
    explanation_limit: str = "P3D"
    checkpoint_minutes: int = 60
    checkpoint_key: Path = Path("var/keys/checkpoint.pem")
    checkpoint_copies: Path = Path("var/checkpoints")
    signature_window: int = 900
    max_workflow_data_bytes: int = 262_144
    kpi_file: Path = ROOT / "config" / "kpi.toml"
    token_hours: float = 8.0
    login_rate: str = "10/minute"
    max_body_bytes: int = 1_000_000
    sqlite_busy_seconds: float = 30.0
    unseen_attempts: int = 20
    secret_key: str = ""
    secret_key_fallbacks: tuple[str, ...] = ()
    lookup_key: str = ""
    cookie_secure: str = "auto"
    proxies: int = 0
    blob_dir: Path = Path("var/blobs")
    max_upload_bytes: int = 20_000_000
    public_url: str = "http://127.0.0.1:8080"
    lookup_rate: str = "30/minute"
    scheduler_stale_seconds: float = 180.0
    metrics_allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    metrics_token: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = ""
    smtp_starttls: bool = True
    sms_url: str = ""
    sms_token: str = field(default="", repr=False)
    notify_seconds: int = 30
    notify_max_attempts: int = 8
    notify_backoff_seconds: float = 60.0
    notify_lease_seconds: float = 300.0
    notify_late_minutes: float = 60.0
    trust_roots: Path = Path("var/trust")
    crl: str = ""
    ocsp: str = ""
    ed25519_keys: bool = False
    seal_cert: Path = Path("var/keys/seal-cert.pem")
    seal_key: Path = Path("var/keys/seal-key.pem")
    tsa_url: str = ""
    signer_agent_url: str = "http://127.0.0.1:8765"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        e = dict(os.environ if env is None else env)
        var_dir = _path(_get(e, "LANDFLOW_VAR_DIR"))
        url = _get(e, "LANDFLOW_DATABASE_URL")
        if url == DOCUMENTED["LANDFLOW_DATABASE_URL"][0]:
            url = f"sqlite:///{var_dir / 'landflow.db'}"
        values: dict[str, object] = dict(
            database_url=url,
            var_dir=var_dir,
            office_hours=_get(e, "LANDFLOW_OFFICE_HOURS"),
            timezone=_get(e, "LANDFLOW_TIMEZONE"),
            calendar_file=_config_path(_get(e, "LANDFLOW_CALENDAR_FILE")),
            organisation_dir=_config_path(_get(e, "LANDFLOW_ORGANISATION_DIR")),
            remote_extension=_get(e, "LANDFLOW_REMOTE_EXTENSION"),
            sla_overrides=_overrides(_get(e, "LANDFLOW_SLA_OVERRIDES")),
            transitional_clock=_get(e, "LANDFLOW_TRANSITIONAL_CLOCK"),
            max_bpmn_bytes=int(_get(e, "LANDFLOW_MAX_BPMN_BYTES")),
            workflow_cache=int(_get(e, "LANDFLOW_WORKFLOW_CACHE")),
            demo=_get(e, "LANDFLOW_DEMO") == "1",
            sweep_seconds=int(_get(e, "LANDFLOW_SWEEP_SECONDS")),
            due_soon=_get(e, "LANDFLOW_DUE_SOON"),
            escalation_delay=_get(e, "LANDFLOW_ESCALATION_DELAY"),
            idle_claim=_get(e, "LANDFLOW_IDLE_CLAIM"),
            explanation_limit=_get(e, "LANDFLOW_EXPLANATION_LIMIT"),
            checkpoint_minutes=int(_get(e, "LANDFLOW_CHECKPOINT_MINUTES")),
            checkpoint_key=_path(_get(e, "LANDFLOW_CHECKPOINT_KEY") or str(var_dir / "keys" / "checkpoint.pem")),
            checkpoint_copies=_path(_get(e, "LANDFLOW_CHECKPOINT_COPIES") or str(var_dir / "checkpoints")),
            signature_window=int(_get(e, "LANDFLOW_SIGNATURE_WINDOW")),
            max_workflow_data_bytes=int(_get(e, "LANDFLOW_MAX_WORKFLOW_DATA_BYTES")),
            kpi_file=_config_path(_get(e, "LANDFLOW_KPI_FILE")),
            token_hours=float(_get(e, "LANDFLOW_TOKEN_HOURS")),
            login_rate=_get(e, "LANDFLOW_LOGIN_RATE"),
            max_body_bytes=int(_get(e, "LANDFLOW_MAX_BODY_BYTES")),
            sqlite_busy_seconds=float(_get(e, "LANDFLOW_SQLITE_BUSY_SECONDS")),
            unseen_attempts=int(_get(e, "LANDFLOW_UNSEEN_ATTEMPTS")),
            secret_key=_get(e, "LANDFLOW_SECRET_KEY"),
            secret_key_fallbacks=tuple(k.strip() for k in _get(e, "LANDFLOW_SECRET_KEY_FALLBACKS").split(",")
                                       if k.strip()),
            lookup_key=_get(e, "LANDFLOW_LOOKUP_KEY"),
            cookie_secure=_get(e, "LANDFLOW_COOKIE_SECURE"),
            proxies=int(_get(e, "LANDFLOW_PROXIES")),
            blob_dir=_path(_get(e, "LANDFLOW_BLOB_DIR") or str(var_dir / "blobs")),
            max_upload_bytes=int(_get(e, "LANDFLOW_MAX_UPLOAD_BYTES")),
            public_url=_get(e, "LANDFLOW_PUBLIC_URL"),
            lookup_rate=_get(e, "LANDFLOW_LOOKUP_RATE"),
            scheduler_stale_seconds=float(_get(e, "LANDFLOW_SCHEDULER_STALE_SECONDS")),
            metrics_allow=tuple(filter(None, (x.strip() for x in _get(e, "LANDFLOW_METRICS_ALLOW").split(",")))),
            metrics_token=_get(e, "LANDFLOW_METRICS_TOKEN"),
            smtp_host=_get(e, "LANDFLOW_SMTP_HOST"),
            smtp_port=int(_get(e, "LANDFLOW_SMTP_PORT")),
            smtp_user=_get(e, "LANDFLOW_SMTP_USER"),
            smtp_password=_get(e, "LANDFLOW_SMTP_PASSWORD"),
            smtp_from=_get(e, "LANDFLOW_SMTP_FROM"),
            smtp_starttls=_get(e, "LANDFLOW_SMTP_STARTTLS") != "0",
            sms_url=_get(e, "LANDFLOW_SMS_URL"),
            sms_token=_get(e, "LANDFLOW_SMS_TOKEN"),
            notify_seconds=int(_get(e, "LANDFLOW_NOTIFY_SECONDS")),
            notify_max_attempts=int(_get(e, "LANDFLOW_NOTIFY_MAX_ATTEMPTS")),
            notify_backoff_seconds=float(_get(e, "LANDFLOW_NOTIFY_BACKOFF_SECONDS")),
            notify_lease_seconds=float(_get(e, "LANDFLOW_NOTIFY_LEASE_SECONDS")),
            notify_late_minutes=float(_get(e, "LANDFLOW_NOTIFY_LATE_MINUTES")),
            crl=_get(e, "LANDFLOW_CRL"),
            ocsp=_get(e, "LANDFLOW_OCSP"),
            tsa_url=_get(e, "LANDFLOW_TSA_URL"),
            signer_agent_url=_get(e, "LANDFLOW_SIGNER_AGENT_URL"),
        )
        values.update(overrides)
        var = Path(str(values["var_dir"]))
        for name, env_name, default in (("trust_roots", "LANDFLOW_TRUST_ROOTS", var / "trust"),
                                        ("seal_cert", "LANDFLOW_SEAL_CERT", var / "keys" / "seal-cert.pem"),
                                        ("seal_key", "LANDFLOW_SEAL_KEY", var / "keys" / "seal-key.pem")):
            if name not in overrides:
                values[name] = _path(e[env_name]) if e.get(env_name) else default
        if "ed25519_keys" not in overrides:
            dev = e.get("LANDFLOW_ED25519_KEYS", "")
            values["ed25519_keys"] = dev == "1" or (dev == "" and bool(values["demo"]))
        if "checkpoint_key" not in overrides and not e.get("LANDFLOW_CHECKPOINT_KEY"):
            values["checkpoint_key"] = Path(str(values["var_dir"])) / "keys" / "checkpoint.pem"
        if "checkpoint_copies" not in overrides and not e.get("LANDFLOW_CHECKPOINT_COPIES"):
            values["checkpoint_copies"] = Path(str(values["var_dir"])) / "checkpoints"
        if "blob_dir" not in overrides and not e.get("LANDFLOW_BLOB_DIR"):
            values["blob_dir"] = Path(str(values["var_dir"])) / "blobs"
        if values["transitional_clock"] not in ("continue", "restart"):
            raise ValueError("LANDFLOW_TRANSITIONAL_CLOCK must be 'continue' or 'restart'")
        for net in values["metrics_allow"]:  # type: ignore[attr-defined]
            ipaddress.ip_network(net, strict=False)  # ValueError names the bad one
        if values["cookie_secure"] not in ("auto", "1", "0"):
            raise ValueError("LANDFLOW_COOKIE_SECURE must be auto, 1 or 0")
        return cls(**values)  # type: ignore[arg-type]
