"""Choosing the host: `--engine`, TURNOUT_ENGINE, the default; and the fast host never loads mitmproxy."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from turnout.cli import main
from turnout.proxy import DEFAULT_ENGINE, engine_of


def test_the_engine_named_wins_then_the_environment_then_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TURNOUT_ENGINE", raising=False)
    assert engine_of() == DEFAULT_ENGINE
    monkeypatch.setenv("TURNOUT_ENGINE", "fast")
    assert engine_of() == "fast"
    assert engine_of("mitmproxy") == "mitmproxy"
    monkeypatch.setenv("TURNOUT_ENGINE", "nginx")
    with pytest.raises(ValueError, match="nginx"):
        engine_of()


def test_turnout_proxy_refuses_an_engine_it_does_not_have() -> None:
    result = CliRunner().invoke(main, ["proxy", "--upstream", "http://127.0.0.1:9", "--engine", "nginx"])
    assert result.exit_code != 0 and "nginx" in result.output


def test_the_fast_host_runs_without_loading_mitmproxy() -> None:
    code = ("import sys, turnout.proxy, turnout.cli\n"
            "from turnout.proxy import _fast_host, _fast_tls, ProxyThread\n"
            "assert not [m for m in sys.modules if m.split('.')[0] == 'mitmproxy'], 'mitmproxy was imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
