"""Is an operation ready to move to its translator? The evidence is its recorded shadow parity.

Shadow mode records, for every request, whether the translated answer equalled the bus's under
the compare rules. An operation is ready when, over at least `min_samples` shadowed requests,
at least `min_parity` percent were equal. Plain data in, plain data out: the CLI decides what
to refuse and how to say it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from ..recording import Exchange


@dataclass(frozen=True)
class Readiness:
    operation: str
    samples: int
    equal: int
    min_parity: float
    min_samples: int
    #: the paths that differed most often, with how often
    top_paths: list[tuple[str, int]] = field(default_factory=list)

    @property
    def parity(self) -> float | None:
        """Percent of shadowed requests whose answers were equal; None before any sample."""
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
        if parity is not None and parity < self.min_parity:
            problems.append(f"parity {parity:.1f}% is below {self.min_parity:g}%")
        return problems

    def describe(self) -> str:
        parity = "no samples" if self.parity is None else f"{self.parity:.1f}% over {self.samples}"
        return f"shadow parity {parity} (needs {self.min_parity:g}% over at least {self.min_samples})"


def shadow_readiness(
    exchanges: Iterable[Exchange], operation: str, min_parity: float, min_samples: int
) -> Readiness:
    samples = equal = 0
    paths: Counter[str] = Counter()
    for exchange in exchanges:
        if exchange.operation is None or exchange.operation.key != operation:
            continue
        verdict = exchange.translation.get("equal") if exchange.route == "shadow" else None
        if verdict is None:
            continue  # not shadowed, or the translator failed: no comparison was made
        samples += 1
        if verdict:
            equal += 1
        for difference in exchange.translation.get("diff") or []:
            if isinstance(difference, dict) and difference.get("path"):
                paths[str(difference["path"])] += 1
    return Readiness(operation, samples, equal, min_parity, min_samples, paths.most_common(3))
