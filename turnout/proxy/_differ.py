"""The shadow runner's differ: turnout.compare's semantic diff with the configured rules."""

from __future__ import annotations

from ..config import ProxyConfig
from ..soap import SoapError
from ._shadow import Differ


def make_differ(config: ProxyConfig) -> Differ:
    from ..compare import diff, load_rules, rules_for

    rules = load_rules(config.compare_rules) if config.compare_rules is not None else {}

    def differ(legacy: bytes, new: bytes, operation: str) -> tuple[bool, list[dict[str, str | None]]]:
        try:
            result = diff(legacy, new, rules_for(rules, operation))
        except SoapError as exc:  # the bus's answer may be anything: it is the bus's business
            return False, [{"path": "/", "kind": "unreadable", "legacy": None, "new": str(exc)}]
        return result.equal, [
            {"path": d.path, "kind": d.kind, "legacy": d.legacy, "new": d.new}
            for d in result.differences
        ]

    return differ
