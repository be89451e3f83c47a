#!/usr/bin/python
# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gratuitous_arp
short_description: Announce an address with gratuitous ARP or unsolicited neighbour advertisements
version_added: 0.1.0
description:
  - Tells the segment (above all the gateway) that an address now lives at this host's MAC, so traffic follows a moved
    address within milliseconds instead of after the neighbours' caches expire (1 to 15 minutes, or never while the old
    host keeps answering).
  - "IPv4: a true gratuitous request (sender IP = target IP, broadcast), a gratuitous reply (target MAC = sender MAC), and
    with O(gateway) a request from the address to the gateway. Linux neighbours ignore a new MAC for C(locktime) (1 s)
    after an update unless the frame is a true gratuitous ARP, and with C(arp_accept=0) a gratuitous ARP only updates an
    entry the neighbour already has; the request to the gateway creates or overrides the gateway's entry in every case."
  - "IPv6: an unsolicited neighbour advertisement with the override flag, to all nodes (ff02::1)."
  - Frames are built in Python and sent on an C(AF_PACKET) raw socket; no C(arping) or scapy is needed.
  - Refuses to announce an address this host does not hold, because announcing someone else's address is ARP poisoning.
  - "Refuses always, O(force) or not, an O(address) or O(gateway) no single host owns: unspecified (C(0.0.0.0), C(::)),
    loopback, multicast (C(ff02::1) included), the limited broadcast C(255.255.255.255), the link-local broadcast
    C(169.254.255.255) and the broadcast address of a subnet on the interface."
author:
  - layer2.linux contributors (@layer2-linux)
options:
  address:
    description:
      - The IPv4 or IPv6 address to announce; a prefix length (C(192.0.2.100/24)) is accepted and ignored.
    type: str
    required: true
  interface:
    description:
      - Interface to send on. Defaults to the interface that holds O(address).
      - Required with O(force=true) when the host does not hold the address.
    type: str
  mode:
    description:
      - Which gratuitous ARP frames to send; vendors differ in which they honour, so the default sends both.
      - Ignored for IPv6, which has one announcement (the unsolicited neighbour advertisement).
    type: str
    choices: [request, reply, both]
    default: both
  gateway:
    description:
      - Also send a request from O(address) to this gateway (the C(arping -s ADDRESS GATEWAY) trick), which makes the gateway
        create or override its entry even with C(arp_accept=0) and inside its lock time. IPv4 only; ignored for IPv6.
    type: str
  count:
    description: How many rounds of frames to send (1-100); later rounds cover frames lost on the way.
    type: int
    default: 3
  interval:
    description: Seconds between rounds (0-10).
    type: float
    default: 0.2
  force:
    description:
      - Announce even when this host does not hold O(address) (for example a VIP managed elsewhere). Off by default,
        because announcing another host's address diverts its traffic (ARP poisoning).
      - It lifts the ownership check only; broadcast, unspecified, multicast and loopback addresses stay refused.
    type: bool
    default: false
extends_documentation_fragment:
  - layer2.linux.requirements.RAW_SOCKETS
  - layer2.linux.requirements.ATTRIBUTES
attributes:
  check_mode:
    details: In check mode nothing is sent; the result lists the frames that would be sent.
  diff_mode:
    support: none
  idempotent:
    support: none
    details: Every run sends its frames and reports C(changed), like a command; the neighbours' caches end the same either way.
notes:
  - Needs C(CAP_NET_RAW) (root) on the managed node.
seealso:
  - module: layer2.linux.arp_probe
  - module: layer2.linux.ip_address
"""

EXAMPLES = r"""
- name: Announce a moved address to the segment and to the gateway
  layer2.linux.gratuitous_arp:
    address: 192.0.2.100
    gateway: 192.0.2.1

- name: Announce an IPv6 address (unsolicited neighbour advertisement, override flag)
  layer2.linux.gratuitous_arp:
    address: 2001:db8::100
    interface: eth0

- name: Only gratuitous requests, five of them 50 ms apart
  layer2.linux.gratuitous_arp:
    address: 192.0.2.100
    mode: request
    count: 5
    interval: 0.05
"""

RETURN = r"""
address:
  description: The announced address, without prefix length.
  returned: always
  type: str
  sample: 192.0.2.100
interface:
  description: The interface the frames were (or would be) sent on.
  returned: always
  type: str
  sample: eth0
mac:
  description: The MAC address announced for O(address) (the interface's).
  returned: always
  type: str
  sample: "02:00:5e:00:00:14"
sent:
  description: How many frames went out (0 in check mode).
  returned: always
  type: int
  sample: 9
frames:
  description: Every frame sent (or, in check mode, that would be sent), in order.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: C(gratuitous request), C(gratuitous reply), C(request) (to the gateway) or C(neighbour advertisement).
      type: str
    round:
      description: Which round (1 to O(count)) the frame belongs to.
      type: int
    src_mac:
      description: Ethernet source.
      type: str
    dst_mac:
      description: Ethernet destination.
      type: str
    sender_mac:
      description: ARP sender hardware address (IPv4 only).
      type: str
    sender_ip:
      description: ARP sender address, or IPv6 source address.
      type: str
    target_mac:
      description: ARP target hardware address (IPv4 only).
      type: str
    target_ip:
      description: ARP target address, or the advertised IPv6 target.
      type: str
    destination_ip:
      description: IPv6 destination (C(ff02::1)); IPv6 only.
      type: str
    lladdr:
      description: Target link-layer address option of the advertisement; IPv6 only.
      type: str
    override:
      description: The advertisement's override flag; IPv6 only.
      type: bool
    time:
      description: When the frame went out (seconds since the epoch); null in check mode.
      type: float
  sample:
    - kind: gratuitous request
      round: 1
      src_mac: "02:00:5e:00:00:14"
      dst_mac: ff:ff:ff:ff:ff:ff
      sender_mac: "02:00:5e:00:00:14"
      sender_ip: 192.0.2.100
      target_mac: "00:00:00:00:00:00"
      target_ip: 192.0.2.100
      time: 1764016500.123
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.layer2.linux.plugins.module_utils import _arp_announce, _arp_host
from ansible_collections.layer2.linux.plugins.module_utils._errors import failing_in_words


def main():
    module = AnsibleModule(
        argument_spec=dict(
            address=dict(type="str", required=True),
            interface=dict(type="str"),
            mode=dict(type="str", choices=["request", "reply", "both"], default="both"),
            gateway=dict(type="str"),
            count=dict(type="int", default=3),
            interval=dict(type="float", default=0.2),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    with failing_in_words(module, _arp_host.ArpError, doing=f"announcing {module.params['address']}"):
        result = _arp_announce.announce(module.params, check_mode=module.check_mode)
    module.exit_json(changed=True, **result)


if __name__ == "__main__":
    main()
