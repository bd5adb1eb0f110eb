"""`turnout translators check DIR`: each translator's halves run on example messages.

Thin: finds the recordings `--examples` names, calls `turnout.scaffold.check_translators`, and
prints what it found (file:line: field of the mapping, the example) or what it checked.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..config import ConfigError
from ..recording import Exchange, read_recordings
from ..scaffold import CheckReport, Example, check_translators
from ..translators import JsonReply, reply_from_document
from ._render import console, errors, fail_config, warn


@click.group()
def translators() -> None:
    """Check translators (mapping files and Python ones) before any traffic reaches them."""


@translators.command("check")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--wsdl", "wsdls", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="A WSDL (or a folder of them) the translators' operations are in. Also found: "
                   "*.wsdl in DIR, in wsdl/ beside it, and those the scaffold state records.")
@click.option("--openapi", "contracts", multiple=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The modern services' OpenAPI document the JSON calls must fit. Also found: "
                   "openapi.json|yaml in DIR or beside it.")
@click.option("--examples", "recordings", multiple=True,
              type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A folder of recordings: each recorded request is an example request of its "
                   "operation, each recorded JSON reply an example reply.")
def check(directory: Path, wsdls: tuple[Path, ...], contracts: tuple[Path, ...],
          recordings: tuple[Path, ...]) -> None:
    """Run each translator under DIRECTORY on its example requests and replies.

    The request half must find every XPath it reads in the examples (one that finds nothing
    is a wrong element name or namespace), must not refuse a valid example, and its JSON call
    must fit the OpenAPI contract when one is known; the reply half must not fail, and its
    envelope must validate against the WSDL's schema. Examples: the scaffold's files
    (examples/ beside DIR), recordings (--examples), else one generated from the WSDL.
    Exits 1 on any finding.
    """
    examples: list[Example] = []
    for folder in recordings:
        examples.extend(recorded_examples(folder))
    try:
        report = check_translators(directory, wsdls=_wsdl_files(wsdls), contracts=contracts,
                                   examples=examples)
    except ConfigError as exc:
        fail_config(exc)
    render_check(report, str(directory))
    if not report.ok:
        raise click.exceptions.Exit(1)


def _wsdl_files(given: tuple[Path, ...]) -> list[Path]:
    found: list[Path] = []
    for path in given:
        found.extend(sorted(path.glob("*.wsdl")) if path.is_dir() else [path])
    return found


def recorded_examples(folder: Path) -> list[Example]:
    """Each recording under `folder` as an example: its request (a valid one when the bus
    answered without a Fault) and, when a translator called its service, the JSON reply (a
    fan-out translator's replies by call name)."""
    exchanges, problems = read_recordings(folder)
    for problem in problems:
        warn(f"recording not read: {problem}")
    return [example for exchange in exchanges if (example := _example(exchange)) is not None]


def _example(exchange: Exchange) -> Example | None:
    if exchange.operation is None:
        return None
    request = exchange.request.body if "request" not in exchange.omitted_bodies else None
    recorded = exchange.translation.get("reply")
    reply = None
    if isinstance(recorded, dict) and isinstance(recorded.get("status"), int):
        reply = JsonReply(status=recorded["status"], body=recorded.get("body"))
    several = exchange.translation.get("replies")  # a fan-out run: each call's reply by name
    replies = None
    if isinstance(several, dict):
        replies = {str(name): reply_from_document(document)
                   for name, document in several.items() if isinstance(document, dict)}
    if request is None and reply is None and replies is None:
        return None
    answered = exchange.response.status if exchange.response is not None else None
    return Example(
        operation=exchange.operation.key, label=f"recording {exchange.id}", request=request,
        reply=reply, path=exchange.request.path, valid_request=answered == 200,
        replies=replies,
    )


def render_check(report: CheckReport, what: str) -> None:
    """The findings, one per line (file:line: field: message (example)), then a summary."""
    for note in report.notes:
        errors.print(f"note: {note}", highlight=False)
    if report.no_reply_examples:
        errors.print(f"note: no example reply, so the reply half was not run, for: "
                     f"{', '.join(report.no_reply_examples)} (give recordings with --examples, "
                     "or write <stem>.reply.json beside the example request)", highlight=False)
    checked = (f"{len(report.translators)} translators, {report.request_examples} example "
               f"requests, {report.reply_examples} example replies")
    against = []
    if report.wsdls:
        against.append(f"{len(report.wsdls)} WSDLs")
    if report.contracts:
        against.append(f"{len(report.contracts)} OpenAPI contracts")
    if against:
        checked += " against " + " and ".join(against)
    if report.ok:
        console.print(f"[green]ok[/]: {what}: {checked}", highlight=False, soft_wrap=True)
        return
    for finding in report.findings:
        errors.print(f"{finding.translator}: {finding}", highlight=False, soft_wrap=True)
    count = len(report.findings)
    errors.print(f"[red]failed[/]: {what}: {count} problem{'s' if count != 1 else ''} in {checked}",
                 highlight=False)
