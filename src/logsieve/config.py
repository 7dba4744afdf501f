"""Settings for the server: one TOML file, environment overrides, generated credentials.

Every setting has a default that works on a laptop, so ``logsieve serve`` needs no file at all.
Precedence, lowest first: defaults, ``logsieve.toml``, ``LOGSIEVE_*`` environment variables,
command-line flags. Every user mistake becomes one :class:`ConfigError` line that names the file
(or variable, or option), the key, what is wrong and what to do -- never a traceback.

This module is layer 0: it reads the file, applies the environment and the flags, and owns the
sections every part of the server shares (``[server]``, ``[aws]``, ``[logs]``,
``[[credentials]]``, ``[smtp]``, ``[sns]``). Every other section belongs to the component that
uses it, which declares it as a :class:`Section` next to its typed settings:

* the settings type (a frozen dataclass) and a parser ``(file, raw TOML value) -> settings``
  written with the walker of :mod:`logsieve.config_values` (``section``/``read`` for a
  ``[table]``, ``read_entries`` for a ``[[table]]`` array; each key a check);
* ``SECTION = Section("key", parse, default, array=..., environ=...)`` in that module;
* one line in ``logsieve/sections.py`` (layer 9, the one module that imports every section and
  the ``load_config`` the rest of the program calls), which passes them all to
  :func:`load_config` here. Registration is that explicit list: nothing depends on which
  module happened to be imported first.

The parsed value is read back typed with ``SECTION.of(config)`` (``config.<key>`` also works,
untyped). So a new section -- ``[[sources]]``, ``[metrics]`` -- is one parser module in its
package and one line in ``sections.py``; this file does not change.
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

from .config_values import Invalid as _Invalid
from .config_values import kind as _kind
from .config_values import read, read_entries, section
from .config_values import show as _show
from .config_values import suggest as _suggest
from .durable import write_atomic
from .errors import ConfigError

__all__ = [
    "DEFAULT_DATA_DIR",
    "DEFAULT_PORT",
    "Config",
    "ConfigError",
    "Credential",
    "Section",
    "client_credential",
    "client_environment",
    "credential_help",
    "credential_lines",
    "endpoint_url",
    "ensure_credentials",
    "load_config",
    "to_dir",
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

T = TypeVar("T")


@dataclass(frozen=True)
class Credential:
    """An access key pair clients sign requests with (SigV4)."""

    access_key_id: str
    # Kept out of repr so logging a Config never leaks a secret.
    secret_access_key: str = field(repr=False)
    user_name: str | None = None  # the IAM user CloudTrail records for calls with this key


@dataclass(frozen=True)
class Section(Generic[T]):
    """A component's part of the config file: ``[key]`` (or ``[[key]]`` when ``array``),
    parsed by ``parse(file, raw)`` into the component's settings (raising ConfigError), or
    ``default()`` when the file has none. ``environ(variables, settings)`` applies the
    section's ``LOGSIEVE_*`` variables (None: it has none)."""

    key: str
    parse: Callable[[Path, Any], T]
    default: Callable[[], T]
    array: bool = False
    environ: Callable[[Mapping[str, str], T], T] | None = None

    def of(self, config: Config) -> T:
        """This section's settings in ``config`` (typed)."""
        if self.key in config.sections:
            value: T = config.sections[self.key]
            return value
        return self.default()


def _default_data_dir() -> Path:
    # os.path.expanduser leaves "~" alone instead of raising when there is no home directory.
    return Path(os.path.expanduser(DEFAULT_DATA_DIR))


@dataclass(frozen=True)
class Config:
    """The validated settings the server is built from (see ``logsieve.app``).

    The shared settings are fields; each component's section is in ``sections`` by its key
    (read it with ``SECTION.of(config)``, or ``config.<key>`` untyped).
    """

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
    # Component sections by key: the parsed settings of those set by the file, environment
    # or overrides; the others are their Section's default.
    sections: Mapping[str, Any] = field(default_factory=dict)
    known: tuple[Section[Any], ...] = field(default=(), compare=False, repr=False)

    def __getattr__(self, name: str) -> Any:
        """``config.delivery``, ``config.alerts``...: a known section's settings, untyped."""
        for known in self.__dict__.get("known", ()):
            if known.key == name:
                return known.of(self)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def user_name_for(self, access_key_id: str) -> str | None:
        """The IAM user name configured for ``access_key_id`` (CloudTrail's userIdentity)."""
        return next(
            (c.user_name for c in self.credentials if c.access_key_id == access_key_id), None
        )

    def secret_for(self, access_key_id: str) -> str | None:
        """The secret for ``access_key_id``, or None: SigV4 verification's key lookup."""
        for credential in self.credentials:
            if credential.access_key_id == access_key_id:
                return credential.secret_access_key
        return None


