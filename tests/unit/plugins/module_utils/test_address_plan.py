# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_address_plan: parsing addresses and planning what to add and remove (ip_address, vlan_interface)."""

from __future__ import annotations

import ipaddress

import pytest
from ansible_collections.layer2.linux.plugins.module_utils._address_plan import AddressError, parse_cidrs, plan


def cidrs(*values):
    return [ipaddress.ip_interface(v) for v in values]


def text(ifaces):
    return [i.with_prefixlen for i in ifaces]


def test_parse_normalises_and_deduplicates():
    assert text(parse_cidrs(["192.0.2.10/24", " 192.0.2.10/255.255.255.0", "2001:DB8:0::a/64", "192.0.2.9"])) == [
        "192.0.2.10/24", "2001:db8::a/64", "192.0.2.9/32"]


@pytest.mark.parametrize("bad", ["192.0.2.300/24", "192.0.2.1/33", "eth0", "", "2001:db8::g/64"])
def test_parse_names_the_bad_value(bad):
    with pytest.raises(AddressError, match="is not an IPv4 or IPv6 address in CIDR form"):
        parse_cidrs(["192.0.2.1/24", bad])


def test_present_adds_missing_and_replaces_other_prefix_lengths():
    remove, add = plan(cidrs("192.0.2.10/24", "192.0.2.20/24"), cidrs("192.0.2.10/25", "192.0.2.30/24"), "present", False)
    assert text(remove) == ["192.0.2.10/24"] and text(add) == ["192.0.2.10/25", "192.0.2.30/24"]


def test_present_exclusive_removes_unlisted_but_not_link_local():
    current = cidrs("192.0.2.10/24", "2001:db8::a/64", "fe80::1/64")
    remove, add = plan(current, cidrs("192.0.2.10/24"), "present", True)
    assert text(remove) == ["2001:db8::a/64"] and add == []


def test_absent_matches_by_address_whatever_the_prefix():
    remove, add = plan(cidrs("192.0.2.10/25", "192.0.2.20/24"), cidrs("192.0.2.10/32"), "absent", False)
    assert text(remove) == ["192.0.2.10/25"] and add == []


def test_nothing_to_do_is_empty():
    assert plan(cidrs("192.0.2.10/24"), cidrs("192.0.2.10/24"), "present", True) == ([], [])
