"""The demo's own turnout.yaml, shipped with the package, and copies of it for one run."""

from __future__ import annotations

from pathlib import Path

from ..config import ProxyConfig, YamlEditor, load_proxy_config

DEMO_CONFIG = Path(__file__).with_name("turnout.yaml")


def demo_proxy_config(upstream: str, record_dir: Path | None, port: int = 0) -> ProxyConfig:
    """The shipped config pointed at `upstream`, listening on `port` (0: any free port), with
    no admin endpoint and no routes file to watch (every operation legacy)."""
    return load_proxy_config(DEMO_CONFIG).with_overrides(
        upstream=upstream, listen_port=port, record_dir=record_dir
    ).without_routes()


def write_demo_config(directory: Path, bus_url: str, services_url: str, record_dir: Path,
                      *, authenticate: bool = True) -> Path:
    """A copy of the shipped config in `directory`, pointed at these URLs, its relative paths
    made absolute, listening on a free port. Comments are kept: it is a file people read.

    `authenticate=False` drops the `identity:` section, for a bus and services that run open
    (`--no-auth`, or `make_legacy_app(store)` without an identity): the translator path would
    otherwise refuse every unsigned caller, as the authenticating bus does."""
    editor = YamlEditor(DEMO_CONFIG.read_text(encoding="utf-8"))
    doc = editor.doc
    here = DEMO_CONFIG.parent
    doc["upstream"] = bus_url
    doc["listen"]["port"] = 0
    doc["translators"] = str(here / doc["translators"])
    doc["compare"]["rules"] = str(here / doc["compare"]["rules"])
    for name in doc["services"]:
        doc["services"][name] = services_url
    doc["admin"]["port"] = 0
    doc["recordings"]["dir"] = str(record_dir)
    redaction = doc["recordings"]["redaction"]
    redaction["key_file"] = str(here / redaction["key_file"])
    if authenticate:
        doc["identity"]["officers"] = str(here / doc["identity"]["officers"])
        doc["identity"]["token_key_file"] = str(here / doc["identity"]["token_key_file"])
    else:
        del doc["identity"]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "turnout.yaml"
    path.write_text(editor.text(), encoding="utf-8")
    return path
