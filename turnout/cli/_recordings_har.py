"""`turnout recordings export --har` and `turnout recordings import FILE.har`.

Export writes recordings as they are stored (already redacted) to a HAR 1.2 file; import turns
a HAR file (browsers' devtools, mitmproxy, another Turnout) into recordings. The import names
each request with the proxy's own inspection and writes through the proxy's `RecordingStore`
(decoded, then redacted with the configuration's rules and key, then written atomically), so
nothing reaches the disk that the proxy would not have written. See docs/recordings.md.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.text import Text

from ..config import ConfigError, ProxyConfig, write_atomically
from ..gateway import inspect_request
from ..recording import (
    HarError,
    HarImport,
    Namer,
    Naming,
    RecordingError,
    RecordingStore,
    Redactor,
    exchanges_to_har,
    har_to_exchanges,
    parse_age,
    redactor_from_config,
)
from ..setup import load_setup
from ..soap import DEFAULT_LIMITS, HttpRequest, XmlLimits
from ._render import console, errors, fail, fail_config, load_config, shown

DEFAULT_CONFIG = Path("turnout.yaml")
#: HAR files hold recordings: the recordings' own mode
_FILE_MODE = 0o600


@click.command("export")
@click.argument("directory", required=False, default=Path("recordings"),
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--har", "har_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The HAR file to write (replaced if it exists).")
@click.option("--operation", "-o", help="Only this operation, e.g. '/pnc VehicleEnquiry'.")
@click.option("--since", help="Only exchanges started within this age: 90m, 12h, 30d, 6w.")
def export_(directory: Path, har_path: Path, operation: str | None, since: str | None) -> None:
    """Write the exchanges under DIRECTORY (default: recordings) to a HAR 1.2 file, exactly as
    stored: pseudonyms stay pseudonyms, credentials stay REDACTED, and no key is needed.
    Turnout's own fields (operation, route, outcome, notes, translation) go under `_turnout`."""
    if not directory.is_dir():
        fail(f"{shown(directory)}: no such recordings directory")
    cutoff = None
    if since is not None:
        try:
            cutoff = datetime.now(UTC) - parse_age(since)
        except ValueError as exc:
            fail(f"--since: {exc}")
    try:
        chosen = [
            exchange for exchange in RecordingStore(directory).iter_exchanges()
            if (operation is None or (exchange.operation is not None
                                      and exchange.operation.key == operation))
            and (cutoff is None or exchange.started_at >= cutoff)
        ]
    except RecordingError as exc:
        fail(str(exc))
    data = json.dumps(exchanges_to_har(chosen), indent=1, ensure_ascii=False) + "\n"
    try:
        write_atomically(har_path, data, mode=_FILE_MODE, keep_mode=False)
    except OSError as exc:
        fail(f"{shown(har_path)}: cannot write: {exc.strerror or exc}")
    console.print(Text(f"exported {len(chosen)} exchanges from {directory} to {har_path}"))


@click.command("import")
@click.argument("har_path", metavar="FILE.har",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--into", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="The recording directory to add to. Default: the configuration's "
                   "recordings.dir, else ./recordings.")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="turnout.yaml: its redaction rules and key, limits, routes and translators. "
                   "Default: ./turnout.yaml when it exists.")
@click.option("--as-stored", is_flag=True,
              help="The file is a Turnout export, already redacted: keep its pseudonyms as they "
                   "are instead of pseudonymising them again (credentials are still hidden).")
@click.option("--unredacted", is_flag=True,
              help="Import although no redaction rules are configured: personal data is then "
                   "written in clear (credentials are still hidden).")
