# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which third-party libraries each module pulls in when Ansible runs it: what a managed node must have installed.

No module needs pyroute2 (the unit tests' oracle only); a module importing it by accident fails on a node without it,
and pays 0.1 s (over 1 s in User-Mode Linux) to start.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.ansible import collections_path

MODULES = sorted(p.stem for p in (Path(__file__).resolve().parents[4] / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
THIRD_PARTY = ("pyroute2", "scapy", "netaddr")
NEEDS = {"pi_discover": {"netaddr"}}


def imported_by(module: str) -> set[str]:
    code = (f"import sys; import ansible_collections.layer2.linux.plugins.modules.{module}; "
            f"print(' '.join(n for n in {THIRD_PARTY!r} if n in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(collections_path())}, capture_output=True, text=True, check=True)
    return set(run.stdout.split())


@pytest.mark.parametrize("module", MODULES)
def test_a_module_imports_only_the_libraries_it_needs(module):
    assert imported_by(module) <= NEEDS.get(module, set())
