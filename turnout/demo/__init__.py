"""An embedded legacy SOAP bus and modern JSON services over one fictional data set.

For the demo and the tests: real HTTP over loopback, real WSDLs, real SOAP Faults.
"""

from .data import DemoStore
from .identity import DEMO_IDENTITY, DEMO_TOKEN_KEY, DemoIdentity, read_token_key
from .legacy import make_legacy_app
from .modern import make_modern_app, make_modern_apps, run_services
from .server import ServerThread, run_legacy

__all__ = [
    "DEMO_IDENTITY",
    "DEMO_TOKEN_KEY",
    "DemoIdentity",
    "DemoStore",
    "ServerThread",
    "make_legacy_app",
    "make_modern_app",
    "make_modern_apps",
    "read_token_key",
    "run_legacy",
    "run_services",
]
