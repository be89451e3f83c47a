#!/usr/bin/python
# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ipvs_facts
short_description: The kernel's IP Virtual Server table (LVS) as plain data, as ipvsadm -Ln shows it
version_added: 0.1.0
description:
  - Reads the virtual services of the kernel's IP Virtual Server (IPVS, the load balancer keepalived drives) and each
    one's real servers, with their weights, forwarding method and active and inactive connection counts, so a playbook
    can assert what is live.
  - The table is read from the kernel over generic netlink (the IPVS family), with the Python standard library; no
    C(ipvsadm) and no output parsing.
  - Only reads; never reports a change. When the kernel has no IPVS (the C(ip_vs) module is not loaded) the result says
    RV(available=false) with no services; that is not a failure. The module never loads C(ip_vs) itself.
  - The results are returned at the top level of the result, not as C(ansible_facts).
author:
  - layer2.linux contributors (@layer2-linux)
extends_documentation_fragment:
  - layer2.linux.requirements.ATTRIBUTES
attributes:
  idempotent:
    support: full
    details: The module only reads.
requirements:
  - Linux. The table is read over generic netlink with the Python standard library.
  - root or the C(CAP_NET_ADMIN) capability (the kernel allows IPVS requests to administrators only).
options: {}
notes:
  - The table is the one of the network namespace the module runs in.
seealso:
  - module: layer2.linux.router_facts
  - name: ipvsadm(8)
    description: The command that shows the same table (C(ipvsadm -Ln --stats)).
    link: https://manpages.debian.org/ipvsadm
"""

EXAMPLES = r"""
- name: Read the load balancer's table
  layer2.linux.ipvs_facts:
  register: ipvs

- name: The web service is live with both real servers, weighted 1 and 2
  vars:
    web: "{{ ipvs.services | selectattr('address', 'eq', '203.0.113.80') | selectattr('port', 'eq', 80) | first }}"
  ansible.builtin.assert:
    that:
      - ipvs.available
      - web.scheduler == 'wrr'
      - web.real_servers | map(attribute='address') | sort == ['10.9.9.2', '10.9.9.3']
      - web.real_servers | map(attribute='weight') | sort == [1, 2]
      - web.real_servers | map(attribute='forwarding') | unique == ['masq']
"""

RETURN = r"""
available:
  description: V(false) when the kernel has no IPVS (C(ip_vs) not loaded or not built); RV(services) is then empty.
  returned: success
  type: bool
  sample: true
version:
  description: The kernel's IPVS version, as ipvsadm's first line shows it; null when not available.
  returned: success
  type: str
  sample: 1.2.1
connection_table_size:
  description: The size of the connection hash table; null when not available.
  returned: success
  type: int
  sample: 4096
conntrack:
  description:
    - C(net.ipv4.vs.conntrack) of this namespace - IPVS keeps its connections in conntrack, so nftables C(ct state) rules see them
      (the C(layer2.linux.vlan_router) role turns it on); null when not available.
  returned: success
  type: bool
  sample: true
services:
  description: The virtual services, in the kernel's order, each with its real servers.
  returned: success
  type: list
  elements: dict
  contains:
    family: {description: V(ipv4) or V(ipv6)., type: str, returned: always, sample: ipv4}
    protocol: {description: "V(tcp), V(udp) or V(sctp); null for a firewall-mark service.", type: str, returned: always, sample: tcp}
    address: {description: The virtual address; null for a firewall-mark service., type: str, returned: always, sample: 203.0.113.80}
    port: {description: The virtual port; null for a firewall-mark service., type: int, returned: always, sample: 80}
    fwmark: {description: The firewall mark of a firewall-mark service; null otherwise., type: int, returned: always, sample: null}
    scheduler: {description: "The scheduler (V(rr), V(wrr), V(lc), V(wlc), V(sh), V(mh)...).", type: str, returned: always, sample: wrr}
    flags:
      description: The flags ipvsadm prints - V(persistent), V(ops) (one-packet scheduling), V(sh-fallback), V(sh-port), V(mh-fallback), V(mh-port).
      type: list
      elements: str
      returned: always
      sample: [persistent]
    persistence_timeout: {description: Seconds a client sticks to its real server; 0 when not persistent., type: int, returned: always, sample: 50}
    persistence_netmask:
      description: The persistence granularity - a dotted mask for IPv4, a prefix length for IPv6.
      type: raw
      returned: always
      sample: 255.255.255.255
    pe_name: {description: The persistence engine (V(sip)); null when none., type: str, returned: always, sample: null}
    stats:
      description: Counters since the service was made - C(connections), C(packets_in), C(packets_out), C(bytes_in), C(bytes_out).
      type: dict
      returned: always
      sample: {connections: 60, packets_in: 360, packets_out: 300, bytes_in: 24000, bytes_out: 30000}
    real_servers:
      description: The real servers of the service.
      type: list
      elements: dict
      returned: always
      contains:
        family: {description: V(ipv4) or V(ipv6)., type: str, returned: always, sample: ipv4}
        address: {description: The real server's address., type: str, returned: always, sample: 10.9.9.2}
        port: {description: The real server's port., type: int, returned: always, sample: 8080}
        forwarding:
          description: The forwarding method in ipvsadm's words - V(masq) (NAT), V(route) (direct routing), V(tunnel), V(local), V(bypass).
          type: str
          returned: always
          sample: masq
        weight:
          description: The weight; 0 takes the server out of new scheduling (keepalived does so when a check fails with C(inhibit_on_failure)).
          type: int
          returned: always
          sample: 1
        upper_threshold: {description: The upper connection threshold; 0 is none., type: int, returned: always, sample: 0}
        lower_threshold: {description: The lower connection threshold; 0 is none., type: int, returned: always, sample: 0}
        active_connections: {description: Established connections (ipvsadm's ActiveConn)., type: int, returned: always, sample: 3}
        inactive_connections: {description: Connections in other states (ipvsadm's InActConn)., type: int, returned: always, sample: 17}
        persistent_connections: {description: Persistence templates pointing at the server., type: int, returned: always, sample: 0}
        stats:
          description: Counters as the service's.
          type: dict
          returned: always
          sample: {connections: 20, packets_in: 120, packets_out: 100, bytes_in: 8000, bytes_out: 10000}
  sample:
    - {family: ipv4, protocol: tcp, address: 203.0.113.80, port: 80, fwmark: null, scheduler: wrr, flags: [], persistence_timeout: 0,
       persistence_netmask: 255.255.255.255, pe_name: null, stats: {connections: 0, packets_in: 0, packets_out: 0, bytes_in: 0, bytes_out: 0},
       real_servers: [{family: ipv4, address: 10.9.9.2, port: 8080, forwarding: masq, weight: 1, upper_threshold: 0, lower_threshold: 0,
                       active_connections: 0, inactive_connections: 0, persistent_connections: 0,
                       stats: {connections: 0, packets_in: 0, packets_out: 0, bytes_in: 0, bytes_out: 0}}]}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.layer2.linux.plugins.module_utils._errors import failing_in_words
from ansible_collections.layer2.linux.plugins.module_utils._ipvs import gather


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    with failing_in_words(module, doing="reading the IPVS table over generic netlink"):
        facts = gather()
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
