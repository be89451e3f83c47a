# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel tier's Ansible controller, on the host, for tests that run inside User-Mode Linux.

    host: namespace made by tests/kernel/run                 UML guest (tests/kernel/uml-exec)
      tap l2kctl0 10.254.0.1/30  <------ tuntap ------>        eth0 10.254.0.2/30, sshd
      `host`: job server on 10.254.0.1:7788                    `guest`: pytest tests/kernel and its labs
        runs what tests.support.controller.run() sends:          run_playbook() sends ansible-playbook here;
        ansible-playbook, whose tasks reach the guest            each task comes back over SSH and enters its
        over SSH (tests/support/connection/uml_netns.py)         lab host's namespace

Only the managed side of each task pays UML's slowness, as when a real router is managed from another machine.
Everything is in namespaces of the tier's own; nothing touches the host's interfaces.

    python -m tests.kernel.controller host CMD...    in the namespace: serve jobs, boot UML running `guest CMD...`
    python -m tests.kernel.controller guest CMD...   inside UML: bring up the management link and sshd, run CMD
"""

from __future__ import annotations

import json
import os
import shutil
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support import ssh_node  # noqa: E402

TAP, HOST, GUEST, PORT = "l2kctl0", "10.254.0.1", "10.254.0.2", 7788
CONNECTION_PLUGINS = ROOT / "tests" / "support" / "connection"
GUEST_ONLY = ("L2_UML_INSIDE", "L2_CONTROLLER", "L2_UML_SSH_DIR")


class Jobs(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, directory: Path):
        super().__init__((HOST, PORT), JobHandler)
        self.directory = directory


class JobHandler(socketserver.StreamRequestHandler):
    def handle(self):
        job = json.loads(self.rfile.readline())
        argv, env = job["argv"], {k: v for k, v in job["env"].items() if k not in GUEST_ONLY}
        env["ANSIBLE_CONNECTION_PLUGINS"] = os.pathsep.join(filter(None, [str(CONNECTION_PLUGINS), env.get("ANSIBLE_CONNECTION_PLUGINS")]))
        # Extra vars win over every inventory, add_host and play: each host, localhost included, is reached in the guest.
        extra_vars = ["-e", f"@{self.server.directory / 'connection.json'}"]
        if Path(argv[0]).name == "ansible-playbook":
            argv = [*argv, *extra_vars]
        elif Path(argv[0]).name == "molecule":  # molecule passes the arguments after -- to every ansible-playbook it runs
            argv = [*argv, *([] if "--" in argv else ["--"]), *extra_vars]
        try:
            proc = subprocess.run(argv, env=env, cwd=job["cwd"], capture_output=True, text=True, timeout=job["timeout"], check=False)
            answer = {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}
        except subprocess.TimeoutExpired as exc:
            answer = {"timeout": True, "stdout": _text(exc.stdout), "stderr": _text(exc.stderr)}
        except OSError as exc:
            answer = {"rc": 127, "stdout": "", "stderr": f"controller: cannot run {argv[0]}: {exc}"}
        self.wfile.write(json.dumps(answer).encode() + b"\n")


def _text(data) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else data or ""


def host(cmd: list[str]) -> int:
    directory = ssh_node.short_directory()
    try:
        ssh_node.prepare(directory, GUEST)
        connection = {**ssh_node.inventory_vars(directory, GUEST), "ansible_connection": "uml_netns", "ansible_pipelining": True}
        del connection["ansible_python_interpreter"]  # the inventory's (the venv's) is right: the guest's / is the host's
        (directory / "connection.json").write_text(json.dumps(connection))
        jobs = Jobs(directory)
        threading.Thread(target=jobs.serve_forever, daemon=True).start()
        env = dict(os.environ, L2_UML_SSH_DIR=str(directory), L2_CONTROLLER=f"{HOST}:{PORT}",
                   L2_UML_ARGS=f"eth0=tuntap,{TAP} {os.environ.get('L2_UML_ARGS', '')}".strip())
        try:
            return subprocess.call([str(ROOT / "tests/kernel/uml-exec"), sys.executable, "-m", "tests.kernel.controller", "guest", *cmd], env=env)
        finally:
            jobs.shutdown()
            jobs.server_close()
            ssh_node.close_master(directory, GUEST)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def guest(cmd: list[str]) -> int:
    directory = Path(os.environ["L2_UML_SSH_DIR"])
    for argv in (["ip", "addr", "add", f"{GUEST}/30", "dev", "eth0"], ["ip", "link", "set", "eth0", "up"]):
        subprocess.run(argv, check=True)
    # The guest's root is the host's /, so root's ~/.bashrc is the host's, which bash sources for every SSH command
    # (3.5 s of pyenv set-up inside UML here). A router's root has no such thing: hide it, in the guest only.
    bashrc = Path.home() / ".bashrc"
    if bashrc.exists():
        subprocess.run(["mount", "--bind", "/dev/null", str(bashrc)], check=False)
    sshd = ssh_node.start(None, directory / "sshd_config", GUEST)
    try:
        return subprocess.call(cmd)
    finally:
        sshd.terminate()
        sshd.wait()


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("host", "guest"):
        sys.exit(f"usage: {sys.argv[0]} host|guest CMD...")
    sys.exit((host if sys.argv[1] == "host" else guest)(sys.argv[2:]))
