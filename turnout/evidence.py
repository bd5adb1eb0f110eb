"""Where the evidence is, and what it says: one way for `turnout status`, the readiness gate
and `turnout compare` to find the recordings and judge them.

The recordings are found in this order, and the answer says which was used:

1. a directory given explicitly (`--dir DIR`, or compare's `DIR` argument);
2. the directory the running proxy reports it records into (its admin endpoint's `GET /routes`
   answers `"recordings": "/abs/path"` or null; `admin.port` in turnout.yaml says where to ask),
   so a proxy started with `turnout proxy --record DIR` is found without repeating DIR;
3. `recordings.dir` in turnout.yaml.

Status and the gate then judge every shadowed exchange in the window with the config's
translators and compare rules, through `turnout.compare.judge_exchange`, as `turnout compare`
does offline: the three count alike.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .compare import Readiness, TranslatorAnswers, load_rules, shadow_readiness
from .config import ConfigError, ProxyConfig
from .recording import Exchange, RecordingError, RecordingStore
from .translators import TranslatorSet, load_translators

GIVEN = "given"
RUNNING_PROXY = "running proxy"
CONFIG = "config"
NOWHERE = "nowhere"


@dataclass(frozen=True)
class RecordingsSource:
    """A recording directory and how it was found (`origin`: given, running proxy, config,
    nowhere), with the words to say so."""

    path: Path | None
    origin: str
    detail: str

    def describe(self) -> str:
        if self.path is None:
            return f"no recordings ({self.detail})"
        return f"{self.path} ({self.detail})"


@dataclass(frozen=True)
class ProxyReport:
    """What the running proxy's admin endpoint said about its recordings."""

    url: str
    #: the proxy answered and said where it records (None: it records nothing)
    recordings: Path | None
    #: False when the proxy answered without a `recordings` key (an older proxy)
    reported: bool


def admin_url(config: ProxyConfig) -> str | None:
    """The admin endpoint of the proxy this config runs, when it has a fixed port."""
    if config.admin_port:  # 0 means "any free port": nothing to ask
        return f"http://{config.admin_host}:{config.admin_port}"
    return None


def ask_running_proxy(url: str, timeout: float = 3.0) -> ProxyReport | None:
    """`GET url/routes`; None when no proxy answers there."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/routes", timeout=timeout) as reply:
            data = json.load(reply)
    except (urllib.error.URLError, OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if "recordings" not in data:
        return ProxyReport(url, None, reported=False)
    value = data["recordings"]
    return ProxyReport(url, Path(value) if isinstance(value, str) and value else None, reported=True)


def find_recordings(
    config: ProxyConfig | None, directory: Path | None = None, *, admin: str | None = None
) -> RecordingsSource:
    """Where the recordings are: `directory` when given, else where the running proxy records
    (asked at `admin`, else the config's admin endpoint), else the config's `recordings.dir`."""
    if directory is not None:
        return RecordingsSource(directory, GIVEN, "given with --dir")
    url = admin or (admin_url(config) if config is not None else None)
    asked = ""
    if url is not None:
        report = ask_running_proxy(url)
        if report is None:
            asked = f"no proxy answered at {url}; "
        elif report.recordings is not None:
            return RecordingsSource(report.recordings, RUNNING_PROXY,
                                    f"where the running proxy at {url} records")
        elif report.reported:
            asked = f"the running proxy at {url} records nothing; "
        else:
            asked = f"the running proxy at {url} does not say where it records; "
    if config is not None and config.record_dir is not None:
        where = f"recordings.dir in {config.source}" if config.source else "recordings.dir"
        return RecordingsSource(config.record_dir, CONFIG, asked + where)
    return RecordingsSource(None, NOWHERE, asked + "no --dir, and no recordings.dir in the config")


def read_exchanges(source: RecordingsSource) -> list[Exchange]:
    """Every exchange recorded there (none when there is no such directory). Raises
    `RecordingError` for a file that cannot be read, as `turnout compare` does."""
    if source.path is None or not source.path.is_dir():
        return []
    return list(RecordingStore(source.path).iter_exchanges())


@dataclass
class Evidence:
    """The recordings one command read, and each operation's readiness judged from them."""

    source: RecordingsSource
    exchanges: list[Exchange] = field(default_factory=list)
    readiness: dict[str, Readiness] = field(default_factory=dict)


def translators_and_rules(config: ProxyConfig) -> tuple[TranslatorSet, dict]:
    """The config's translators and compare rules, as `turnout compare` loads them.
    Raises ConfigError."""
    translators = (load_translators(config.translators_dir) if config.translators_dir is not None
                   else TranslatorSet({}, {}))
    rules = load_rules(config.compare_rules) if config.compare_rules is not None else {}
    return translators, rules


def gather_evidence(
    config: ProxyConfig, operations: list[str], directory: Path | None = None,
    *, admin: str | None = None, recorded_operations: bool = False,
) -> Evidence:
    """Find the recordings (see `find_recordings`), read them once, and judge each
    operation's shadows in its window with the config's translators and rules; with
    `recorded_operations`, every operation the recordings hold too.

    Raises ConfigError for translators or rules that do not load, or a recording that cannot
    be read (naming the file)."""
    source = find_recordings(config, directory, admin=admin)
    try:
        exchanges = read_exchanges(source)
    except RecordingError as exc:
        raise ConfigError(f"cannot read the recordings in {source.path}: {exc}") from None
    evidence = Evidence(source, exchanges)
    if recorded_operations:
        found = {e.operation.key for e in exchanges if e.operation is not None}
        operations = sorted(set(operations) | found)
    if not operations:
        return evidence
    translators, rules = translators_and_rules(config)
    answers = TranslatorAnswers(translators)
    for operation in operations:
        evidence.readiness[operation] = shadow_readiness(
            exchanges, operation, config.readiness_min_parity, config.readiness_min_samples,
            source=answers, rules=rules, window=config.readiness_window,
            recordings=source.describe(),
        )
    return evidence
