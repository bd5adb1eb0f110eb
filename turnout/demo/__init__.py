"""An embedded legacy SOAP bus and modern JSON services over one fictional data set.

For the demo and the tests: real HTTP over loopback, real WSDLs, real SOAP Faults.
"""

from .data import DemoStore
from .legacy import make_legacy_app
from .modern import make_modern_app, make_modern_apps, run_services
from .server import ServerThread, run_legacy

__all__ = [
    "DemoStore",
    "ServerThread",
    "make_legacy_app",
    "make_modern_app",
    "make_modern_apps",
    "run_legacy",
    "run_services",
]
