# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The arp_scan inventory plugin's naming and file matching (the scan itself is tested in the integration tier)."""

from __future__ import annotations

import pytest
from ansible_collections.layer2.linux.plugins.inventory.arp_scan import InventoryModule, host_name, vendor_group


@pytest.mark.parametrize("vendor, group", [("Raspberry Pi Trading Ltd", "vendor_raspberry_pi_trading_ltd"),
                                           ("Raspberry Pi (Trading) Ltd", "vendor_raspberry_pi_trading_ltd"),
                                           ("VMware, Inc.", "vendor_vmware_inc"), (None, "vendor_unknown")])
def test_vendor_groups(vendor, group):
    assert vendor_group(vendor) == group


@pytest.mark.parametrize("name, ours", [("lan.arp_scan.yml", True), ("lan.arp_scan.yaml", True), ("lan.yml", False), ("arp_scan.yml", False)])
def test_only_arp_scan_files_are_read(tmp_path, name, ours):
    path = tmp_path / name
    path.write_text("plugin: layer2.linux.arp_scan\n")
    assert InventoryModule().verify_file(str(path)) is ours


@pytest.mark.parametrize("host, name", [({"ip": "192.0.2.7", "hostname": "pi-kitchen.local", "ipv6_link_local": "fe80::7%eth0"}, "pi-kitchen"),
                                        ({"ip": "192.0.2.7", "hostname": "nas.example.org", "ipv6_link_local": None}, "nas.example.org"),
                                        ({"ip": "192.0.2.7", "hostname": None, "ipv6_link_local": "fe80::7%eth0"}, "192.0.2.7"),
                                        ({"ip": None, "hostname": None, "ipv6_link_local": "fe80::7%eth0"}, "fe80::7%eth0"),
                                        ({"ip": "192.0.2.7"}, "192.0.2.7")])  # from a cache written before names
def test_hosts_are_named_by_name_then_ipv4_then_link_local(host, name):
    assert host_name(host) == name
