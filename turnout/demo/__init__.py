"""An embedded legacy SOAP bus (and, later, modern JSON services) over one fictional data set.

For the demo and the tests: real HTTP over loopback, real WSDLs, real SOAP Faults.
"""

from .data import DemoStore
from .legacy import make_legacy_app
from .server import ServerThread, run_legacy

__all__ = ["DemoStore", "ServerThread", "make_legacy_app", "run_legacy"]
