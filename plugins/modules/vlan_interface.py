#!/usr/bin/python
# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vlan_interface
short_description: 802.1Q and 802.1ad VLAN interfaces, one or a thousand per task, over netlink
version_added: 0.1.0
description:
  - Creates, corrects and removes VLAN interfaces such as C(eth1.1234), as C(ip link add link eth1 name eth1.1234 type vlan id 1234)
    and C(ifconfig eth1.1234 10.1.1.10/24 up) would, through rtnetlink, with check mode, diff and an honest C(changed).
  - An existing interface is compared field by field (MTU, flags, QoS maps, admin state, addresses) and corrected in place.
  - The list form O(vlans) manages many VLANs in one task and one netlink session; requests are sent in batches and many
    deletions use the kernel's group delete, so a thousand VLANs take about as long as C(ip -batch).
  - Returns, per interface, what C(/proc/net/vlan/NAME) and C(ifconfig) show (VLAN id, protocol, flags, QoS maps, MAC, MTU,
    operstate, addresses, counters).
  - Everything is checked before the first change; a task refused then (bad input, the management connection) leaves the
    host as it was. A request the kernel refuses while applying (a VLAN id another interface already holds on the parent)
    fails the task naming it after the other VLANs are done; the failed result has RV(interfaces) and RV(parents_up) as
    they are then, and a re-run converges.
  - Removing or taking down an interface, or removing an address, that carries the current management connection (the
    server address in C(SSH_CONNECTION)) is refused unless O(force=true).
  - When the kernel lacks 802.1Q support the module loads C(8021q) with C(modprobe), or fails saying what to install.
  - A parent that is administratively down is brought up when a VLAN on it is to be up (the kernel refuses otherwise);
    see RV(parents_up).
author:
  - layer2.linux contributors (@layer2-linux)
extends_documentation_fragment:
  - layer2.linux.requirements.ATTRIBUTES
requirements:
  - Linux with 802.1Q support (C(CONFIG_VLAN_8021Q), module C(8021q)). The module speaks rtnetlink itself; no Python library is needed.
