#!/usr/bin/python
# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ip_address
short_description: IPv4 and IPv6 addresses on a network interface, over netlink
version_added: 0.1.0
description:
  - Adds or removes IPv4 and IPv6 addresses on one interface of the managed node, as C(ip addr add) and C(ip addr del)
    would, but through rtnetlink, with check mode, diff and an honest C(changed).
  - An address held with another prefix length is replaced by the one asked for.
  - All changes of a task go to the kernel in one rtnetlink session and one batch, removals first.
  - Removing the address that carries the current management connection (the server address in C(SSH_CONNECTION))
    is refused unless O(force=true).
  - Bad input (an address that is not in CIDR form, an interface name Linux does not allow or that does not exist) is refused before anything is changed.
    So are addresses the kernel will not hold on an interface (C(::1) except on loopback, C(::), C(0.0.0.0), IPv6
    multicast), IPv6 addresses on an interface where IPv6 is disabled, and one address listed with two prefix lengths.
  - All or nothing. A change the kernel still refuses fails the task with the kernel's reason, naming the address; the
    other changes of the batch are undone (a removed address comes back without its old flags and lifetimes), and the
    message says so.
author:
  - layer2.linux contributors (@layer2-linux)
extends_documentation_fragment:
  - layer2.linux.requirements.NETLINK
  - layer2.linux.requirements.ATTRIBUTES
options:
  interface:
    description:
      - The interface, for example C(eth0) or C(eth1.1234). It must exist.
      - A name Linux cannot give an interface (longer than 15 characters; with C(/), C(:) or whitespace) is refused before
        anything is read or changed. An address label such as C(eth0:1) is not an interface name.
    type: str
    required: true
  addresses:
    description:
      - Addresses in CIDR form, IPv4 or IPv6, for example C(192.0.2.10/24) or C(2001:db8::10/64).
      - A bare address means a host prefix (C(/32) or C(/128)), as with C(ip addr add).
      - A zone (C(fe80::1%eth0/64)) is accepted when it names O(interface), and dropped; a zone naming another interface is refused.
      - With O(state=present) each address is listed once; the same address with two prefix lengths is refused as a contradiction.
      - With O(state=absent) the prefix length does not matter; the address is removed whatever length it is held with.
    type: list
    elements: str
    default: []
  state:
    description: Whether the listed addresses are on the interface (V(present)) or not (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With O(state=present), also remove every address of the interface that is not listed.
      - IPv6 link-local addresses (C(fe80::/10)) are left alone; the kernel manages them.
    type: bool
    default: false
  force:
    description: Remove the address carrying the current management connection too.
    type: bool
    default: false
  nodad:
    description:
      - Add IPv6 addresses without duplicate address detection (the C(IFA_F_NODAD) flag, as C(ip addr add ... nodad)),
        so they are usable at once instead of C(tentative) for about a second. Use it when the address was already
        checked on the segment, for example by P(layer2.linux.arp_probe#module) with O(layer2.linux.arp_probe#module:dad=true),
        or is being moved from a host that still holds it (DAD would fail then).
      - Ignored for IPv4 addresses, which the kernel never puts through duplicate address detection; a task may mix both.
      - Only addresses this task adds get the flag. An address already on the interface is not removed and added again
        because its flag differs, so O(nodad) never makes a task report C(changed) by itself.
    type: bool
    default: false
notes:
  - IPv4 addresses get the subnet's broadcast address, as C(ifconfig) and C(ip addr add ... brd +) set it.
"""

EXAMPLES = r"""
- name: Claim the service address on eth0
  layer2.linux.ip_address:
    interface: eth0
    addresses:
      - 192.0.2.10/24

- name: Release it on the old host
  layer2.linux.ip_address:
    interface: eth0
    addresses:
      - 192.0.2.10/24
    state: absent

- name: Take over an IPv6 service address at once (already checked for duplicates), without the DAD wait
  layer2.linux.ip_address:
    interface: eth0
    addresses:
      - 2001:db8::10/64
    nodad: true

- name: Exactly these addresses on the VLAN interface, nothing else
  layer2.linux.ip_address:
    interface: eth1.1234
    addresses:
      - 10.1.1.10/24
      - 2001:db8:1234::10/64
    exclusive: true
"""

RETURN = r"""
interface:
  description: The interface managed.
  returned: success
  type: str
  sample: eth0
before:
  description: The interface's addresses before the task, in CIDR form.
  returned: success
  type: list
  elements: str
  sample: ["192.0.2.20/24"]
after:
  description: The interface's addresses after the task (in check mode, what they would be).
  returned: success
  type: list
  elements: str
  sample: ["192.0.2.20/24", "192.0.2.10/24"]
added:
  description: Addresses added (or that would be, in check mode).
  returned: success
  type: list
  elements: str
  sample: ["192.0.2.10/24"]
removed:
  description: Addresses removed (or that would be, in check mode).
  returned: success
  type: list
  elements: str
  sample: []
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.layer2.linux.plugins.module_utils._errors import failing_in_words
from ansible_collections.layer2.linux.plugins.module_utils._ip_address import AddressError, ensure_addresses


def main():
    module = AnsibleModule(
        argument_spec={
            "interface": {"type": "str", "required": True},
            "addresses": {"type": "list", "elements": "str", "default": []},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "exclusive": {"type": "bool", "default": False},
            "force": {"type": "bool", "default": False},
            "nodad": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    with failing_in_words(module, AddressError, doing=f"managing the addresses of {params['interface']}", interface=params["interface"]):
        result = ensure_addresses(params["interface"], params["addresses"], state=params["state"], exclusive=params["exclusive"],
                                  force=params["force"], nodad=params["nodad"], check_mode=module.check_mode, environ=os.environ)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
