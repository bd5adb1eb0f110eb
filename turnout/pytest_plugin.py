"""pytest plugin: every shadow recording under a golden directory is a test of its translator.

```sh
pytest --turnout-config turnout.yaml recordings/     # or the ini options below
pytest --turnout-config turnout.yaml recordings/ --turnout-update   # accept a deliberate change
```

Options (command line, then ini; paths in an ini file are relative to it):

- `--turnout-config` / `turnout_config`: a `turnout.yaml`; its `translators` and `compare.rules`
  are used unless the two options below say otherwise;
- `--turnout-translators` / `turnout_translators`: the translators directory;
- `--turnout-compare-rules` / `turnout_compare_rules`: one or more compare rules files, each
  added to the ones before (e.g. the deployment's rules, then the golden set's own);
- `--turnout-golden` / `turnout_golden`: directories of recordings; a recording file (named
  `<exchange id>.yaml`, as the store names them) is collected when it is under one of them. With
  none given, every recording file pytest visits is collected, once the plugin is configured;
- `--turnout-update`: rewrite the expected side of each failing recording (see
  `turnout.compare.accept_golden`) instead of failing it.

The plugin does nothing until one of the first four is set, so installing Turnout never adds
tests to a project that did not ask. A recording that is not a golden case (plain legacy
traffic, a failed shadow run) is collected and skipped with the reason, so a golden set never
holds files that silently test nothing. See docs/golden.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from turnout.compare import (
    GoldenError,
    NotGolden,
    Rules,
    accept_golden,
    check_golden,
    load_rules,
    merge_rule_tables,
    rewrite_recording,
)
from turnout.config import ConfigError, load_proxy_config
from turnout.recording import RecordingError, is_exchange_id, read_exchange
from turnout.translators import TranslatorSet, load_translators

_SUFFIX = ".yaml"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("turnout", "Turnout golden recordings")
    group.addoption("--turnout-config", metavar="FILE", type=Path,
                    help="turnout.yaml: its translators and compare rules (ini: turnout_config)")
    group.addoption("--turnout-translators", metavar="DIR", type=Path,
                    help="translators directory (ini: turnout_translators)")
    group.addoption("--turnout-compare-rules", metavar="FILE", type=Path, action="append",
                    help="compare rules file; repeat to add more (ini: turnout_compare_rules)")
    group.addoption("--turnout-golden", metavar="DIR", type=Path, action="append",
                    help="directory of golden recordings; repeatable (ini: turnout_golden)")
    group.addoption("--turnout-update", action="store_true", default=False,
                    help="accept what the translators produce now as the expected side of "
                         "failing golden recordings, and rewrite those files")
    parser.addini("turnout_config", "turnout.yaml for golden tests", type="paths", default=[])
    parser.addini("turnout_translators", "translators directory for golden tests", type="paths",
                  default=[])
    parser.addini("turnout_compare_rules", "compare rules files for golden tests (in order)",
                  type="paths", default=[])
    parser.addini("turnout_golden", "directories of golden recordings", type="paths", default=[])


@dataclass
class _Settings:
    """What the options resolve to, and the translators and rules, loaded on first use."""

    config: Path | None
    translators_dir: Path | None
    rules_files: list[Path]
    golden: list[Path]
    update: bool
    _loaded: tuple[TranslatorSet, dict[str, Rules]] | None = None
    _error: str | None = None
    updated: list[Path] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.config or self.translators_dir or self.rules_files or self.golden)

    def collects(self, path: Path) -> bool:
        if not self.active or path.suffix != _SUFFIX or not is_exchange_id(path.stem):
            return False
        if not self.golden:
            return True
        return any(path.is_relative_to(directory) for directory in self.golden)

    def load(self) -> tuple[TranslatorSet, dict[str, Rules]]:
        """Translators and merged rules; a setup mistake fails every item with one message."""
        if self._loaded is not None:
            return self._loaded
        if self._error is None:
            try:
                self._loaded = self._load()
                return self._loaded
            except (ConfigError, GoldenError) as exc:
                self._error = str(exc)
        raise GoldenFailure(f"golden tests cannot run: {self._error}")

    def _load(self) -> tuple[TranslatorSet, dict[str, Rules]]:
        translators_dir, rules_files = self.translators_dir, list(self.rules_files)
        if self.config is not None and (translators_dir is None or not rules_files):
            proxy = load_proxy_config(self.config)
            translators_dir = translators_dir or proxy.translators_dir
            if not rules_files and proxy.compare_rules is not None:
                rules_files = [proxy.compare_rules]
        if translators_dir is None:
            raise GoldenError(
                "no translators: give --turnout-translators or turnout_translators, or a "
                "turnout.yaml with `translators:` (--turnout-config / turnout_config)"
            )
        translators = load_translators(translators_dir)
        return translators, merge_rule_tables(*(load_rules(path) for path in rules_files))


_SETTINGS = pytest.StashKey[_Settings]()


def pytest_configure(config: pytest.Config) -> None:
    here = config.invocation_params.dir

    def given(name: str) -> Any:
        return config.getoption(name)

    def one(option: str, ini: str) -> Path | None:
        value = given(option)
        if value is not None:
            return (here / value).resolve()
        paths: list[Path] = config.getini(ini)
        if len(paths) > 1:
            raise pytest.UsageError(f"{ini}: expected one path, got {len(paths)}")
        return paths[0].resolve() if paths else None

    def many(option: str, ini: str) -> list[Path]:
        values = given(option)
        if values:
            return [(here / value).resolve() for value in values]
        return [path.resolve() for path in config.getini(ini)]

    config.stash[_SETTINGS] = _Settings(
        config=one("turnout_config", "turnout_config"),
        translators_dir=one("turnout_translators", "turnout_translators"),
        rules_files=many("turnout_compare_rules", "turnout_compare_rules"),
        golden=many("turnout_golden", "turnout_golden"),
        update=bool(given("turnout_update")),
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    settings = parent.config.stash[_SETTINGS]
    if settings.collects(file_path.resolve()):
        return GoldenFile.from_parent(parent, path=file_path)
    return None


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[_SETTINGS]
    if not settings.active:
        return []
    source = settings.translators_dir or settings.config
    mode = ", updating failing recordings" if settings.update else ""
    return [f"turnout golden: translators from {source}{mode}"]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    settings = config.stash[_SETTINGS]
    if settings.updated:
        terminalreporter.write_sep("=", f"turnout: {len(settings.updated)} golden recordings updated")
        for path in settings.updated:
            terminalreporter.write_line(str(path))


class GoldenFailure(Exception):
    """A golden item's failure, already readable: shown as is, with no traceback."""


