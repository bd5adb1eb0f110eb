"""A real spyne SOAP 1.1 document/literal service over the shared records, as a WSGI app.

`GetRecord(recordId)` answers a `Record` (a string array and a date); an unknown id is a spyne
Fault with the custom faultcode `Client.RecordNotFound`. `gzip_app` wraps any WSGI app the way
Apache's mod_deflate would: the answer is gzipped when the request says `Accept-Encoding: gzip`.
"""

from __future__ import annotations

import datetime
import gzip
from typing import Any, Callable, Iterable

from spyne import Application, Array, ComplexModel, Date, Fault, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from .records import NAMESPACE, RECORDS


class Record(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("id", Unicode),
        ("title", Unicode),
        ("created", Date),
        ("tags", Array(Unicode)),
    ]


class RecordService(ServiceBase):
    @rpc(Unicode, _returns=Record, _in_variable_names={"record_id": "recordId"})
    def GetRecord(ctx: Any, record_id: str) -> Record:  # noqa: N802 - the SOAP operation's name
        found = RECORDS.get(record_id)
        if found is None:
            raise Fault(faultcode="Client.RecordNotFound", faultstring=f"no record with id {record_id}")
        return Record(
            id=found["id"],
            title=found["title"],
            created=datetime.date.fromisoformat(str(found["created"])),
            tags=list(found["tags"]),  # type: ignore[call-overload]
        )


def make_app() -> WsgiApplication:
    application = Application(
        [RecordService],
        tns=NAMESPACE,
        name="RecordService",
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(),
    )
    return WsgiApplication(application)


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def gzip_app(app: WsgiApp) -> WsgiApp:
    """Gzip the whole answer when the client accepts gzip, as mod_deflate does."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if "gzip" not in environ.get("HTTP_ACCEPT_ENCODING", ""):
            return app(environ, start_response)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()  # type: ignore[union-attr]
        compressed = gzip.compress(body, mtime=0)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding"),
                    ("Content-Length", str(len(compressed)))]
        start_response(captured["status"], headers)
        return [compressed]

    return wrapped


def main() -> None:
    """`python -m tests.interop.spyne_service [--gzip]`: serve on a free loopback port with
    waitress (a real HTTP/1.1 server), print `listening <port>`, run until killed."""
    import logging
    import sys

    from waitress.server import create_server

    logging.getLogger("spyne").setLevel(logging.CRITICAL)  # it logs every Fault it sends, with a traceback
    app: WsgiApp = make_app()
    if "--gzip" in sys.argv[1:]:
        app = gzip_app(app)
    server: Any = create_server(app, host="127.0.0.1", port=0, threads=4)
    print(f"listening {server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    main()
