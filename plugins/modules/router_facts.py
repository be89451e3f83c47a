#!/usr/bin/python
# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: router_facts
short_description: The live state of a Linux router as plain data, read in one call
version_added: 0.1.0
description:
  - Reads, in one call, what a router is made of - links with their VLAN details and addresses, the routes of the main
    table, IPv4 and IPv6 forwarding, per-interface proxy ARP, proxy NDP and IPv6 forwarding, the nftables tables with their
    chains and, asked, the listening UDP sockets with the process holding each - and returns it as structured data a
    playbook can assert on.
  - Links, addresses and routes come from one rtnetlink socket, the switches from C(/proc/sys), the tables and chains from
    C(nft -j list tables; list chains), the sockets from C(/proc/net/udp), C(/proc/net/udp6) and C(/proc/PID/fd).
  - Only reads; never reports a change. The results are returned at the top level of the result, not as C(ansible_facts).
author:
  - layer2.linux contributors (@layer2-linux)
extends_documentation_fragment:
  - layer2.linux.requirements.ATTRIBUTES
attributes:
  idempotent:
    support: full
    details: The module only reads.
requirements:
  - Linux. Links, addresses and routes are read over rtnetlink with the Python standard library.
  - The C(nft) command (package C(nftables)) for the tables; without it RV(nftables.available) is V(false).
options:
  nftables:
    description:
      - Run C(nft -j 'list tables; list chains') to list the nftables tables and their chains.
      - Set V(false) to skip it (RV(nftables) is then not returned).
    type: bool
    default: true
  all_route_types:
    description: Return routes of every type of the main table (blackhole, unreachable, prohibit...), not only unicast ones.
    type: bool
    default: false
  nftables_conf:
    description:
      - The ruleset file C(nftables.service) loads at boot (Debian C(/etc/nftables.conf), Red Hat C(/etc/sysconfig/nftables.conf)).
      - When given, RV(nftables.boot) tells whether it exists and which files its C(include) lines name, so a playbook can
        decide without another task whether a ruleset is restored at boot. Only read with O(nftables=true).
    type: path
  listening:
    description:
      - Also return RV(listening), the UDP sockets of the network namespace the module runs in that wait for datagrams
        (DNS on port 53, DHCP on port 67...), each with the process that holds it.
      - Whichever way the daemon was started (a service manager or by hand), the sockets tell whether it serves.
    type: bool
    default: false
notes:
  - When C(nft) is installed but cannot list (a kernel without nf_tables, no permission), RV(nftables.available) is V(false)
    and the module warns with what C(nft) said.
seealso:
  - module: layer2.linux.ip_route
  - module: layer2.linux.ip_forwarding
  - module: layer2.linux.vlan_interface
"""

EXAMPLES = r"""
- name: Read the router back
  layer2.linux.router_facts:
  register: live

- name: Every VLAN of the trunk is up with its gateway address
  ansible.builtin.assert:
    that:
      - live.links['eth1.1234'].kind == 'vlan'
      - live.links['eth1.1234'].parent == 'eth1'
      - live.links['eth1.1234'].up
      - "'203.0.113.1/24' in live.links['eth1.1234'].addresses"
      - live.forwarding.ipv4
      - live.interfaces['eth0'].proxy_arp

- name: The routed prefix points at its VLAN
  ansible.builtin.assert:
    that: >-
      live.routes | selectattr('dst', 'eq', '203.0.113.64/28') | map(attribute='dev') | list == ['eth1.1234']

- name: dnsmasq answers DNS on the VLAN's gateway address
  layer2.linux.router_facts:
    listening: true
  register: live

- name: Assert it
  ansible.builtin.assert:
    that: >-
      live.listening | selectattr('address', 'eq', '10.9.9.10') | selectattr('port', 'eq', 53)
      | selectattr('process', 'eq', 'dnsmasq') | list | length == 1

- name: Links and routes only, without running nft
  layer2.linux.router_facts:
    nftables: false
  register: live
