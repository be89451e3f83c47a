# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_rtnl's VLAN link codec: a request with VLAN attributes read back, and a dump of this namespace's links."""

from __future__ import annotations

from ansible_collections.layer2.linux.plugins.module_utils import _rtnl as rt


def test_codec_round_trip_of_a_vlan_link():
    body = rt.link_request(7, up=True, attrs=rt.attr(rt.IFLA_IFNAME, b"eth1.10\0") + rt.u32(rt.IFLA_LINK, 2) + rt.u32(rt.IFLA_MTU, 1496)
                           + rt.vlan_info(10, 0x88A8, (3, 7), {5: 5}, {0: 6}))
    parsed = rt.parse_link(body)
    assert (parsed["index"], parsed["name"], parsed["link"], parsed["mtu"], parsed["up"]) == (7, "eth1.10", 2, 1496, True)
    assert (parsed["kind"], parsed["vlan_id"], parsed["protocol"], parsed["vlan_flags"]) == ("vlan", 10, "802.1ad", 3)
    assert parsed["ingress_qos_map"] == {5: 5} and parsed["egress_qos_map"] == {0: 6}


def test_codec_reads_this_namespace():
    with rt.Rtnl() as nl:
        names = [lk["name"] for lk in nl.links()]
        assert "lo" in names
