"""Settings for the server: one TOML file, environment overrides, generated credentials.

Every setting has a default that works on a laptop, so ``logsieve serve`` needs no file at all.
Precedence, lowest first: defaults, ``logsieve.toml``, ``LOGSIEVE_*`` environment variables,
command-line flags. Every user mistake becomes one :class:`ConfigError` line that names the file
(or variable, or option), the key, what is wrong and what to do -- never a traceback.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import math
import os
import re
import secrets
import shlex
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config_values import Invalid as _Invalid
from .config_values import kind as _kind
from .config_values import show as _show
from .config_values import suggest as _suggest
from .config_values import table_array, unknown_key
from .durable import write_atomic
from .errors import ConfigError

__all__ = [
    "DEFAULT_DATA_DIR",
    "DEFAULT_PORT",
    "Config",
    "ConfigError",
    "Credential",
    "DeclaredFunction",
    "DeliverySettings",
    "FirehoseStream",
    "client_credential",
    "client_environment",
    "credential_help",
    "credential_lines",
    "endpoint_url",
    "ensure_credentials",
    "load_config",
]

log = logging.getLogger(__name__)

DEFAULT_PORT = 4588
DEFAULT_DATA_DIR = Path("~/.logsieve")  # expanded at load time
CONFIG_FILENAME = "logsieve.toml"
CREDENTIALS_FILENAME = "credentials.json"
PROFILE = "logsieve"

_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
_ACCOUNT_RE = re.compile(r"\d{12}")
_INT_TEXT_RE = re.compile(r"[+-]?\d+")
# Characters AWS uses in access key ids: upper-case letters and the base32 digits 2-7.
_KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass(frozen=True)
class Credential:
    """An access key pair clients sign requests with (SigV4)."""

    access_key_id: str
    # Kept out of repr so logging a Config never leaks a secret.
    secret_access_key: str = field(repr=False)


@dataclass(frozen=True)
class DeclaredFunction:
    """A Lambda function declared in the config file (``[[functions]]``) for local development:
    its code runs from ``code_dir`` as it is on disk, without deploying a zip."""

    name: str
    handler: str  # "module.function"
    code_dir: Path  # absolute (resolved against the config file's directory)
    environment: dict[str, str] = field(default_factory=dict)
    timeout: float = 3.0  # seconds
    memory_mb: int = 128
    max_concurrency: int = 4
    source: Path | None = None  # the config file that declares it (for error messages)


def _default_data_dir() -> Path:
    # os.path.expanduser leaves "~" alone instead of raising when there is no home directory.
    return Path(os.path.expanduser(DEFAULT_DATA_DIR))


@dataclass(frozen=True)
class DeliverySettings:
    """Subscription delivery tuning: the ``[delivery]`` section."""

    # Batching: a window closes this long after its first new event (or when it is full).
    linger_seconds: float = 0.02
    # Uncompressed payload JSON cap. Lambda takes 1 MB async events, Kinesis 1 MiB records,
    # Firehose 1,000 KiB; logs compress 5-10x, so payloads stay far below every limit.
    max_payload_bytes: int = 900_000
    max_window_events: int = 20_000  # events read at once (memory bound per subscription)
    # Retries: exponential backoff with jitter, for up to 24 hours as AWS retries.
    retry_base_seconds: float = 0.5
    retry_max_backoff_seconds: float = 60.0
    retry_window_seconds: float = 86_400.0
    max_attempts: int = 0  # 0: only the retry window limits the attempts


@dataclass(frozen=True)
class FirehoseStream:
    """A Firehose-style delivery stream (``[[firehose]]``): a directory and buffering hints."""

    name: str
    directory: Path
    buffer_bytes: int = 5 * 1024 * 1024  # Firehose's default buffer size (5 MiB)
    buffer_seconds: float = 60.0  # Firehose defaults to 300 s; a laptop wants it sooner


@dataclass(frozen=True)
class Config:
    """The validated settings the server is built from (see ``logsieve.app``)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = field(default_factory=_default_data_dir)
    tls_certfile: Path | None = None  # both set: the server takes HTTPS itself
    tls_keyfile: Path | None = None
    region: str = "us-east-1"
    account_id: str = "123456789012"
    credentials: tuple[Credential, ...] = ()
    retention_check_seconds: float = 60.0
    max_subscription_filters: int = 2
    # smtp://[user:pass@]host:port[?starttls=true]; out of repr: it may hold a password
    smtp_url: str | None = field(default=None, repr=False)
    smtp_sender: str = "logsieve@localhost"
    sns_auto_confirm: bool = False  # confirm email/http subscriptions without the link
    sns_public_url: str | None = None  # base of confirmation links (default: the endpoint)
    channels: tuple[Any, ...] = ()  # logsieve.notify.config.ChannelConfig
    alerts: tuple[Any, ...] = ()  # logsieve.alerts.config.AlertRule
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    firehose: tuple[FirehoseStream, ...] = ()
    functions: tuple[DeclaredFunction, ...] = ()
    sources: tuple[Any, ...] = ()  # logsieve.sources.SourceSpec

    def secret_for(self, access_key_id: str) -> str | None:
        """The secret for ``access_key_id``, or None: SigV4 verification's key lookup."""
        for credential in self.credentials:
            if credential.access_key_id == access_key_id:
                return credential.secret_access_key
        return None


