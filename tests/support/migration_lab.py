# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The address-migration lab the gratuitous ARP and migrate_address tests share: gw, old and new (and other) on one
switch; old holds ADDR and ADDR6, and the gateway has resolved both to old's MAC."""

from __future__ import annotations

ADDR, ADDR6 = "192.0.2.100", "2001:db8::100"
GW_MAC, OLD_MAC, NEW_MAC, OTHER_MAC = "02:00:5e:00:00:01", "02:00:5e:00:00:0a", "02:00:5e:00:00:14", "02:00:5e:00:00:1e"


def _host(mac, v4, v6, extra=()):
    return {"links": [{"switch": "lan", "mac": mac, "addresses": [v4, v6, *extra]}]}


def build(make_lab, with_other: bool = False):
    hosts = {
        "gw": _host(GW_MAC, "192.0.2.1/24", "2001:db8::1/64"),
        "old": _host(OLD_MAC, "192.0.2.10/24", "2001:db8::a/64", [f"{ADDR}/24", f"{ADDR6}/64"]),
        "new": _host(NEW_MAC, "192.0.2.20/24", "2001:db8::14/64"),
    }
    if with_other:
        hosts["other"] = _host(OTHER_MAC, "192.0.2.30/24", "2001:db8::1e/64")
    lab = make_lab({"switches": ["lan"], "hosts": hosts})
    for address in (ADDR, ADDR6):
        lab.run("gw", ["ping", "-c1", "-W2", address])
        assert gw_mac(lab, address) == OLD_MAC
    return lab


def gw_mac(lab, address):
    """The MAC the gateway's neighbour table holds for an address, or None."""
    entry = lab.neighbour("gw", address)
    return entry.get("lladdr") if entry else None
