"""Which instance of a fleet this proxy is: `instance:` in turnout.yaml, or `TURNOUT_INSTANCE`.

Many proxies behind one load balancer share one route file and, often, one recordings volume.
Each then names itself, so its recordings go under a directory of its own
(`<recordings.dir>/_instances/<name>/`, see `turnout.recording.instance_root`) and no two
instances ever write, or clean up after a crash, the same files. The environment wins over the
file, since one file is shared by all (in Kubernetes, set `TURNOUT_INSTANCE` from the pod's
name). Unnamed, a proxy records into `recordings.dir` itself, as a single proxy always has, and
calls itself by its host name in what it reports.
"""

from __future__ import annotations

import os
import re
import socket
from typing import TYPE_CHECKING

from ._errors import ConfigError

if TYPE_CHECKING:
    from ._proxy import ProxyConfig

INSTANCE_VARIABLE = "TURNOUT_INSTANCE"
#: a name fit for a directory: letters, digits, `.`, `_`, `-`; not starting with `.` or `_`
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def check_instance_name(name: str, where: str = "instance") -> str:
    """`name` when it is fit to be a directory name; else `ConfigError` naming `where`."""
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"{name!r} is not an instance name: 1 to 63 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit", field=where,
        )
    return name


def instance_of(config: ProxyConfig | None) -> str | None:
    """The instance's explicit name: `TURNOUT_INSTANCE` when set, else the config's `instance:`,
    else None (a single proxy: recordings go straight into `recordings.dir`)."""
    given = os.environ.get(INSTANCE_VARIABLE, "").strip()
    if given:
        return check_instance_name(given, INSTANCE_VARIABLE)
    return config.instance if config is not None else None


def instance_label(config: ProxyConfig | None) -> str:
    """What the instance calls itself in what it reports: its name, else the host name (in
    Kubernetes, the pod's name)."""
    return instance_of(config) or socket.gethostname()
