# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""config_files logic: only differing files are written, modes fixed, strays purged, bad input refused."""

from __future__ import annotations

import os

import pytest
from ansible_collections.layer2.linux.plugins.module_utils._config_files import ConfigFilesError, apply, plan


def test_writes_missing_then_nothing_to_do(tmp_path):
    files = [{"path": str(tmp_path / "a/b/x.conf"), "content": "x=1\n"}]
    todo = plan(files, [])
    assert todo.changed and todo.diff[0]["after"] == "x=1\n"
    apply(todo)
    assert (tmp_path / "a/b/x.conf").read_text() == "x=1\n"
    assert oct(os.stat(tmp_path / "a/b/x.conf").st_mode & 0o777) == "0o644"
    assert not plan(files, []).changed


def test_mode_only_is_fixed_without_rewriting(tmp_path):
    path = tmp_path / "x.conf"
    path.write_text("same\n")
    path.chmod(0o600)
    todo = plan([{"path": str(path), "content": "same\n", "mode": "0644"}], [])
    assert todo.chmod == [(str(path), 0o644)] and not todo.write


def test_strays_matching_a_pattern_are_purged_listed_ones_kept(tmp_path):
    (tmp_path / "60-vr-a.netdev").write_text("a")
    (tmp_path / "60-vr-b.netdev").write_text("b")
    (tmp_path / "10-other.netdev").write_text("o")
    todo = plan([{"path": str(tmp_path / "60-vr-a.netdev"), "content": "a"}], [str(tmp_path / "60-vr-*")])
    assert todo.remove == [str(tmp_path / "60-vr-b.netdev")]
    apply(todo)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["10-other.netdev", "60-vr-a.netdev"]


@pytest.mark.parametrize("files, purge, words", [
    ([{"path": "relative.conf", "content": ""}], [], "not absolute"),
    ([{"path": "/tmp/x", "content": ""}, {"path": "/tmp/x", "content": "y"}], [], "listed twice"),
    ([{"path": "/tmp/x", "content": "", "mode": "rw-r--r--"}], [], "octal"),
    ([], ["etc/*"], "not absolute"),
])
def test_bad_input_is_refused(files, purge, words):
    with pytest.raises(ConfigFilesError, match=words):
        plan(files, purge)