# --- schema ---------------------------------------------------------------------------------

# TOML section -> keys in it; each key is also the Config field it sets.
_SECTIONS: dict[str, tuple[str, ...]] = {
    "server": ("host", "port", "data_dir", "tls_certfile", "tls_keyfile"),
    "aws": ("region", "account_id"),
    "logs": ("retention_check_seconds", "max_subscription_filters"),
}
_CREDENTIAL_KEYS = ("access_key_id", "secret_access_key")
_FUNCTION_KEYS = (
    "name",
    "handler",
    "code_dir",
    "environment",
    "timeout",
    "memory_mb",
    "max_concurrency",
)
_ALL_SECTIONS = (
    *_SECTIONS, "credentials", "delivery", "firehose", "functions", "smtp", "sns", "channels",
    "alerts", "sources",
)  # fmt: skip
_SECTION_OF = {key: section for section, keys in _SECTIONS.items() for key in keys}

_ENV_FIELDS = {
    "LOGSIEVE_HOST": "host",
    "LOGSIEVE_PORT": "port",
    "LOGSIEVE_DATA_DIR": "data_dir",
    "LOGSIEVE_REGION": "region",
    "LOGSIEVE_ACCOUNT_ID": "account_id",
}
_ENV_SMTP = "LOGSIEVE_SMTP_URL"
_ENV_KEY_ID = "LOGSIEVE_ACCESS_KEY_ID"
_ENV_SECRET = "LOGSIEVE_SECRET_ACCESS_KEY"
_ENV_CONFIG = "LOGSIEVE_CONFIG"


def _as_int(value: Any, text_ok: bool, what: str, hint: str) -> int:
    if isinstance(value, str) and text_ok and _INT_TEXT_RE.fullmatch(value.strip()):
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and not text_ok:
        raise _Invalid(f"must be {what}, not a string (got {_show(value)})", hint + " (no quotes)")
    raise _Invalid(f"must be {what} (got {_show(value)})", hint)


def _check_host(value: Any, text_ok: bool) -> str:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise _Invalid(
            f"must be a host name or IP address (got {_show(value)})",
            'use "127.0.0.1" for this machine only or "0.0.0.0" for all interfaces',
        )
    return value


def _check_port(value: Any, text_ok: bool) -> int:
    what, hint = "an integer from 1 to 65535", f"use a free port such as {DEFAULT_PORT}"
    port = _as_int(value, text_ok, what, hint)
    if not 1 <= port <= 65535:
        raise _Invalid(f"must be {what} (got {port})", hint)
    return port


def _check_data_dir(value: Any, text_ok: bool) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(
            f"must be a directory path (got {_show(value)})",
            f'use a path such as "{DEFAULT_DATA_DIR}"',
        )
    return value


def _check_file(value: Any, text_ok: bool) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"must be a file path (got {_show(value)})", 'use e.g. "tls/cert.pem"')
    return value


def _check_region(value: Any, text_ok: bool) -> str:
    if not isinstance(value, str) or not _REGION_RE.fullmatch(value):
        raise _Invalid(
            f"must be an AWS region name like us-east-1 (got {_show(value)})",
            'use the region your clients send, e.g. "us-east-1" or "eu-west-2"',
        )
    return value


