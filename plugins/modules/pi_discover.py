#!/usr/bin/python
# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pi_discover
short_description: Find the Raspberry Pis (and every other host) on a LAN with a fast ARP scan
description:
  - Sends a broadcast ARP request to every address of one or more IPv4 networks from one host, at a bounded rate,
    asks the silent addresses again, and returns who answered with their MAC address and vendor.
  - A host is a Raspberry Pi when its MAC address starts with one of O(ouis); by default every prefix registered to
    Raspberry Pi (b8:27:eb, dc:a6:32, e4:5f:01, 28:cd:c1, d8:3a:dd, 2c:cf:67, 88:a2:9e), shipped with the collection.
  - Vendor names come from the IEEE registry shipped with the C(netaddr) Python library; for a Raspberry Pi prefix that
    registry copy lacks (88:a2:9e, assigned in 2025), from the collection's own data.
  - Replies from addresses that were not asked are ignored. One address answered from two MAC addresses is reported
    in RV(conflicts).
  - With O(ipv6=true) it also sends one ICMPv6 echo request to all nodes (V(ff02::1)) on each interface scanned and
    merges the answers with the ARP results by MAC, so hosts with no IPv4 address are found too.
  - With O(names=true) it asks each host's name over mDNS, then the system's reverse DNS.
  - The scan changes nothing on the host, so it runs in check mode too and always reports C(changed=false).
version_added: 0.1.0
author:
  - layer2.linux contributors (@layer2-linux)
options:
  network:
    description:
      - IPv4 networks to scan, in CIDR form (V(192.168.1.0/24)); a single address (V(192.168.1.7/32)) asks just that one.
      - Without O(interface), each network is scanned from the interface that has an address in it.
      - Networks larger than a /16 are refused unless O(allow_large_networks=true).
    type: list
    elements: str
  interface:
    description:
      - The interface to scan from. Without O(network), its own connected IPv4 networks are scanned, like
        C(arp-scan --localnet).
    type: str
  source_address:
    description:
      - The sender address put in the requests. Needed when O(interface) has no address in the scanned network;
        by default the interface's own address in that network.
      - It must be an address the interface holds, or V(0.0.0.0), which asks as a duplicate-address probe (RFC 5227) and
        changes no host's ARP cache. Any other address would make every host that hears the requests send that
        address's traffic to this host; O(force=true) allows it for an address this host may use.
      - Multicast, loopback and broadcast addresses are refused always.
    type: str
  force:
    description:
      - Allow a O(source_address) the interface does not hold.
    type: bool
    default: false
  ouis:
    description:
      - MAC prefixes (three octets, V(b8:27:eb)) that mark a host as a Raspberry Pi.
      - Default is the collection's list of Raspberry Pi prefixes.
    type: list
    elements: str
  all_hosts:
    description:
      - Return every host that answered in RV(hosts), not only the Raspberry Pis.
    type: bool
    default: false
  rate:
    description:
      - Requests sent per second at most (1 to 100000). The default keeps a scan under 6 Mbit/s on the wire.
    type: int
    default: 10000
  retries:
    description:
      - How many more times an address that stayed silent is asked (0 to 10). Addresses that answered are never asked again.
      - A scan estimated to take more than 300 seconds (addresses times attempts at O(rate), plus O(timeout)) is refused
        before anything is sent, and a scan stops at twice its estimate whatever happens.
    type: int
    default: 1
  timeout:
    description:
      - How long, in seconds, each address is listened for after its first request. A host that answers within it
        is found, however fast the rest of the LAN answered (Wi-Fi clients in power save answer a broadcast 100-300 ms
        late). After a retry the scan also listens 0.15 s plus the slowest answer seen so far, at most O(timeout).
    type: float
    default: 0.5
  ipv6:
    description:
      - Also send one ICMPv6 echo request to V(ff02::1) on each interface scanned, from its link-local address, and
        listen O(timeout) for the answers (while the ARP scan runs). Each answer's source MAC comes from its Ethernet
        header; it is merged with the ARP results by MAC and gives the host RV(hosts[].ipv6_link_local). A host that
        answered only the echo has RV(hosts[].ip) null.
      - With O(interface) and no IPv4 network on it, only the echo is sent (a segment without DHCP).
      - A host whose link-local address is a modified EUI-64 one made from a Raspberry Pi MAC is a Pi, whatever MAC answered.
      - Hosts with C(net.ipv6.icmp.echo_ignore_multicast=1), IPv6 disabled, or a firewall dropping echo requests are not found this way.
    type: bool
    default: false
  names:
    description:
      - Ask each host found for its name with an mDNS reverse (PTR) query with the unicast-response bit, to V(224.0.0.251)
        for its IPv4 address and to V(ff02::fb) for its link-local address, all at once from one socket on the scanning
        interface; then, for IPv4 addresses mDNS did not name, the system's reverse DNS (see O(reverse_dns)).
      - Adds O(timeout) at most to the scan. Raspberry Pi OS answers through avahi-daemon (V(raspberrypi.local)).
    type: bool
    default: false
  reverse_dns:
    description:
      - With O(names=true), ask the system's resolver (C(/etc/hosts), then DNS) for IPv4 addresses mDNS did not name.
        Turn it off to keep every query on the LAN.
    type: bool
    default: true
  exclude:
    description:
      - Addresses or networks not to ask.
    type: list
    elements: str
    default: []
  allow_large_networks:
    description:
      - Allow networks larger than a /16 (more than 65536 addresses).
    type: bool
    default: false
