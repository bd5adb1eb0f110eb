"""The host-neutral request pipeline: plain request and response values in, decisions out.

Growing here from turnout/proxy one step at a time (DESIGN.md's gateway row). What is here today:
the one rule for the headers and framing of every answer the proxy sends (`client_response`),
the request's reading before routing (`read_request`), and the safety rules that keep a moved
operation off the bus (`bus_refusal`). The mitmproxy addons in turnout/proxy call these.
"""

from ._framing import client_response
from ._reading import ReadRequest, read_request
from ._safety import bus_refusal, route_for

__all__ = ["ReadRequest", "bus_refusal", "client_response", "read_request", "route_for"]