def _check_account_id(value: Any, text_ok: bool) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and not text_ok:
        raise _Invalid(
            f"must be a string of exactly 12 digits, not an integer (got {value})",
            'quote it, e.g. account_id = "123456789012"',
        )
    if not isinstance(value, str) or not _ACCOUNT_RE.fullmatch(value):
        raise _Invalid(
            f"must be exactly 12 digits (got {_show(value)})",
            'use a 12-digit id such as "123456789012"',
        )
    return value


def _check_retention(value: Any, text_ok: bool) -> float:
    what, hint = "a number of seconds greater than 0", "use e.g. 60"
    number: float
    if isinstance(value, str) and text_ok:
        try:
            number = float(value.strip())
        except ValueError:
            raise _Invalid(f"must be {what} (got {_show(value)})", hint) from None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        raise _Invalid(f"must be {what} (got {_kind(value)} {_show(value)})", hint)
    if not math.isfinite(number) or number <= 0:
        raise _Invalid(f"must be {what} (got {_show(value)})", hint)
    return number


def _check_max_filters(value: Any, text_ok: bool) -> int:
    what, hint = "an integer of at least 1", "use 2 (the AWS limit per log group) or more"
    number = _as_int(value, text_ok, what, hint)
    if number < 1:
        raise _Invalid(f"must be {what} (got {number})", hint)
    return number


_CHECKS: dict[str, Callable[[Any, bool], Any]] = {
    "host": _check_host,
    "port": _check_port,
    "data_dir": _check_data_dir,
    "tls_certfile": _check_file,  # PEM paths, relative to the config file like data_dir
    "tls_keyfile": _check_file,
    "region": _check_region,
    "account_id": _check_account_id,
    "retention_check_seconds": _check_retention,
    "max_subscription_filters": _check_max_filters,
}


def _check_key_part(value: Any, key: str) -> str:
    """Key ids and secrets travel in headers: non-empty, no whitespace."""
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        shown = _kind(value) if key == "secret_access_key" else _show(value)
        raise _Invalid(
            f"{key} must be a non-empty string without spaces (got {shown})",
            f'write {key} = "..." in quotes',
        )
    return value


# --- loading --------------------------------------------------------------------------------


def _expand_home(text: str, environ: Mapping[str, str]) -> str:
    """Expand ``~`` with the given environment's HOME, so tests and callers stay hermetic."""
    home = environ.get("HOME")
    if home and (text == "~" or text.startswith(("~/", "~" + os.sep))):
        return home + text[1:]
    return os.path.expanduser(text)


def _to_dir(text: str, base: Path | None, environ: Mapping[str, str]) -> Path:
    path = Path(_expand_home(text.strip(), environ))
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    return Path(os.path.normpath(path))


def _find_file(path: Path | None, environ: Mapping[str, str]) -> Path | None:
    """Pick the config file; only an explicitly named file must exist."""
    origin = "config file"
    if path is None:
        named = environ.get(_ENV_CONFIG, "")
        if named:
            path, origin = Path(named), f"config file from {_ENV_CONFIG}"
        else:
            default = Path(CONFIG_FILENAME)
            return default.absolute() if default.is_file() else None
    path = Path(_expand_home(os.fspath(path), environ)).absolute()
    if not path.exists():
        fix = f"fix {_ENV_CONFIG} or unset it" if origin != "config file" else "check the path"
        raise ConfigError(f"{origin} {path} does not exist; {fix}")
    if not path.is_file():
        raise ConfigError(f"{origin} {path} is not a file; point it at a {CONFIG_FILENAME} file")
    return path


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}; fix the syntax there") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the file as UTF-8") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"cannot read config file {path}: {reason}; check its permissions"
        ) from None


