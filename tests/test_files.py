"""The one atomic file writer (`turnout.config.write_atomically`, `write_many`)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from turnout.config import ConfigError, write_atomically, write_many
from turnout.routing._files import replace_atomically


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_old_content_survives_a_refusal_in_before_replace(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("routes: {}\n")

    def someone_else_edited() -> None:
        raise ConfigError("changed by someone else", file=path)

    with pytest.raises(ConfigError):
        write_atomically(path, "routes: {'/pnc X': {mode: translator}}\n",
                         before_replace=someone_else_edited)
    assert path.read_text() == "routes: {}\n"
    assert _leftovers(tmp_path) == []


def test_a_symlinked_path_keeps_its_link_and_its_target_is_replaced(tmp_path: Path) -> None:
    real = tmp_path / "shared" / "routes.yaml"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "routes.yaml"
    link.symlink_to(real)
    write_atomically(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new\n"


def test_an_existing_file_keeps_its_permissions_and_a_new_one_gets_the_default(
    tmp_path: Path,
) -> None:
    private = tmp_path / "rules.yaml"
    private.write_text("old\n")
    private.chmod(0o600)
    write_atomically(private, "new\n")
    assert (private.read_text(), _mode(private)) == ("new\n", 0o600)
    fresh = tmp_path / "deep" / "er" / "fresh.yaml"
    write_atomically(fresh, b"x", make_dirs=0o755)
    assert (fresh.read_bytes(), _mode(fresh)) == (b"x", 0o644)
    forced = tmp_path / "forced.yaml"
    write_atomically(forced, "x", mode=0o600)
    assert _mode(forced) == 0o600


def test_a_batch_with_one_failing_path_writes_the_others(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where a directory should be\n")
    first, bad, last = tmp_path / "a.yaml", blocker / "b.yaml", tmp_path / "c.yaml"
    results = write_many([(first, b"a"), (bad, b"b"), (last, b"c")], mode=0o600)
    assert [path for path, _ in results] == [first, bad, last]
    assert [error is None for _, error in results] == [True, False, True]
    assert (first.read_bytes(), last.read_bytes()) == (b"a", b"c")
    assert _mode(first) == _mode(last) == 0o600
    assert _leftovers(tmp_path) == []


def test_route_file_replacement_refuses_when_someone_else_edited_meanwhile(
    tmp_path: Path,
) -> None:
    path = tmp_path / "turnout.yaml"
    path.write_text("routes: {}  # theirs\n")
    path.chmod(0o640)
    with pytest.raises(ConfigError, match="changed by someone else"):
        replace_atomically(path, "routes: {}  # ours\n", expected="routes: {}\n")
    assert path.read_text() == "routes: {}  # theirs\n"
    replace_atomically(path, "routes: {}  # ours\n", expected="routes: {}  # theirs\n")
    assert (path.read_text(), _mode(path)) == ("routes: {}  # ours\n", 0o640)


def test_a_batch_synced_by_several_threads_is_written_whole_and_one_failure_stops_nothing(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where a directory should be\n")
    files = [(tmp_path / "d" / f"{i}.yaml", f"file {i}\n".encode()) for i in range(20)]
    files.insert(7, (blocker / "x.yaml", b"x"))
    results = write_many(files, mode=0o600, make_dirs=0o700, workers=4)
    assert [path for path, _ in results] == [path for path, _ in files]  # in the order given
    assert [error is None for _, error in results] == [index != 7 for index in range(21)]
    assert all(path.read_bytes() == data for path, data in files if path.parent != blocker)
    assert _mode(tmp_path / "d") == 0o700 and _mode(files[0][0]) == 0o600
    assert _leftovers(tmp_path / "d") == [] and _leftovers(tmp_path) == []
