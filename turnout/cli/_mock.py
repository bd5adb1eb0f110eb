"""`turnout mock legacy DIR` and `turnout mock services DIR`: recordings served as a virtual bus
and as virtual modern services (docs/mock.md)."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import ConfigError
from ..mock import (
    Handed,
    Latency,
    VirtualBus,
    WsdlDocuments,
    WsdlError,
    legacy_app,
    mock_rules,
    open_legacy,
    open_services,
    parse_latency,
    serve,
    serve_all,
    services_app,
    writes_by,
)
from ..recording import RecordingError
from ._render import console, fail, load_config
from ._replay import declared


def _latency(_ctx: click.Context, _param: click.Parameter, value: str) -> Latency:
    try:
        return parse_latency(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


_DIRECTORY = click.argument("directory", type=click.Path(exists=True, file_okay=False,
                                                           path_type=Path))
_HOST = click.option("--host", default="127.0.0.1", show_default=True)
_PORT = click.option("--port", type=click.IntRange(1, 65535), required=True)
_LATENCY = click.option(
    "--latency", default="none", show_default=True, callback=_latency,
    help="recorded: wait as long as the recorded backend took for each answer; none: answer at "
         "once; or a fixed time such as 50ms.")


@click.group()
def mock() -> None:
    """Serve recordings as a virtual bus or virtual modern services."""



@mock.command("legacy")
@_DIRECTORY
@_HOST
@_PORT
@click.option("--wsdl", "wsdl_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of the bus's WSDLs (and the XSDs they import), served at "
                   "/<service>?wsdl, addressed to the mock [default: DIR/wsdl when there is one].")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="turnout.yaml: its compare rules and the writes its routes declare.")
@click.option("--rules", "rules_paths", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Compare rules (repeatable), before DIR/compare.yaml: what they ignore does "
                   "not count when matching and is made fresh in answers.")
@click.option("--services-port", type=click.IntRange(1, 65535),
              help="Also serve the virtual services (as `turnout mock services DIR`) on this "
                   "port, in the same process: a value either one hands out (a new crime "
                   "reference) is then known to the other, as a proxy in shadow or translator "
                   "mode in front of both needs.")
@_LATENCY
def legacy(directory: Path, host: str, port: int, wsdl_dir: Path | None,
           config_path: Path | None, rules_paths: tuple[Path, ...], services_port: int | None,
           latency: Latency) -> None:
    """A virtual bus on PORT answering SOAP requests from the recordings in DIRECTORY."""
    config = load_config(config_path)
    files = [*([config.compare_rules] if config and config.compare_rules else []), *rules_paths]
    handed = Handed()
    try:
        rules = mock_rules(directory, files)
        _, writes = declared(config) if config is not None else (frozenset(), frozenset())
        book = open_legacy(directory, rules, writes_by(writes))
        calls = open_services(directory, handed) if services_port is not None else None
        wsdl_dir = wsdl_dir or (directory / "wsdl" if (directory / "wsdl").is_dir() else None)
        documents = WsdlDocuments.from_dir(wsdl_dir) if wsdl_dir else WsdlDocuments()
    except (ConfigError, RecordingError, WsdlError) as exc:
        fail(str(exc))
    if not len(book):
        fail(f"{directory}: no recording holds a bus's answer (outcome forwarded, on the legacy, "
             "shadow or replay route)")
    if calls is not None and not len(calls):
        fail(f"{directory}: no recording holds a JSON call and its reply for --services-port "
             "(record in shadow or translator mode)")
    console.print(f"virtual bus on http://{host}:{port}: {len(book)} recordings of "
                  f"{len(book.operations)} operations from {directory}", highlight=False)
    if documents.services:
        console.print(f"WSDLs: {', '.join(s + '?wsdl' for s in documents.services)}",
                      highlight=False)
    apps = [(legacy_app(VirtualBus(book, handed), documents, latency), port)]
    if calls is not None and services_port is not None:
        console.print(f"virtual services on http://{host}:{services_port}: {len(calls)} recorded "
                      f"calls on {len(calls.by_route)} method and path pairs, sharing what the "
                      "bus hands out", highlight=False)
        apps.append((services_app(calls, latency), services_port))
    serve_all(apps, host)


@mock.command("services")
@_DIRECTORY
@_HOST
@_PORT
@_LATENCY
def services(directory: Path, host: str, port: int, latency: Latency) -> None:
    """Virtual modern services on PORT answering JSON calls from the recordings in DIRECTORY
    (the calls and replies of translator and shadow exchanges)."""
    try:
        book = open_services(directory)
    except RecordingError as exc:
        fail(str(exc))
    if not len(book):
        fail(f"{directory}: no recording holds a JSON call and its reply (record in shadow or "
             "translator mode)")
    console.print(f"virtual services on http://{host}:{port}: {len(book)} recorded calls on "
                  f"{len(book.by_route)} method and path pairs from {directory}", highlight=False)
    serve(services_app(book, latency), host, port)
