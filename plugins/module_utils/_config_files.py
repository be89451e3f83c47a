# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A set of small configuration files made exactly so: compare, write the differing ones atomically, purge strays.

Plain Python; the module passes in nothing but data. One call handles hundreds of files (a systemd-networkd
router with 500 VLANs has 1000), which a loop of template tasks would pay for with one remote round trip each.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import tempfile
from dataclasses import dataclass, field

from ansible_collections.layer2.linux.plugins.module_utils._files import check_target, stale_temporaries, write_atomically

_OCTAL_MODE = re.compile(r"0?[0-7]{3,4}")


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


def _read(path: str, found):
    """The file's text and mode; `found` is its lstat from check_target (None: absent), so nothing but a regular file is opened."""
    if found is None:
        return None, None
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(), found.st_mode & 0o7777
    except UnicodeDecodeError:
        return "", found.st_mode & 0o7777


def parse_mode(mode, option: str = "mode") -> int:
    """'0644' or '644' -> 0o644. Only a quoted octal string: YAML reads an unquoted 644 as the decimal 644 (0o1204),
    and true, lists and symbolic modes ('u=rw') mean nothing here."""
    if not isinstance(mode, str) or not _OCTAL_MODE.fullmatch(mode.strip()):
        hint = "; YAML reads an unquoted number as decimal, so quote it" if isinstance(mode, int) and not isinstance(mode, bool) else ""
        raise ConfigFilesError(f"{option} {mode!r} is not a quoted octal string of permission bits such as '0644' or '0600'{hint}")
    return int(mode, 8)


def plan(files: list, purge: list) -> Plan:
    """What to do so that exactly `files` exist with their content and mode, and nothing else matches `purge`.

    Every path and mode is checked here, before anything is written (apply)."""
    result = Plan()
    wanted = {}
    for position, item in enumerate(files):
        where = f"files[{position}]"
        found = _checked(item["path"], f"{where}.path")
        path = os.path.normpath(item["path"])
        if path in wanted:
            raise ConfigFilesError(f"{where}.path: file {path} is listed twice")
        wanted[path] = item
        mode = parse_mode("0644" if item.get("mode") is None else item["mode"], f"{where}.mode")
        before, before_mode = _read(path, found)
        if before != item["content"]:
            result.write.append((path, item["content"], mode))
            result.diff.append({"before_header": path, "after_header": path, "before": before or "", "after": item["content"]})
        elif before_mode != mode:
            result.chmod.append((path, mode))
        for stale in stale_temporaries(path):  # a run killed while writing this file
            result.remove.append(stale)
            result.diff.append({"before_header": stale, "after_header": "(removed)", "before": "", "after": ""})
    for position, pattern in enumerate(purge):
        if not isinstance(pattern, str) or "\0" in pattern or not os.path.isabs(pattern):
            raise ConfigFilesError(f"purge[{position}] {pattern!r} is not absolute: give an absolute glob pattern such as /etc/systemd/network/60-vlan-*")
        for path in sorted(glob.glob(pattern)):
            path = os.path.normpath(path)
            if path not in wanted and os.path.isfile(path) and path not in result.remove:
                found = _checked(path, f"purge[{position}] match")
                result.remove.append(path)
                result.diff.append({"before_header": path, "after_header": "(removed)", "before": _read(path, found)[0] or "", "after": ""})
    return result


def validate(todo: Plan, files: list, run, check_mode: bool = False) -> tuple[list, list]:
    """Each file about to be written whose item has a `validate` command: the command on a temporary file holding the new
    content (%s in the command), before anything is written. run(argv) -> (rc, stdout, stderr); a missing command raises
    FileNotFoundError. Returns the paths checked and warnings (a command not installed yet, in check mode only); raises
    ConfigFilesError, naming the file and in the command's words, when the content is refused."""
    commands = {os.path.normpath(item["path"]): (position, item["validate"]) for position, item in enumerate(files) if item.get("validate")}
    checked, warnings = [], []
    for path, content, _mode in todo.write:
        if path not in commands:
            continue
        position, command = commands[path]
        argv = shlex.split(command)
        if "%s" not in command or not argv:
            raise ConfigFilesError(f"files[{position}].validate {command!r} has no %s where the file to check goes (such as 'dnsmasq --test -C %s')")
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", prefix=".check-", suffix="-" + os.path.basename(path)) as handle:
            handle.write(content)
            handle.flush()
            try:
                rc, out, err = run([arg.replace("%s", handle.name) for arg in argv])
            except FileNotFoundError:
                if not check_mode:
                    raise ConfigFilesError(f"files[{position}].validate: {argv[0]} is not installed, "
                                           f"so {path} cannot be checked before it is written") from None
                warnings.append(f"{argv[0]} is not installed yet: {path} was not checked (check mode installs nothing)")
                continue
        if rc != 0:
            words = " ".join((err or out).split()) or f"exit status {rc}"
            raise ConfigFilesError(f"files[{position}].validate: {argv[0]} refused the new content of {path}, nothing was written: {words}")
        checked.append(path)
    return checked, warnings


def _checked(path, option: str):
    try:
        return check_target(path, option)
    except ValueError as exc:
        raise ConfigFilesError(str(exc)) from None


def apply(todo: Plan, done: Plan | None = None) -> Plan:
    """Make the plan's changes in order; `done` records each one as it is made, so a failure part way can say what was."""
    done = Plan() if done is None else done
    for path, content, mode in todo.write:
        write_atomically(path, content, mode)
        done.write.append((path, content, mode))
    for path, mode in todo.chmod:
        os.chmod(path, mode)
        done.chmod.append((path, mode))
    for path in todo.remove:
        os.unlink(path)
        done.remove.append(path)
    return done
