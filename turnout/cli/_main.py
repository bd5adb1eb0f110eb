"""The command group and the error handling every command shares."""

from __future__ import annotations

import logging

import click

from ..config import LOG_FORMATS, configure_logging
from ._audit import audit
from ._compare import compare
from ._demo import demo
from ._golden import record_golden_command
from ._mock import mock
from ._proxy import proxy
from ._recordings import recordings
from ._replay import replay
from ._routes import routes
from ._send import send
from ._status import status
from ._top import top
from ._translators import translators
from ._wsdl import scaffold, wsdl


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("--log-format", type=click.Choice(LOG_FORMATS), default="text", envvar="TURNOUT_LOG_FORMAT",
              show_default=True, help="Log lines as text, or as one JSON object each (time, level, "
                                      "logger, message, request_id, trace_id). Env TURNOUT_LOG_FORMAT.")
@click.version_option(package_name="turnout")
def main(verbose: int, log_format: str) -> None:
    """Turnout: retire a legacy SOAP bus one operation at a time."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    configure_logging(level, log_format)


main.add_command(proxy)
main.add_command(demo)
main.add_command(recordings)
main.add_command(routes)
main.add_command(status)
main.add_command(compare)
main.add_command(replay)
main.add_command(wsdl)
main.add_command(scaffold)
main.add_command(send)
main.add_command(audit)
main.add_command(mock)
main.add_command(top)
main.add_command(translators)
demo.add_command(record_golden_command)
