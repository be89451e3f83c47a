# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection tarball builds, installs, and carries nothing test-only."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

from tests.support.ansible import ROOT

GALAXY = str(Path(sys.executable).parent / "ansible-galaxy")


def test_tarball_builds_installs_and_ships_no_tests(tmp_path):
    subprocess.run([GALAXY, "collection", "build", str(ROOT), "--output-path", str(tmp_path)], check=True, capture_output=True)
    tarball = next(tmp_path.glob("layer2-linux-*.tar.gz"))
    names = tarfile.open(tarball).getnames()
    assert "plugins/connection/netns.py" in names
    assert "README.md" in names and "meta/runtime.yml" in names
    shipped_dev_files = [n for n in names if n.split("/")[0] in {"tests", "bench", ".ci", "scripts", "demo", ".venv", ".cache"} or "__pycache__" in n]
    assert shipped_dev_files == []

    # Only the fresh directory counts: a copy installed elsewhere (~/.ansible/collections) must not make this a no-op.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "inst"))
    installed = subprocess.run([GALAXY, "collection", "install", str(tarball), "-p", str(tmp_path / "inst")], capture_output=True, text=True,
                               check=False, env=env)
    assert installed.returncode == 0, installed.stderr
    assert (tmp_path / "inst/ansible_collections/layer2/linux/plugins/connection/netns.py").is_file()
