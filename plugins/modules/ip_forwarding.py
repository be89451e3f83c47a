#!/usr/bin/python
# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ip_forwarding
short_description: IPv4 and IPv6 forwarding, proxy ARP and proxy NDP per interface, through /proc/sys
version_added: 0.1.0
description:
  - Sets C(net.ipv4.ip_forward), C(net.ipv6.conf.all.forwarding) and, per interface, C(proxy_arp), C(proxy_arp_pvlan)
    and C(proxy_ndp), as C(echo 1 > /proc/sys/...) would, with check mode, diff and an honest C(changed).
  - Forwarding is written before the per-interface values, because the kernel resets per-interface values when
    forwarding flips.
  - Interface names with dots work; C(eth1.1234) is C(/proc/sys/net/ipv4/conf/eth1.1234/proxy_arp) and
    C(net.ipv4.conf.eth1/1234.proxy_arp) in sysctl.d files.
  - Only the values given are managed; an option left out is not touched.
author:
  - layer2.linux contributors (@layer2-linux)
extends_documentation_fragment:
  - layer2.linux.requirements.ATTRIBUTES
requirements:
  - Linux with C(/proc/sys) mounted.
options:
  ipv4_forwarding:
    description: Whether the host routes IPv4 between its interfaces (C(net.ipv4.ip_forward)).
    type: bool
  ipv6_forwarding:
    description: Whether the host routes IPv6 between its interfaces (C(net.ipv6.conf.all.forwarding)).
    type: bool
  interfaces:
    description: Per-interface values. The interfaces must exist.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The interface, for example C(eth1) or C(eth1.1234); also C(all) or C(default).
        type: str
        required: true
      proxy_arp:
        description: Answer ARP requests for addresses the host routes elsewhere (C(net.ipv4.conf.NAME.proxy_arp)).
        type: bool
      proxy_arp_pvlan:
        description: Proxy ARP back out of the same interface, for private VLANs (C(net.ipv4.conf.NAME.proxy_arp_pvlan)).
        type: bool
      proxy_ndp:
        description: Answer neighbour solicitations for proxied IPv6 addresses (C(net.ipv6.conf.NAME.proxy_ndp)).
        type: bool
  persist:
    description:
      - Also write the values to a sysctl.d file so they survive a reboot. The file is replaced atomically.
      - The file keeps settings it already holds (from earlier tasks) and gets this task's values; forwarding lines come first.
    type: bool
    default: false
  persist_path:
    description:
      - The sysctl.d file written when O(persist=true). An absolute path; a relative one is refused (it would land in the
        module's temporary working directory).
      - It must be a regular file holding UTF-8 text, or not exist yet, in a directory this user can write; anything else
        (a directory, device, FIFO or socket, a parent that is a file, a path too long, a NUL character) is refused
        before any value is set, in check mode too.
      - Should writing it still fail after the values were set, the values are put back as they were and the task fails.
    type: path
    default: /etc/sysctl.d/90-layer2-linux.conf
  persist_exclusive:
    description:
      - With O(persist=true), the file holds this task's settings only; lines it held for other settings, such as the
        proxy ARP of a VLAN that was removed, are dropped. Use it for a file this one task owns.
      - Values already set in the kernel for settings no longer given are left as they are.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Route IPv4 and answer ARP for the VLAN's neighbours, now and after reboot
  layer2.linux.ip_forwarding:
    ipv4_forwarding: true
    interfaces:
      - name: eth1.1234
        proxy_arp: true
    persist: true

- name: Stop routing IPv6
  layer2.linux.ip_forwarding:
    ipv6_forwarding: false
"""

RETURN = r"""
before:
  description: The values before the task, by sysctl name (sysctl.d spelling).
  returned: success
  type: dict
  sample: {"net.ipv4.ip_forward": 0, "net.ipv4.conf.eth1/1234.proxy_arp": 0}
after:
  description: The values after the task (in check mode, what they would be).
  returned: success
  type: dict
  sample: {"net.ipv4.ip_forward": 1, "net.ipv4.conf.eth1/1234.proxy_arp": 1}
persist_path:
  description: The sysctl.d file holding the values, or null when O(persist=false).
  returned: success
  type: str
  sample: /etc/sysctl.d/90-layer2-linux.conf
persist_changed:
  description: Whether the sysctl.d file was (or, in check mode, would be) rewritten.
  returned: success
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.layer2.linux.plugins.module_utils._errors import failing_in_words
from ansible_collections.layer2.linux.plugins.module_utils._ip_forwarding import ensure_forwarding
from ansible_collections.layer2.linux.plugins.module_utils._sysctl import SysctlError


def main():
    module = AnsibleModule(
        argument_spec={
            "ipv4_forwarding": {"type": "bool"},
            "ipv6_forwarding": {"type": "bool"},
            "interfaces": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "name": {"type": "str", "required": True},
                    "proxy_arp": {"type": "bool"},
                    "proxy_arp_pvlan": {"type": "bool"},
                    "proxy_ndp": {"type": "bool"},
                },
            },
            "persist": {"type": "bool", "default": False},
            "persist_path": {"type": "path", "default": "/etc/sysctl.d/90-layer2-linux.conf"},
            "persist_exclusive": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    with failing_in_words(module, SysctlError, doing="setting forwarding and proxy ARP/NDP"):
        result = ensure_forwarding(params["ipv4_forwarding"], params["ipv6_forwarding"], params["interfaces"], persist=params["persist"],
                                   persist_path=params["persist_path"], check_mode=module.check_mode,
                                   persist_exclusive=params["persist_exclusive"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
