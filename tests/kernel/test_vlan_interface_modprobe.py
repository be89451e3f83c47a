# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vlan_interface loads 8021q itself when the kernel has it as a module that is not loaded.

Runs after test_vlan_interface.py (file order), once its lab is gone: unloads 8021q, then asks for a VLAN.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.lab import Lab
from tests.support.ansible import run_module


def modprobe() -> str:
    try:
        with open("/proc/sys/kernel/modprobe", encoding="utf-8") as handle:
            return handle.read().strip() or "modprobe"
    except OSError:
        return "modprobe"


def test_a_missing_8021q_module_is_loaded():
    if os.geteuid() != 0:
        pytest.skip("namespace labs need root")
    unload = subprocess.run([modprobe(), "-r", "8021q"], capture_output=True, text=True, check=False)
    if unload.returncode != 0 or os.path.isdir("/proc/net/vlan"):
        pytest.skip(f"8021q cannot be unloaded here (built in?): {unload.stderr.strip()}")
    with Lab({"hosts": {"solo": {"links": [{"peer": "other:eth0"}]}, "other": {"links": [{"peer": "solo:eth0"}]}}}) as lab:
        result = run_module(lab, "solo", "layer2.linux.vlan_interface", {"parent": "eth0", "vlan_id": 42})  # via the netns connection
        assert result["_status"] == "ok" and result["created"] == ["eth0.42"], result.get("msg")
        assert os.path.isdir("/proc/net/vlan")
        assert lab.ip_json("solo", "-d", "link", "show", "dev", "eth0.42")[0]["linkinfo"]["info_data"]["id"] == 42
