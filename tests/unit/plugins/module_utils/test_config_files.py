# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""config_files logic: only differing files are written, modes fixed, strays purged, bad input refused."""

from __future__ import annotations

import os

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _config_files
from ansible_collections.layer2.linux.plugins.module_utils._config_files import ConfigFilesError, Plan, apply, plan


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


def test_temporaries_of_a_killed_writer_are_removed_by_the_next_run(tmp_path):
    # write_atomically killed (SIGKILL, power loss) between its temporary file and the rename leaves .x.conf.XXXXXXXX.
    (tmp_path / "x.conf").write_text("x=1\n")
    (tmp_path / ".x.conf.k3_9abzq").write_text("x=")
    (tmp_path / ".x.conf.swp").write_text("an editor's")
    todo = plan([{"path": str(tmp_path / "x.conf"), "content": "x=1\n"}], [])
    assert todo.remove == [str(tmp_path / ".x.conf.k3_9abzq")] and todo.changed and not todo.write
    apply(todo)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".x.conf.swp", "x.conf"]
    assert not plan([{"path": str(tmp_path / "x.conf"), "content": "x=1\n"}], []).changed


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


@pytest.mark.parametrize("mode", [644, 420, True, [644], "u=rw", "0o644", "99", "", "07777x", 0.5])
def test_a_mode_that_is_not_a_quoted_octal_string_is_refused_by_its_option(tmp_path, mode):
    with pytest.raises(ConfigFilesError) as refused:
        plan([{"path": str(tmp_path / "x"), "content": "", "mode": mode}], [])
    assert str(refused.value).startswith(f"files[0].mode {mode!r} is not a quoted octal string")
    assert ("quote it" in str(refused.value)) is (isinstance(mode, int) and not isinstance(mode, bool))


@pytest.mark.parametrize("mode, bits", [("0644", 0o644), ("644", 0o644), ("2750", 0o2750), ("00600", 0o600), (None, 0o644)])
def test_quoted_octal_modes_are_read_as_octal(tmp_path, mode, bits):
    assert plan([{"path": str(tmp_path / "x"), "content": "", "mode": mode}], []).write[0][2] == bits


def bad_paths(tmp_path):
    (tmp_path / "file").write_text("a regular file")
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link-to-fifo").symlink_to(tmp_path / "fifo")
    return {
        "a directory": (str(tmp_path / "dir"), "is a directory, not a regular file"),
        "a FIFO": (str(tmp_path / "fifo"), "is a FIFO (named pipe), not a regular file"),
        "a link to a FIFO": (str(tmp_path / "link-to-fifo"), "is a FIFO (named pipe)"),
        "a character device": ("/dev/null", "is a character device"),
        "under a regular file": (str(tmp_path / "file" / "x.conf"), "which is a file, not a directory"),
        "deep under a regular file": (str(tmp_path / "file" / "a" / "b.conf"), f"is under {tmp_path / 'file'}, which is a file"),
        "a name too long": (str(tmp_path / ("n" * 256)), "is too long"),
        "a path too long": ("/" + "/".join(["d" * 200] * 21), "is too long"),
        "a NUL byte": (str(tmp_path / "x\0y"), "holds a NUL character"),
        "relative": ("etc/x.conf", "is not absolute"),
    }


@pytest.mark.parametrize("case", ["a directory", "a FIFO", "a link to a FIFO", "a character device", "under a regular file",
                                  "deep under a regular file", "a name too long", "a path too long", "a NUL byte", "relative"])
def test_every_path_is_checked_before_anything_is_written_and_nothing_opened(tmp_path, case):
    path, words = bad_paths(tmp_path)[case]
    first = tmp_path / "first.conf"
    with pytest.raises(ConfigFilesError) as refused:  # a FIFO opened for reading would block here for ever
        plan([{"path": str(first), "content": "1"}, {"path": path, "content": "2"}], [])
    assert str(refused.value).startswith(f"files[1].path {path!r}") and words in str(refused.value)
    assert not first.exists()


def test_a_failure_part_way_records_only_what_was_done(tmp_path, monkeypatch):
    todo = plan([{"path": str(tmp_path / n), "content": n} for n in ("a", "b", "c")], [])
    real = _config_files.write_atomically

    def full_disk(path, text, mode=None):
        if path.endswith("/b"):
            raise OSError(28, "No space left on device", path)
        real(path, text, mode)

    monkeypatch.setattr(_config_files, "write_atomically", full_disk)
    done = Plan()
    with pytest.raises(OSError):
        apply(todo, done)
    assert [p for p, _c, _m in done.write] == [str(tmp_path / "a")]


def test_validate_runs_on_the_new_content_of_changed_files_only(tmp_path):
    same, new = tmp_path / "same.conf", tmp_path / "new.conf"
    same.write_text("port=0\n")
    files = [{"path": str(same), "content": "port=0\n", "validate": "dnsmasq --test -C %s"},
             {"path": str(new), "content": "port=53\n", "validate": "dnsmasq --test --conf-file=%s"},
             {"path": str(tmp_path / "plain.conf"), "content": "x\n"}]
    seen = []

    def run(argv):
        seen.append((argv, open(argv[-1].split("=")[-1]).read()))
        return 0, "dnsmasq: syntax check OK.\n", ""

    assert _config_files.validate(plan(files, []), files, run) == ([str(new)], [])
    assert len(seen) == 1 and seen[0][0][:2] == ["dnsmasq", "--test"] and seen[0][1] == "port=53\n"
    assert not new.exists()  # checked on a temporary file: nothing written yet


def test_validate_refusal_missing_command_and_no_placeholder(tmp_path):
    files = [{"path": str(tmp_path / "x.conf"), "content": "bogus\n", "validate": "dnsmasq --test --conf-file=%s"}]
    todo = plan(files, [])
    refused = r"files\[0\].validate: dnsmasq refused the new content of .*x.conf, nothing was written: dnsmasq: bad option at line 1"
    with pytest.raises(ConfigFilesError, match=refused):
        _config_files.validate(todo, files, lambda argv: (1, "", "\ndnsmasq: bad option at line 1 of /tmp/x\n"))

    def missing(argv):
        raise FileNotFoundError(2, "No such file or directory")

    with pytest.raises(ConfigFilesError, match="dnsmasq is not installed, so .* cannot be checked"):
        _config_files.validate(todo, files, missing)
    assert _config_files.validate(todo, files, missing, check_mode=True) == ([], [f"dnsmasq is not installed yet: {tmp_path}/x.conf was not checked "
                                                                                  "(check mode installs nothing)"])
    files[0]["validate"] = "dnsmasq --test"
    with pytest.raises(ConfigFilesError, match="has no %s"):
        _config_files.validate(todo, files, missing)
