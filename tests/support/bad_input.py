# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 18's bad-input tests: many refused tasks in one playbook run, the world snapshot before and after, and what a
clean refusal looks like.

One ansible-playbook run per module: every bad input is a task with ignore_errors and a stable register name, so the
integration tier pays one controller start for ten or twenty cases.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.ansible import run_playbook

# What a Python exception looks like when it leaks into a message: a class name or an errno tuple.
_EXCEPTION_WORDS = re.compile(r"Traceback|\b[A-Z]\w*(Error|Exception)\b|\[Errno ")


ANSIBLE_PLACEHOLDER = "(traceback unavailable)"


def register_name(case_id: str) -> str:
    return "bad_" + re.sub(r"\W", "_", case_id)


def run_cases(lab, host: str, module: str, cases: dict, env: dict | None = None):
    """One playbook on `host` with one task per case ({case id: params, or (params, {"check_mode": True})}), each
    with ignore_errors and register bad_<case id>. Returns the PlaybookRun; read a case with result_of()."""
    tasks = []
    for case_id, case in cases.items():
        params, extra = case if isinstance(case, tuple) else (case, {})
        tasks.append({"name": case_id, module: params, "ignore_errors": True, "register": register_name(case_id), **extra})
    play = [{"hosts": host, "gather_facts": False, "tasks": tasks}]
    return run_playbook(play, lab.inventory(python=sys.executable), diff=True, env=env)


def result_of(run, case_id: str) -> tuple[str, dict]:
    return run.status(register_name(case_id), by="register"), run.task(register_name(case_id), by="register")


def assert_refused_in_words(run, case_id: str, *words: str) -> dict:
    """The case's task failed through fail_json, with a message holding every one of `words` (the option named) and no
    exception text: no traceback, no exception class name, no module crash output (module_stderr, module_stdout), and no
    `exception` key but Ansible's own: ansible-core 2.19 gives every failed result exception '(traceback unavailable)',
    the placeholder for the traceback it would show at -vvv (fail_json is called inside an except block), which these
    runs do not capture; a real traceback there would be exception text."""
    status, result = result_of(run, case_id)
    assert status == "ignored", f"{case_id}: not refused: {status} {result}"
    msg = result.get("msg", "")
    for word in words:
        assert word in msg, f"{case_id}: {word!r} not in the message {msg!r}"
    assert not _EXCEPTION_WORDS.search(msg), f"{case_id}: exception text in {msg!r}"
    assert "module_stderr" not in result and "module_stdout" not in result, f"{case_id}: the module crashed: {result}"
    assert result.get("exception", ANSIBLE_PLACEHOLDER) == ANSIBLE_PLACEHOLDER, f"{case_id}: exception text: {result['exception']}"
    assert "Traceback" not in json.dumps(result, default=str), f"{case_id}: a traceback in {result}"
    return result


def settle(lab, timeout: float = 10.0) -> None:
    """Wait until the lab is still: every link up has its carrier and no address is tentative, and nothing moves for a
    while. A fresh lab keeps changing for a moment (carriers come up, the kernel adds IPv6 link-local addresses), which
    a before/after comparison would blame on the task."""
    import time

    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        now = world(lab, list(lab.hosts))
        moving = any("NO-CARRIER" in link["flags"] for key, links in now.items() if key.endswith(" links") for link in links)
        moving = moving or any(a.get("tentative") for h in lab.hosts for i in lab.ip_json(h, "addr", "show") for a in i.get("addr_info", []))
        if now == last and not moving:
            return
        last = now
        time.sleep(0.3)
    raise AssertionError(f"the lab did not settle in {timeout} s: {last}")


def world(lab, hosts, proc_sys=(), files: Path | None = None, neighbours=()) -> dict:
    """What a refused task must leave alone: each host's addresses and links (ip -j), the given /proc/sys files of each
    host, the files under `files` (type, mode, content digest; looked at with lstat, FIFOs never opened), and the
    neighbour tables (address -> MAC) of the hosts in `neighbours`, the other hosts of the segment."""
    snap = {}
    for host in hosts:
        snap[f"{host} addresses"] = [(a["ifname"], sorted((i["local"], i["prefixlen"]) for i in a.get("addr_info", [])))
                                     for a in lab.ip_json(host, "addr", "show")]
        snap[f"{host} links"] = [{k: link.get(k) for k in ("ifname", "flags", "mtu", "address", "operstate", "link_type")}
                                 for link in lab.ip_json(host, "link", "show")]
        if proc_sys:
            values = lab.run(host, ["sh", "-c", 'for f in "$@"; do printf "%s=%s\\n" "$f" "$(cat "$f" 2>&1)"; done', "sh",
                                    *[f"/proc/sys/{p}" for p in proc_sys]]).stdout
            snap[f"{host} /proc/sys"] = values.splitlines()
    for host in neighbours:
        # IPv6 link-local entries come and go with the kernel's own neighbour discovery (its timers, not our frames);
        # every other entry is an address a poisoning frame could move.
        snap[f"{host} neighbours"] = sorted((n["dst"], n.get("dev"), n.get("lladdr")) for n in lab.ip_json(host, "neigh", "show")
                                            if not n["dst"].startswith("fe80:"))
    if files is not None:
        snap["files"] = tree(files)
    return snap


