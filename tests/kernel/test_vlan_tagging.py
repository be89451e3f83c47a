# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel tier itself: 802.1Q tagging isolates VLANs on one cable."""

from __future__ import annotations


def _vlan(lab, host, vid, address):
    lab.run(host, ["ip", "link", "add", "link", "eth0", "name", f"eth0.{vid}", "type", "vlan", "id", str(vid)])
    lab.run(host, ["ip", "addr", "add", address, "dev", f"eth0.{vid}"])
    lab.run(host, ["ip", "link", "set", f"eth0.{vid}", "up"])


def _pings(lab, host, address):
    return lab.run(host, ["ping", "-c", "1", "-W", "2", address], check=False).returncode == 0


def test_same_vid_pings_other_vid_does_not(make_lab):
    lab = make_lab({"hosts": {"left": {"links": [{"peer": "right:eth0"}]}, "right": {"links": [{"peer": "left:eth0"}]}}})
    _vlan(lab, "left", 1234, "10.12.34.1/24")
    _vlan(lab, "right", 1234, "10.12.34.2/24")
    _vlan(lab, "left", 1235, "10.12.35.1/24")
    _vlan(lab, "right", 1236, "10.12.35.2/24")  # the same subnet, but tagged 1236: must not reach 1235

    assert lab.ip_json("right", "-d", "link", "show", "dev", "eth0.1234")[0]["linkinfo"]["info_data"]["id"] == 1234
    assert _pings(lab, "left", "10.12.34.2")
    assert not _pings(lab, "left", "10.12.35.2")