def _from_file(path: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """Validate the TOML document into Config field values (only the keys it sets)."""
    document = _read_toml(path)
    values: dict[str, Any] = {}
    arrays = ("firehose", "functions", "channels", "alerts", "sources")
    tables = sorted(name for name in _ALL_SECTIONS if name not in arrays)
    valid_sections = (
        ", ".join(f"[{name}]" for name in tables)
        + ", plus [[firehose]], [[functions]], [[channels]], [[alerts]] and [[sources]] tables"
    )
    for name, section in document.items():
        if name == "credentials":
            values["credentials"] = _file_credentials(path, section)
            continue
        if name == "delivery":
            values["delivery"] = _file_delivery(path, section)
            continue
        if name == "firehose":
            values["firehose"] = _file_firehose(path, section)
            continue
        if name == "functions":
            values["functions"] = _file_functions(path, section)
            continue
        if name in ("smtp", "sns"):
            values.update(_file_small_table(path, name, section))
            continue
        if name == "channels":  # parsed by the channels' own module (imported on use)
            from logsieve.notify.config import parse_channels

            values["channels"] = parse_channels(path, section)
            continue
        if name == "alerts":
            from logsieve.alerts.config import parse_alerts

            values["alerts"] = parse_alerts(path, section)
            continue
        if name == "sources":
            from logsieve.sources.config import parse_sources

            values["sources"] = parse_sources(path, section)
            continue
        if name not in _SECTIONS:
            if name in _SECTION_OF:
                raise ConfigError(
                    f"{path}: key {name!r} is outside any section; "
                    f"move it under [{_SECTION_OF[name]}]"
                )
            raise ConfigError(
                f"{path}: unknown section [{name}]; {_suggest(name, _ALL_SECTIONS)}"
                f"valid sections are {valid_sections}"
            )
        if not isinstance(section, dict):
            raise ConfigError(
                f"{path}: {name} must be a section [{name}], not {_kind(section)}; "
                f"write [{name}] on its own line followed by its keys"
            )
        keys = _SECTIONS[name]
        for key, value in section.items():
            if key not in keys:
                raise unknown_key(path, key, f"[{name}]", keys)
            try:
                checked = _CHECKS[key](value, False)
            except _Invalid as bad:
                raise ConfigError(f"{path}: [{name}] {key} {bad.problem}; {bad.hint}") from None
            if key in ("data_dir", "tls_certfile", "tls_keyfile"):
                checked = _to_dir(checked, path.parent, environ)
            values[key] = checked
    return values


def _file_credentials(path: Path, entries: Any) -> tuple[Credential, ...]:
    entries = table_array(
        path, entries, "credentials", "key pair with access_key_id and secret_access_key"
    )
    found: list[Credential] = []
    for number, entry in enumerate(entries, start=1):
        key_id = entry.get("access_key_id")
        label = f"[[credentials]] entry {number}"
        if isinstance(key_id, str) and key_id:
            label += f" ({key_id})"
        for key in entry:
            if key not in _CREDENTIAL_KEYS:
                raise unknown_key(path, key, label, _CREDENTIAL_KEYS)
        for key in _CREDENTIAL_KEYS:
            if key not in entry:
                raise ConfigError(f'{path}: {label} is missing {key}; add {key} = "..." to it')
        try:
            credential = Credential(
                _check_key_part(entry["access_key_id"], "access_key_id"),
                _check_key_part(entry["secret_access_key"], "secret_access_key"),
            )
        except _Invalid as bad:
            raise ConfigError(f"{path}: {label} {bad.problem}; {bad.hint}") from None
        if any(c.access_key_id == credential.access_key_id for c in found):
            raise ConfigError(
                f"{path}: access_key_id {credential.access_key_id} appears in more than one "
                "[[credentials]] entry; keep one"
            )
        found.append(credential)
    return tuple(found)


_FUNCTION_NAME_RE = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_HANDLER_RE = re.compile(r"[A-Za-z_][\w.]*\.[A-Za-z_]\w*")
_ENV_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9_]+")


def _check_function_name(value: Any) -> str:
    if not isinstance(value, str) or not _FUNCTION_NAME_RE.fullmatch(value):
        raise _Invalid(
            f"name must be 1-64 letters, digits, hyphens or underscores (got {_show(value)})",
            'use a Lambda function name such as "alerts-to-slack"',
        )
    return value


def _check_handler(value: Any) -> str:
    if not isinstance(value, str) or not _HANDLER_RE.fullmatch(value):
        raise _Invalid(
            f'handler must be "module.function" (got {_show(value)})',
            'e.g. handler = "app.handler" for def handler(event, context) in app.py',
        )
    return value


def _check_code_dir(value: Any, base: Path) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(
            f"code_dir must be a directory path (got {_show(value)})",
            "write the directory holding the handler's module, relative to this file",
        )
    path = Path(os.path.normpath(base / os.path.expanduser(value.strip())))
    if not path.is_dir():
        raise _Invalid(
            f"code_dir {path} is not a directory",
            "create it or fix the path (relative paths start at this file's directory)",
        )
    return path


