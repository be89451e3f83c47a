# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_address_plan: parsing addresses and planning what to add and remove (ip_address, vlan_interface)."""

from __future__ import annotations

import ipaddress
import re

import pytest
from ansible_collections.layer2.linux.plugins.module_utils._address_plan import AddressError, parse_cidrs, plan, refuse_unassignable


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


def test_a_zone_naming_the_interface_is_dropped_and_another_refused():
    assert [str(a) for a in parse_cidrs(["fe80::1%eth0/64"], "eth0")] == ["fe80::1/64"]
    with pytest.raises(AddressError, match="names the zone 'eth1', but the interface is eth0"):
        parse_cidrs(["fe80::1%eth1/64"], "eth0")


@pytest.mark.parametrize("cidr, words", [
    ("::1/128", "::1 lives on the loopback interface only"),
    ("::/128", "it is the unspecified address"),
    ("0.0.0.0/8", "it is the unspecified address"),
    ("ff02::5/128", "IPv6 multicast addresses are groups"),
])
def test_what_the_kernel_will_not_hold_is_refused_first(cidr, words):
    with pytest.raises(AddressError, match=re.escape(words)):
        refuse_unassignable(parse_cidrs(["10.50.0.9/24", cidr]))
    refuse_unassignable(parse_cidrs(["::1/128"]), loopback=True)


def test_one_address_with_two_prefix_lengths_is_a_contradiction():
    wanted = [ipaddress.ip_interface("10.0.0.1/24"), ipaddress.ip_interface("10.0.0.1/25")]
    with pytest.raises(AddressError, match=re.escape("(10.0.0.1/24 and 10.0.0.1/25)")):
        plan([], wanted, "present", False)
    assert plan([ipaddress.ip_interface("10.0.0.1/24")], wanted, "absent", False)[0] == [ipaddress.ip_interface("10.0.0.1/24")]
