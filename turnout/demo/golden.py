"""The golden set: the demo scenario recorded once with every operation in shadow.

`record_golden(out)` starts the legacy bus, the modern services and the proxy on free loopback
ports, puts every operation in shadow (the writes through their services' dry-run endpoints, as
the demo's route table says), drives the scenario once and leaves the recordings in `out`, with
the compare rules that only the golden set needs (`GOLDEN_RULES`). Each recording then holds the
client's request, the bus's answer, and the translator's JSON call and reply: everything a
golden test needs to run both halves offline (docs/golden.md).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory

from ..config import load_proxy_config
from ..recording import is_exchange_id
from ..routing import set_route
from ..translators import load_translators
from .config import write_demo_config
from .data import DemoStore
from .drain import wait_for_recordings
from .identity import DemoIdentity, read_token_key
from .legacy import make_legacy_app
from .modern import make_modern_app
from .scenario import run_scenario
from .server import ServerThread
from .translators import DIRECTORY as TRANSLATORS

#: written beside the recordings as `compare.yaml`; used on top of the demo's own rules
RULES_FILE = "compare.yaml"

GOLDEN_RULES = """\
# Compare rules for the golden set only, used on top of turnout/demo/compare.yaml.
#
# The set is recorded in shadow mode. The three writes are shadowed through their services'
# dry-run endpoints (POST /crimes/validate, POST /statements/validate, POST /records/validate),
# which run after the bus has already filed the record: the reference the dry run predicts is the
# *next* free one, never the one the bus allocated. That difference is an artefact of how the set
# is recorded, not of the translators, so it is ignored here and not in the demo's rules, where a
# shadow diff should still show it.
namespaces:
  cris: urn:police:cris:v1
  eforms: urn:police:eforms:v1
  merlin: urn:police:merlin:v1

"/cris CreateCrimeReport":
  ignore:
    - //cris:CreateCrimeReportResponse/cris:crimeReference

"/eforms SubmitWitnessStatement":
  ignore:
    - //eforms:SubmitWitnessStatementResponse/eforms:statementId

"/merlin CreateRecord":
  ignore:
    - //merlin:CreateRecordResult/merlin:recordId
"""


class GoldenSetError(Exception):
    """The golden set cannot be recorded where asked."""


def record_golden(out: Path, *, redact: bool = True) -> Path:
    """Record the demo scenario, every operation in shadow, into `out`; return `out`.

    `out` must not hold recordings already (see `existing_recordings`), so a set is never two
    runs mixed. With `redact` (the default, and what the committed set uses) the demo config's
    redaction rules apply; `redact=False` records in clear, for tests of the test machinery.
    Raises `GoldenSetError`.
    """
    out = Path(out).resolve()
    if existing := existing_recordings(out):
        raise GoldenSetError(
            f"{out} already holds {len(existing)} recordings: remove them first"
        )
    operations = sorted(load_translators(TRANSLATORS).operations)
    store = DemoStore()  # one store: the modern services work over the bus's records
    with TemporaryDirectory(prefix="turnout-golden-") as work:
        # signed, on an authenticating bus and token-checking services: the set holds the bus's
        # refusals (AUTHFAIL, FORBIDDEN) beside the translators' wording of the same refusals
        identity = DemoIdentity.load()
        with ServerThread(make_legacy_app(store, identity)) as bus, \
                ServerThread(make_modern_app(store, read_token_key())) as services:
            config_path = write_demo_config(Path(work), bus.url, services.url, out)
            for operation in operations:  # before the proxy starts: no live reload to wait for
                set_route(config_path, operation, "shadow")
            config = load_proxy_config(config_path)
            if not redact:
                config = replace(config, redaction={})
            from ..proxy import ProxyThread  # mitmproxy: only when recording

            with ProxyThread(config) as proxy:
                run_scenario(proxy.url, identity)
                wait_for_recordings(proxy)
    (out / RULES_FILE).write_text(GOLDEN_RULES, encoding="utf-8")
    return out


def existing_recordings(directory: Path) -> list[Path]:
    """The exchange files under `directory`, as a recording store names them."""
    if not directory.is_dir():
        return []
    return sorted(
        path for path in directory.rglob("*.yaml")
        if is_exchange_id(path.stem)
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    )


def remove_recordings(directory: Path) -> int:
    """Delete the exchange files under `directory` (and folders left empty); nothing else.

    Returns how many files were removed. For regenerating a set in place.
    """
    files = existing_recordings(directory)
    for path in files:
        path.unlink()
    for folder, _, _ in sorted(os.walk(directory), key=lambda entry: -len(entry[0])):
        if Path(folder) != directory and not os.listdir(folder):
            os.rmdir(folder)
    return len(files)

