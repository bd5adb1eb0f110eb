"""Building a `Redactor` from the `redaction:` section of a configuration file.

```yaml
redaction:
  namespaces: {pnc: "urn:police:pnc:v1"}
  body: ["//pnc:surname", "//pnc:dateOfBirth"]
  quoted: ["//faultstring"]        # only the values these texts quote back
  headers: ["Authorization", "X-Officer-Id"]
  json: ["**.surname", "dob"]      # JSON calls' query parameters and JSON bodies
  key_env: TURNOUT_REDACTION_KEY   # or key_file: a path; with a key, values become pseudonyms
```

Without a key every value becomes `REDACTED`; with one, a keyed, format-preserving pseudonym
(see `_pseudonym`), so the same person has the same token everywhere and recordings still replay.

Strict on purpose: a misspelt key would otherwise mean personal data written in clear.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from turnout.soap import DEFAULT_LIMITS, XmlLimits

from ._pseudonym import Pseudonymiser
from ._redact import (
    BodyRule,
    HeaderRule,
    Redactor,
    Replacement,
    Rule,
    compile_body_rule,
    fixed_token,
)
from ._redact_json import JsonRule, compile_json_rule

_KEYS = ("namespaces", "body", "quoted", "headers", "json", "key_env", "key_file")
_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
# RFC 9110 token characters
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def redactor_from_config(
    data: Mapping[str, Any] | None,
    *,
    replacement: Replacement = fixed_token,
    limits: XmlLimits = DEFAULT_LIMITS,
    load_key: bool = True,
) -> Redactor:
    """The `Redactor` the parsed `redaction:` section describes; None or {} means no rules.

    Raises ValueError naming the offending entry, e.g. `redaction.body[1]: bad XPath ...`.
    With `load_key=False` the section is checked for shape only (`key_env` names a variable,
    `key_file` a path, not both) and the key itself is never read: loading a configuration
    to change a route or check it must not need the key, only recording does.
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ValueError(f"redaction: expected a mapping, got {type(data).__name__}")
    for key in data:
        if key not in _KEYS:
            raise ValueError(f"redaction: unknown key {key!r} (expected one of {', '.join(_KEYS)})")
    if not load_key:
        _key_source(data)
    elif replacement is fixed_token:
        secret = _key(data)
        if secret is not None:
            replacement = Pseudonymiser(secret)
    namespaces = _namespaces(data.get("namespaces"))
    rules: list[Rule] = []
    for index, xpath in enumerate(_strings(data.get("body"), "redaction.body")):
        rule = BodyRule(xpath=xpath, namespaces=namespaces)
        try:
            compile_body_rule(rule)
        except ValueError as exc:
            raise ValueError(f"redaction.body[{index}]: {exc}") from None
        rules.append(rule)
    for index, xpath in enumerate(_strings(data.get("quoted"), "redaction.quoted")):
        quoted_rule = BodyRule(xpath=xpath, namespaces=namespaces, quoted=True)
        try:
            compile_body_rule(quoted_rule)
        except ValueError as exc:
            raise ValueError(f"redaction.quoted[{index}]: {exc}") from None
        rules.append(quoted_rule)
    for index, name in enumerate(_strings(data.get("headers"), "redaction.headers")):
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"redaction.headers[{index}]: {name!r} is not a header name")
        rules.append(HeaderRule(name=name))
    for index, pattern in enumerate(_strings(data.get("json"), "redaction.json")):
        json_rule = JsonRule(pattern=pattern)
        try:
            compile_json_rule(json_rule)
        except ValueError as exc:
            raise ValueError(f"redaction.json[{index}]: {exc}") from None
        rules.append(json_rule)
    return Redactor(rules, replacement=replacement, limits=limits)


