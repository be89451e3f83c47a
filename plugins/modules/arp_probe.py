#!/usr/bin/python
# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: arp_probe
short_description: Ask who holds an IPv4 or IPv6 address on the local segment (ARP request or neighbour solicitation)
version_added: 0.1.0
description:
  - Sends ARP requests (IPv4) or neighbour solicitations (IPv6) for one address on an C(AF_PACKET) raw socket and reports
    every MAC that answers. Changes nothing on the host.
  - "Reachability: with a source address (the kernel's choice by default), the first answer ends the probe: the neighbour
    is reachable at layer 2."
  - "Duplicate address detection (O(dad=true)): the probe comes from 0.0.0.0 (or ::), so it disturbs no neighbour's cache;
    every probe is sent and the module listens to the end, so every host that answers for the address is listed."
  - Used by the C(layer2.linux.migrate_address) role for its pre-checks and its verification.
author:
  - layer2.linux contributors (@layer2-linux)
options:
  address:
    description: The address to ask for (a prefix length is accepted and ignored).
    type: str
    required: true
  interface:
    description: Interface to probe on; defaults to the one the routing table uses towards O(address).
    type: str
  source:
    description:
      - Sender address of the probe (IPv4 ARP sender, or IPv6 source). Defaults to the address the kernel would use
        towards O(address). Ignored with O(dad=true).
      - Naming an address moved to this host checks that the neighbour answers that address, here.
      - "It must be an address this host holds on the probing interface, or C(0.0.0.0) / C(::) (a duplicate-address
        probe), unless O(force=true): a probe from another host's address makes every neighbour that hears it send that
        host's traffic here (ARP poisoning). Broadcast, multicast and loopback addresses are refused even with O(force).
        This is checked before any probe is sent, in check mode too."
    type: str
  force:
    description:
      - Probe from an O(source) this host does not hold on the interface (for example an address it is about to take over
        from a host that is known to be down). Off by default, because the neighbours then move that address to this host's MAC.
    type: bool
    default: false
  dad:
    description: Probe from 0.0.0.0 (or ::) and collect every answer (duplicate address detection).
    type: bool
    default: false
  count:
    description: How many probes to send (1-100).
    type: int
    default: 3
  interval:
    description: Seconds between probes (0-10).
    type: float
    default: 0.2
  wait:
    description: Seconds to listen after the last probe (0-30).
    type: float
    default: 0.5
extends_documentation_fragment:
  - layer2.linux.requirements.RAW_SOCKETS
  - layer2.linux.requirements.ATTRIBUTES
attributes:
  check_mode:
    details: The probe is read-only, so it runs in check mode too.
  diff_mode:
    support: none
notes:
  - Needs C(CAP_NET_RAW) (root) on the managed node.
seealso:
  - module: layer2.linux.gratuitous_arp
"""

EXAMPLES = r"""
- name: Does the gateway answer at layer 2?
  layer2.linux.arp_probe:
    address: 192.0.2.1
  register: gateway_probe

- name: Who else answers for 192.0.2.100? (duplicate address detection)
  layer2.linux.arp_probe:
    address: 192.0.2.100
    interface: eth0
    dad: true
  register: holders

- name: Fail when a host other than the old one answers
  ansible.builtin.assert:
    that: holders.macs | difference(['02:00:5e:00:00:0a']) | length == 0
"""

RETURN = r"""
address:
  description: The address probed.
  returned: always
  type: str
  sample: 192.0.2.100
interface:
  description: The interface the probes went out on.
  returned: always
  type: str
  sample: eth0
source:
  description: The sender address of the probes (C(0.0.0.0) or C(::) for duplicate detection).
  returned: always
  type: str
  sample: 192.0.2.20
answered:
  description: Whether anybody answered.
  returned: always
  type: bool
  sample: true
macs:
  description: Every distinct MAC that answered, sorted.
  returned: always
  type: list
  elements: str
  sample: ["02:00:5e:00:00:0a"]
answers:
  description: The first answer from each MAC.
  returned: always
  type: list
  elements: dict
  contains:
    mac:
      description: The answering MAC (ARP sender, or the advertisement's target link-layer address).
      type: str
    ip:
      description: The address answered for.
      type: str
    kind:
      description: C(reply) or C(neighbour advertisement).
      type: str
    time:
      description: When the answer arrived (seconds since the epoch).
      type: float
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.layer2.linux.plugins.module_utils import _arp_host, _arp_probe
from ansible_collections.layer2.linux.plugins.module_utils._errors import failing_in_words


def main():
    module = AnsibleModule(
        argument_spec=dict(
            address=dict(type="str", required=True),
            interface=dict(type="str"),
            source=dict(type="str"),
            dad=dict(type="bool", default=False),
            force=dict(type="bool", default=False),
            count=dict(type="int", default=3),
            interval=dict(type="float", default=0.2),
            wait=dict(type="float", default=0.5),
        ),
        supports_check_mode=True,
    )
    with failing_in_words(module, _arp_host.ArpError, doing=f"probing {module.params['address']}"):
        result = _arp_probe.probe_target(module.params)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