def tree(root: Path) -> dict:
    """Every entry under root: its type, mode and, for regular files, a digest of the content."""
    found = {}
    for directory, subdirs, names in os.walk(root):
        for name in subdirs + names:
            path = Path(directory) / name
            info = path.lstat()
            entry = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode))
            if stat.S_ISREG(info.st_mode):
                entry += (hashlib.sha256(path.read_bytes()).hexdigest(),)
            found[str(path.relative_to(root))] = entry
    return found


@dataclass
class Refused:
    run: object
    before: dict
    after: dict

    def assert_unchanged(self) -> None:
        assert_unchanged(self.before, self.after)


def refused_run(lab, host: str, module: str, table: dict, **snapshot) -> Refused:
    """The cases of `table` ({case id: (params or (params, task keywords), words)}) in one playbook run on `host`, with
    the world (every host of the lab, and what `snapshot` adds: proc_sys, files, neighbours) before and after it."""
    before = world(lab, list(lab.hosts), **snapshot)
    run = run_cases(lab, host, module, {case_id: params for case_id, (params, _words) in table.items()})
    return Refused(run, before, world(lab, list(lab.hosts), **snapshot))


def lan_lab():
    """gw (192.0.2.1), a (192.0.2.10) and b (192.0.2.20) on one switch, IPv6 too, and gw and b knowing every MAC
    (their neighbour tables hold each other and a), so an ARP frame from a speaking for b or gw shows."""
    def host(mac, v4, v6):
        return {"links": [{"switch": "lan", "mac": mac, "addresses": [v4, v6]}]}

    with built_lab({"switches": ["lan"], "hosts": {
            "gw": host("02:00:5e:00:00:01", "192.0.2.1/24", "2001:db8::1/64"),
            "a": host("02:00:5e:00:00:0a", "192.0.2.10/24", "2001:db8::a/64"),
            "b": host("02:00:5e:00:00:14", "192.0.2.20/24", "2001:db8::14/64")}}) as lab:
        for here, there in (("gw", "192.0.2.20"), ("gw", "192.0.2.10"), ("b", "192.0.2.1"), ("b", "192.0.2.10"),
                            ("gw", "2001:db8::14"), ("gw", "2001:db8::a"), ("b", "2001:db8::1"), ("b", "2001:db8::a")):
            lab.run(here, ["ping", "-c1", "-W2", there])
        yield lab


def assert_unchanged(before: dict, after: dict) -> None:
    changed = {k: (before[k], after.get(k)) for k in before if before[k] != after.get(k)}
    assert not changed, f"a refused task changed the world: {changed}"


@contextmanager
def built_lab(spec: dict):
    """A lab from topology data, settled, torn down on leaving."""
    import pytest

    if os.geteuid() != 0:
        pytest.skip("namespace labs need root")
    from tests.lab import Lab

    lab = Lab(spec)
    lab.up()
    try:
        settle(lab)
        yield lab
    finally:
        lab.down()


def lab_for_module(spec: dict):
    """A lab for a whole test module (one playbook run serves all its cases): a generator for a module-scoped fixture."""
    with built_lab(spec) as lab:
        yield lab


def suite(module: str, cases: dict, make_lab, host: str, precondition=None, **snapshot):
    """The fixtures and tests of a bad-input test module: the cases run on `host` of the lab make_lab() yields, in one
    playbook, each refused in words, and the world (with what `snapshot` adds) the same after the run.
    Assign the result to (lab, refused, test_refused_in_words_naming_the_option, test_nothing_changed)."""
    import pytest

    @pytest.fixture(scope="module")
    def lab():
        yield from make_lab()

    @pytest.fixture(scope="module")
    def refused(lab):
        return refused_run(lab, host, module, cases, **snapshot)

    @pytest.mark.parametrize("case_id", list(cases))
    def test_refused_in_words_naming_the_option(refused, case_id):
        assert_refused_in_words(refused.run, case_id, *cases[case_id][1])

    def test_nothing_changed(refused):
        if precondition:
            precondition(refused.before)
        refused.assert_unchanged()

    return lab, refused, test_refused_in_words_naming_the_option, test_nothing_changed


def neighbour_suite(module: str, cases: dict):
    """suite() for an ARP module: the cases run on a of lan_lab(), and gw's and b's neighbour tables are compared too."""
    def gw_knows_b(before):
        assert ("192.0.2.20", "eth0", "02:00:5e:00:00:14") in before["gw neighbours"], "gw knows b before the run"

    return suite(module, cases, lan_lab, "a", precondition=gw_knows_b, neighbours=["gw", "b"])
