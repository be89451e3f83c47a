# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: arp_scan
short_description: Hosts found by an ARP scan of the controller's LAN, Raspberry Pis grouped
description:
  - Scans IPv4 networks from the controller with the same engine as M(layer2.linux.pi_discover) (and, with O(ipv6=true),
    the IPv6 link) and makes every host that answered an inventory host, named by its host name when it has one
    (O(names=true); V(pi-kitchen) for V(pi-kitchen.local)), else by its IPv4 address, else by its link-local IPv6 address.
  - Hosts go into the group C(raspberry_pi) when their MAC starts with one of O(ouis), and into one group per vendor
    (C(vendor_) and the IEEE registry's organisation name in lower case, for example C(vendor_raspberry_pi_trading_ltd);
    C(vendor_unknown) when the prefix is not registered).
  - Each host gets the variables C(ansible_host) (the IPv4 address, else the link-local address with its zone,
    V(fe80::ba27:ebff:fe12:3456%eth0)), C(mac), C(vendor), C(is_raspberry_pi), C(arp_scan_interface), C(ipv6_link_local) and C(hostname).
  - Two hosts with the same name (mDNS names clash) keep the first; the second is named by its address, with a warning.
  - The configuration file name must end in C(.arp_scan.yml) or C(.arp_scan.yaml).
  - Sending raw ARP needs root or the C(CAP_NET_RAW) capability on the controller; without it the source fails and says so.
  - An address answered from two MACs (a conflict) becomes one host with the first MAC that answered, and a warning.
version_added: 0.1.0
author:
  - layer2.linux contributors (@layer2-linux)
