# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A managed node reached over real SSH: sshd started inside a lab namespace with throw-away keys, and the
inventory variables that reach it (one multiplexed connection, no host-key prompts, nothing written to ~/.ssh)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def missing() -> str | None:
    """Why SSH cannot be used here, or None."""
    if not os.path.exists(SSHD) or not shutil.which("ssh") or not shutil.which("ssh-keygen"):
        return "needs openssh-server and openssh-client (scripts/system-deps.sh installs them; sshd runs only in lab namespaces)"
    return None


def short_directory() -> Path:
    """A new directory with a short path: ssh's ControlPath socket must fit in 108 bytes."""
    return Path(tempfile.mkdtemp(prefix="l2ssh-", dir="/tmp"))


def prepare(directory: Path, listen: str) -> Path:
    """Keys and an sshd_config in `directory` for root logins by key on `listen`; returns the config's path."""
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / name)], check=True)
    shutil.copy(directory / "client_key.pub", directory / "authorized_keys")
    config = directory / "sshd_config"
    config.write_text(
        f"HostKey {directory}/host_key\nListenAddress {listen}\nAuthorizedKeysFile {directory}/authorized_keys\n"
        "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "UseDNS no\nPrintMotd no\nPrintLastLog no\nX11Forwarding no\nPidFile none\nSubsystem sftp internal-sftp\n")
    return config


def start(netns: str | None, config: Path, listen: str) -> subprocess.Popen:
    """sshd in the foreground inside a namespace (None: this one), once it listens; the caller terminates it."""
    os.makedirs("/run/sshd", exist_ok=True)  # its privilege-separation directory
    inside = ["ip", "netns", "exec", netns] if netns else []
    sshd = subprocess.Popen([*inside, SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
    for _attempt in range(100):
        listening = subprocess.run([*inside, "ss", "-Hltn", f"src {listen}"], capture_output=True, text=True, check=False)
        if listening.stdout.strip():
            return sshd
        time.sleep(0.1)
    sshd.terminate()
    raise RuntimeError(f"sshd did not start listening on {listen} in {netns}")


def inventory_vars(directory: Path, address: str) -> dict:
    options = ["-o UserKnownHostsFile=/dev/null", "-o StrictHostKeyChecking=no", "-o ControlMaster=auto",
               "-o ControlPersist=120s", f"-o ControlPath={directory}/%C"]
    return {"ansible_host": address, "ansible_connection": "ansible.builtin.ssh", "ansible_user": "root",
            "ansible_ssh_private_key_file": str(directory / "client_key"), "ansible_ssh_common_args": " ".join(options),
            "ansible_python_interpreter": sys.executable}


def close_master(directory: Path, address: str) -> None:
    subprocess.run(["ssh", "-o", f"ControlPath={directory}/%C", "-O", "exit", address], capture_output=True, check=False)
