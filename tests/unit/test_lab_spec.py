# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab library refuses topologies it cannot build, before touching the kernel."""

from __future__ import annotations

import pytest

from tests.lab import Lab, LabError


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"hosts": {"a": {"links": [{"switch": "nope"}]}}}, "unknown switch"),
        ({"switches": ["s"], "hosts": {"a": {"links": [{"switch": "s", "peer": "b:eth0"}]}}}, "exactly one"),
        ({"hosts": {"a": {"links": [{}]}}}, "exactly one"),
        ({"switches": ["s"], "hosts": {"a": {"links": [{"switch": "s", "ifname": "a-very-long-name0"}]}}}, "15 characters"),
        ({"switches": ["a"], "hosts": {"a": {}}}, "both a host and a switch"),
    ],
)
def test_bad_topologies_are_refused(spec, message):
    with pytest.raises(LabError, match=message):
        Lab(spec)


def test_names_are_unique_per_lab():
    first, second = Lab({"hosts": {"h": {}}}), Lab({"hosts": {"h": {}}})
    assert first.netns("h") != second.netns("h")
    assert first.netns("h").startswith("l2lab-")
