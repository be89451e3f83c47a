# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a test's Ansible controller runs: here, or on the host when the test runs inside the kernel tier's UML guest.

Inside User-Mode Linux every Python step is about 12 times slower, and Ansible's controller is most of a playbook's
Python. tests/kernel/controller.py serves the guest from the host: it sets L2_CONTROLLER in the guest, and run() sends
the command there (JSON over TCP on the management link between host and guest); the files it names are shared,
since the guest's / is the host's.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess


def delegated() -> bool:
    return bool(os.environ.get("L2_CONTROLLER"))


def run(argv: list[str], env: dict, cwd, timeout: float) -> subprocess.CompletedProcess:
    """subprocess.run(argv, capture_output=True, text=True) here, or on the host's controller when there is one."""
    if not delegated():
        return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False)
    host, port = os.environ["L2_CONTROLLER"].rsplit(":", 1)
    job = {"argv": [str(a) for a in argv], "env": env, "cwd": str(cwd), "timeout": timeout}
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.settimeout(timeout + 60)
        conn.sendall(json.dumps(job).encode() + b"\n")
        with conn.makefile("rb") as reply:
            answer = json.loads(reply.readline())
    if answer.get("timeout"):
        raise subprocess.TimeoutExpired(argv, timeout, answer.get("stdout"), answer.get("stderr"))
    return subprocess.CompletedProcess(argv, answer["rc"], answer["stdout"], answer["stderr"])
