# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Namespace labs for tests, the demo and the benchmarks."""

from .topology import Lab, LabError, lab_namespaces, reap_stale

__all__ = ["Lab", "LabError", "lab_namespaces", "reap_stale"]