# --- checks of the shared sections -------------------------------------------------------------

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


def check_dir(value: Any, text_ok: bool = False) -> str:
    """A directory path as written (resolve it with :func:`to_dir`)."""
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


# Keys of [server], [aws] and [logs] -> check(value, text_ok); each key is the Config field.
# Environment variables and flags are text (text_ok), the file's values are typed.
_CHECKS: dict[str, Callable[[Any, bool], Any]] = {
    "host": _check_host,
    "port": _check_port,
    "data_dir": check_dir,
    "tls_certfile": _check_file,  # PEM paths, relative to the config file like data_dir
    "tls_keyfile": _check_file,
    "region": _check_region,
    "account_id": _check_account_id,
    "retention_check_seconds": _check_retention,
    "max_subscription_filters": _check_max_filters,
}
_SECTIONS: dict[str, tuple[str, ...]] = {
    "server": ("host", "port", "data_dir", "tls_certfile", "tls_keyfile"),
    "aws": ("region", "account_id"),
    "logs": ("retention_check_seconds", "max_subscription_filters"),
}
_SECTION_OF = {key: name for name, keys in _SECTIONS.items() for key in keys}


def _check_key_part(value: Any, key: str) -> str:
    """Key ids and secrets travel in headers: non-empty, no whitespace."""
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        shown = _kind(value) if key == "secret_access_key" else _show(value)
        raise _Invalid(
            f"must be a non-empty string without spaces (got {shown})",
            f'write {key} = "..." in quotes',
        )
    return value


def _credential(key_id: Any, secret: Any) -> Credential:
    """The pair, or Invalid naming the bad half (for the environment and credentials.json)."""
    for key, value in (("access_key_id", key_id), ("secret_access_key", secret)):
        try:
            _check_key_part(value, key)
        except _Invalid as bad:
            raise _Invalid(f"{key} {bad.problem}", bad.hint) from None
    return Credential(key_id, secret)


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


# --- loading --------------------------------------------------------------------------------


def _expand_home(text: str, environ: Mapping[str, str]) -> str:
    """Expand ``~`` with the given environment's HOME, so tests and callers stay hermetic."""
    home = environ.get("HOME")
    if home and (text == "~" or text.startswith(("~/", "~" + os.sep))):
        return home + text[1:]
    return os.path.expanduser(text)


def to_dir(text: str, base: Path | None, environ: Mapping[str, str] | None = None) -> Path:
    """``text`` as an absolute directory: ``~`` expanded, relative to ``base`` (the config
    file's directory; None: the working directory)."""
    path = Path(_expand_home(text.strip(), os.environ if environ is None else environ))
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


def _file_credentials(path: Path, raw: Any) -> tuple[Credential, ...]:
    keys = ("access_key_id", "secret_access_key")
    entries = read_entries(
        path, "credentials", raw, "key pair with access_key_id and secret_access_key",
        {key: partial(_check_key_part, key=key) for key in (*keys, "user_name")},
        required=keys,
        twice=lambda key_id: f"access_key_id {key_id} appears in more than one [[credentials]] "
        "entry; keep one", key="access_key_id",
    )  # fmt: skip
    return tuple(Credential(**entry) for entry in entries)


def _unknown_section(path: Path, name: str, sections: Sequence[Section[Any]]) -> ConfigError:
    if name in _SECTION_OF:
        return ConfigError(
            f"{path}: key {name!r} is outside any section; move it under [{_SECTION_OF[name]}]"
        )
    tables = sorted(
        [*_SECTIONS, *_SMALL_TABLES, "credentials", *(s.key for s in sections if not s.array)]
    )
    arrays = [s.key for s in sections if s.array]
    valid = ", ".join(f"[{name}]" for name in tables)
    if arrays:
        listed = [f"[[{name}]]" for name in arrays]
        head = ", ".join(listed[:-1])
        valid += f", plus {head + ' and ' if head else ''}{listed[-1]} tables"
    return ConfigError(
        f"{path}: unknown section [{name}]; {_suggest(name, [*tables, *arrays])}"
        f"valid sections are {valid}"
    )


