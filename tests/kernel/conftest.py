# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel tier needs 802.1Q: run it with tests/kernel/run, which boots User-Mode Linux when needed."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config):
    # Fail at once, not test by test: a tier that skipped or expected failures would let CI pass having run nothing.
    if not os.path.isdir("/proc/net/vlan"):
        raise pytest.UsageError("the kernel tier needs 802.1Q, which this kernel lacks: run it with tests/kernel/run "
                                "(it boots the tier's own User-Mode Linux kernel)")
