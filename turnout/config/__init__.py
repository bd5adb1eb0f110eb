"""Turnout's configuration file, `turnout.yaml`, validated with file, line and field in every error."""

from ._editor import YamlEditor
from ._errors import ConfigError
from ._files import AtomicWriteError, fsync_directory, make_directories, write_atomically, write_many
from ._identity import IdentitySettings
from ._officers import load_officers, load_operation_roles
from ._proxy import AuditSettings, ProxyConfig, check_upstream, load_proxy_config
from ._tls import ListenTls, PeerTls
from ._yaml import Node, dump_yaml, load_yaml, parse_yaml

__all__ = ["AtomicWriteError", "AuditSettings", "ConfigError", "fsync_directory", "make_directories", "write_atomically", "write_many", "YamlEditor", "IdentitySettings", "ListenTls", "Node", "PeerTls", "ProxyConfig", "check_upstream", "load_proxy_config",
           "load_officers", "load_operation_roles", "dump_yaml", "load_yaml", "parse_yaml"]
