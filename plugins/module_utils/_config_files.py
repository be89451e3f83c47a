# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A set of small configuration files made exactly so: compare, write the differing ones atomically, purge strays.

Plain Python; the module passes in nothing but data. One call handles hundreds of files (a systemd-networkd
router with 500 VLANs has 1000), which a loop of template tasks would pay for with one remote round trip each.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field

from ansible_collections.layer2.linux.plugins.module_utils._files import write_atomically


@dataclass
class Plan:
    write: list = field(default_factory=list)  # (path, content, mode)
    chmod: list = field(default_factory=list)  # (path, mode)
    remove: list = field(default_factory=list)  # path
    diff: list = field(default_factory=list)  # one before/after dict per touched file

    @property
    def changed(self) -> bool:
        return bool(self.write or self.chmod or self.remove)


class ConfigFilesError(ValueError):
    pass


def _read(path: str):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(), os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return None, None
    except UnicodeDecodeError:
        return "", os.stat(path).st_mode & 0o7777


def parse_mode(mode) -> int:
    """'0644', '644' or 420 -> 0o644."""
    try:
        value = int(mode, 8) if isinstance(mode, str) else int(mode)
    except ValueError as exc:
        raise ConfigFilesError(f"file mode {mode!r} is not an octal number such as '0644'") from exc
    if not 0 <= value <= 0o7777:
        raise ConfigFilesError(f"file mode {mode!r} is out of range")
    return value


def plan(files: list, purge: list) -> Plan:
    """What to do so that exactly `files` exist with their content and mode, and nothing else matches `purge`."""
    result = Plan()
    wanted = {}
    for item in files:
        path = os.path.normpath(item["path"])
        if not os.path.isabs(path):
            raise ConfigFilesError(f"file path {item['path']!r} is not absolute")
        if path in wanted:
            raise ConfigFilesError(f"file {path} is listed twice")
        wanted[path] = item
        mode = parse_mode(item.get("mode") or "0644")
        before, before_mode = _read(path)
        if before != item["content"]:
            result.write.append((path, item["content"], mode))
            result.diff.append({"before_header": path, "after_header": path, "before": before or "", "after": item["content"]})
        elif before_mode != mode:
            result.chmod.append((path, mode))
    for pattern in purge:
        if not os.path.isabs(pattern):
            raise ConfigFilesError(f"purge pattern {pattern!r} is not absolute")
        for path in sorted(glob.glob(pattern)):
            path = os.path.normpath(path)
            if path not in wanted and os.path.isfile(path) and path not in result.remove:
                result.remove.append(path)
                result.diff.append({"before_header": path, "after_header": "(removed)", "before": _read(path)[0] or "", "after": ""})
    return result


def apply(todo: Plan) -> None:
    for path, content, mode in todo.write:
        write_atomically(path, content, mode)
    for path, mode in todo.chmod:
        os.chmod(path, mode)
    for path in todo.remove:
        os.unlink(path)
