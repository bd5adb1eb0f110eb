"""The host-neutral request pipeline: plain request and response values in, decisions out.

Growing here from turnout/proxy one step at a time (DESIGN.md's gateway row). What is here today:
the one rule for the headers and framing of every answer the proxy sends (`client_response`),
the request's reading before routing (`read_request`), the safety rules that keep a moved
operation off the bus (`bus_refusal`), and who is calling on the translator path (`Gatekeeper`). The mitmproxy addons in turnout/proxy call these.
"""

from ._framing import client_response
from ._identity import Gatekeeper, Refusal
from ._reading import ReadRequest, read_request
from ._safety import bus_refusal, route_for

__all__ = ["Gatekeeper", "ReadRequest", "Refusal", "bus_refusal", "client_response", "read_request", "route_for"]