def import_(har_path: Path, directory: Path | None, config_path: Path | None, as_stored: bool,
            unredacted: bool) -> None:
    """Turn a HAR file (browsers' devtools, mitmproxy, `recordings export`) into recordings,
    redacted as the proxy redacts before anything is written. Entries that are not SOAP calls
    are skipped and counted with why. A malformed file writes nothing."""
    if config_path is None and DEFAULT_CONFIG.is_file():
        config_path = DEFAULT_CONFIG
    config = load_config(config_path)
    if directory is None:
        directory = (config.record_dir if config and config.record_dir else Path("recordings"))
    redactor = None if as_stored else _redactor(config, unredacted)
    doc = _read_har(har_path)
    limits = config.limits if config else DEFAULT_LIMITS
    try:
        found = har_to_exchanges(doc, _namer(limits, config), as_stored=as_stored)
    except HarError as exc:
        fail(f"{har_path}: {exc}; nothing imported")
    known = _known_services(config)
    store = RecordingStore(directory, redactor, known_services=lambda: known)
    files = []
    already = 0
    try:
        for exchange in found.exchanges:
            path, data = store.prepare(exchange)
            if path.exists():
                already += 1
                continue
            files.append((path, data))
    except RecordingError as exc:
        fail(f"{har_path}: {exc}; nothing imported")
    results = store.write_files(files)
    _report(found, har_path, directory, results, already, known)



def _redactor(config: ProxyConfig | None, unredacted: bool) -> Redactor:
    """The configuration's rules and key, as the proxy's writer builds them; with no rules,
    a refusal unless `--unredacted` (the same choice `turnout proxy` asks for)."""
    source = f"{config.source}: " if config and config.source else ""
    try:
        redactor = redactor_from_config(config.redaction if config else None)
    except ValueError as exc:
        fail(f"{source}recordings.{exc}")
    if not redactor.has_rules and not unredacted:
        fail("refusing to import: no redaction rules (recordings.redaction) "
             + (f"in {config.source}" if config and config.source else "are configured")
             + ", so surnames, dates of birth and addresses would be written in clear. Give "
             "--config with recordings.redaction, --as-stored for a Turnout export, or "
             "--unredacted to import in clear all the same (credentials are still hidden)")
    return redactor


def _read_har(path: Path) -> object:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        fail(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); nothing imported")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{path}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg}); nothing imported")


def _namer(limits: XmlLimits, config: ProxyConfig | None) -> Namer:
    """The proxy's inspection (the guard's one reading of a request), as a `Namer`."""
    case_insensitive = bool(config and config.upstream_path_case_insensitive)

    def name(request: HttpRequest) -> Naming:
        inspection = inspect_request(request, limits, case_insensitive_paths=case_insensitive)
        return Naming(
            inspection.outcome, inspection.operation,
            inspection.version.name if inspection.envelope else None, inspection.action,
            tuple(inspection.notes),
        )

    return name


def _known_services(config: ProxyConfig | None) -> set[str]:
    """The service paths the routes and translators name (as the proxy's writer is told:
    `turnout.gateway.known_services`); any other path is filed under a digest of it."""
    if config is None:
        return set()
    try:
        setup = load_setup(config)
    except ConfigError as exc:
        fail_config(exc)
    services = {route.service for route in setup.routes}
    for translator in setup.translators.values():
        services.add(str(getattr(translator, "operation", "")).partition(" ")[0])
    services.discard("")
    return services


def _report(found: HarImport, har_path: Path, directory: Path,
            results: list[Path | RecordingError], already: int, known: set[str]) -> None:
    written = [result for result in results if isinstance(result, Path)]
    failed = [result for result in results if isinstance(result, RecordingError)]
    console.print(Text(
        f"imported {len(written)} of {len(found.exchanges) + len(found.skipped)} entries from "
        f"{har_path} into {directory}"
        + (f"; {already} already there" if already else "")))
    unknown = sum(1 for path in written if path.relative_to(directory).parts[0].startswith("_service-"))
    if unknown:
        console.print(Text(f"{unknown} filed under _service-<digest>/: their service paths are "
                           f"named by no route or translator{'' if known else ' (no configuration)'}"))
    reasons = Counter(skip.reason for skip in found.skipped)
    for reason, count in reasons.most_common():
        console.print(Text(f"skipped {count}: {reason}"))
    for error in failed:
        errors.print(Text.assemble(("not written:", "red"), " ", str(error)), highlight=False)
    if failed:
        raise click.exceptions.Exit(1)
