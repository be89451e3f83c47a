# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARP frames for the lab's responders and the tests, built and read with the collection's own codec (_arp_frame).

Addresses may be given as text or as raw bytes. scapy stays the independent check of that codec
(tests/unit/plugins/module_utils/test_arp_frame.py).
"""

from __future__ import annotations

import ipaddress
import sys
from typing import NamedTuple

from tests.support.ansible import collections_path

if str(collections_path()) not in sys.path:  # a responder runs as `python -m tests.lab.responders`, outside pytest
    sys.path.insert(0, str(collections_path()))

from ansible_collections.layer2.linux.plugins.module_utils._arp_frame import (  # noqa: E402
    ARP_REPLY,
    ARP_REQUEST,
    ETH_P_ARP,
    RAW_BROADCAST,
    arp_fields,
    arp_packet,
)
from ansible_collections.layer2.linux.plugins.module_utils._iface import mac_bytes  # noqa: E402

__all__ = ["ARP_REPLY", "ARP_REQUEST", "ETH_P_ARP", "Arp", "mac_bytes", "read", "reply", "request"]


class Arp(NamedTuple):
    op: int
    sender_mac: bytes
    sender_ip: bytes
    target_mac: bytes
    target_ip: bytes


def _mac(value) -> bytes:
    return value if isinstance(value, bytes) else mac_bytes(value)


def _ip(value) -> bytes:
    return value if isinstance(value, bytes) else ipaddress.IPv4Address(value).packed


def request(sender_mac, sender_ip, target_ip, op: int = ARP_REQUEST) -> bytes:
    """A broadcast 'who has target_ip, tell sender_ip' (another op: the same frame as no request, which a filter must drop)."""
    return arp_packet(op, _mac(sender_mac), RAW_BROADCAST, _mac(sender_mac), _ip(sender_ip), bytes(6), _ip(target_ip))


def reply(sender_mac, sender_ip, target_mac, target_ip, op: int = ARP_REPLY) -> bytes:
    """'sender_ip is at sender_mac', sent to target_mac at target_ip (another op: the same fields in a frame that is no reply)."""
    return arp_packet(op, _mac(sender_mac), _mac(target_mac), _mac(sender_mac), _ip(sender_ip), _mac(target_mac), _ip(target_ip))


def read(frame: bytes) -> Arp | None:
    """The ARP fields of an Ethernet frame, raw; None when it carries no Ethernet/IPv4 ARP."""
    fields = arp_fields(frame)
    return Arp(*fields) if fields is not None else None