class GoldenFile(pytest.File):
    """One recording file: one item, named by its operation and exchange id."""

    def collect(self) -> Iterator[pytest.Item]:
        exchange = read_exchange(self.path)
        operation = exchange.operation.key if exchange.operation is not None else exchange.outcome
        yield GoldenItem.from_parent(self, name=f"{operation} {exchange.id}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        if isinstance(excinfo.value, RecordingError):
            return f"not a readable recording: {excinfo.value}"
        return super().repr_failure(excinfo)


class GoldenItem(pytest.Item):
    """Both halves of the recording's translator, checked against the recording."""

    def runtest(self) -> None:
        settings = self.config.stash[_SETTINGS]
        translators, rules = settings.load()
        exchange = read_exchange(self.path)
        try:
            result = check_golden(exchange, translators, rules)
        except NotGolden as exc:
            pytest.skip(f"not a golden case: {exc.reason}")
        except GoldenError as exc:
            raise GoldenFailure(str(exc)) from None
        if result.passed:
            return
        if not settings.update:
            raise GoldenFailure(result.text())
        try:
            updated = accept_golden(exchange, result)
        except GoldenError as exc:
            raise GoldenFailure(f"{result.text()}\n{exc}") from None
        again = check_golden(updated, translators, rules)
        if not again.passed:  # a translator that gives other bytes on every run
            raise GoldenFailure(f"still failing after the update, not written:\n{again.text()}")
        rewrite_recording(self.path, updated)
        settings.updated.append(self.path)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        if isinstance(excinfo.value, (GoldenFailure, RecordingError)):
            where = os.path.relpath(self.path, self.config.invocation_params.dir)
            return f"recording {where}\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"golden {self.name}"