extends_documentation_fragment:
  - layer2.linux.requirements.RAW_SOCKETS
  - layer2.linux.requirements.ATTRIBUTES
attributes:
  diff_mode:
    support: none
notes:
  - Sending raw ARP needs root or the C(CAP_NET_RAW) capability; the module says so when it is missing.
  - Requires the C(netaddr) Python library for vendor names; without it RV(hosts[].vendor) is null.
seealso:
  - plugin: layer2.linux.arp_scan
    plugin_type: inventory
"""

EXAMPLES = r"""
- name: Find the Raspberry Pis on the networks of eth0
  layer2.linux.pi_discover:
    interface: eth0
  register: found

- name: Show their addresses
  ansible.builtin.debug:
    msg: "{{ found.raspberry_pis | map(attribute='ip') | list }}"

- name: Every host of two networks, gentler on the LAN, the gateway left out
  layer2.linux.pi_discover:
    network:
      - 192.168.1.0/24
      - 192.168.2.0/24
    all_hosts: true
    rate: 2000
    retries: 2
    exclude:
      - 192.168.1.1

- name: Scan a network the interface has no address in, asking as a duplicate-address probe (no cache learns from it)
  layer2.linux.pi_discover:
    interface: eth1
    network: 10.9.0.0/24
    source_address: 0.0.0.0

- name: Every Pi on a segment without DHCP, by IPv6 link-local address, with its mDNS name
  layer2.linux.pi_discover:
    interface: eth0
    ipv6: true
    names: true
  register: found

- name: Their names and addresses
  ansible.builtin.debug:
    msg: "{{ found.raspberry_pis | map(attribute='hostname') | list }} {{ found.raspberry_pis | map(attribute='ipv6_link_local') | list }}"
"""

RETURN = r"""
hosts:
  description:
    - The hosts that answered (only the Raspberry Pis unless O(all_hosts=true)), sorted by IPv4 address; hosts without one last, by MAC.
    - An address answered from two MACs (see RV(conflicts)) has one entry per MAC.
  returned: success
  type: list
  elements: dict
  contains:
    ip:
      description: The IPv4 address that answered; null for a host that answered only the IPv6 echo (O(ipv6=true)).
      type: str
      sample: 192.168.1.23
    ipv6_link_local:
      description: The link-local address the host answered the IPv6 echo from, with the scanning interface as its zone; null without O(ipv6=true) or an answer.
      type: str
      sample: fe80::ba27:ebff:fe12:3456%eth0
    hostname:
      description: The host's name from mDNS (or the system's reverse DNS); null without O(names=true) or a name.
      type: str
      sample: pi-kitchen.local
    mac:
      description: The MAC address it answered from.
      type: str
      sample: dc:a6:32:12:34:56
    vendor:
      description: The organisation the IEEE registry lists for the MAC prefix; null when unregistered.
      type: str
      sample: Raspberry Pi Trading Ltd
    is_raspberry_pi:
      description: Whether the MAC starts with one of O(ouis), or the host's link-local address is a modified EUI-64 one made from such a MAC.
      type: bool
      sample: true
    rtt_ms:
      description: Milliseconds from the first request to that address until its reply.
      type: float
      sample: 0.41
    interface:
      description: The interface the reply came in on.
      type: str
      sample: eth0
raspberry_pis:
  description: The hosts whose MAC starts with one of O(ouis), with the same keys as RV(hosts).
  returned: success
  type: list
  elements: dict
conflicts:
  description: Addresses answered from more than one MAC address (an address conflict, or a proxy ARP).
  returned: success
  type: list
  elements: dict
  sample: [{"ip": "192.168.1.50", "macs": ["b8:27:eb:00:00:01", "02:00:5e:00:00:09"]}]
counts:
  description: How many addresses were asked, requests sent, hosts that answered, MACs that answered the IPv6 echo, Raspberry Pis and conflicts.
  returned: success
  type: dict
  sample: {"addresses_asked": 254, "requests_sent": 460, "responders": 48, "ipv6_responders": 40, "raspberry_pis": 12, "conflicts": 0}
networks:
  description: The networks scanned.
  returned: success
  type: list
  elements: str
  sample: [192.168.1.0/24]
interfaces:
  description: The interfaces scanned from.
  returned: success
  type: list
  elements: str
  sample: [eth0]
duration:
  description: Seconds the scan took, names included.
  returned: success
  type: float
  sample: 0.48
"""


from ansible.module_utils.basic import AnsibleModule
from ansible_collections.layer2.linux.plugins.module_utils._errors import failing_in_words
from ansible_collections.layer2.linux.plugins.module_utils._scan import DEFAULT_RATE, DEFAULT_TIMEOUT, ScanError, discover_here


def main():
    module = AnsibleModule(
        argument_spec=dict(
            network=dict(type="list", elements="str"),
            interface=dict(type="str"),
            source_address=dict(type="str"),
            force=dict(type="bool", default=False),
            ouis=dict(type="list", elements="str"),
            all_hosts=dict(type="bool", default=False),
            rate=dict(type="int", default=DEFAULT_RATE),
            retries=dict(type="int", default=1),
            timeout=dict(type="float", default=DEFAULT_TIMEOUT),
            exclude=dict(type="list", elements="str", default=[]),
            allow_large_networks=dict(type="bool", default=False),
            ipv6=dict(type="bool", default=False),
            names=dict(type="bool", default=False),
            reverse_dns=dict(type="bool", default=True),
        ),
        required_one_of=[("network", "interface")],
        supports_check_mode=True,
    )
    with failing_in_words(module, ScanError, doing="scanning"):
        result = discover_here(**module.params)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
