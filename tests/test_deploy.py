"""deploy/: the image, the compose demo and the Kubernetes manifests, checked as far as this
machine allows (docs/deploy.md, "What was run and what was not").

Checked here, offline, on every run:
- every manifest in deploy/k8s against the Kubernetes API's own schemas (the `kubernetes-validate`
  package's bundled copies, strict: an unknown or misspelt field fails), for the oldest and the
  newest version we claim;
- the promises the manifests make, read from the manifests themselves: several replicas, a
  rolling update that never goes below them, probes on /healthz and /readyz on the admin port,
  non-root, read-only root, no privilege escalation, no capabilities, a grace period longer than
  the drain the ConfigMap's turnout.yaml asks for, a PodDisruptionBudget and a Service that
  select the Deployment's pods;
- the ConfigMap's files laid out as the Deployment mounts them and read by Turnout's own loaders
  (turnout.config, turnout.routing, turnout.translators, turnout.compare); the Secret's keys
  against the files that configuration names; the init container's command run on a key as the
  kubelet mounts it, and the key it leaves read by Turnout's own key check;
- `turnout proxy` started, as a process, on those files (bus address, admin port, recordings
  directory and drain delay changed to fit this machine): probes, a request, its recording under
  the pod's own folder, SIGTERM;
- deploy/Dockerfile, read by a small parser here: stages, the final stage's user, what it runs
  and installs, the ports it exposes, its health check;
- deploy/compose.yaml's structure, and every command line in the image, the Deployment and
  compose parsed by Turnout's own CLI (an unknown option fails).

Not done here: no image is built, no container is started, no cluster is asked (no daemon, no
cluster on this machine or in CI). `kubectl kustomize` and `docker compose config` are used when
present and skipped otherwise, under CI too: they are extra cross-checks, not the check.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import kubernetes_validate
import pytest
import yaml

from turnout.cli import main as turnout_cli
from turnout.compare import load_rules
from turnout.config import ProxyConfig, load_proxy_config
from turnout.recording import redactor_from_config
from turnout.routing import check_translators, load_route_table
from turnout.translators import load_translators

from .conftest import LegacyBus
from .support.proxy_process import ProxyProcess, free_port

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
#: the oldest Kubernetes we claim (docs/deploy.md) and the newest the package bundles
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.utils.latest_version() + ".0")
#: where the image installs Turnout (deploy/Dockerfile: a venv at /opt/turnout, Python 3.11)
IMAGE_PACKAGE = "/opt/turnout/lib/python3.11/site-packages/turnout"
#: after the requests in flight, a stop writes what is queued: shadows (at most 10 s), then
#: recordings (at most 10 s); turnout/gateway/_lifecycle.py `stop`
SHUTDOWN_FLUSH_SECONDS = 10.0 + 10.0
#: the fast host waits this long past `timeouts.upstream` for requests in flight
#: (turnout/proxy/_fast_host.py: `config.upstream_timeout + 5`)
IN_FLIGHT_MARGIN_SECONDS = 5.0


# --- reading the files -------------------------------------------------------------------------


def manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def manifests() -> dict[str, dict[str, Any]]:
    """Each manifest by its kind (one object a file)."""
    found: dict[str, dict[str, Any]] = {}
    for path in manifest_files():
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
        assert len(documents) == 1, f"{path.name}: one object a file"
        assert documents[0]["kind"] not in found, f"{path.name}: a second {documents[0]['kind']}"
        found[documents[0]["kind"]] = documents[0]
    return found


def pod_spec() -> dict[str, Any]:
    return manifests()["Deployment"]["spec"]["template"]["spec"]


def proxy_container() -> dict[str, Any]:
    (container,) = [c for c in pod_spec()["containers"] if c["name"] == "turnout"]
    return container


def mount_path(container: dict[str, Any], volume: str) -> Path:
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume]
    return Path(mount["mountPath"])


def volume(name: str) -> dict[str, Any]:
    (found,) = [v for v in pod_spec()["volumes"] if v["name"] == name]
    return found


def secret_values() -> dict[str, str]:
    secret = manifests()["Secret"]
    return {**secret.get("stringData", {}), **secret.get("data", {})}


def under(root: Path, absolute: Path | str) -> Path:
    """`absolute` (a path in the container) re-rooted under `root` on this machine."""
    return root / Path(absolute).relative_to("/")


# test values for the Secret: the template's are empty on purpose (secret.yaml)
TEST_SECRETS = {
    "pseudonym.key": "k" * 44 + "\n",
    "identity-token.key": "t" * 44 + "\n",
    "officers.yaml": (REPO / "turnout/demo/identity.yaml").read_text(),
}


def materialise(root: Path) -> Path:
    """Lay out the ConfigMap and the Secret under `root` as the kubelet mounts them for the proxy
    container (the config volume's `items` and both mount paths from deployment.yaml; the Secret
    with test values, mode 0440); return the turnout.yaml the container is started with."""
    container = proxy_container()
    config_items = volume("config")["configMap"]["items"]
    data = manifests()["ConfigMap"]["data"]
    config_mount = under(root, mount_path(container, "config"))
    for item in config_items:
        target = config_mount / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(data[item["key"]])
        target.chmod(0o444)
    secrets_mount = under(root, mount_path(container, "secrets"))
    secrets_mount.mkdir(parents=True)
    for key in secret_values():
        (secrets_mount / key).write_text(TEST_SECRETS[key])
        (secrets_mount / key).chmod(volume("secrets")["secret"]["defaultMode"])
    under(root, mount_path(container, "keys")).mkdir(parents=True)
    config_argument = proxy_container()["args"][proxy_container()["args"].index("--config") + 1]
    return under(root, config_argument)


def loaded_config(tmp_path: Path) -> ProxyConfig:
    return load_proxy_config(materialise(tmp_path))


def configmap_config() -> dict[str, Any]:
    """The ConfigMap's turnout.yaml as plain YAML (for what the loader does not keep)."""
    return yaml.safe_load(manifests()["ConfigMap"]["data"]["turnout.yaml"])