"""

RETURN = r"""
links:
  description: Every link of the network namespace, by interface name.
  returned: success
  type: dict
  contains:
    index: {description: The kernel's interface index., type: int, returned: always, sample: 7}
    kind:
      description: The link kind (V(vlan), V(veth), V(bridge), V(dummy)...); null for a plain NIC and for loopback.
      type: str
      returned: always
      sample: vlan
    vlan_id: {description: The VLAN id., type: int, returned: for a VLAN, sample: 1234}
    vlan_protocol: {description: V(802.1Q) or V(802.1ad)., type: str, returned: for a VLAN, sample: 802.1Q}
    parent:
      description: The link the VLAN rides on; null when that link is in another network namespace.
      type: str
      returned: for a VLAN
      sample: eth1
    mtu: {description: The MTU., type: int, returned: always, sample: 1500}
    mac: {description: The link-layer address; null for links without one., type: str, returned: always, sample: "02:00:5e:00:00:0a"}
    up: {description: Administratively up (IFF_UP)., type: bool, returned: always, sample: true}
    operstate: {description: "The kernel's operational state: V(UP), V(DOWN), V(LOWERLAYERDOWN), V(UNKNOWN)...", type: str, returned: always, sample: UP}
    addresses:
      description: Addresses in CIDR form, IPv4 then IPv6, link-local ones included.
      type: list
      elements: str
      returned: always
      sample: ["203.0.113.1/24", "fe80::1/64"]
  sample:
    eth1.1234: {index: 7, kind: vlan, vlan_id: 1234, vlan_protocol: 802.1Q, parent: eth1, mtu: 1500, mac: "02:00:5e:00:00:0a", up: true,
                operstate: UP, addresses: ["203.0.113.1/24", "fe80::1/64"]}
routes:
  description: The routes of the main table, IPv4 then IPv6; unicast only unless O(all_route_types=true).
  returned: success
  type: list
  elements: dict
  contains:
    family: {description: V(ipv4) or V(ipv6)., type: str, returned: always, sample: ipv4}
    dst:
      description: The destination prefix, always with its length (C(203.0.113.65/32)); V(default) for the default route.
      type: str
      returned: always
      sample: 203.0.113.64/28
    via: {description: The gateway; null for a directly reached prefix., type: str, returned: always, sample: null}
    dev: {description: The output interface; null for a multipath route or a route without one (blackhole...)., type: str, returned: always, sample: eth1.1234}
    table: {description: The table; V(main) here., type: raw, returned: always, sample: main}
    metric: {description: The metric (priority)., type: int, returned: always, sample: 0}
    scope: {description: "V(global), V(link), V(host), V(site) or V(nowhere). IPv6 routes are always V(global).", type: str, returned: always, sample: link}
    protocol:
      description: Who added the route (C(proto) in C(ip route)) - V(kernel) for connected prefixes, V(boot), V(static), V(ra), V(dhcp)...
      type: raw
      returned: always
      sample: boot
    type: {description: "The route type - V(unicast), or with O(all_route_types) V(blackhole), V(unreachable)...", type: str, returned: always, sample: unicast}
    onlink: {description: The on-link flag (the gateway is taken as directly reachable)., type: bool, returned: always, sample: false}
    nexthops:
      description: The next hops of a multipath route, each with C(via), C(dev) and C(onlink).
      type: list
      elements: dict
      returned: for a multipath route
  sample:
    - {family: ipv4, dst: 203.0.113.64/28, via: null, dev: eth1.1234, table: main, metric: 0, scope: link, protocol: boot, type: unicast, onlink: false}
forwarding:
  description: Whether the host forwards (C(net.ipv4.ip_forward), C(net.ipv6.conf.all.forwarding)); null when the family is off.
  returned: success
  type: dict
  contains:
    ipv4: {description: IPv4 forwarding., type: bool, returned: always, sample: true}
    ipv6: {description: IPv6 forwarding; null when the kernel has IPv6 disabled., type: bool, returned: always, sample: false}
  sample: {ipv4: true, ipv6: false}
interfaces:
  description:
    - Per-interface switches from C(/proc/sys/net/ipv4/conf/NAME/) and C(/proc/sys/net/ipv6/conf/NAME/), by interface name
      (VLAN names with their dots, as the kernel spells them). A switch the kernel does not show is null.
  returned: success
  type: dict
  contains:
    proxy_arp: {description: "C(net.ipv4.conf.NAME.proxy_arp): answer ARP for addresses routed elsewhere.", type: bool, returned: always, sample: true}
    proxy_ndp: {description: "C(net.ipv6.conf.NAME.proxy_ndp): the IPv6 counterpart, for the proxied neighbours.", type: bool, returned: always, sample: false}
    ipv6_forwarding: {description: "C(net.ipv6.conf.NAME.forwarding).", type: bool, returned: always, sample: false}
  sample:
    eth0: {proxy_arp: true, proxy_ndp: false, ipv6_forwarding: false}
nftables:
  description: The nftables tables and their chains as the C(nft) command lists them (C(nft -j 'list tables; list chains')).
  returned: when O(nftables=true)
  type: dict
  contains:
    available:
      description: V(false) when C(nft) is not installed or could not list (a kernel without nf_tables); the module warns why.
      type: bool
      returned: always
      sample: true
    tables:
      description:
        - The tables, each with C(family) (V(inet), V(ip), V(ip6), V(arp), V(bridge), V(netdev)), C(name) and C(chains)
          (the names of its chains); empty when not available.
      type: list
      elements: dict
      returned: always
      sample: [{family: inet, name: layer2_vlan_router_filter, chains: [forward, ingress_1234]}]
    boot:
      description: The boot-time ruleset file O(nftables_conf) named, with C(path), C(exists) and C(includes) (the paths of its C(include) lines).
      type: dict
      returned: when O(nftables_conf) is given
      sample: {path: /etc/nftables.conf, exists: true, includes: [/etc/nftables.d/layer2-vlan-router.nft]}
  sample: {available: true, tables: [{family: inet, name: layer2_vlan_router_filter, chains: [forward]}]}
listening:
  description:
    - The UDP sockets waiting for datagrams (bound, connected to no peer) in the module's network namespace, sorted by port.
    - The process is found through C(/proc/PID/fd); C(pid) and C(process) are null and C(cmdline) empty when no process
      could be read (another user's without root, or one that ended meanwhile).
  returned: when O(listening=true)
  type: list
  elements: dict
  contains:
    family: {description: V(ipv4) or V(ipv6)., type: str, returned: always, sample: ipv4}
    address: {description: The local address; V(0.0.0.0) or V(::) for any. IPv4-mapped IPv6 addresses as IPv4., type: str, returned: always, sample: 10.9.9.10}
    port: {description: The local port., type: int, returned: always, sample: 53}
    pid: {description: The process holding the socket., type: int, returned: always, sample: 812}
    process: {description: Its name (C(/proc/PID/comm))., type: str, returned: always, sample: dnsmasq}
    cmdline:
      description: Its command line, one argument an item.
      type: list
      elements: str
      returned: always
      sample: [dnsmasq, --conf-file=/etc/dnsmasq.d/layer2-vlan-router.conf, --keep-in-foreground]
  sample:
    - {family: ipv4, address: 10.9.9.10, port: 53, pid: 812, process: dnsmasq, cmdline: [dnsmasq, --conf-file=/etc/dnsmasq.d/layer2-vlan-router.conf]}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.layer2.linux.plugins.module_utils._errors import failing_in_words
from ansible_collections.layer2.linux.plugins.module_utils._router_facts import gather


def main():
    module = AnsibleModule(
        argument_spec={
            "nftables": {"type": "bool", "default": True},
            "all_route_types": {"type": "bool", "default": False},
            "nftables_conf": {"type": "path"},
            "listening": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    run = None
    if module.params["nftables"] and module.get_bin_path("nft"):
        def run(argv):
            return module.run_command(argv)
    with failing_in_words(module, doing="reading links, addresses, routes, /proc/sys and /proc/net"):
        facts, warnings = gather(run, nftables=module.params["nftables"], all_route_types=module.params["all_route_types"],
                                 nftables_conf=module.params["nftables_conf"], listening=module.params["listening"])
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