def _namespaces(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(
            f"redaction.namespaces: expected a mapping of prefix to URI, got {type(value).__name__}"
        )
    result = {}
    for prefix, uri in value.items():
        if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
            raise ValueError(f"redaction.namespaces: {prefix!r} is not a namespace prefix")
        if not isinstance(uri, str) or not uri:
            raise ValueError(f"redaction.namespaces.{prefix}: expected a namespace URI")
        result[prefix] = uri
    return result


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list, got {type(value).__name__}")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"{where}[{index}]: expected a non-empty string, got {item!r}")
    return [item.strip() for item in value]


#: the demo's own key: committed to git (so 0644 in every checkout), public by design, and it
#: pseudonymises only the demo's fictional people. The one key file read whatever its mode.
DEMO_KEY = Path(__file__).resolve().parents[1] / "demo" / "demo-pseudonym.key"
#: no key file is bigger; a bigger "key" is some other file named by mistake
_MAX_KEY_BYTES = 4096
#: places whose files are the kernel's, not keys (`/proc/self/environ` reads as the environment)
_PSEUDO_FILE_SYSTEMS = (Path("/proc"), Path("/sys"), Path("/dev"))


def read_key_file(path: Path) -> bytes:
    """The key in `path`, stripped, or ValueError naming the file and what is wrong with it.

    A key file must be a regular file (a symlink to one is followed), owned by the user the
    proxy runs as, readable and writable by nobody else (mode 0600 or stricter), and a real
    file with a size: not a pipe, a device, or a file of /proc or /sys that reads as
    something else entirely (`/proc/self/environ` is a 0400 "regular" file of size 0 holding
    the environment). Opened without blocking, so a FIFO cannot hang the start-up.
    """
    where = f"redaction.key_file: {path}"
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "a symlink loop"
        raise ValueError(f"{where}: cannot read it: {reason}") from None
    if resolved == DEMO_KEY:
        return _read_checked(resolved, where, public=True)
    if any(resolved == place or place in resolved.parents for place in _PSEUDO_FILE_SYSTEMS):
        try:
            mode = f"mode {stat.S_IMODE(os.stat(resolved).st_mode):04o}, "
        except OSError:
            mode = ""
        raise ValueError(f"{where}: is not a key file: {resolved} ({mode}under "
                         f"{resolved.parts[1] and '/' + resolved.parts[1]}) is the kernel's, "
                         "not a key; give a file made for the key, mode 0600")
    return _read_checked(resolved, where, public=False)


def _read_checked(path: Path, where: str, public: bool) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ValueError(f"{where}: cannot read it: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        mode = stat.S_IMODE(info.st_mode)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{where}: is not a regular file ({_kind(info.st_mode)}); a key "
                             "file is a plain file of mode 0600")
        if not public:
            if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
                raise ValueError(
                    f"{where}: is owned by uid {info.st_uid}, not by the user the proxy runs "
                    f"as (uid {os.geteuid()}); mode {mode:04o}. Copy it, or chown it, and "
                    f"chmod 600 {path}"
                )
            if mode & 0o077:
                raise ValueError(
                    f"{where}: mode {mode:04o} lets others read or change the key; it must be "
                    f"0600 or stricter (chmod 600 {path})"
                )
        if info.st_size == 0:
            raise ValueError(f"{where}: is empty, or not a real file (/proc and /sys files "
                             f"say size 0); mode {mode:04o}")
        if info.st_size > _MAX_KEY_BYTES:
            raise ValueError(f"{where}: is {info.st_size} bytes; a key file holds one key "
                             f"(at most {_MAX_KEY_BYTES} bytes)")
        data = b""
        while len(data) <= _MAX_KEY_BYTES:
            chunk = os.read(fd, _MAX_KEY_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
    except BlockingIOError:
        raise ValueError(f"{where}: cannot be read without waiting: not a key file") from None
    finally:
        os.close(fd)
    if len(data) > _MAX_KEY_BYTES:
        raise ValueError(f"{where}: holds more than {_MAX_KEY_BYTES} bytes: not a key file")
    return data.strip()


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a plain file"


def _key_source(data: Mapping[str, Any]) -> tuple[str | None, str | os.PathLike[str] | None]:
    """Where the section says the key is (`key_env`, `key_file`), checked for shape only."""
    env, file = data.get("key_env"), data.get("key_file")
    if env is not None and file is not None:
        raise ValueError("redaction: give key_env or key_file, not both")
    if env is not None and (not isinstance(env, str) or not env):
        raise ValueError("redaction.key_env: expected the name of an environment variable")
    if file is not None and (not isinstance(file, (str, os.PathLike)) or not str(file)):
        raise ValueError("redaction.key_file: expected the path of a file")
    return env, file


def _key(data: Mapping[str, Any]) -> bytes | None:
    """The pseudonymisation key the section names, or None for the fixed token.

    A key that is named but missing is an error, not a quiet fallback: the recordings would
    change format without anyone having asked for it.
    """
    env, file = _key_source(data)
    if env is not None:
        value = os.environ.get(env)
        if not value:
            raise ValueError(f"redaction.key_env: environment variable {env} is not set")
        key = value.encode()
    elif file is not None:
        key = read_key_file(Path(str(file)))
    else:
        return None
    if len(key) < 16:
        raise ValueError("redaction: the key must be at least 16 bytes")
    return key
