#!/usr/bin/python
# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ip_route
short_description: IPv4 and IPv6 routes, many per task, over netlink
version_added: 0.1.0
description:
  - Adds, replaces and removes routes as C(ip route replace) and C(ip route del) would, through rtnetlink, many in one task and
    one netlink session, with check mode, diff and an honest C(changed).
  - A route is identified as the kernel identifies it, by family, table, destination prefix and metric. A listed route found
    under that identity with another gateway, device, scope, on-link flag or protocol is replaced in place.
  - O(purge) removes the routes not listed, within a scope the task names (interfaces, families, table). The kernel's
    connected routes, routes of other types than unicast and (unless the task manages one) default routes are never purged.
  - Everything is checked before the first change (prefixes, gateways and their family, interfaces); a refused task leaves the
    routing table as it was.
  - Removing or replacing the route that carries the current management connection (the route towards the client address in
    C(SSH_CONNECTION)) is refused unless O(force=true).
author:
  - layer2.linux contributors (@layer2-linux)
extends_documentation_fragment:
  - layer2.linux.requirements.ATTRIBUTES
requirements:
  - Linux. The module speaks rtnetlink itself; no Python library is needed.
options:
  routes:
    description: The routes, each present or absent.
    type: list
    elements: dict
    default: []
    suboptions:
      dst:
        description:
          - The destination prefix in CIDR form, for example C(203.0.113.64/28) or C(2001:db8:20::/64); a bare address means
            a host route (C(/32) or C(/128)); V(default) (or C(0.0.0.0/0), C(::/0)) the default route.
          - A prefix with host bits set (C(203.0.113.65/28)) is refused.
        type: str
        required: true
      via:
        description: The gateway address, of the route's family. Left out, the destination is reached directly on O(routes[].dev).
        type: str
      dev:
        description:
          - The output interface, for example C(eth1.1234). It must exist when the route is present.
          - Left out, the kernel picks the interface that reaches O(routes[].via), and the interface is not compared.
        type: str
      family:
        description:
          - V(ipv4) or V(ipv6). Only needed for a default route with neither O(routes[].via) nor an address in O(routes[].dst)
            to tell it (a bare V(default) is IPv4, as with C(ip route)).
        type: str
        choices: [ipv4, ipv6]
      table:
        description: The routing table, V(main), V(local), V(default) or a number (1-4294967295, not 252).
        type: str
        default: main
      metric:
        description: The route's metric (priority); left out, the kernel's default, V(0) for IPv4 and V(1024) for IPv6.
        type: int
      scope:
        description:
          - The IPv4 route scope. Left out, V(link) for a route with O(routes[].dev) and no O(routes[].via), V(global) otherwise.
          - IPv6 routes have no scope; only V(global) is accepted for them.
        type: str
        choices: [global, link, host]
      onlink:
        description: Take the gateway as directly reachable on O(routes[].dev) even though no connected prefix covers it (C(ip route ... onlink)).
        type: bool
        default: false
      protocol:
        description:
          - The routing protocol the route is marked with (C(proto) in C(ip route)). V(boot) is what C(ip route add) uses.
          - A route found with another protocol is replaced.
        type: str
        choices: [static, boot]
        default: static
      state:
        description: Whether the route is there (V(present)) or not (V(absent)). An absent route is found by its identity alone.
        type: str
        choices: [present, absent]
        default: present
  purge:
    description:
      - Remove the routes that O(routes) does not list, within this scope. Left out, nothing is purged.
      - Never purged, whatever the scope; the kernel's connected routes (protocol C(kernel)), routes of another type than
        unicast (local, broadcast, multicast, blackhole...), and default routes unless O(routes) lists a present default route
        of the same family in the same table.
    type: dict
    suboptions:
      interfaces:
        description:
          - Only routes out of these interfaces are purged (a multipath route when all its next hops use them).
          - Left out, routes out of any interface are purged; an empty list purges nothing.
        type: list
        elements: str
      families:
        description: The address families purged.
        type: list
        elements: str
        choices: [ipv4, ipv6]
        default: [ipv4, ipv6]
      table:
        description: The routing table purged.
        type: str
        default: main
  force:
    description: Remove or replace the route carrying the current management connection too.
    type: bool
    default: false
notes:
  - Changes are sent removals first, then routes without a gateway, then routes through a gateway, so that a gateway made
    reachable by a route of the same task is reachable in time.
  - A gateway the kernel cannot reach is refused by the kernel when the change is made; the message names the route and how
    many of the task's changes were made.
seealso:
  - module: layer2.linux.router_facts
  - module: layer2.linux.ip_address
"""

EXAMPLES = r"""
- name: The VLAN router's routed prefixes onto their VLANs, and no other static routes on them
  layer2.linux.ip_route:
    routes:
      - {dst: 203.0.113.64/28, dev: eth1.1234, protocol: boot}
      - {dst: 2001:db8:1234:1::/64, dev: eth1.1234, protocol: boot}
    purge:
      interfaces: [eth1.1234]

- name: A tenant VM's default route through the VLAN router (replaced if it points elsewhere)
  layer2.linux.ip_route:
    routes:
      - dst: default
        via: 10.1.1.1
        dev: eth1

