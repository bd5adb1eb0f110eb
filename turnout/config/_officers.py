"""Identity files: the officers who may call (UsernameToken passwords, roles) and the role
each operation needs.

A file people edit, so it is read here with the other configuration files: through
`load_yaml`, so every error names file, line and field. What the entries mean at request time
(checking a token against an `Officer`) is `turnout.soap`'s `verify_username_token`.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..soap import MAX_USERNAME, Officer
from ._yaml import load_yaml


def load_officers(path: Path | str) -> dict[str, Officer]:
    """The `officers:` of an identity file (see turnout/demo/identity.yaml):

        officers:
          PC5518: {password: "...", roles: [pnc-check, crime-report]}
        operations:             # optional here; see load_operation_roles
          /pnc PersonEnquiry: pnc-check

    Raises `ConfigError` naming file, line and field.
    """
    return _read_identity_file(Path(path))[0]


def load_operation_roles(path: Path | str) -> dict[str, str]:
    """The `operations:` of an identity file: operation key (`/pnc PersonEnquiry`) -> the role it
    needs. An operation not listed needs a role nobody has: whoever reads this map must refuse it.
    """
    return _read_identity_file(Path(path), operations_required=True)[1]


_OPERATION_KEY = re.compile(r"/\S* [^\s/]+")


def _read_identity_file(
    path: Path, *, operations_required: bool = False
) -> tuple[dict[str, Officer], dict[str, str]]:
    root = load_yaml(path).mapping({"officers", "operations"})
    officers_node = root.get("officers")
    if officers_node is None:
        raise root.error("officers: is required")
    if not isinstance(officers_node.value, dict):
        raise officers_node.error("must be a mapping of officer ids to {password, roles}")
    if not officers_node.value:
        raise officers_node.error("must name at least one officer")
    officers: dict[str, Officer] = {}
    for name in officers_node.value:
        entry = officers_node.get(name)
        assert entry is not None
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_USERNAME or name != name.strip():
            raise entry.error("an officer id must be a non-empty string without surrounding spaces")
        entry.mapping({"password", "roles"})
        password_node, roles_node = entry.get("password"), entry.get("roles")
        if password_node is None:
            raise entry.error("password: is required")
        if roles_node is None:
            raise entry.error("roles: is required")
        roles = frozenset(item.string() for item in roles_node.items())
        officers[name] = Officer(password=password_node.string(), roles=roles)

    operations: dict[str, str] = {}
    operations_node = root.get("operations")
    if operations_node is None:
        if operations_required:
            raise root.error("operations: is required")
        return officers, operations
    if not isinstance(operations_node.value, dict):
        raise operations_node.error("must be a mapping of operation keys to roles")
    for key in operations_node.value:
        entry = operations_node.get(key)
        assert entry is not None
        if not isinstance(key, str) or not _OPERATION_KEY.fullmatch(key):
            raise entry.error("an operation key is the service path and the operation, "
                              "e.g. '/pnc PersonEnquiry'")
        operations[key] = entry.string()
    return officers, operations
