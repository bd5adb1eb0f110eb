"""Is an operation ready to move to its translator? The evidence is its shadowed exchanges.

Every shadowed exchange in the window is judged by `judge_exchange`, exactly as `turnout
compare` judges it: equal, different, translator failed (a sample that is not equal) or not
compared (no sample). An operation is ready when, over at least `min_samples` samples, at
least `min_parity` percent were equal.

The window: only shadows of the current translator count, because evidence about a
translator that has since changed says nothing about the one that would take the traffic.
Each recording's `translation.translator_version` names the translator (a hash the proxy
writes; recordings without one are one old version together). By default the window holds the
shadows whose version is that of the newest shadow of the operation: a reverted translator
gets its earlier shadows back, and several proxies restarting one by one (whose recordings
interleave two versions for a while) count every shadow of the new one. `readiness.window: N`
takes the last N shadows instead, whatever their version.

Plain data in, plain data out: the CLI decides what to refuse and how to say it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..recording import Exchange
from ._parity import (
    AnswerSource,
    NotCompared,
    OperationParity,
    RecordedAnswers,
    judge_exchange,
    legacy_answered,
)
from ._rules import Rules

#: `window` values: the current translator version (None), or the last N shadows (an int)
VERSION_WINDOW = None


@dataclass(frozen=True)
class Window:
    """Which of an operation's shadowed exchanges the gate looked at."""

    #: the last N shadows; None: those of the current translator version
    last: int | None
    #: the current translator version (None: recordings that carry none)
    version: str | None
    #: shadowed exchanges of the operation in all, and of those in the window
    shadows: int
    selected: int
    #: how many translator versions the recordings show (a missing version counts as one)
    versions: int = 1

    def describe(self) -> str:
        if self.shadows == 0:
            return "no shadows recorded"
        if self.last is not None:
            return f"the last {self.last} shadows ({self.selected} of {self.shadows})"
        name = f"translator version {self.version[:12]}" if self.version else "recordings without a translator version"
        if self.selected == self.shadows:
            return f"{name}: all {self.shadows} shadows"
        return (f"{name}: {self.selected} of {self.shadows} shadows "
                f"({self.shadows - self.selected} of an older translator not counted)")


@dataclass(frozen=True)
class Readiness:
    operation: str
    #: samples: equal, different, and translator failures (which count as not equal)
    samples: int
    equal: int
    min_parity: float
    min_samples: int
    #: the paths that differed most often, with how often
    top_paths: list[tuple[str, int]] = field(default_factory=list)
    #: samples where the translator failed (part of `samples`, not of `equal`)
    failed: int = 0
    #: shadows in the window with nothing to compare, by reason
    not_compared: Mapping[str, int] = field(default_factory=dict)
    window: Window | None = None
    #: where the recordings were read, and how that directory was found
    recordings: str | None = None

    @property
    def different(self) -> int:
        """Samples not equal: different answers and translator failures."""
        return self.samples - self.equal

    @property
    def uncompared(self) -> int:
        return sum(self.not_compared.values())

    @property
    def parity(self) -> float | None:
        """Percent of samples whose answers were equal; None before any sample."""
        return 100.0 * self.equal / self.samples if self.samples else None

    @property
    def ready(self) -> bool:
        return not self.missing

    @property
    def missing(self) -> list[str]:
        """What stands between the operation and `translator`, in words; empty when ready."""
        problems = []
        if self.samples < self.min_samples:
            problems.append(
                f"{self.min_samples - self.samples} more shadowed requests "
                f"({self.samples} of the {self.min_samples} required)"
            )
        parity = self.parity
        if parity is not None and parity + 1e-9 < self.min_parity:
            problems.append(f"parity {parity:.1f}% is below {self.min_parity:g}%")
        return problems

    def counts(self) -> str:
        """`9 equal, 1 different (1 translator failure), 2 not compared`."""
        text = f"{self.equal} equal, {self.different} different"
        if self.failed:
            text += f" ({self.failed} translator failure{'s' if self.failed != 1 else ''})"
        if self.uncompared:
            text += f", {self.uncompared} not compared"
        return text

    def describe(self) -> str:
        parity = "no samples" if self.parity is None else f"{self.parity:.1f}% over {self.samples}"
        text = (f"shadow parity {parity} (needs {self.min_parity:g}% over at least "
                f"{self.min_samples}); {self.counts()}")
        if self.window is not None:
            text += f"; window: {self.window.describe()}"
        if self.recordings:
            text += f"; recordings: {self.recordings}"
        return text


def shadowed(exchanges: Iterable[Exchange], operation: str) -> list[Exchange]:
    """The operation's shadowed exchanges the bus answered, oldest first."""
    found = [
        e for e in exchanges
        if e.route == "shadow" and legacy_answered(e)
        and e.operation is not None and e.operation.key == operation
    ]
    return sorted(found, key=lambda e: (e.started_at, e.id))


def translator_version(exchange: Exchange) -> str | None:
    version = (exchange.translation or {}).get("translator_version")
    return str(version) if version not in (None, "") else None


def in_window(shadows: list[Exchange], last: int | None = VERSION_WINDOW) -> tuple[list[Exchange], Window]:
    """The shadows (oldest first) the gate counts, and a description of the window."""
    versions = {translator_version(e) for e in shadows}
    if last is not None:
        chosen = shadows[-last:] if last > 0 else []
        current = translator_version(chosen[-1]) if chosen else None
        return chosen, Window(last, current, len(shadows), len(chosen), len(versions))
    if not shadows:
        return [], Window(None, None, 0, 0, 0)
    current = translator_version(shadows[-1])
    chosen = [e for e in shadows if translator_version(e) == current]
    return chosen, Window(None, current, len(shadows), len(chosen), len(versions))


def shadow_readiness(
    exchanges: Iterable[Exchange],
    operation: str,
    min_parity: float,
    min_samples: int,
    *,
    source: AnswerSource | None = None,
    rules: Mapping[str, Rules] | None = None,
    window: int | None = VERSION_WINDOW,
    recordings: str | None = None,
) -> Readiness:
    """The readiness of `operation` from the shadowed exchanges among `exchanges`.

    Each one in the window is judged by `judge_exchange` with `source` (the readiness gate
    and `turnout status` pass `TranslatorAnswers`, as `turnout compare` uses; the default
    takes the translated answers as recorded) under `rules`.
    """
    chosen, described = in_window(shadowed(exchanges, operation), window)
    parity = OperationParity(operation)
    answers = source if source is not None else RecordedAnswers()
    for exchange in chosen:
        parity.add(judge_exchange(exchange, answers, rules))
    return readiness_from(parity, min_parity, min_samples, described, recordings)


def readiness_from(
    parity: OperationParity, min_parity: float, min_samples: int,
    window: Window | None = None, recordings: str | None = None,
) -> Readiness:
    """A `Readiness` from judged samples (see `OperationParity`)."""
    reasons: dict[str, int] = {}
    for item in parity.not_compared:
        reasons[_reason(item)] = reasons.get(_reason(item), 0) + 1
    return Readiness(
        parity.operation, len(parity.samples), parity.matching, min_parity, min_samples,
        parity.differing_paths()[:3], failed=parity.failed, not_compared=reasons,
        window=window, recordings=recordings,
    )


def _reason(item: NotCompared) -> str:
    return item.reason
