# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atomic file writes for sysctl.d persistence and config_files: readers see the old file or the new one, never half.

A file that is replaced keeps its owner, group, mode and SELinux context, as AnsibleModule.atomic_move keeps them:
a rename puts a new inode in place, which would otherwise carry the writer's uid, the given mode and the context of a
temporary file. The SELinux context is handled only when the selinux Python binding is there and SELinux is enabled.
"""

from __future__ import annotations

import errno
import glob
import os
import stat
import tempfile

NEW_FILE_MODE = 0o644
PATH_MAX = 4096  # include/uapi/linux/limits.h, the terminating NUL included
NAME_MAX = 255  # bytes in one path component on every usual Linux file system


def check_target(path, option: str) -> os.stat_result | None:
    """A file path this collection may write, checked before anything is written; ValueError in words naming `option`.

    Refused: not an absolute path, a NUL byte, longer than Linux allows, an existing directory, device, FIFO or socket
    (looked at with lstat and stat, never opened: opening a FIFO would hang), a parent that is a regular file, a
    directory that cannot be written. Returns the file's lstat, or None when it does not exist yet.
    """
    shown = f"{option} {path!r}"
    if not isinstance(path, str) or not path:
        raise ValueError(f"{shown} is not a file path; give an absolute path such as /etc/sysctl.d/90-layer2-linux.conf")
    if "\0" in path:
        raise ValueError(f"{shown} holds a NUL character, which no Linux path can hold")
    if not os.path.isabs(path):
        raise ValueError(f"{shown} is not absolute; give the whole path from /, the module's working directory is not yours")
    raw = os.fsencode(path)
    if len(raw) >= PATH_MAX or any(len(part) > NAME_MAX for part in raw.split(b"/")):
        raise ValueError(f"{shown} is too long: Linux allows {PATH_MAX - 1} bytes in a path and {NAME_MAX} in each name of it")
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        found = None
    except NotADirectoryError:
        found = None  # a parent is not a directory: named below
    except OSError as exc:
        raise ValueError(f"{shown} cannot be looked at: {exc.strerror}") from None
    if found is not None:
        kind = _kind(os.stat(path).st_mode if stat.S_ISLNK(found.st_mode) and os.path.exists(path) else found.st_mode)
        if kind:
            raise ValueError(f"{shown} is {kind}, not a regular file; name a file (this module writes files only)")
    parent = os.path.dirname(os.path.normpath(path))
    while not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ValueError(f"{shown} is under {parent}, which is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{shown} cannot be written: {parent} is not writable by this user (or is on a read-only file system)")
    return found


def _kind(mode: int) -> str:
    """'' for a regular file (or a symlink whose target is missing), else what the thing is, in words."""
    for test, words in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return words
    return ""


def _selinux():
    """The selinux binding when SELinux is enabled on this host, else None."""
    try:
        import selinux  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    try:
        return selinux if selinux.is_selinux_enabled() == 1 else None
    except OSError:
        return None


def _context(selinux, path: str, existing: os.stat_result | None, mode: int) -> str | None:
    """The context the file must end with: the one it has, or the policy's default for a new file at that path."""
    try:
        if existing is not None:
            return selinux.lgetfilecon_raw(path)[1]
        return selinux.matchpathcon(path, stat.S_IFREG | mode)[1]
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENODATA, errno.EOPNOTSUPP):  # no policy entry, or a file system without labels
            return None
        raise


def _temporary_prefix(path: str) -> str:
    return f".{os.path.basename(path)}."


def stale_temporaries(path: str) -> list[str]:
    """The temporary files write_atomically left next to `path` when it was killed before its rename (SIGKILL, power loss):
    a dot, the name, a dot and mkstemp's eight characters. Programs that read the directory skip them; they are litter."""
    pattern = glob.escape(os.path.join(os.path.dirname(os.path.abspath(path)), _temporary_prefix(path))) + "[a-z0-9_]" * 8
    return sorted(found for found in glob.glob(pattern) if os.path.isfile(found) and not os.path.islink(found))


def write_atomically(path: str, text: str, mode: int | None = None) -> None:
    """Write `text` to a temporary file next to `path`, sync it, give it the replaced file's attributes, rename it over `path`.

    mode: the file's permission bits; None keeps those of the file replaced (NEW_FILE_MODE for a new file).
    Owner and group are those of the file replaced (the writer's for a new file): a non-root writer that cannot chown
    leaves them its own, as atomic_move does.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o755, exist_ok=True)
    try:
        existing = os.stat(path)
    except FileNotFoundError:
        existing = None
    if mode is None:
        mode = stat.S_IMODE(existing.st_mode) if existing is not None else NEW_FILE_MODE
    selinux = _selinux()
    context = _context(selinux, path, existing, mode) if selinux is not None else None
    handle, tmp = tempfile.mkstemp(dir=directory, prefix=_temporary_prefix(path))
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            if existing is not None:
                try:
                    os.fchown(out.fileno(), existing.st_uid, existing.st_gid)
                except PermissionError:
                    pass
            os.fchmod(out.fileno(), mode)  # after the chown, which clears set-user-ID and set-group-ID bits
            os.fsync(out.fileno())
        if context is not None:
            selinux.lsetfilecon(tmp, context)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