requirements:
  - netaddr on the controller, for vendor names (without it every vendor is unknown; Raspberry Pis are still found).
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; it makes the file a source for it.
    required: true
    type: str
    choices: [layer2.linux.arp_scan]
  network:
    description:
      - IPv4 networks to scan, in CIDR form. Without O(interface), each from the interface that has an address in it.
      - Networks larger than a /16 are refused unless O(allow_large_networks=true).
    type: list
    elements: str
    aliases: [networks]
  interface:
    description: The controller interface to scan from; without O(network), its own IPv4 networks are scanned.
    type: str
  source_address:
    description:
      - The sender address of the requests, needed when O(interface) has no address in the scanned network.
      - An address the interface holds, or V(0.0.0.0) (a duplicate-address probe); another only with O(force=true).
    type: str
  force:
    description: Allow a O(source_address) the interface does not hold.
    type: bool
    default: false
  ipv6:
    description:
      - Also send one ICMPv6 echo request to V(ff02::1) on each interface scanned and add the hosts that answer, merged
        with the ARP results by MAC; with O(interface) and no IPv4 network on it, only the echo.
    type: bool
    default: false
  names:
    description:
      - Ask each host's name over mDNS (reverse PTR queries to V(224.0.0.251) and V(ff02::fb)), then the system's reverse
        DNS (O(reverse_dns)); adds O(timeout) at most.
    type: bool
    default: false
  reverse_dns:
    description: With O(names=true), ask the system's resolver for IPv4 addresses mDNS did not name.
    type: bool
    default: true
  ouis:
    description: MAC prefixes that mark a Raspberry Pi (default the collection's Raspberry Pi prefixes).
    type: list
    elements: str
  all_hosts:
    description: Add every host that answered, not only the Raspberry Pis.
    type: bool
    default: false
  rate:
    description: Requests per second at most (1 to 100000).
    type: int
    default: 10000
  retries:
    description: How many more times a silent address is asked (0 to 10).
    type: int
    default: 1
  timeout:
    description: How long, in seconds, each address is listened for after its first request (a host answering within it is found).
    type: float
    default: 0.5
  exclude:
    description: Addresses or networks not to ask.
    type: list
    elements: str
    default: []
  allow_large_networks:
    description: Allow networks larger than a /16.
    type: bool
    default: false
"""

EXAMPLES = r"""
# pis.arp_scan.yml -- the Raspberry Pis on eth0's networks, logged in to as the user Raspberry Pi Imager made
# (Raspberry Pi OS has had no default user since April 2022; 'pi' is only an example)
plugin: layer2.linux.arp_scan
interface: eth0
compose:
  ansible_user: "'pi'"

---
# link.arp_scan.yml -- every Pi on a segment without DHCP, named by mDNS, reached at its link-local address
plugin: layer2.linux.arp_scan
interface: eth0
ipv6: true
names: true

---
# lan.arp_scan.yml -- every host of a network, cached for ten minutes, grouped by MAC prefix too
plugin: layer2.linux.arp_scan
network: 192.168.1.0/24
all_hosts: true
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /tmp/arp_scan_cache
cache_timeout: 600
keyed_groups:
  - key: mac[:8] | replace(':', '')
    prefix: oui
"""

import re

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible_collections.layer2.linux.plugins.module_utils._scan import ScanError, discover_here

SCAN_OPTIONS = ("network", "interface", "source_address", "force", "ouis", "all_hosts", "rate", "retries", "timeout", "exclude", "allow_large_networks",
                "ipv6", "names", "reverse_dns")


def host_name(host: dict) -> str:
    """The inventory name: the host name without .local, else the IPv4 address, else the link-local address."""
    if host.get("hostname"):
        name = host["hostname"].rstrip(".")
        return name[:-len(".local")] if name.endswith(".local") else name
    return host["ip"] or host.get("ipv6_link_local")


def vendor_group(vendor) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", (vendor or "").lower()).strip("_")
    return f"vendor_{slug or 'unknown'}"


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "layer2.linux.arp_scan"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".arp_scan.yml", ".arp_scan.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        read_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        hosts = None
        if read_cache:
            try:
                hosts = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if hosts is None:
            hosts = self._scan()
        if update_cache:
            self._cache[cache_key] = hosts
        self._populate(hosts)

    def _scan(self) -> list:
        if not self.get_option("network") and not self.get_option("interface"):
            raise AnsibleParserError("layer2.linux.arp_scan: give network or interface to scan")
        try:
            return discover_here(**{name: self.get_option(name) for name in SCAN_OPTIONS})["hosts"]
        except ScanError as exc:
            raise AnsibleParserError(f"layer2.linux.arp_scan: {exc}") from None

    def _populate(self, hosts: list) -> None:
        self.inventory.add_group("raspberry_pi")
        strict = self.get_option("strict")
        added, names = {}, set()
        for host in hosts:
            if host["ip"] is not None and host["ip"] in added:
                self.display.warning(f"arp_scan: {host['ip']} answered from {added[host['ip']]} and {host['mac']} (an address conflict); "
                                     f"the inventory keeps {added[host['ip']]}")
                continue
            added[host["ip"]] = host["mac"]
            name = host_name(host)
            if name in names:
                self.display.warning(f"arp_scan: two hosts are named {name}; {host['mac']} is named by its address")
                name = host["ip"] or host.get("ipv6_link_local")
            names.add(name)
            # .get: a cache written before IPv6 and names has neither key
            hostvars = {"ansible_host": host["ip"] or host.get("ipv6_link_local"), "mac": host["mac"], "vendor": host["vendor"],
                        "is_raspberry_pi": host["is_raspberry_pi"], "arp_scan_interface": host["interface"],
                        "ipv6_link_local": host.get("ipv6_link_local"), "hostname": host.get("hostname")}
            name = self.inventory.add_host(name)
            for key, value in hostvars.items():
                self.inventory.set_variable(name, key, value)
            if host["is_raspberry_pi"]:
                self.inventory.add_child("raspberry_pi", name)
            self.inventory.add_child(self.inventory.add_group(vendor_group(host["vendor"])), name)
            self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)
