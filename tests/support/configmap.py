"""A directory laid out as Kubernetes mounts a ConfigMap, and updated as the kubelet updates it.

```
mount/..2026_12_01_10_00_00.1/turnout.yaml     the files of one version
mount/..data -> ..2026_12_01_10_00_00.1        the version in force
mount/turnout.yaml -> ..data/turnout.yaml      what readers open (one link per top-level name)
```

An update writes a new timestamped directory, points a new link at it and renames that link
over `..data` (one atomic `rename`), then deletes the old directory: a reader sees the old
files or the new ones, never a mix, and the paths it opened by never change.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from pathlib import Path

_serial = itertools.count(1)


def publish(mount: Path, files: dict[str, str | bytes], *, keep_mtime_of: Path | None = None) -> Path:
    """Make `files` (relative path -> content) the version in force under `mount`; return its
    directory. With `keep_mtime_of`, each new file takes the mtime of the file of the same name
    under that old version directory (same size and same second: only the swap tells them apart)."""
    mount.mkdir(parents=True, exist_ok=True)
    stamp = mount / f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{os.getpid()}{next(_serial)}"
    for relative, content in files.items():
        target = stamp / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_text(content, encoding="utf-8")
        else:
            target.write_bytes(content)
        if keep_mtime_of is not None and (old := keep_mtime_of / relative).exists():
            info = old.stat()
            os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
    data = mount / "..data"
    previous = Path(os.path.realpath(data)) if data.is_symlink() else None
    fresh = mount / "..data_tmp"
    fresh.unlink(missing_ok=True)
    os.symlink(stamp.name, fresh)
    os.replace(fresh, data)  # the one atomic step
    for top in {Path(relative).parts[0] for relative in files}:
        link = mount / top
        if not link.is_symlink():
            os.symlink(f"..data/{top}", link)
    if previous is not None and previous != stamp:
        shutil.rmtree(previous)
    return stamp
