# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARP and NDP frames built with struct: byte layout, parsing back, and an independent decoder (scapy) agreeing."""

from __future__ import annotations

import struct

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _arp_frame

MAC = "02:00:5e:00:00:0a"
IP = "192.0.2.100"
GW = "192.0.2.1"
IP6 = "2001:db8::64"


def test_gratuitous_request_is_a_broadcast_announcement():
    frame = _arp_frame.gratuitous_request(MAC, IP)
    assert len(frame) == 60  # padded to the Ethernet minimum: the kernel does not pad packet-socket frames
    assert frame[:6] == b"\xff" * 6 and frame[6:12] == bytes.fromhex("02005e00000a") and frame[12:14] == b"\x08\x06"
    parsed = _arp_frame.parse_frame(frame)
    assert parsed["kind"] == "gratuitous request"
    assert (parsed["op"], parsed["sender_ip"], parsed["target_ip"], parsed["sender_mac"], parsed["target_mac"]) == (1, IP, IP, MAC, "00:00:00:00:00:00")


def test_gratuitous_reply_has_target_mac_equal_to_sender_mac():
    parsed = _arp_frame.parse_frame(_arp_frame.gratuitous_reply(MAC, IP))
    assert parsed["kind"] == "gratuitous reply"
    assert (parsed["op"], parsed["target_mac"], parsed["target_ip"], parsed["dst_mac"]) == (2, MAC, IP, "ff:ff:ff:ff:ff:ff")


def test_targeted_request_asks_the_gateway_from_the_address():
    parsed = _arp_frame.parse_frame(_arp_frame.targeted_request(MAC, IP, GW))
    assert parsed["kind"] == "request"
    assert (parsed["sender_ip"], parsed["target_ip"], parsed["sender_mac"]) == (IP, GW, MAC)


def test_probe_comes_from_0_0_0_0():
    parsed = _arp_frame.parse_frame(_arp_frame.arp_probe(MAC, IP))
    assert parsed["kind"] == "probe" and parsed["sender_ip"] == "0.0.0.0" and parsed["target_ip"] == IP


@pytest.mark.parametrize(
    "mode, gateway, kinds",
    [
        ("both", None, ["gratuitous request", "gratuitous reply"]),
        ("request", None, ["gratuitous request"]),
        ("reply", GW, ["gratuitous reply", "request"]),
        ("both", GW, ["gratuitous request", "gratuitous reply", "request"]),
    ],
)
def test_announcement_follows_mode_and_gateway(mode, gateway, kinds):
    assert [_arp_frame.parse_frame(f)["kind"] for f in _arp_frame.announcement(MAC, IP, mode, gateway)] == kinds


def test_unsolicited_na_has_override_and_a_valid_checksum():
    frame = _arp_frame.unsolicited_na(MAC, IP6)
    assert frame[:6] == bytes.fromhex("333300000001") and frame[12:14] == b"\x86\xdd"
    assert frame[14 + 7] == 255  # hop limit 255, or receivers drop NDP
    parsed = _arp_frame.parse_frame(frame)
    assert parsed["kind"] == "neighbour advertisement"
    assert parsed["override"] and not parsed["solicited"] and not parsed["router"]
    assert (parsed["sender_ip"], parsed["destination_ip"], parsed["target_ip"], parsed["lladdr"]) == (IP6, "ff02::1", IP6, MAC)
    assert parsed["checksum_ok"]


def test_ipv6_announcement_is_one_na_whatever_the_mode():
    assert [_arp_frame.parse_frame(f)["kind"] for f in _arp_frame.announcement(MAC, IP6, "request", "2001:db8::1")] == ["neighbour advertisement"]


def test_dad_solicitation_goes_to_the_solicited_node_group_without_lladdr():
    parsed = _arp_frame.parse_frame(_arp_frame.neighbour_solicitation(MAC, IP6))
    assert parsed["destination_ip"] == "ff02::1:ff00:64" and parsed["dst_mac"] == "33:33:ff:00:00:64"
    assert parsed["sender_ip"] == "::" and parsed["lladdr"] is None and parsed["checksum_ok"]
    sourced = _arp_frame.parse_frame(_arp_frame.neighbour_solicitation(MAC, IP6, "2001:db8::2"))
    assert sourced["lladdr"] == MAC and sourced["checksum_ok"]


def test_a_corrupted_byte_fails_the_checksum():
    frame = bytearray(_arp_frame.unsolicited_na(MAC, IP6))
    frame[14 + 40 + 8] ^= 0xFF
    assert not _arp_frame.parse_frame(bytes(frame))["checksum_ok"]


def test_scapy_decodes_our_frames_the_same_way():
    l2 = pytest.importorskip("scapy.layers.l2")
    inet6 = pytest.importorskip("scapy.layers.inet6")
    arp = l2.Ether(_arp_frame.gratuitous_reply(MAC, IP))[l2.ARP]
    assert (arp.op, arp.hwsrc, arp.psrc, arp.hwdst, arp.pdst) == (2, MAC, IP, MAC, IP)
    packet = l2.Ether(_arp_frame.unsolicited_na(MAC, IP6))
    na = packet[inet6.ICMPv6ND_NA]
    assert (na.O, na.S, na.R, na.tgt) == (1, 0, 0, IP6)
    assert packet[inet6.ICMPv6NDOptDstLLAddr].lladdr == MAC
    claimed = na.cksum
    del na.cksum
    assert inet6.IPv6(bytes(packet[inet6.IPv6]))[inet6.ICMPv6ND_NA].cksum == claimed


def test_parse_ignores_other_frames_and_short_ones():
    assert _arp_frame.parse_frame(b"\x00" * 10) is None
    ipv4 = b"\xff" * 6 + bytes.fromhex("02005e00000a") + struct.pack("!H", 0x0800) + b"\x45" + b"\x00" * 45
    assert _arp_frame.parse_frame(ipv4) is None


def test_is_answer_accepts_replies_and_advertisements_for_the_target_only():
    reply = _arp_frame.parse_frame(_arp_frame.arp_frame(2, MAC, "02:00:00:00:00:01", MAC, IP, "02:00:00:00:00:01", GW))
    assert _arp_frame.is_answer(reply, IP) and not _arp_frame.is_answer(reply, GW)
    assert not _arp_frame.is_answer(_arp_frame.parse_frame(_arp_frame.arp_probe(MAC, IP)), IP)
    assert _arp_frame.is_answer(_arp_frame.parse_frame(_arp_frame.unsolicited_na(MAC, IP6)), "2001:DB8::64")


@pytest.mark.parametrize("bad", ["02:00:5e:00:0a", "zz:00:5e:00:00:0a"])
def test_bad_mac_is_refused(bad):
    with pytest.raises(ValueError):
        _arp_frame.gratuitous_request(bad, IP)