def _check_environment(value: Any) -> dict[str, str]:
    hint = 'write environment = { NAME = "value" } with string values'
    if not isinstance(value, dict):
        raise _Invalid(f"environment must be a table (got {_kind(value)})", hint)
    for key, item in value.items():
        if not _ENV_NAME_RE.fullmatch(key):
            raise _Invalid(
                f"environment variable name {key!r} is not valid",
                "start with a letter; use letters, digits and underscores (2 or more)",
            )
        if not isinstance(item, str):
            raise _Invalid(f"environment variable {key} must be a string (got {_kind(item)})", hint)
    return dict(value)


def _check_range(value: Any, key: str, low: float, high: float, number: bool) -> Any:
    what = f"a number from {low:g} to {high:g}" if number else f"an integer from {low} to {high}"
    ok_type = isinstance(value, int | float) if number else isinstance(value, int)
    if isinstance(value, bool) or not ok_type or not low <= value <= high:
        raise _Invalid(f"{key} must be {what} (got {_show(value)})", f"use {what}, no quotes")
    return value


def _file_function(path: Path, entry: dict[str, Any]) -> DeclaredFunction:
    name = _check_function_name(entry["name"])
    return DeclaredFunction(
        name=name,
        handler=_check_handler(entry["handler"]),
        code_dir=_check_code_dir(entry["code_dir"], path.parent),
        environment=_check_environment(entry.get("environment", {})),
        timeout=float(_check_range(entry.get("timeout", 3), "timeout", 1, 900, True)),
        memory_mb=_check_range(entry.get("memory_mb", 128), "memory_mb", 128, 10240, False),
        max_concurrency=_check_range(
            entry.get("max_concurrency", 4), "max_concurrency", 1, 1000, False
        ),
        source=path,
    )


def _file_functions(path: Path, entries: Any) -> tuple[DeclaredFunction, ...]:
    """``[[functions]]`` tables: Lambda functions run from a local directory."""
    entries = table_array(path, entries, "functions", "function with name, handler and code_dir")
    found: list[DeclaredFunction] = []
    for number, entry in enumerate(entries, start=1):
        label = f"[[functions]] entry {number}"
        if isinstance(entry.get("name"), str) and entry["name"]:
            label += f" ({entry['name']})"
        for key in entry:
            if key not in _FUNCTION_KEYS:
                raise unknown_key(path, key, label, _FUNCTION_KEYS)
        for key in ("name", "handler", "code_dir"):
            if key not in entry:
                raise ConfigError(f'{path}: {label} is missing {key}; add {key} = "..." to it')
        try:
            function = _file_function(path, entry)
        except _Invalid as bad:
            raise ConfigError(f"{path}: {label} {bad.problem}; {bad.hint}") from None
        if any(f.name == function.name for f in found):
            raise ConfigError(
                f"{path}: function {function.name} appears in more than one [[functions]] "
                "entry; keep one"
            )
        found.append(function)
    return tuple(found)


def _smtp_url(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"smtps?://\S+", value):
        raise _Invalid(
            f"must be an smtp:// URL (got {_show(value)})",
            'use e.g. "smtp://user:pass@mail.example.com:587?starttls=true"',
        )
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"must be a non-empty string (got {_show(value)})", "quote it")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false (got {_show(value)})", "write true or false")
    return value


# [smtp] and [sns]: TOML key -> (Config field, check)
_SMALL_TABLES: dict[str, dict[str, tuple[str, Callable[[Any], Any]]]] = {
    "smtp": {"url": ("smtp_url", _smtp_url), "sender": ("smtp_sender", _text)},
    "sns": {"auto_confirm": ("sns_auto_confirm", _flag), "public_url": ("sns_public_url", _text)},
}


def _file_small_table(path: Path, name: str, section: Any) -> dict[str, Any]:
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: {name} must be a section [{name}], not {_kind(section)}")
    spec = _SMALL_TABLES[name]
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key not in spec:
            raise unknown_key(path, key, f"[{name}]", tuple(spec))
        field_name, check = spec[key]
        try:
            values[field_name] = check(value)
        except _Invalid as bad:
            raise ConfigError(f"{path}: [{name}] {key} {bad.problem}; {bad.hint}") from None
    return values


