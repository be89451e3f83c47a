# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run playbooks and single modules from tests, and read back what every task returned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support import controller

ROOT = Path(__file__).resolve().parents[2]
CALLBACKS = Path(__file__).resolve().parent / "callback"


def collections_path() -> Path:
    """A directory where `ansible_collections/layer2/linux` is this checkout, so FQCNs resolve."""
    # crc32, not hash(): str hashes change with every process, which would leave a new directory behind each run.
    base = Path(tempfile.gettempdir()) / f"layer2-linux-collections-{zlib.crc32(str(ROOT).encode()):08x}"
    link = base / "ansible_collections" / "layer2" / "linux"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            link.symlink_to(ROOT)
        except FileExistsError:
            pass
    return base


def ansible_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(collections_path()),
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
            "ANSIBLE_CALLBACKS_ENABLED": "record",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "False",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        }
    )
    env.update(extra or {})
    return env


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    results: list
    recap: dict

    def _record(self, name: str, host: str | None, by: str = "task") -> dict:
        """The last record of the named task (on one host, when the play has several); KeyError names what there is.
        by="register": name is the task's `register` name, which survives a change of the task's display name."""
        found = [r for r in self.results if r.get(by) == name and (host is None or r["host"] == host)]
        if not found:
            raise KeyError(f"no result for {by} {name!r} (host {host}); have {[r.get(by) for r in self.results]}\n{self.stdout}")
        return found[-1]

    def task(self, name: str, host: str | None = None, by: str = "task") -> dict:
        """The result of the named task (on one host, when the play has several)."""
        return self._record(name, host, by)["result"]

    def status(self, name: str, host: str | None = None, by: str = "task") -> str:
        """The recorded status of the named task: ok, failed, ignored (failed under ignore_errors), skipped..."""
        return self._record(name, host, by)["status"]

    @property
    def changed(self) -> int:
        return sum(h.get("changed", 0) for h in self.recap.values())

    @property
    def failed(self) -> int:
        return sum(h.get("failures", 0) + h.get("unreachable", 0) for h in self.recap.values())


def run_playbook(playbook, inventory: dict, extra_vars: dict | None = None, check: bool = False, diff: bool = False,
                 args: list[str] | None = None, env: dict | None = None, timeout: int = 600, prefix: list[str] | None = None) -> PlaybookRun:
    """Run a playbook (a path, or plays as data) against an inventory given as data. prefix: argv ansible-playbook runs
    under (`ip netns exec NS`: a controller reaching its hosts over a lab's network; a private mount namespace)."""
    with tempfile.TemporaryDirectory(prefix="layer2-play-") as tmp:
        tmp = Path(tmp)
        inv = tmp / "inventory.yml"
        inv.write_text(yaml.safe_dump(inventory))
        if not isinstance(playbook, (str, Path)):
            path = tmp / "play.yml"
            path.write_text(yaml.safe_dump(playbook, sort_keys=False))
            playbook = path
        record = tmp / "record.json"
        cmd = list(prefix or []) + [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inv), str(playbook)]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        cmd += (["--check"] if check else []) + (["--diff"] if diff else []) + list(args or [])
        run_env = ansible_env({"LAYER2_RECORD": str(record), **(env or {})})
        if prefix:  # the controller inside a namespace of this machine's labs
            proc = subprocess.run(cmd, capture_output=True, text=True, env=run_env, timeout=timeout, cwd=ROOT, check=False)
        else:  # here, or on the host when these tests run inside the kernel tier's UML guest
            proc = controller.run(cmd, run_env, ROOT, timeout)
        data = json.loads(record.read_text()) if record.exists() else {"results": [], "recap": {}}
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, data["results"], data["recap"])


def run_module(lab, host: str, module: str, params: dict, check: bool = False, diff: bool = True, **kwargs) -> dict:
    """Run one module on one lab host through the netns connection; return its result."""
    play = [{"hosts": host, "gather_facts": False, "tasks": [{"name": "the task", module: params}]}]
    run = run_playbook(play, lab.inventory(python=sys.executable), check=check, diff=diff, **kwargs)
    result = run.task("the task", host)
    result["_status"] = run.status("the task", host)
    return result
