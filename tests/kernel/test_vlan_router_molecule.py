# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router Molecule scenario (extensions/molecule/vlan_router), run whole in the kernel tier's boot:
prepare, converge, idempotence, verify, cleanup, destroy. The scenario builds and tears down its own lab (names of
its own), so it shares the boot with the other kernel tests' labs without meeting them. Molecule and its Ansible run
where the other tests' controller runs (on the host when the tier boots UML; tests/support/controller.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.support import controller
from tests.support.ansible import ROOT

MOLECULE = Path(sys.executable).with_name("molecule")


def test_the_molecule_scenario_passes_every_action(tmp_path):
    assert MOLECULE.exists(), f"molecule is not installed next to {sys.executable} (test-requirements.txt lists it)"
    # molecule installs the collection under ~/.ansible/collections: a home of its own keeps that out of the real one
    env = dict(os.environ, PATH=f"{MOLECULE.parent}{os.pathsep}{os.environ['PATH']}", ANSIBLE_NOCOLOR="1", PY_COLORS="0",
               HOME=str(tmp_path))
    run = controller.run([str(MOLECULE), "test", "-s", "vlan_router"], env, ROOT, timeout=1800)
    tail = (run.stdout + run.stderr)[-6000:]
    assert run.returncode == 0, tail
    for action in ("prepare", "converge", "idempotence", "verify", "cleanup", "destroy"):
        assert action in run.stdout + run.stderr, f"molecule never ran {action}:\n{tail}"
