"""turnout.yaml's `identity:` section: who may call, checked on the translator path as the bus did.

    identity:
      officers: identity.yaml          # officers (UsernameToken passwords, roles) and each
                                       # operation's role; turnout/demo/identity.yaml's format
      token_key_file: token.key        # or token_key_env: VAR; the key service tokens are signed with
      window: 300                      # seconds a UsernameToken's Created may be from now
      token_ttl: 60                    # seconds a service token lives

The key is read when the proxy starts, not when the file loads: `routes set` never needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ._yaml import Node


@dataclass(frozen=True)
class IdentitySettings:
    officers: Path
    token_key_file: Path | None = None
    token_key_env: str | None = None
    window: float = 300.0
    token_ttl: int = 60


def load_identity(node: Node, path: Path) -> IdentitySettings:
    node.mapping({"officers", "token_key_file", "token_key_env", "window", "token_ttl"})
    officers = node.get("officers")
    if officers is None:
        raise node.error("missing field: officers (the file of officers and operation roles)")
    officers_path = (path.parent / officers.string()).resolve()
    if not officers_path.is_file():
        raise officers.error(f"no such file: {officers_path} (relative to {path.parent})")
    key_file, key_env = node.get("token_key_file"), node.get("token_key_env")
    if (key_file is None) == (key_env is None):
        raise node.error("give exactly one of token_key_file and token_key_env (the key service "
                         "tokens are signed with)")
    window, ttl = node.get("window"), node.get("token_ttl")
    return IdentitySettings(
        officers=officers_path,
        token_key_file=(path.parent / key_file.string()).resolve() if key_file is not None else None,
        token_key_env=key_env.string() if key_env is not None else None,
        window=window.number(1, 3600) if window is not None else IdentitySettings.window,
        token_ttl=ttl.integer(5, 3600) if ttl is not None else IdentitySettings.token_ttl,
    )
