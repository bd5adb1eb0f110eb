"""`turnout send URL FILE|DIR...`: post SOAP envelopes through the proxy (or to a bus), as a
client would, and print what came back.

For following the walkthrough with the CLI alone: the example requests `turnout scaffold`
writes (`examples/<service>/<operation>.request.xml`) say which operation they are for and the
WSDL's soapAction (a comment, see `turnout.scaffold.with_example_note`), so a
directory of them can be sent to the proxy's address as it is.
"""

from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

import click
from lxml import etree
from rich.text import Text

from ..scaffold import read_example_note
from ..soap import SOAP12, SoapError, parse_xml, read_envelope
from ._render import console, fail, shown

_EXAMPLES = "*.request.xml"


@dataclass(frozen=True)
class _Request:
    file: Path
    body: bytes
    key: str
    path: str
    headers: dict[str, str]


@click.command()
@click.argument("url")
@click.argument("paths", metavar="FILE|DIR...", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@click.option("--fail-on-fault", is_flag=True,
              help="Exit 1 when any answer is a SOAP Fault (by default a Fault is an answer).")
@click.option("-H", "--header", "extra", multiple=True, metavar="'NAME: VALUE'",
              help="Another request header, e.g. 'X-Officer-Id: 4411' for a canary; repeatable.")
@click.option("--timeout", type=click.FloatRange(0.1, 600), default=30.0, show_default=True,
              help="Seconds to wait for each answer.")
def send(url: str, paths: tuple[Path, ...], fail_on_fault: bool, extra: tuple[str, ...],
         timeout: float) -> None:
    """Post each SOAP envelope FILE (or every example request, *.request.xml, a scaffold wrote
    under DIR) to URL, and print each answer's HTTP status, operation and envelope (or its
    Fault's code and reason).

    URL is the proxy's (or the bus's) address. Without a path (http://127.0.0.1:8080) each
    envelope goes to its service's path, as the scaffold noted it in the example; with one
    (http://127.0.0.1:8080/pnc) every envelope goes there. Content-Type and the action follow
    the envelope's SOAP version: 1.1 text/xml with SOAPAction, 1.2 application/soap+xml with
    an action parameter; the action is the WSDL's soapAction the scaffold noted, else the
    operation's name.

    Exits 1 when a request could not be sent or got no SOAP answer, and (with --fail-on-fault)
    when an answer is a Fault; 2 for a file that is not a SOAP envelope.
    """
    target = urlsplit(url)
    if target.scheme not in ("http", "https") or not target.hostname:
        fail(f"URL must be an http:// or https:// address, not {url!r}")
    headers = dict(_header(text) for text in extra)
    requests = [_request(file, target.path, headers) for file in _files(paths)]
    outcomes = [_send(target, request, timeout) for request in requests]
    failed, faults = outcomes.count("failed"), outcomes.count("fault")
    summary = (f"{len(requests)} requests: {outcomes.count('ok')} answered, {faults} faults, "
               f"{failed} failed")
    console.print(Text(summary, style="bold"))
    if failed or (fail_on_fault and faults):
        raise click.exceptions.Exit(1)


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        fail(f"--header {text!r}: expected 'Name: value'")
    return name.strip(), value.strip()


def _files(paths: tuple[Path, ...]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            examples = sorted(path.rglob(_EXAMPLES))
            if not examples:
                fail(f"{shown(path)}: no example requests ({_EXAMPLES}) in this directory")
            found.extend(examples)
        elif path.is_file():
            found.append(path)
        else:
            fail(f"{shown(path)}: no such file or directory")
    return found


def _request(file: Path, url_path: str, extra: dict[str, str]) -> _Request:
    """What to post for `file`: where, with which headers. A file that is not an envelope (or
    says no service path when the URL gives none) stops the command before anything is sent."""
    try:
        body = file.read_bytes()
    except OSError as exc:
        fail(f"{shown(file)}: cannot read: {exc.strerror}")
    noted_key, noted_action = read_example_note(body)
    if url_path not in ("", "/"):
        path = url_path
    elif noted_key is not None:
        path = noted_key.split(" ", 1)[0]
    else:
        fail(f"{shown(file)}: the file does not say which service it is for (no note from "
             f"turnout scaffold); give the service's full URL, e.g. http://host:8080/pnc")
    try:
        envelope = read_envelope(body, path)
    except SoapError as exc:
        fail(f"{shown(file)}: not a SOAP envelope: {exc}")
    action = noted_action or envelope.operation.name
    encoding = (envelope.root.getroottree().docinfo.encoding or "utf-8").lower()
    if envelope.version is SOAP12:
        headers = {"Content-Type": f'application/soap+xml; charset={encoding}; action="{action}"'}
    else:
        headers = {"Content-Type": f"text/xml; charset={encoding}", "SOAPAction": f'"{action}"'}
    headers.update(extra)
    return _Request(file, body, envelope.operation.key, path, headers)


def _send(target: SplitResult, request: _Request, timeout: float) -> str:
    """Post one request and print what came back: "ok", "fault" or "failed"."""
    assert target.hostname is not None  # send() refuses a URL without one
    port = target.port or (443 if target.scheme == "https" else 80)
    connection_class = (http.client.HTTPSConnection if target.scheme == "https"
                        else http.client.HTTPConnection)
    where = f"{target.scheme}://{target.netloc}{request.path}"
    console.print(Text.assemble((request.key, "bold"), f"  {request.file} -> {where}"))
    connection = connection_class(target.hostname, port, timeout=timeout)
    try:
        connection.request("POST", request.path, body=request.body, headers=request.headers)
        response = connection.getresponse()
        status, reason, data = response.status, response.reason, response.read()
    except (OSError, http.client.HTTPException) as exc:
        problem = "timed out" if isinstance(exc, socket.timeout) else (
            getattr(exc, "strerror", None) or str(exc) or type(exc).__name__)
        console.print(Text.assemble(("  failed:", "bold red"),
                                    f" could not send to {where}: {problem}"))
        return "failed"
    finally:
        connection.close()
    head = Text.assemble(("  ", ""), (f"{status} {reason}".rstrip(),
                                      "green" if status < 400 else "yellow"))
    try:
        root = parse_xml(data)
    except SoapError:
        root = None
    if root is None or etree.QName(root).localname != "Envelope":
        console.print(head)
        text = data.decode("utf-8", "replace")
        console.print(Text(f"  not a SOAP answer ({len(data)} bytes): {text[:500]}"))
        return "failed" if status >= 400 or root is None else "ok"
    fault = _fault(root)
    if fault is not None:
        code, reason_text = fault
        head.append(f"  Fault {code}: {reason_text}", style="yellow")
        console.print(head)
        return "fault"
    console.print(head)
    etree.indent(root)
    console.print(Text(etree.tostring(root, encoding="unicode")), highlight=False)
    return "ok"


def _fault(root: etree._Element) -> tuple[str, str] | None:
    """The Fault's code (1.2: with its subcodes, `soap:Sender/app:Invalid`) and reason, or None
    when the Body holds no Fault."""
    body = next((c for c in root if isinstance(c.tag, str)
                 and etree.QName(c).localname == "Body"), None)
    payload = next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
    if payload is None or etree.QName(payload).localname != "Fault" or (
        etree.QName(payload).namespace != etree.QName(root).namespace
    ):
        return None
    children = {etree.QName(c).localname: c for c in payload if isinstance(c.tag, str)}
    if "faultcode" in children or "faultstring" in children:  # 1.1
        code = (children["faultcode"].text or "").strip() if "faultcode" in children else "-"
        reason = (children["faultstring"].text or "").strip() if "faultstring" in children else ""
        return code, reason
    codes = []
    node = children.get("Code")
    while node is not None:
        parts = {etree.QName(c).localname: c for c in node if isinstance(c.tag, str)}
        if "Value" in parts:
            codes.append((parts["Value"].text or "").strip())
        node = parts.get("Subcode")
    reason_node = children.get("Reason")
    texts = [(t.text or "").strip() for t in reason_node if isinstance(t.tag, str)] if (
        reason_node is not None) else []
    return "/".join(codes) or "-", texts[0] if texts else ""
