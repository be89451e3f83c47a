# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 18: config_files refuses bad input in words, before the first file is written, in one playbook run.

Every case lists a good file first (ok.conf, differing per case): a refused case must leave even that one unwritten.
The tree under the test's directory is compared once before and once after the run: each case writes to its own
names, so one case's stray file cannot hide behind another's.
"""

from __future__ import annotations

import os
import socket

import pytest

from tests.support.bad_input import assert_refused_in_words, lab_for_module, refused_run

MODULE = "layer2.linux.config_files"


@pytest.fixture(scope="module")
def lab():
    yield from lab_for_module({"switches": ["lan"], "hosts": {"a": {"links": [{"switch": "lan", "addresses": ["192.0.2.10/24"]}]}}})


def cases(base):
    def with_good_first(case_id, bad, purge=()):
        return {"files": [{"path": f"{base}/{case_id}-ok.conf", "content": "ok\n"}, bad], "purge": list(purge)}

    return {
        # case id: (params, the words the message must hold)
        "mode unquoted": (with_good_first("m1", {"path": f"{base}/m1.conf", "content": "x", "mode": 644}), ["files[1].mode 644", "quote it"]),
        "mode a list": (with_good_first("m2", {"path": f"{base}/m2.conf", "content": "x", "mode": [644]}), ["files[1].mode [644]"]),
        "mode true": (with_good_first("m3", {"path": f"{base}/m3.conf", "content": "x", "mode": True}), ["files[1].mode True"]),
        "mode symbolic": (with_good_first("m4", {"path": f"{base}/m4.conf", "content": "x", "mode": "u=rw"}), ["files[1].mode 'u=rw'"]),
        "mode too big": (with_good_first("m5", {"path": f"{base}/m5.conf", "content": "x", "mode": "17777"}), ["files[1].mode '17777'"]),
        "a directory": (with_good_first("p1", {"path": f"{base}/dir", "content": "x"}), ["files[1].path", "is a directory"]),
        "under a file": (with_good_first("p2", {"path": f"{base}/plain/x.conf", "content": "x"}), ["files[1].path", "which is a file"]),
        "name too long": (with_good_first("p3", {"path": f"{base}/{'n' * 300}", "content": "x"}), ["files[1].path", "is too long"]),
        "path too long": (with_good_first("p4", {"path": f"{base}" + ("/" + "d" * 250) * 17, "content": "x"}), ["files[1].path", "is too long"]),
        "NUL byte": (with_good_first("p5", {"path": f"{base}/nul\0.conf", "content": "x"}), ["files[1].path", "NUL character"]),
        "a FIFO": (with_good_first("p6", {"path": f"{base}/fifo", "content": "x"}), ["files[1].path", "is a FIFO"]),
        "a FIFO in check mode": ((with_good_first("p7", {"path": f"{base}/fifo", "content": "x"}), {"check_mode": True}), ["files[1].path", "is a FIFO"]),
        "a socket": (with_good_first("p8", {"path": f"{base}/socket", "content": "x"}), ["files[1].path", "is a socket"]),
        "a device": (with_good_first("p9", {"path": "/dev/null", "content": "x"}), ["files[1].path '/dev/null'", "is a character device"]),
        "relative": (with_good_first("p10", {"path": "etc/x.conf", "content": "x"}), ["files[1].path", "is not absolute"]),
        "listed twice": (with_good_first("p11", {"path": f"{base}/p11-ok.conf", "content": "other\n"}), ["files[1].path", "listed twice"]),
        "purge relative": (with_good_first("p12", {"path": f"{base}/p12.conf", "content": "x"}, purge=["etc/*"]), ["purge[0] 'etc/*'", "not absolute"]),
    }


@pytest.fixture(scope="module")
def refused(lab, tmp_path_factory):
    base = tmp_path_factory.mktemp("config-files-bad-input")
    (base / "dir").mkdir()
    (base / "plain").write_text("a regular file\n")
    os.mkfifo(base / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(base / "socket"))
    table = cases(base)
    done = refused_run(lab, "a", MODULE, table, files=base)
    sock.close()
    return done, table


@pytest.mark.parametrize("case_id", list(cases("/x")))
def test_refused_in_words_naming_the_option(refused, case_id):
    done, table = refused
    assert_refused_in_words(done.run, case_id, *table[case_id][1])


def test_nothing_was_written(refused):
    refused[0].assert_unchanged()
