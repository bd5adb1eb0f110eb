"""The demo's own turnout.yaml, shipped with the package: redaction rules for its personal fields."""

from __future__ import annotations

from pathlib import Path

from ..config import ProxyConfig, load_proxy_config

DEMO_CONFIG = Path(__file__).with_name("turnout.yaml")


def demo_proxy_config(upstream: str, record_dir: Path | None, port: int = 0) -> ProxyConfig:
    """The shipped config pointed at `upstream`, listening on `port` (0: any free port)."""
    return load_proxy_config(DEMO_CONFIG).with_overrides(
        upstream=upstream, listen_port=port, record_dir=record_dir
    )
