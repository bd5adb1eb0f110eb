"""Turnout's configuration file, `turnout.yaml`, validated with file, line and field in every error."""

from ._editor import YamlEditor
from ._errors import ConfigError
from ._failure_log import FailureLog, failure_kind, is_power_of_ten, so_far
from ._files import AtomicWriteError, fsync_directory, make_directories, write_atomically, write_many
from ._identity import IdentitySettings
from ._instance import INSTANCE_VARIABLE, check_instance_name, instance_label, instance_of
from ._logging import LOG_FORMATS, REQUEST_IDS, clear_request_ids, configure_logging, set_request_ids
from ._officers import load_officers, load_operation_roles
from ._parent import exit_with_parent
from ._proxy import AuditSettings, ProxyConfig, TracingSettings, check_upstream, load_proxy_config
from ._tls import CIPHERS_TLS12, ListenTls, PeerTls
from ._yaml import Node, dump_yaml, load_yaml, parse_yaml

__all__ = [
    "LOG_FORMATS",
    "REQUEST_IDS",
    "TracingSettings",
    "clear_request_ids",
    "configure_logging",
    "set_request_ids",
    "exit_with_parent",
    "INSTANCE_VARIABLE",
    "check_instance_name",
    "instance_label",
    "instance_of",
    "AtomicWriteError",
    "AuditSettings",
    "CIPHERS_TLS12",
    "ConfigError",
    "FailureLog",
    "IdentitySettings",
    "ListenTls",
    "Node",
    "PeerTls",
    "ProxyConfig",
    "YamlEditor",
    "check_upstream",
    "dump_yaml",
    "failure_kind",
    "fsync_directory",
    "is_power_of_ten",
    "load_officers",
    "load_operation_roles",
    "load_proxy_config",
    "load_yaml",
    "make_directories",
    "parse_yaml",
    "so_far",
    "write_atomically",
    "write_many",
]