options:
  parent:
    description: The trunk interface the VLAN rides on, for example C(eth1). Required for O(state=present).
    type: str
  vlan_id:
    description: The VLAN id, 1 to 4094. Required for O(state=present). Not with O(vlans).
    type: int
  name:
    description:
      - The interface name; defaults to C(<parent>.<vlan_id>). At most 15 bytes (the kernel's limit), without C(/), C(:), C(%) or whitespace. Not with O(vlans).
      - The name identifies the VLAN; with O(state=absent) the VLAN interface of that name is removed.
    type: str
  protocol:
    description: The tag protocol; V(802.1ad) makes a service (outer, QinQ) VLAN.
    type: str
    choices: ["802.1Q", "802.1ad"]
    default: "802.1Q"
  addresses:
    description:
      - IPv4 and IPv6 addresses in CIDR form for the interface. Left out, addresses are not managed.
    type: list
    elements: str
  purge_addresses:
    description: Remove addresses the interface holds that O(addresses) does not list (IPv6 link-local ones are kept).
    type: bool
    default: false
  mtu:
    description: The MTU; left out, the kernel uses the parent's at creation and the MTU is not managed.
    type: int
  enabled:
    description: Whether the interface is administratively up.
    type: bool
    default: true
  state:
    description: Whether the VLAN interface exists.
    type: str
    choices: [present, absent]
    default: present
  reorder_hdr:
    description: The REORDER_HDR flag (the kernel presents frames untagged to the stack); left out, not managed (on at creation).
    type: bool
  gvrp:
    description: Register the VLAN with GVRP; left out, not managed.
    type: bool
  mvrp:
    description: Register the VLAN with MVRP; left out, not managed.
    type: bool
  loose_binding:
    description: The VLAN's operstate does not follow the parent's; left out, not managed.
    type: bool
  ingress_qos_map:
    description:
      - "Maps the 802.1p priority of received frames (0-7) to the Linux packet priority, for example C({5: 5})."
      - Given, it is the whole map; entries not listed are removed. Left out, not managed.
    type: dict
  egress_qos_map:
    description:
      - "Maps the Linux packet priority of sent frames to the 802.1p priority (0-7), for example C({6: 5})."
      - Given, it is the whole map; entries not listed are removed. Left out, not managed.
    type: dict
  replace:
    description: Allow deleting and recreating an existing VLAN interface of the same name that sits on another parent, VLAN id or protocol.
    type: bool
    default: false
  force:
    description: Allow changes that would cut the current management connection.
    type: bool
    default: false
  vlans:
    description:
      - Many VLANs in one task. Each entry takes the options above (but O(vlans)); options given at the top level are defaults for every entry.
    type: list
    elements: dict
    suboptions:
      parent:
        description: See O(parent).
        type: str
      vlan_id:
        description: See O(vlan_id).
        type: int
      name:
        description: See O(name).
        type: str
      protocol:
        description: See O(protocol).
        type: str
        choices: ["802.1Q", "802.1ad"]
      addresses:
        description: See O(addresses).
        type: list
        elements: str
      purge_addresses:
        description: See O(purge_addresses).
        type: bool
      mtu:
        description: See O(mtu).
        type: int
      enabled:
        description: See O(enabled).
        type: bool
      state:
        description: See O(state).
        type: str
        choices: [present, absent]
      reorder_hdr:
        description: See O(reorder_hdr).
        type: bool
      gvrp:
        description: See O(gvrp).
        type: bool
      mvrp:
        description: See O(mvrp).
        type: bool
      loose_binding:
        description: See O(loose_binding).
        type: bool
      ingress_qos_map:
        description: See O(ingress_qos_map).
        type: dict
      egress_qos_map:
        description: See O(egress_qos_map).
        type: dict
      replace:
        description: See O(replace).
        type: bool
      force:
        description: See O(force).
        type: bool
notes:
  - Changing the parent, VLAN id or protocol of an existing interface means recreating it; that needs O(replace=true).
"""

EXAMPLES = r"""
- name: The seed's eth1.1234, up, with its address
  layer2.linux.vlan_interface:
    parent: eth1
    vlan_id: 1234
    addresses:
      - 10.1.1.10/24

- name: Voice VLAN with priority mapping and jumbo-free MTU
  layer2.linux.vlan_interface:
    parent: eth1
    vlan_id: 20
    name: voice
    mtu: 1496
    egress_qos_map: {0: 5}
    ingress_qos_map: {5: 5}

- name: Many VLANs in one task (one netlink session)
  layer2.linux.vlan_interface:
    parent: eth1
    vlans:
      - vlan_id: 10
        addresses: [10.0.10.1/24]
      - vlan_id: 20
        addresses: [10.0.20.1/24, 2001:db8:20::1/64]
      - vlan_id: 30
        state: absent

- name: QinQ, an 802.1ad service VLAN carrying an 802.1Q customer VLAN
  layer2.linux.vlan_interface:
    vlans:
      - {parent: eth1, vlan_id: 100, protocol: 802.1ad, name: svc100}
      - {parent: svc100, vlan_id: 10, name: svc100.10}
"""

RETURN = r"""
interfaces:
  description: One entry per VLAN of the task, in task order; after the task (in check mode, as it would be, without counters).
  returned: success, and when the kernel refused part of the work
  type: list
  elements: dict
  contains:
    name: {description: Interface name., type: str, returned: always, sample: eth1.1234}
    state: {description: V(present) or V(absent)., type: str, returned: always, sample: present}
    parent: {description: The trunk interface., type: str, returned: when present, sample: eth1}
    vlan_id: {description: The VLAN id., type: int, returned: when present, sample: 1234}
    protocol: {description: V(802.1Q) or V(802.1ad)., type: str, returned: when present, sample: 802.1Q}
    flags:
      description: The VLAN flags as C(/proc/net/vlan/NAME) shows them.
      type: dict
      returned: when present
      sample: {"reorder_hdr": true, "gvrp": false, "loose_binding": false, "mvrp": false}
    ingress_qos_map: {description: 802.1p priority to packet priority (non-zero entries)., type: dict, returned: when present, sample: {"5": 5}}
    egress_qos_map: {description: Packet priority to 802.1p priority (non-zero entries)., type: dict, returned: when present, sample: {"0": 5}}
    mac: {description: The interface's MAC address (the parent's by default)., type: str, returned: when present, sample: "02:00:5e:00:00:0a"}
    mtu: {description: The MTU., type: int, returned: when present, sample: 1500}
    enabled: {description: Administratively up., type: bool, returned: when present, sample: true}
    operstate:
      description: "The kernel's operational state: UP, DOWN, LOWERLAYERDOWN and so on."
      type: str
      returned: when present and not in check mode
      sample: UP
    addresses: {description: Addresses in CIDR form., type: list, elements: str, returned: when present, sample: ["10.1.1.10/24"]}
    rx_packets: {description: Frames received., type: int, returned: when present and not in check mode, sample: 10}
    tx_packets: {description: Frames sent., type: int, returned: when present and not in check mode, sample: 12}
    rx_bytes: {description: Bytes received., type: int, returned: when present and not in check mode, sample: 840}
    tx_bytes: {description: Bytes sent., type: int, returned: when present and not in check mode, sample: 1016}
    rx_errors: {description: Receive errors., type: int, returned: when present and not in check mode, sample: 0}
    tx_errors: {description: Transmit errors., type: int, returned: when present and not in check mode, sample: 0}
    rx_dropped: {description: Received frames dropped., type: int, returned: when present and not in check mode, sample: 0}
    tx_dropped: {description: Frames dropped on sending., type: int, returned: when present and not in check mode, sample: 0}