def _from_file(
    path: Path, environ: Mapping[str, str], sections: Sequence[Section[Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The TOML document as Config field values and component sections (only those it sets)."""
    document = _read_toml(path)
    values: dict[str, Any] = {}
    parsed: dict[str, Any] = {}
    owners = {s.key: s for s in sections}
    for name, raw in document.items():
        if name == "credentials":
            values["credentials"] = _file_credentials(path, raw)
        elif name in owners:
            parsed[name] = owners[name].parse(path, raw)
        elif name in _SMALL_TABLES:
            spec = _SMALL_TABLES[name]
            checks = {key: check for key, (_, check) in spec.items()}
            for key, value in read(path, f"[{name}]", section(path, name, raw), checks).items():
                values[spec[key][0]] = value
        elif name in _SECTIONS:
            checks = {key: partial(_CHECKS[key], text_ok=False) for key in _SECTIONS[name]}
            table = read(path, f"[{name}]", section(path, name, raw), checks)
            for key in ("data_dir", "tls_certfile", "tls_keyfile"):  # relative to the file
                if key in table:
                    table[key] = to_dir(table[key], path.parent, environ)
            values.update(table)
        else:
            raise _unknown_section(path, name, sections)
    return values, parsed


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
        values[key] = to_dir(checked, None, environ) if key == "data_dir" else checked
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
            values["credential"] = _credential(key_id, secret)
        except _Invalid as bad:
            raise ConfigError(
                f"environment variables {_ENV_KEY_ID}/{_ENV_SECRET}: {bad.problem}; "
                "set them to the key pair without spaces"
            ) from None
    return values


def _from_overrides(
    overrides: Mapping[str, Any], environ: Mapping[str, str], sections: Sequence[Section[Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate command-line values; keys are Config field names or section keys (whose
    values are settings already typed by the caller), None means "not given"."""
    names = {f.name for f in dataclasses.fields(Config)} - {"sections", "known"}
    keys = {s.key for s in sections}
    values: dict[str, Any] = {}
    parsed: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in names | keys:
            # A programming error in the caller, not a user mistake.
            valid = sorted(names | keys)
            raise TypeError(f"load_config: unknown override {key!r}; valid: {valid}")
        if value is None:
            continue
        if key in keys:
            parsed[key] = value
            continue
        option = "--" + key.replace("_", "-")
        if key == "credentials":
            creds = tuple(value)
            if not all(isinstance(c, Credential) for c in creds):
                raise TypeError("load_config: credentials override must hold Credential objects")
            values[key] = creds
            continue
        try:
            checked = _CHECKS[key](value, True)
        except _Invalid as bad:
            raise ConfigError(f"option {option} {bad.problem}; {bad.hint}") from None
        values[key] = to_dir(checked, None, environ) if key == "data_dir" else checked
    return values, parsed


def load_config(
    path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    sections: Sequence[Section[Any]] = (),
) -> Config:
    """Build the Config: defaults < TOML file < environment < overrides (CLI flags).

    ``path`` None means ``$LOGSIEVE_CONFIG`` if set, else ``./logsieve.toml`` if it exists,
    else no file. ``environ`` defaults to ``os.environ``; tests pass their own. ``sections``
    are the components' sections (``logsieve.sections.SECTIONS``; the program calls
    ``logsieve.sections.load_config``, which passes them); without them only the shared
    sections are known. Raises ConfigError (one line) for any mistake in the file, variables
    or overrides.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    values: dict[str, Any] = {"data_dir": to_dir(os.fspath(DEFAULT_DATA_DIR), None, env)}
    parsed: dict[str, Any] = {}
    file = _find_file(path, env)
    if file is not None:
        from_file, parsed = _from_file(file, env, sections)
        values.update(from_file)
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
    for known in sections:
        if known.environ is not None:
            current = parsed[known.key] if known.key in parsed else known.default()
            if (updated := known.environ(env, current)) != current:
                parsed[known.key] = updated
    from_flags, typed = _from_overrides(overrides or {}, env, sections)
    values.update(from_flags)
    parsed.update(typed)
    if ("tls_certfile" in values) != ("tls_keyfile" in values):
        raise ConfigError(
            f"{file}: [server] needs both tls_certfile and tls_keyfile for HTTPS; set the other "
            "one (the PEM certificate chain and its private key)"
        )
    return Config(**values, sections=parsed, known=tuple(sections))


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
        credential = _credential(data.get("access_key_id"), data.get("secret_access_key"))
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