- name: A backup default route at a higher metric, and an IPv6 one
  layer2.linux.ip_route:
    routes:
      - {dst: default, via: 192.0.2.254, metric: 200}
      - {dst: default, via: "2001:db8::1", dev: eth0}

- name: A gateway outside every connected prefix (cloud style), in table 100
  layer2.linux.ip_route:
    routes:
      - {dst: default, via: 100.64.0.1, dev: eth0, onlink: true, table: 100}

- name: Remove a route
  layer2.linux.ip_route:
    routes:
      - {dst: 198.51.100.0/24, state: absent}
"""

RETURN = r"""
added:
  description: Routes added (or that would be, in check mode), in the shape of O(routes) entries after the defaults were applied.
  returned: success
  type: list
  elements: dict
  sample:
    - {family: ipv4, dst: 203.0.113.64/28, via: null, dev: eth1.1234, table: main, metric: 0, scope: link, protocol: boot, type: unicast, onlink: false}
removed:
  description: Routes removed (or that would be), as they were found (same shape as RV(routes)).
  returned: success
  type: list
  elements: dict
  sample: []
replaced:
  description: Routes replaced in place (or that would be), as they are asked for; the diff shows what they were.
  returned: success
  type: list
  elements: dict
  sample:
    - {family: ipv4, dst: default, via: 10.1.1.1, dev: eth1, table: main, metric: 0, scope: global, protocol: static, type: unicast, onlink: false}
routes:
  description:
    - The unicast routes after the task (in check mode, as they would be), of the families and tables the task names (those
      of O(routes) and O(purge)); IPv4 first. Same shape as the C(routes) of M(layer2.linux.router_facts).
  returned: success
  type: list
  elements: dict
  contains:
    family: {description: V(ipv4) or V(ipv6)., type: str, returned: always, sample: ipv4}
    dst: {description: The destination prefix with its length; V(default) for the default route., type: str, returned: always, sample: 203.0.113.64/28}
    via: {description: The gateway; null for a directly reached prefix., type: str, returned: always, sample: null}
    dev:
      description: The output interface; null when unknown (check mode without O(routes[].dev); multipath).
      type: str
      returned: always
      sample: eth1.1234
    table: {description: "V(main), V(local), V(default) or the table number.", type: raw, returned: always, sample: main}
    metric: {description: The metric (priority)., type: int, returned: always, sample: 0}
    scope: {description: "V(global), V(link), V(host), V(site) or V(nowhere).", type: str, returned: always, sample: link}
    protocol: {description: "The route's protocol (C(proto) in C(ip route)), by name when it has one.", type: raw, returned: always, sample: boot}
    type: {description: The route type; V(unicast) here., type: str, returned: always, sample: unicast}
    onlink: {description: The on-link flag., type: bool, returned: always, sample: false}
    nexthops:
      description: The next hops of a multipath route (each with via, dev, onlink).
      type: list
      elements: dict
      returned: for a multipath route
  sample:
    - {family: ipv4, dst: default, via: 10.1.1.1, dev: eth1, table: main, metric: 0, scope: global, protocol: static, type: unicast, onlink: false}
    - {family: ipv4, dst: 10.1.1.0/24, via: null, dev: eth1, table: main, metric: 0, scope: link, protocol: kernel, type: unicast, onlink: false}
diff:
  description: The routes of RV(routes) before and after, one line each as C(ip route) prints them.
  returned: success
  type: dict
  sample:
    before: "default via 192.0.2.1 dev eth1\n10.1.1.0/24 dev eth1 proto kernel scope link\n"
    after: "default via 10.1.1.1 dev eth1 proto static\n10.1.1.0/24 dev eth1 proto kernel scope link\n"
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.layer2.linux.plugins.module_utils._errors import failing_in_words
from ansible_collections.layer2.linux.plugins.module_utils._route import RouteError, ensure_routes

ROUTE = {
    "dst": {"type": "str", "required": True},
    "via": {"type": "str"},
    "dev": {"type": "str"},
    "family": {"type": "str", "choices": ["ipv4", "ipv6"]},
    "table": {"type": "str", "default": "main"},
    "metric": {"type": "int"},
    "scope": {"type": "str", "choices": ["global", "link", "host"]},
    "onlink": {"type": "bool", "default": False},
    "protocol": {"type": "str", "choices": ["static", "boot"], "default": "static"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}
PURGE = {
    "interfaces": {"type": "list", "elements": "str"},
    "families": {"type": "list", "elements": "str", "choices": ["ipv4", "ipv6"], "default": ["ipv4", "ipv6"]},
    "table": {"type": "str", "default": "main"},
}


def main():
    module = AnsibleModule(
        argument_spec={
            "routes": {"type": "list", "elements": "dict", "options": ROUTE, "default": []},
            "purge": {"type": "dict", "options": PURGE},
            "force": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    with failing_in_words(module, RouteError, doing="reading or changing the routing table"):
        result = ensure_routes(module.params, check_mode=module.check_mode, environ=os.environ)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