created:
  description: Interfaces created (or that would be), recreated ones included.
  returned: success
  type: list
  elements: str
  sample: ["eth1.1234"]
deleted:
  description: Interfaces removed (or that would be).
  returned: success
  type: list
  elements: str
  sample: []
modified:
  description: Existing interfaces corrected in place (or that would be).
  returned: success
  type: list
  elements: str
  sample: []
parents_up:
  description:
    - Parent interfaces (trunks) that were administratively down and were brought up (or would be), because the kernel
      cannot bring a VLAN up on a parent that is down. They appear in the diff with their O(enabled) state.
    - As with C(ip link set PARENT up), the kernel then brings up the parent's other VLANs that are down, unless they
      have O(loose_binding).
  returned: success, and when the kernel refused part of the work
  type: list
  elements: str
  sample: ["eth1"]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.layer2.linux.plugins.module_utils._errors import failing_in_words
from ansible_collections.layer2.linux.plugins.module_utils._vlan import PartlyApplied, VlanError, ensure_vlans

COMMON = {
    "parent": {"type": "str"},
    "addresses": {"type": "list", "elements": "str"},
    "mtu": {"type": "int"},
    "reorder_hdr": {"type": "bool"},
    "gvrp": {"type": "bool"},
    "mvrp": {"type": "bool"},
    "loose_binding": {"type": "bool"},
    "ingress_qos_map": {"type": "dict"},
    "egress_qos_map": {"type": "dict"},
}
WITH_DEFAULTS = {
    "protocol": ({"type": "str", "choices": ["802.1Q", "802.1ad"]}, "802.1Q"),
    "purge_addresses": ({"type": "bool"}, False),
    "enabled": ({"type": "bool"}, True),
    "state": ({"type": "str", "choices": ["present", "absent"]}, "present"),
    "replace": ({"type": "bool"}, False),
    "force": ({"type": "bool"}, False),
}


def argument_spec():
    # Entries of vlans have no defaults of their own: an option left out there takes the top-level value.
    entry = dict(COMMON, vlan_id={"type": "int"}, name={"type": "str"}, **{k: dict(spec) for k, (spec, _default) in WITH_DEFAULTS.items()})
    top = dict(entry, **{k: dict(spec, default=default) for k, (spec, default) in WITH_DEFAULTS.items()})
    top["vlans"] = {"type": "list", "elements": "dict", "options": entry}
    return top


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           mutually_exclusive=[("vlans", "vlan_id"), ("vlans", "name")])
    with failing_in_words(module, VlanError, doing="managing VLAN interfaces"):
        try:
            result = ensure_vlans(module.params, check_mode=module.check_mode, environ=os.environ)
        except PartlyApplied as exc:  # the rest was done: say what the host holds now
            module.fail_json(msg=str(exc), **exc.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