def _number(value: Any, what: str, hint: str, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise _Invalid(f"must be {what} (got {_kind(value)} {_show(value)})", hint)
    if not math.isfinite(value):
        raise _Invalid(f"must be {what} (got {_show(value)})", hint)
    return value


# [delivery] key -> (minimum, maximum, integer, hint)
_DELIVERY_LIMITS: dict[str, tuple[float, float, bool, str]] = {
    "linger_seconds": (0, 10, False, "use e.g. 0.02 (20 ms)"),
    "max_payload_bytes": (1024, 1_000_000, True, "use at most 1000000 (AWS's payload limit)"),
    "max_window_events": (1, 1_000_000, True, "use e.g. 20000"),
    "retry_base_seconds": (0.001, 3600, False, "use e.g. 0.5"),
    "retry_max_backoff_seconds": (0.001, 86_400, False, "use e.g. 60"),
    "retry_window_seconds": (0, 7 * 86_400, False, "use 86400 (AWS retries for 24 hours)"),
    "max_attempts": (0, 1_000_000, True, "use 0 for no limit besides the retry window"),
}


def _file_delivery(path: Path, section: Any) -> DeliverySettings:
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: delivery must be a section [delivery], not {_kind(section)}")
    keys = tuple(_DELIVERY_LIMITS)
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key not in _DELIVERY_LIMITS:
            raise unknown_key(path, key, "[delivery]", keys)
        low, high, integer, hint = _DELIVERY_LIMITS[key]
        what = f"{'an integer' if integer else 'a number'} from {low:g} to {high:g}"
        try:
            number = _number(value, what, hint, integer)
            if not low <= number <= high:
                raise _Invalid(f"must be {what} (got {_show(value)})", hint)
        except _Invalid as bad:
            raise ConfigError(f"{path}: [delivery] {key} {bad.problem}; {bad.hint}") from None
        values[key] = number
    return DeliverySettings(**values)


_FIREHOSE_NAME_RE = re.compile(r"[a-zA-Z0-9_.-]{1,64}")
_FIREHOSE_KEYS = ("name", "directory", "buffer_size_mb", "buffer_interval_seconds")


def _file_firehose(path: Path, entries: Any) -> tuple[FirehoseStream, ...]:
    entries = table_array(path, entries, "firehose", "delivery stream with name and directory")
    found: list[FirehoseStream] = []
    for number, entry in enumerate(entries, start=1):
        label = f"[[firehose]] entry {number}"
        for key in entry:
            if key not in _FIREHOSE_KEYS:
                raise unknown_key(path, key, label, _FIREHOSE_KEYS)
        name, directory = entry.get("name"), entry.get("directory")
        if not isinstance(name, str) or not _FIREHOSE_NAME_RE.fullmatch(name):
            raise ConfigError(
                f"{path}: {label} name must be 1-64 letters, digits, '_', '.' or '-' "
                f"(got {_show(name)}); it is the name in the deliverystream/<name> ARN"
            )
        if any(stream.name == name for stream in found):
            raise ConfigError(f"{path}: delivery stream {name!r} is declared twice; keep one")
        try:
            folder = _check_data_dir(directory, False)
            size = _number(entry.get("buffer_size_mb", 5), "a number of MiB from 1 to 128",
                           "use e.g. 5 (Firehose's default)")  # fmt: skip
            interval = _number(entry.get("buffer_interval_seconds", 60),
                               "a number of seconds from 0 to 900", "use e.g. 60")  # fmt: skip
            if not 1 <= size <= 128:
                raise _Invalid(f"buffer_size_mb must be from 1 to 128 (got {size})", "use 5")
            if not 0 <= interval <= 900:
                raise _Invalid(
                    f"buffer_interval_seconds must be from 0 to 900 (got {interval})", "use 60"
                )
        except _Invalid as bad:
            raise ConfigError(f"{path}: {label} ({name}) {bad.problem}; {bad.hint}") from None
        found.append(
            FirehoseStream(
                name, _to_dir(folder, path.parent, os.environ), int(size * 1024 * 1024), interval
            )
        )
    return tuple(found)


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Config field values from ``LOGSIEVE_*`` variables; empty variables count as unset."""
    values: dict[str, Any] = {}
    for name, key in _ENV_FIELDS.items():
        text = environ.get(name, "")
        if not text:
            continue
        try:
            checked = _CHECKS[key](text, True)
        except _Invalid as bad:
            raise ConfigError(
                f"environment variable {name} {bad.problem}; {bad.hint}, or unset it"
            ) from None
        values[key] = _to_dir(checked, None, environ) if key == "data_dir" else checked
    if environ.get(_ENV_SMTP, ""):
        try:
            values["smtp_url"] = _smtp_url(environ[_ENV_SMTP])
        except _Invalid as bad:
            raise ConfigError(
                f"environment variable {_ENV_SMTP} {bad.problem}; {bad.hint}, or unset it"
            ) from None
    key_id, secret = environ.get(_ENV_KEY_ID, ""), environ.get(_ENV_SECRET, "")
    if bool(key_id) != bool(secret):
        have, missing = (_ENV_KEY_ID, _ENV_SECRET) if key_id else (_ENV_SECRET, _ENV_KEY_ID)
        raise ConfigError(
            f"environment variable {have} is set but {missing} is not; set both or neither"
        )
    if key_id:
        try:
            values["credential"] = Credential(
                _check_key_part(key_id, "access_key_id"),
                _check_key_part(secret, "secret_access_key"),
            )
        except _Invalid as bad:
            raise ConfigError(
                f"environment variables {_ENV_KEY_ID}/{_ENV_SECRET}: {bad.problem}; "
                "set them to the key pair without spaces"
            ) from None
    return values


def _from_overrides(overrides: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Validate command-line values; keys are Config field names, None means "not given"."""
    names = {f.name for f in dataclasses.fields(Config)}
    values: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in names:
            # A programming error in the caller, not a user mistake.
            raise TypeError(f"load_config: unknown override {key!r}; valid: {sorted(names)}")
        if value is None:
            continue
        option = "--" + key.replace("_", "-")
        if key == "credentials":
            creds = tuple(value)
            if not all(isinstance(c, Credential) for c in creds):
                raise TypeError("load_config: credentials override must hold Credential objects")
            values[key] = creds
            continue
        if key == "functions":
            functions = tuple(value)
            if not all(isinstance(f, DeclaredFunction) for f in functions):
                raise TypeError("load_config: functions override must hold DeclaredFunction")
            values[key] = functions
            continue
        try:
            checked = _CHECKS[key](value, True)
        except _Invalid as bad:
            raise ConfigError(f"option {option} {bad.problem}; {bad.hint}") from None
        values[key] = _to_dir(checked, None, environ) if key == "data_dir" else checked
    return values


def load_config(
    path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Build the Config: defaults < TOML file < environment < overrides (CLI flags).

    ``path`` None means ``$LOGSIEVE_CONFIG`` if set, else ``./logsieve.toml`` if it exists,
    else no file. ``environ`` defaults to ``os.environ``; tests pass their own.
    Raises ConfigError (one line) for any mistake in the file, variables or overrides.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    values: dict[str, Any] = {"data_dir": _to_dir(os.fspath(DEFAULT_DATA_DIR), None, env)}
    file = _find_file(path, env)
    if file is not None:
        values.update(_from_file(file, env))
    from_env = _from_env(env)
    env_credential: Credential | None = from_env.pop("credential", None)
    values.update(from_env)
    if env_credential is not None:
        # The variable pair adds a credential; it replaces a file entry with the same key id.
        kept = [
            c
            for c in values.get("credentials", ())
            if c.access_key_id != env_credential.access_key_id
        ]
        values["credentials"] = (*kept, env_credential)
    values.update(_from_overrides(overrides or {}, env))
    if ("tls_certfile" in values) != ("tls_keyfile" in values):
        raise ConfigError(
            f"{file}: [server] needs both tls_certfile and tls_keyfile for HTTPS; set the other "
            "one (the PEM certificate chain and its private key)"
        )
    return Config(**values)


# --- credentials ----------------------------------------------------------------------------


def _generate_credential() -> Credential:
    """A key pair shaped like AWS's, so clients and tools that check the shape accept it."""
    key_id = "AKIA" + "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(16))
    secret = base64.b64encode(secrets.token_bytes(30)).decode("ascii")  # 40 characters
    return Credential(key_id, secret)


def _load_credential_file(path: Path) -> Credential:
    fix = "fix it, or delete it to generate a new key pair"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        raise ConfigError(f"cannot read credentials file {path}: {reason}; {fix}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"credentials file {path} must hold a JSON object; {fix}")
    try:
        credential = Credential(
            _check_key_part(data.get("access_key_id"), "access_key_id"),
            _check_key_part(data.get("secret_access_key"), "secret_access_key"),
        )
    except _Invalid as bad:
        raise ConfigError(f"credentials file {path}: {bad.problem}; {fix}") from None
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        log.warning(
            "event=credentials_readable_by_others path=%s mode=%o fix='chmod 600'", path, mode
        )
    return credential


def ensure_credentials(config: Config) -> tuple[Config, Credential | None]:
    """Make sure the server has a key pair to verify signatures with.

    Configured credentials win. Otherwise the pair in ``data_dir/credentials.json`` is used, or
    a new one is generated and saved there (mode 0600) so it stays the same across restarts.
    The second element is the newly generated Credential -- the caller shows it once with
    :func:`credential_help` -- or None when nothing was generated.
    """
    if config.credentials:
        return config, None
    path = config.data_dir / CREDENTIALS_FILENAME
    if path.exists():
        return dataclasses.replace(config, credentials=(_load_credential_file(path),)), None
    credential = _generate_credential()
    text = json.dumps(
        {
            "access_key_id": credential.access_key_id,
            "secret_access_key": credential.secret_access_key,
        },
        indent=2,
    )
    try:
        config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(path, text + "\n")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"cannot write {path}: {reason}; choose a writable data directory "
            "with LOGSIEVE_DATA_DIR or [server] data_dir"
        ) from None
    log.info("event=credentials_generated path=%s access_key_id=%s", path, credential.access_key_id)
    return dataclasses.replace(config, credentials=(credential,)), credential


def client_credential(config: Config) -> Credential | None:
    """The key pair a local client (the CLI) signs with: configured, else the generated one."""
    if config.credentials:
        return config.credentials[0]
    path = config.data_dir / CREDENTIALS_FILENAME
    return _load_credential_file(path) if path.exists() else None


def endpoint_url(config: Config) -> str:
    """The URL clients use: a wildcard listen address is reached via loopback."""
    host = config.host
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{'https' if config.tls_certfile else 'http'}://{host}:{config.port}"


def client_environment(credential: Credential, config: Config) -> dict[str, str]:
    """The variables that point any AWS SDK or tool at this server.

    Both region variables: the JS SDK v3 (and most non-Python SDKs) read only ``AWS_REGION``,
    boto3 and the aws CLI only ``AWS_DEFAULT_REGION``.
    """
    return {
        "AWS_ACCESS_KEY_ID": credential.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credential.secret_access_key,
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
        "AWS_ENDPOINT_URL": endpoint_url(config),
    }


def credential_lines(
    credential: Credential, config: Config, profile: str = PROFILE
) -> dict[str, list[str]]:
    """The lines to paste, by kind: ``profile`` (aws configure), ``export``, ``python``."""
    quote = shlex.quote
    option = f"--profile {quote(profile)}"
    settings = [
        ("aws_access_key_id", credential.access_key_id),
        ("aws_secret_access_key", credential.secret_access_key),
        ("region", config.region),
        ("endpoint_url", endpoint_url(config)),
    ]
    variables = client_environment(credential, config)
    return {
        "profile": [f"aws configure set {key} {quote(value)} {option}" for key, value in settings],
        "export": ["export " + " ".join(f"{k}={quote(v)}" for k, v in variables.items())],
        "python": [
            f'logs = boto3.client("logs", endpoint_url="{endpoint_url(config)}", '
            f"region_name={json.dumps(config.region)}, "
            f"aws_access_key_id={json.dumps(credential.access_key_id)}, "
            f"aws_secret_access_key={json.dumps(credential.secret_access_key)})"
        ],
    }


def credential_help(credential: Credential, config: Config, profile: str = PROFILE) -> str:
    """The lines a user pastes to point the AWS CLI, environment or boto3 at this server."""
    lines = credential_lines(credential, config, profile)
    option = f"--profile {shlex.quote(profile)}"
    return "\n".join(
        [
            f"# AWS CLI: a profile named {profile!r} (use: aws logs describe-log-groups {option})",
            *lines["profile"],
            "",
            "# Or the environment, for any AWS SDK or tool in this shell:",
            *lines["export"],
            "",
            "# Or in Python:",
            *lines["python"],
        ]
    )
