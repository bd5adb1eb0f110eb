"""turnout.yaml: every mistake is refused with file, line and field."""

from pathlib import Path

import pytest

from turnout.config import ConfigError, load_proxy_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "turnout.yaml"
    path.write_text(text)
    return path


def test_full_config_loads(tmp_path: Path) -> None:
    config = load_proxy_config(write(tmp_path, """\
listen: {host: 127.0.0.1, port: 9090}
upstream: http://127.0.0.1:8000/
recordings:
  dir: rec
  redaction:
    namespaces: {p: "urn:police:pnc:v1"}
    body: ["//p:surname"]
    headers: [Authorization]
limits: {max_body_bytes: 65536, max_depth: 32}
timeouts: {upstream: 2.5, connect: 1}
reject_unreadable: true
soapaction_mismatch: reject
"""))
    assert config.upstream == "http://127.0.0.1:8000"
    assert config.listen_port == 9090
    assert config.record_dir == (tmp_path / "rec").resolve()
    assert config.limits.max_bytes == 65536 and config.limits.max_depth == 32
    assert config.upstream_timeout == 2.5
    assert config.reject_unreadable is True
    assert config.soapaction_mismatch == "reject"


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("upstream: http://x\nlisten:\n  port: 70000\n", 3, "listen.port"),
        ("upstream: ftp://x\n", 1, "upstream"),
        ("upstream: http://x\nsoapaction_mismatch: maybe\n", 2, "soapaction_mismatch"),
        ("upstream: http://x\nreject_unreadable: 'yes'\n", 2, "reject_unreadable"),
        ("upstream: http://x\n\nrecordngs: {}\n", 3, "recordngs"),
        ("upstream: http://x\nlimits:\n  max_depth: 1000\n", 3, "limits.max_depth"),
        ("upstream: http://x\ntimeouts:\n  upstream: -1\n", 3, "timeouts.upstream"),
    ],
)
def test_bad_field_is_named_with_its_line(tmp_path: Path, text: str, line: int, field: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_proxy_config(path)
    assert info.value.line == line
    assert info.value.field == field
    assert str(info.value).startswith(f"{path}:{line}: {field}: ")


def test_bad_redaction_xpath_is_refused_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, "upstream: http://x\nrecordings:\n  redaction:\n    body: ['//[[']\n")
    with pytest.raises(ConfigError) as info:
        load_proxy_config(path)
    assert info.value.field == "recordings.redaction"
    assert "//[[" in str(info.value)


def test_missing_upstream_and_broken_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing field: upstream"):
        load_proxy_config(write(tmp_path, "listen: {port: 1}\n"))
    with pytest.raises(ConfigError) as info:
        load_proxy_config(write(tmp_path, "upstream: http://x\nlisten: [1,\n"))
    assert info.value.line is not None
    with pytest.raises(ConfigError, match="file not found"):
        load_proxy_config(tmp_path / "absent.yaml")