def parse_cli(args: list[str]) -> click.Context:
    """`args` parsed by Turnout's own CLI, down to the command that would run (nothing runs);
    click.UsageError for an unknown command or option, a bad value or a missing argument."""
    ctx = turnout_cli.make_context("turnout", list(args))
    command: click.Command = turnout_cli
    while isinstance(command, click.Group):
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        if not rest:
            break
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        ctx = sub.make_context(name, rest, parent=ctx)
        command = sub
    return ctx


# --- Kubernetes: the schemas -------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_manifest_passes_the_kubernetes_api_schema(path: Path, version: str) -> None:
    for document in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(document, version, strict=True)


def test_schema_check_refuses_a_misspelt_field() -> None:
    """The check above can fail: strict validation refuses a field the API does not have."""
    deployment = manifests()["Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


def test_kustomization_applies_every_manifest_but_the_secret_template() -> None:
    """secret.yaml holds the Secret's shape with empty values: `kubectl apply -k` must not
    blank the real one."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert set(kustomization["resources"]) == {p.name for p in manifest_files()} - {"secret.yaml"}
    assert all(value == "" for value in secret_values().values())


def test_kustomize_builds_the_manifests() -> None:
    """Extra, when kubectl (or kustomize) is on this machine: the kustomization renders."""
    if shutil.which("kubectl"):
        command = ["kubectl", "kustomize", str(K8S)]
    elif shutil.which("kustomize"):
        command = ["kustomize", "build", str(K8S)]
    else:
        pytest.skip("neither kubectl nor kustomize is installed (an extra check; the schemas are the check)")
    rendered = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(rendered) if d)
    assert kinds == sorted(k for k in manifests() if k != "Secret")
    for document in yaml.safe_load_all(rendered):
        if document:
            kubernetes_validate.validate(document, KUBERNETES_VERSIONS[-1], strict=True)


# --- Kubernetes: the promises ------------------------------------------------------------------


def test_several_replicas_and_a_rollout_that_never_goes_below_them() -> None:
    spec = manifests()["Deployment"]["spec"]
    assert spec["replicas"] >= 2
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert spec["strategy"]["rollingUpdate"]["maxSurge"] >= 1


def test_probes_ask_healthz_and_readyz_on_the_admin_port(tmp_path: Path) -> None:
    config = loaded_config(tmp_path)
    container = proxy_container()
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["admin"] == config.admin_port
    assert ports["soap"] == config.listen_port
    # in a pod the kubelet and Prometheus come in on the pod's IP, not its loopback
    assert config.admin_host == "0.0.0.0" and config.listen_host == "0.0.0.0"
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"),
                        ("startupProbe", "/healthz")):
        get = container[probe]["httpGet"]
        assert get["path"] == path, probe
        assert ports.get(get["port"], get["port"]) == config.admin_port, probe


def test_every_container_runs_locked_down() -> None:
    """Non-root, read-only root file system, no privilege escalation, every capability dropped:
    the proxy and the init container alike."""
    spec = pod_spec()
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0 and pod["runAsGroup"] != 0
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        context = container["securityContext"]
        assert context.get("runAsNonRoot", pod["runAsNonRoot"]) is True, container["name"]
        assert context.get("runAsUser", pod["runAsUser"]) != 0, container["name"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context.get("privileged", False) is False, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"], container["name"]
        assert not context["capabilities"].get("add"), container["name"]
        # the writable places are volumes, never the image
        writable = {Path(m["mountPath"]) for m in container["volumeMounts"] if not m.get("readOnly")}
        assert writable <= {Path("/tmp"), Path("/var/lib/turnout/recordings"), Path("/etc/turnout/keys")}
    assert spec["automountServiceAccountToken"] is False


def test_grace_period_covers_the_drain_the_requests_in_flight_and_the_flush(tmp_path: Path) -> None:
    """SIGTERM: /readyz fails and the proxy keeps serving `shutdown.drain_delay` s; then it stops
    listening and waits up to `timeouts.upstream` + 5 s for requests in flight; then writes the
    queued shadows and recordings (up to 10 s each). The kubelet's SIGKILL must come later."""
    config = loaded_config(tmp_path)
    assert config.drain_delay > 0, "the ConfigMap's turnout.yaml sets shutdown.drain_delay"
    needed = config.drain_delay + config.upstream_timeout + IN_FLIGHT_MARGIN_SECONDS + SHUTDOWN_FLUSH_SECONDS
    assert pod_spec()["terminationGracePeriodSeconds"] > needed
    # no preStop hook: the drain delay itself outlasts the readiness probe's verdict
    readiness = proxy_container()["readinessProbe"]
    assert config.drain_delay >= readiness["periodSeconds"] * readiness["failureThreshold"]
    assert "lifecycle" not in proxy_container()


def test_pdb_and_service_select_the_deployments_pods() -> None:
    found = manifests()
    deployment = found["Deployment"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    pdb = found["PodDisruptionBudget"]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= pod_labels.items()
    assert "matchExpressions" not in pdb["selector"]
    # one pod at a time may be disrupted, and a node drain can still proceed
    assert pdb.get("maxUnavailable", 0) == 1 or 0 < pdb.get("minAvailable", 0) < deployment["spec"]["replicas"]
    service = found["Service"]["spec"]
    assert service["selector"].items() <= pod_labels.items()
    container_ports = {p["name"]: p["containerPort"] for p in proxy_container()["ports"]}
    assert [p["targetPort"] for p in service["ports"]] == ["soap"]  # the admin port stays inside
    assert set(container_ports) == {"soap", "admin"}
    policy = found["NetworkPolicy"]["spec"]
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels.items()


def test_recordings_go_to_a_shared_volume_one_folder_per_pod(tmp_path: Path) -> None:
    config = loaded_config(tmp_path)
    assert config.record_dir == mount_path(proxy_container(), "recordings")
    claim = volume("recordings")["persistentVolumeClaim"]["claimName"]
    pvc = manifests()["PersistentVolumeClaim"]
    assert pvc["metadata"]["name"] == claim
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]  # every replica writes
    env = {e["name"]: e for e in proxy_container()["env"]}
    assert env["TURNOUT_INSTANCE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_configmap_mounts_every_file_it_holds() -> None:
    """Each ConfigMap key is mapped to a path by the volume's items, and each item names a key."""
    data = manifests()["ConfigMap"]["data"]
    items = volume("config")["configMap"]["items"]
    assert sorted(i["key"] for i in items) == sorted(data)
    assert len({i["path"] for i in items}) == len(items)
    assert volume("config")["configMap"]["name"] == manifests()["ConfigMap"]["metadata"]["name"]
    assert volume("secrets")["secret"]["secretName"] == manifests()["Secret"]["metadata"]["name"]


def test_configmap_loads_with_turnouts_own_loaders(tmp_path: Path) -> None:
    """turnout.yaml by turnout.config, its routes by turnout.routing, the translators they name by
    turnout.translators, the compare rules by turnout.compare: as the proxy reads them at start."""
    config_file = materialise(tmp_path)
    config = load_proxy_config(config_file)
    table = load_route_table(config_file)
    assert config.translators_dir is not None and config.compare_rules is not None
    translators = load_translators(config.translators_dir)
    check_translators(table, set(translators))
    moved = [route for route in table if route.mode != "legacy"]
    assert moved, "the example shows an operation on its way (shadow)"
    load_rules(config.compare_rules)
    assert config.upstream.startswith("https://")


def test_turnout_routes_check_accepts_the_configmap(tmp_path: Path) -> None:
    """Black-box: `turnout routes check` (the command operators run before applying) on the files
    as mounted, in a process of its own."""
    config_file = materialise(tmp_path)
    turnout = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin" / "turnout"
    command = [str(turnout)] if turnout.exists() else [str(REPO / ".venv/bin/turnout")]
    result = subprocess.run([*command, "routes", "check", "--config", str(config_file), "--wait", "0"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_holds_exactly_the_files_the_config_names(tmp_path: Path) -> None:
    config = loaded_config(tmp_path)
    secrets = mount_path(proxy_container(), "secrets")
    keys = mount_path(proxy_container(), "keys")
    (init,) = pod_spec()["initContainers"]
    command = init["command"]
    assert command[:3] == ["install", "-m", "0600"]
    sources, destination = [Path(p) for p in command[3:-1]], Path(command[-1])
    # what the config names: read from the Secret's mount, or from the init container's copy
    assert config.identity is not None and config.identity.token_key_file is not None
    named_files = {config.identity.officers, config.identity.token_key_file,
                   Path(config.redaction["key_file"])}
    in_secrets = {p.relative_to(under(tmp_path, secrets)).as_posix() for p in named_files
                  if p.is_relative_to(under(tmp_path, secrets))}
    copied = {p for p in named_files if p.is_relative_to(under(tmp_path, keys))}
    assert copied == {under(tmp_path, destination)}, "the pseudonym key is read from the init container's copy"
    assert all(s.parent == secrets for s in sources)
    assert in_secrets | {s.name for s in sources} == set(secret_values())


def test_init_container_leaves_a_key_turnout_accepts(tmp_path: Path) -> None:
    """Turnout refuses a pseudonym key file that is not its user's own with mode 0600; the
    kubelet mounts a Secret's files root-owned, group-readable (0440 here). The init container's
    own command, run here on such a file, leaves one the proxy's key check reads."""
    if shutil.which("install") is None:
        pytest.skip("coreutils' install is not on this machine")
    config = loaded_config(tmp_path)
    (init,) = pod_spec()["initContainers"]
    mounted = [under(tmp_path, p) for p in init["command"][3:]]
    assert mounted[0].stat().st_mode & 0o777 == 0o440  # as mounted: refused
    with pytest.raises(ValueError, match="0600"):
        redactor_from_config({**config.redaction, "key_file": str(mounted[0])})
    subprocess.run([init["command"][0], *init["command"][1:3], *map(str, mounted)], check=True, timeout=30)
    copy = Path(config.redaction["key_file"])
    assert copy == mounted[-1]
    assert copy.stat().st_mode & 0o777 == 0o600
    redactor_from_config(config.redaction)  # reads the key: accepted


PERSON_ENQUIRY = (
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:pnc="urn:police:pnc:v1"><soapenv:Body><pnc:PersonEnquiry>'
    b"<pnc:surname>Quillfeather</pnc:surname></pnc:PersonEnquiry></soapenv:Body></soapenv:Envelope>"
)


def test_proxy_starts_on_the_mounted_configmap_and_secret(
    tmp_path: Path, legacy_bus: LegacyBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy, a process of its own, started on the files as the pod has them (after the init
    container's copy), with what cannot be the same on this machine changed: the bus's address
    (the demo bus), the admin port (a free one), the recordings directory (under tmp_path) and
    the drain delay (short). Probes answer, a request on a legacy route reaches the bus and is
    recorded under the pod's own folder with the copied key's pseudonyms, SIGTERM stops it."""
    if shutil.which("install") is None:
        pytest.skip("coreutils' install is not on this machine")
    config_file = materialise(tmp_path)
    (init,) = pod_spec()["initContainers"]
    subprocess.run([*init["command"][:3], *(str(under(tmp_path, p)) for p in init["command"][3:])],
                   check=True, timeout=30)
    text = config_file.read_text()
    admin_port = free_port()
    record_dir = under(tmp_path, "/var/lib/turnout/recordings")
    for old, new in ((f"upstream: {configmap_config()['upstream']}", f"upstream: {legacy_bus.url}"),
                     ("port: 8081", f"port: {admin_port}"),
                     ("dir: /var/lib/turnout/recordings", f"dir: {record_dir}"),
                     ("drain_delay: 15", "drain_delay: 0.2")):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    config_file.chmod(0o644)
    config_file.write_text(text)
    config_file.chmod(0o444)
    pod = "turnout-7d9f8c6b5-x2k4q"
    monkeypatch.setenv("TURNOUT_INSTANCE", pod)
    proxy = ProxyProcess(config_file, extra=["--log-format", "json"])
    with proxy:
        for path in ("/healthz", "/readyz"):
            with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}{path}", timeout=10) as answer:
                assert answer.status == 200, path
        status, _, body = proxy.request("POST", "/pnc", PERSON_ENQUIRY, {
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:police:pnc:v1#PersonEnquiry"'})
        assert status == 200 and b"PersonEnquiryResponse" in body, body[:500]
        assert proxy.stop() == 0, proxy.log
    recorded = list((record_dir / "_instances" / pod).rglob("*.yaml"))
    assert recorded, proxy.log
    content = "".join(p.read_text() for p in recorded)
    assert "PersonEnquiry" in content and "Quillfeather" not in content


def test_deployment_command_line_is_turnouts() -> None:
    container = proxy_container()
    ctx = parse_cli([*_image_entrypoint(), *container["args"]])
    assert ctx.command.name == "proxy"
    assert ctx.find_root().params["log_format"] == "json"
    (init,) = pod_spec()["initContainers"]
    assert init["image"] == container["image"]


# --- the image ---------------------------------------------------------------------------------


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [value for kind, value in self.instructions if kind == keyword]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """The global ARGs (with defaults) and the stages, each a list of (INSTRUCTION, rest);
    comments dropped, continued lines joined, `${ARG}` in FROM substituted."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    arguments: dict[str, str] = {}
    stages: list[Stage] = []
    for line in lines:
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            base = re.sub(r"\$\{(\w+)\}", lambda m: arguments[m.group(1)], words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base, name))
        elif not stages and keyword == "ARG":
            key, _, default = rest.partition("=")
            arguments[key] = default
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append((keyword, rest))
    return arguments, stages


def dockerfile() -> list[Stage]:
    return parse_dockerfile((DEPLOY / "Dockerfile").read_text())[1]


def _exec_form(value: str) -> list[str]:
    parsed = json.loads(value)
    assert isinstance(parsed, list), f"not the exec form: {value}"
    return [str(v) for v in parsed]


def _image_entrypoint() -> list[str]:
    final = dockerfile()[-1]
    (entrypoint,) = final.all("ENTRYPOINT")
    words = _exec_form(entrypoint)
    assert words[0] == "turnout"
    return words[1:]


def test_dockerfile_parser_reads_stages_and_continued_lines() -> None:
    _, stages = parse_dockerfile(
        "ARG BASE=python:3.11-slim\n# a comment\nFROM ${BASE} AS build\nRUN a \\\n  # inside\n  && b\n"
        "FROM build\nUSER 1:1\n"
    )
    assert [(s.base, s.name) for s in stages] == [("python:3.11-slim", "build"), ("build", None)]
    assert stages[0].all("RUN") == ["a && b"]
    assert stages[1].all("USER") == ["1:1"]


def test_image_is_multi_stage_with_no_compiler_in_the_final_stage() -> None:
    stages = dockerfile()
    assert len(stages) >= 2
    build, final = stages[0], stages[-1]
    assert any("build-essential" in run for run in build.all("RUN"))
    # the final stage starts from the plain Python image, not from a stage with the compiler
    assert final.base not in {s.name for s in stages if s.name}
    assert final.base == build.base
    text = " ".join(value for _, value in final.instructions)
    for tool in ("gcc", "build-essential", "g++", "clang", "make ", "-dev", "apt-get install"):
        assert tool not in text, tool
    # the wheels come from the build stage for one step (a bind mount), not as a layer
    assert not any(value.startswith("--from") for value in final.all("COPY"))
    assert any("--mount=type=bind,from=" + str(build.name) in run for run in final.all("RUN"))


def test_image_runs_as_the_numeric_non_root_user_the_manifests_name() -> None:
    final = dockerfile()[-1]
    user = final.all("USER")[-1]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0
    pod = pod_spec()["securityContext"]
    assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (int(uid), int(gid), int(gid))
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert {service["user"] for service in compose["services"].values()} == {user}


def test_image_exposes_the_ports_the_config_listens_on(tmp_path: Path) -> None:
    config = loaded_config(tmp_path)
    final = dockerfile()[-1]
    exposed = {int(port.split("/")[0]) for value in final.all("EXPOSE") for port in value.split()}
    assert exposed == {config.listen_port, config.admin_port}


def test_image_health_check_asks_healthz_on_the_admin_port(tmp_path: Path) -> None:
    config = loaded_config(tmp_path)
    (check,) = dockerfile()[-1].all("HEALTHCHECK")
    assert f"127.0.0.1:{config.admin_port}/healthz" in check


def test_image_command_is_turnouts_proxy_on_the_mounted_config() -> None:
    final = dockerfile()[-1]
    (command,) = final.all("CMD")
    ctx = parse_cli([*_image_entrypoint(), *_exec_form(command)])
    assert ctx.command.name == "proxy"
    assert ctx.params["config_path"] == mount_path(proxy_container(), "config") / "turnout.yaml"


def test_build_context_holds_only_what_the_wheel_needs() -> None:
    """BuildKit reads deploy/Dockerfile.dockerignore for deploy/Dockerfile: everything excluded,
    then the package's sources let back in; recordings, keys and venvs never reach the builder."""
    patterns = [line.strip() for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "turnout"}
    copied = {value.split()[0] for value in dockerfile()[0].all("COPY")}
    assert copied <= allowed


# --- compose -----------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_the_demo_locked_down() -> None:
    services = compose()["services"]
    assert set(services) == {"bus", "services", "proxy"}
    for name, service in services.items():
        assert service["image"] and service["build"]["dockerfile"] == "deploy/Dockerfile", name
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file(), name
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert "/tmp" in service["tmpfs"], name
        assert not service.get("privileged"), name


def test_compose_commands_are_turnouts() -> None:
    services = compose()["services"]
    for name, service in services.items():
        ctx = parse_cli([*_image_entrypoint(), *service["command"]])
        assert ctx.command.name == {"bus": "legacy", "services": "services", "proxy": "proxy"}[name]


def test_compose_proxy_runs_the_packaged_demo_config() -> None:
    """The proxy's --config is the demo's turnout.yaml as the image installs it; the services
    listen where that file names them (127.0.0.1:9000, in the proxy's network namespace)."""
    services = compose()["services"]
    proxy = parse_cli([*_image_entrypoint(), *services["proxy"]["command"]])
    config_path = proxy.params["config_path"].as_posix()
    assert config_path.startswith(IMAGE_PACKAGE + "/")
    relative = config_path[len(IMAGE_PACKAGE) + 1:]
    pyproject = (REPO / "pyproject.toml").read_text()
    patterns = re.search(r"\[tool\.setuptools\.package-data\]\s*turnout = \[(.*?)\]", pyproject, re.S)
    assert patterns and any(fnmatch.fnmatch(relative, p.strip().strip('"'))
                            for p in patterns.group(1).split(","))
    demo = load_proxy_config(REPO / "turnout" / relative)
    published = [p.split(":") for p in services["proxy"]["ports"]]
    assert [int(p[-1]) for p in published] == [proxy.params["port"] or demo.listen_port]
    assert proxy.params["host"] == "0.0.0.0"
    assert proxy.params["upstream"] == f"http://bus:{parse_cli(services['bus']['command']).params['port']}"
    assert services["services"]["network_mode"] == "service:proxy"
    modern = parse_cli(services["services"]["command"]).params
    assert set(demo.services.values()) == {f"http://{modern['host']}:{modern['port']}"}
    assert proxy.params["record_dir"] is not None
    (volume_spec,) = services["proxy"]["volumes"]
    assert volume_spec.split(":")[1] == proxy.params["record_dir"].as_posix()


def test_docker_compose_accepts_the_file() -> None:
    """Extra, when `docker compose` works here (it needs no daemon for `config`)."""
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True,
                                        timeout=30).returncode != 0:
        pytest.skip("docker compose is not installed (an extra check; the structure above is the check)")
    result = subprocess.run([docker, "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
