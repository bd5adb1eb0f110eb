"""`turnout.yaml`: what the proxy listens on, where the legacy bus is, what it records and how."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from ..soap import XmlLimits
from ._errors import ConfigError
from ._identity import IdentitySettings, load_identity
from ._instance import check_instance_name
from ._tls import ListenTls, PeerTls, check_upstream_scheme, load_listen_tls, load_service
from ._yaml import Node, load_yaml

_TOP_LEVEL = {
    "listen", "upstream", "recordings", "limits", "reject_unreadable", "soapaction_mismatch",
    "timeouts", "keep_host_header", "upstream_path_case", "tls",
    "translators", "services", "shadow", "compare", "admin", "readiness",
    # validated by turnout.routing (the route table is live-reloaded from this same file):
    "routes", "canary",
    "audit",  # the access audit trail (turnout.audit)
    "identity",  # who may call, checked on the translator path (turnout.gateway)
    "tracing",  # spans exported over OTLP/HTTP (turnout.gateway)
    "instance", "shutdown",  # many instances behind a load balancer (docs/operations-instances.md)
}


@dataclass(frozen=True)
class AuditSettings:
    """The `audit:` section: one line per request that reaches personal data (turnout.audit)."""

    dir: Path
    #: where the HMAC key is (one of the two); read when the trail opens or is queried, not at load
    key_env: str | None = None
    key_file: Path | None = None
    #: lines older than this many days are deleted at start and each new UTC day; None: kept
    retention_days: int | None = None
    #: lines waiting for the background appender; past this, new ones are dropped and counted
    queue: int = 10_000
    #: identifier kind -> element local names (None: turnout.audit's default list)
    names: Mapping[str, tuple[str, ...]] | None = None
    #: identifier kind -> local names of sibling parts hashed together, the first required
    #: (None: the default, name = surname, forenames, dateOfBirth)
    combined: Mapping[str, tuple[str, ...]] | None = None
    #: operation key -> kind -> XPaths (one: a value each match; several: parts combined);
    #: an operation listed here is read by these alone, not by `names`/`combined`
    xpaths: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    namespaces: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TracingSettings:
    """The `tracing:` section: one span per request (and its bus and service calls) sent to an
    OTLP/HTTP collector. Request ids and `traceparent` are passed on whether or not it is set."""

    #: e.g. http://127.0.0.1:4318/v1/traces
    otlp_endpoint: str
    service_name: str = "turnout"
    #: the share of new traces exported (a client's traceparent decides for its own traces)
    sample_ratio: float = 1.0


@dataclass(frozen=True)
class ProxyConfig:
    upstream: str
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    record_dir: Path | None = None
    #: exchanges waiting for the writer; past this, new ones are dropped and counted (never blocked)
    record_queue: int = 10_000
    #: the raw `recordings.redaction` section; turned into a Redactor by the recording layer
    redaction: dict[str, Any] = field(default_factory=dict)
    limits: XmlLimits = XmlLimits()
    #: answer a Fault for a request that cannot be read as SOAP, instead of forwarding it
    reject_unreadable: bool = False
    #: "pass": forward a SOAPAction/Body disagreement to the bus (recorded); "reject": a Fault
    soapaction_mismatch: str = "pass"
    upstream_timeout: float = 10.0
    connect_timeout: float = 3.0
    #: seconds a client has, from its request headers, to send the whole body; then it is cut off
    client_body_timeout: float = 10.0
    #: the bus treats /CRIS as /cris (IIS does): route keys then match paths in any case
    upstream_path_case_insensitive: bool = False
    #: a bus answer larger than this reaches the client but is not held, recorded or diffed
    max_response_bytes: int = 16 * 1024 * 1024
    #: queued recordings, in body bytes; past this new ones are dropped and counted
    record_queue_bytes: int = 64 * 1024 * 1024
    #: queued shadow jobs, in body bytes; past this new ones are dropped and counted
    shadow_queue_bytes: int = 32 * 1024 * 1024
    #: legacy or translated answers bigger than this are not diffed in shadow (counted)
    shadow_max_diff_bytes: int = 512 * 1024
    #: connections one client address may hold open at once; past this new ones are refused
    max_connections_per_client: int = 256
    #: seconds a connection may take to send a request's headers (and stay idle between requests)
    client_header_timeout: float = 30.0
    #: forward the client's Host header (so the bus renders WSDL addresses that point at us)
    keep_host_header: bool = True
    #: `tls.cert`/`tls.key`: the proxy listens with TLS only (plain HTTP refused); None: plain HTTP
    listen_tls: ListenTls | None = None
    #: how an https:// bus is reached (CA bundle, client certificate); verification always on
    upstream_tls: PeerTls = PeerTls()
    #: modern service name -> how it is reached over https:// (services without TLS settings: absent)
    service_tls: dict[str, PeerTls] = field(default_factory=dict)
    #: directory of translators (mapping files and Python classes)
    translators_dir: Path | None = None
    #: modern service name -> base URL, for translators' JSON calls
    services: dict[str, str] = field(default_factory=dict)
    shadow_concurrency: int = 4
    shadow_queue: int = 200
    #: per-operation compare rules (ignore volatile fields...) for shadow diffs and reports
    compare_rules: Path | None = None
    #: a loopback-only admin endpoint (route table and counters as JSON); None: off
    #: `turnout routes set OP translator` needs this shadow parity over this many samples
    readiness_min_parity: float = 100.0
    readiness_min_samples: int = 20
    #: which shadows the gate counts: the last N; None (`window: version`, the default): those
    #: of the current translator version
    readiness_window: int | None = None
    admin_host: str = "127.0.0.1"
    admin_port: int | None = None
    #: the access audit trail; None: off
    audit: AuditSettings | None = None
    #: callers' identity checked before any translator runs; None: off
    identity: IdentitySettings | None = None
    #: spans exported over OTLP; None: off (ids are still passed on and logged)
    tracing: TracingSettings | None = None
    #: this instance's name (`instance:`; `TURNOUT_INSTANCE` wins, see `instance_of`); None: unnamed
    instance: str | None = None
    #: seconds a graceful stop keeps serving, with /readyz failing, before it stops listening:
    #: the load balancer's probe interval x failure threshold (0: stop listening at once)
    drain_delay: float = 0.0
    source: Path | None = None

    def without_routes(self) -> ProxyConfig:
        """A copy that reads no route file (every operation legacy) and has no admin endpoint."""
        return replace(self, source=None, admin_port=None)

    def with_overrides(self, **changes: Any) -> ProxyConfig:
        """A copy with command-line overrides applied; None means "not given"."""
        given = {k: v for k, v in changes.items() if v is not None}
        if "upstream" in given:
            check_upstream(given["upstream"])
        return replace(self, **given)


def check_upstream(url: str, node: Node | None = None, allow_path: bool = False) -> str:
    """An http(s) URL of the bus (no path: clients' paths are appended as they come) or, with
    `allow_path`, of a modern service (a base path such as /api/v1 is kept)."""
    parts = urlsplit(url)
    problem = None
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https"):
        problem = f"must be an http:// or https:// URL, not {url!r}"
    elif not parts.hostname:
        problem = f"has no host: {url!r}"
    elif port == -1 or port == 0:
        problem = f"has a port that is not a number from 1 to 65535: {url!r}"
    elif (parts.path not in ("", "/") and not allow_path) or parts.query or parts.fragment:
        problem = (f"must be the bus's address alone (scheme, host, port), without a path, query or "
                   f"fragment: {url!r}; clients' paths are sent on as they come")
    elif parts.username or parts.password:
        problem = f"must not carry credentials: {url!r}"
    if problem:
        raise node.error(problem) if node else ConfigError(problem, field="upstream")
    return url.rstrip("/")


def load_proxy_config(path: Path) -> ProxyConfig:
    """Read and validate `turnout.yaml`. Every error names file, line and field."""
    root = load_yaml(path).mapping(_TOP_LEVEL)
    upstream_node = root.get("upstream")
    if upstream_node is None:
        raise root.error("missing field: upstream (the legacy bus URL)")
    values: dict[str, Any] = {"upstream": check_upstream(upstream_node.string(), upstream_node)}

    if (listen := root.get("listen")) is not None:
        listen.mapping({"host", "port"})
        if (host := listen.get("host")) is not None:
            values["listen_host"] = host.string()
        if (port := listen.get("port")) is not None:
            values["listen_port"] = port.integer(0, 65535)
    if (tls := root.get("tls")) is not None:
        values["listen_tls"], values["upstream_tls"] = load_listen_tls(tls, path.parent)
        check_upstream_scheme(values["upstream"], upstream_node, values["upstream_tls"], tls)

    if (recordings := root.get("recordings")) is not None:
        recordings.mapping({"dir", "redaction", "queue", "queue_bytes"})
        if (queue := recordings.get("queue")) is not None:
            values["record_queue"] = queue.integer(1, 1_000_000)
        if (queue_bytes := recordings.get("queue_bytes")) is not None:
            values["record_queue_bytes"] = queue_bytes.integer(1024 * 1024, 1 << 40)
        if (directory := recordings.get("dir")) is not None:
            values["record_dir"] = (path.parent / directory.string()).resolve()
        if (redaction := recordings.get("redaction")) is not None:
            values["redaction"] = _checked_redaction(redaction, path, values.get("record_dir"))

    if (limits := root.get("limits")) is not None:
        limits.mapping({"max_body_bytes", "max_depth", "max_response_bytes",
                        "max_connections_per_client"})
        if (response_bytes := limits.get("max_response_bytes")) is not None:
            values["max_response_bytes"] = response_bytes.integer(1024, 1 << 40)
        if (per_client := limits.get("max_connections_per_client")) is not None:
            values["max_connections_per_client"] = per_client.integer(1, 1_000_000)
        kwargs: dict[str, int] = {}
        if (size := limits.get("max_body_bytes")) is not None:
            kwargs["max_bytes"] = size.integer(1024, 256 * 1024 * 1024)
        if (depth := limits.get("max_depth")) is not None:
            kwargs["max_depth"] = depth.integer(4, 255)
        values["limits"] = XmlLimits(**kwargs)

    if (timeouts := root.get("timeouts")) is not None:
        timeouts.mapping({"upstream", "connect", "client_body", "client_header"})
        if (client_header := timeouts.get("client_header")) is not None:
            values["client_header_timeout"] = client_header.number(0.05, 3600)
        if (upstream_timeout := timeouts.get("upstream")) is not None:
            values["upstream_timeout"] = upstream_timeout.number(0.05, 600)
        if (connect := timeouts.get("connect")) is not None:
            values["connect_timeout"] = connect.number(0.05, 600)
        if (client_body := timeouts.get("client_body")) is not None:
            values["client_body_timeout"] = client_body.number(0.05, 3600)

    if (translators := root.get("translators")) is not None:
        values["translators_dir"] = _beside(path, translators.string())
    if (services := root.get("services")) is not None:
        services.mapping(set(services.value or {}))
        values["services"], values["service_tls"] = {}, {}
        for name in services.value:
            if (node := services.get(str(name))) is not None:
                url, url_node, service_tls = load_service(node, path.parent)
                values["services"][str(name)] = check_upstream(url, url_node, allow_path=True)
                if service_tls is not None:
                    values["service_tls"][str(name)] = service_tls
    if (shadow := root.get("shadow")) is not None:
        shadow.mapping({"concurrency", "queue", "queue_bytes", "max_diff_bytes"})
        if (queue_bytes := shadow.get("queue_bytes")) is not None:
            values["shadow_queue_bytes"] = queue_bytes.integer(1024 * 1024, 1 << 40)
        if (diff_bytes := shadow.get("max_diff_bytes")) is not None:
            values["shadow_max_diff_bytes"] = diff_bytes.integer(1024, 1 << 32)
        if (concurrency := shadow.get("concurrency")) is not None:
            values["shadow_concurrency"] = concurrency.integer(1, 256)
        if (queue := shadow.get("queue")) is not None:
            values["shadow_queue"] = queue.integer(1, 100_000)
    if (compare := root.get("compare")) is not None:
        compare.mapping({"rules"})
        if (rules := compare.get("rules")) is not None:
            values["compare_rules"] = _beside(path, rules.string())
    if (readiness := root.get("readiness")) is not None:
        readiness.mapping({"min_parity", "min_samples", "window"})
        if (parity := readiness.get("min_parity")) is not None:
            values["readiness_min_parity"] = parity.number(0, 100)
        if (samples := readiness.get("min_samples")) is not None:
            values["readiness_min_samples"] = samples.integer(1, 1_000_000)
        if (window := readiness.get("window")) is not None:
            if window.value != "version":  # else the default: the current translator version
                if isinstance(window.value, str):
                    raise window.error(f"must be version or a number of shadows, not {window.value!r}")
                values["readiness_window"] = window.integer(1, 10_000_000)
    if (admin := root.get("admin")) is not None:
        admin.mapping({"host", "port"})
        if (host := admin.get("host")) is not None:
            values["admin_host"] = host.string()
        if (port := admin.get("port")) is not None:
            values["admin_port"] = port.integer(0, 65535)

    if (audit := root.get("audit")) is not None:
        values["audit"] = _audit_settings(audit, path, values.get("record_dir"))

    if (flag := root.get("reject_unreadable")) is not None:
        values["reject_unreadable"] = flag.boolean()
    if (flag := root.get("keep_host_header")) is not None:
        values["keep_host_header"] = flag.boolean()
    if (case := root.get("upstream_path_case")) is not None:
        values["upstream_path_case_insensitive"] = case.choice(("sensitive", "insensitive")) == "insensitive"
    if (mismatch := root.get("soapaction_mismatch")) is not None:
        values["soapaction_mismatch"] = mismatch.choice(("pass", "reject"))
    if (identity := root.get("identity")) is not None:
        values["identity"] = load_identity(identity, path)
    if (tracing := root.get("tracing")) is not None:
        values["tracing"] = _tracing_settings(tracing)
    if (instance := root.get("instance")) is not None:
        try:
            values["instance"] = check_instance_name(instance.string())
        except ConfigError as exc:
            raise instance.error(exc.message) from None
    if (shutdown := root.get("shutdown")) is not None:
        shutdown.mapping({"drain_delay"})
        if (delay := shutdown.get("drain_delay")) is not None:
            values["drain_delay"] = delay.number(0, 3600)
    return ProxyConfig(source=path, **values)


def _beside(config_file: Path, relative: str) -> Path:
    """A path named in the config, made absolute from the config's directory without resolving
    symlinks: a directory mounted from a ConfigMap (`translators -> ..data/translators`) must be
    read through its link, which an update swaps, not through the directory it named at start."""
    return Path(os.path.abspath(config_file.parent / relative))


def _tracing_settings(node: Node) -> TracingSettings:
    node.mapping({"otlp_endpoint", "service_name", "sample_ratio"})
    endpoint = node.get("otlp_endpoint")
    if endpoint is None:
        raise node.error("missing field: otlp_endpoint (e.g. http://127.0.0.1:4318/v1/traces)")
    values: dict[str, Any] = {"otlp_endpoint": check_upstream(endpoint.string(), endpoint, allow_path=True)}
    if (name := node.get("service_name")) is not None:
        values["service_name"] = name.string()
    if (ratio := node.get("sample_ratio")) is not None:
        values["sample_ratio"] = ratio.number(0, 1)
    return TracingSettings(**values)


def _checked_redaction(node: Node, path: Path, record_dir: Path | None) -> dict[str, Any]:
    """Validate the redaction section now, so a bad XPath fails at load, not at the first write.

    Its shape only: the key (`key_env`, `key_file`) is not read here but when a redactor is built
    to record or read recordings, so changing or checking a route never needs the key."""
    from ..recording import redactor_from_config  # recording owns the rules' meaning

    node.mapping({"namespaces", "body", "quoted", "headers", "json", "key_env", "key_file"})
    section = node.plain()
    if (key_file := node.get("key_file")) is not None:
        resolved = (path.parent / key_file.string()).resolve()
        if record_dir is not None and resolved.is_relative_to(record_dir):
            raise key_file.error("the key must not be stored beside the recordings")
        section["key_file"] = str(resolved)
    try:
        redactor_from_config(section, load_key=False)
    except ValueError as exc:
        raise node.error(str(exc)) from None
    return section


_KIND = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_LOCAL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")


def _audit_settings(node: Node, path: Path, record_dir: Path | None) -> AuditSettings:
    """The `audit:` section, checked in shape (the key itself is read later, by turnout.audit)."""
    node.mapping({"dir", "key_env", "key_file", "retention_days", "queue", "identifiers"})
    directory_node = node.get("dir")
    if directory_node is None:
        raise node.error("missing field: dir (the audit trail's own directory)")
    directory = (path.parent / directory_node.string()).resolve()
    if record_dir is not None and (directory.is_relative_to(record_dir) or record_dir.is_relative_to(directory)):
        raise directory_node.error("the audit trail must have its own directory, apart from the recordings")
    values: dict[str, Any] = {"dir": directory}
    key_env, key_file = node.get("key_env"), node.get("key_file")
    if (key_env is None) == (key_file is None):
        raise node.error("give key_env or key_file (the audit HMAC key), one of the two")
    if key_env is not None:
        values["key_env"] = key_env.string()
    if key_file is not None:
        resolved = (path.parent / key_file.string()).resolve()
        if resolved.is_relative_to(directory):
            raise key_file.error("the key must not be stored beside the audit trail")
        values["key_file"] = resolved
    if (days := node.get("retention_days")) is not None:
        values["retention_days"] = days.integer(1, 36_500)
    if (queue := node.get("queue")) is not None:
        values["queue"] = queue.integer(1, 1_000_000)
    if (identifiers := node.get("identifiers")) is not None:
        values.update(_audit_identifiers(identifiers))
    return AuditSettings(**values)


def _audit_identifiers(node: Node) -> dict[str, Any]:
    node.mapping({"names", "combined", "xpaths", "namespaces"})
    values: dict[str, Any] = {}
    namespaces: dict[str, str] = {}
    if (ns := node.get("namespaces")) is not None:
        ns.mapping(set(ns.value or {}))
        for prefix in ns.value:
            namespaces[str(prefix)] = ns.get(str(prefix)).string()  # type: ignore[union-attr]
        values["namespaces"] = namespaces
    for section in ("names", "combined"):
        if (kinds := node.get(section)) is None:
            continue
        kinds.mapping(set(kinds.value or {}))
        parsed: dict[str, tuple[str, ...]] = {}
        for kind in kinds.value:
            child = kinds.get(str(kind))
            assert child is not None
            if not _KIND.fullmatch(str(kind)):
                raise child.error("an identifier kind is a word: letters, digits, _ or -")
            names = tuple(_audit_names(child))
            if section == "combined" and len(names) < 2:
                raise child.error("a combined identifier needs at least two parts")
            parsed[str(kind)] = names
        values[section] = parsed
    both = set(values.get("names") or ()) & set(values.get("combined") or ())
    if both:
        raise node.error(f"kind {sorted(both)[0]} is both in names and in combined")
    if (xpaths := node.get("xpaths")) is not None:
        xpaths.mapping(set(xpaths.value or {}))
        per_operation: dict[str, dict[str, tuple[str, ...]]] = {}
        for key in xpaths.value:
            operation = xpaths.get(str(key))
            assert operation is not None
            if len(str(key).split()) != 2 or not str(key).startswith("/"):
                raise operation.error("an operation is named '/service Operation'")
            operation.mapping(set(operation.value or {}))
            kinds_of: dict[str, tuple[str, ...]] = {}
            for kind in operation.value:
                child = operation.get(str(kind))
                assert child is not None
                if not _KIND.fullmatch(str(kind)):
                    raise child.error("an identifier kind is a word: letters, digits, _ or -")
                expressions = [child] if isinstance(child.value, str) else list(child.items())
                if not expressions:
                    raise child.error("must be an XPath or a list of XPaths")
                for expression in expressions:
                    try:
                        etree.XPath(expression.string(), namespaces=namespaces)
                    except etree.XPathError as exc:
                        raise expression.error(f"not a usable XPath 1.0 expression: {exc}") from None
                kinds_of[str(kind)] = tuple(e.string() for e in expressions)
            per_operation[str(key)] = kinds_of
        values["xpaths"] = per_operation
    return values


def _audit_names(node: Node) -> list[str]:
    items = [node] if isinstance(node.value, str) else list(node.items())
    if not items:
        raise node.error("must name at least one element")
    names = []
    for item in items:
        name = item.string().strip()
        if not _LOCAL_NAME.fullmatch(name):
            raise item.error(f"not an element local name: {name!r}")
        names.append(name)
    return names
