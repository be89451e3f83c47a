# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_files.write_atomically: whole files only, and a replaced file keeps its owner, group, mode and SELinux context."""

from __future__ import annotations

import os
import sys
import types

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _files
from ansible_collections.layer2.linux.plugins.module_utils._files import write_atomically

OTHER_UID, OTHER_GID = 4242, 4343  # owned by nobody on this host: a file a configuration tool wrote for its daemon


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "d" / "x.conf"
    write_atomically(str(path), "a = 1\n")
    write_atomically(str(path), "a = 2\n")
    assert path.read_text() == "a = 2\n" and [p.name for p in path.parent.iterdir()] == ["x.conf"]


def test_a_new_file_gets_0644_and_the_writers_owner(tmp_path):
    path = tmp_path / "new.conf"
    write_atomically(str(path), "a = 1\n")
    st = os.stat(path)
    assert (oct(st.st_mode & 0o7777), st.st_uid, st.st_gid) == ("0o644", os.geteuid(), os.getegid())


def test_a_replaced_file_keeps_its_owner_group_and_mode(tmp_path):
    """Root (as Ansible runs it) can hand the file to its old owner; as another user the owner is the writer's own anyway."""
    path = tmp_path / "keepalived.conf"
    path.write_text("old\n")
    owner = (OTHER_UID, OTHER_GID) if os.geteuid() == 0 else (os.geteuid(), os.getegid())
    os.chown(path, *owner)
    os.chmod(path, 0o640)
    write_atomically(str(path), "new\n")
    st = os.stat(path)
    assert path.read_text() == "new\n" and (st.st_uid, st.st_gid, oct(st.st_mode & 0o7777)) == (*owner, "0o640")


def test_a_mode_given_wins_over_the_replaced_files(tmp_path):
    path = tmp_path / "x.conf"
    path.write_text("old\n")
    os.chmod(path, 0o600)
    write_atomically(str(path), "new\n", mode=0o644)
    assert oct(os.stat(path).st_mode & 0o7777) == "0o644"


class FakeSelinux(types.SimpleNamespace):
    """The calls of the selinux binding that write_atomically makes, with labels kept in a dict."""

    def __init__(self, enabled, labels):
        super().__init__(enabled=enabled, labels=labels, set=[])

    def is_selinux_enabled(self):
        return 1 if self.enabled else 0

    def lgetfilecon_raw(self, path):
        return 0, self.labels[os.path.basename(path)]

    def matchpathcon(self, path, mode):
        return 0, "system_u:object_r:etc_t:s0"

    def lsetfilecon(self, path, context):
        self.set.append((os.path.dirname(path), context))


@pytest.mark.parametrize("exists, context", [(True, "system_u:object_r:keepalived_etc_t:s0"), (False, "system_u:object_r:etc_t:s0")])
def test_selinux_context_is_kept_or_the_policy_default_given(tmp_path, monkeypatch, exists, context):
    path = tmp_path / "keepalived.conf"
    if exists:
        path.write_text("old\n")
    fake = FakeSelinux(True, {"keepalived.conf": "system_u:object_r:keepalived_etc_t:s0"})
    monkeypatch.setitem(sys.modules, "selinux", fake)
    write_atomically(str(path), "new\n")
    assert fake.set == [(str(tmp_path), context)]  # set on the temporary file, before it is renamed into place


@pytest.mark.parametrize("binding", [None, FakeSelinux(False, {})])
def test_no_selinux_binding_or_selinux_disabled_is_no_error(tmp_path, monkeypatch, binding):
    monkeypatch.setitem(sys.modules, "selinux", binding)  # None: the import fails, as where the binding is not installed
    assert _files._selinux() is None
    write_atomically(str(tmp_path / "x.conf"), "a\n")
    assert binding is None or binding.set == []
