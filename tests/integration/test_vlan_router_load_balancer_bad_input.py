# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router role refuses bad vlan_router_virtual_servers naming the entry, with nothing changed on the router.

The whole role (main entry point) runs against a router namespace on the host kernel; the plan is refused before the
first task that would change anything, so the router's links, addresses, /proc/sys switches and the files under the
role's root are as before. The load balancer itself runs in the kernel tier (tests/kernel/test_vlan_router_load_balancer.py),
this kernel has no IPVS.
"""

from __future__ import annotations

import sys

import pytest

from tests.support.ansible import run_playbook

GOOD = {"address": "203.0.113.80", "port": 80, "scheduler": "wrr", "check": {"type": "http", "path": "/healthz"},
        "real_servers": [{"address": "10.1.35.2", "port": 8080, "weight": 1}]}


def state(lab, root) -> tuple:
    links = lab.ip_json("router", "address", "show")
    switches = lab.run("router", ["sysctl", "net.ipv4.ip_forward", "net.ipv4.conf.eth0.proxy_arp"]).stdout
    # Link-local addresses are the kernel's own, arriving whenever a fresh link finishes duplicate address detection.
    return ([(link["ifname"], [a["local"] for a in link["addr_info"] if not a["local"].startswith("fe80:")]) for link in links], switches,
            sorted(str(p.relative_to(root)) for p in root.rglob("*")))


@pytest.mark.parametrize(("change", "words"), [
    ({"real_servers": [{"address": "192.0.2.9", "port": 8080}]},
     "vlan_router_virtual_servers[0] (203.0.113.80:80/tcp) real_servers[0] 192.0.2.9:8080: 192.0.2.9 is outside every VLAN of the router"),
    ({"port": 70000}, "vlan_router_virtual_servers[0] (203.0.113.80:70000/tcp): port 70000 is out of range 1-65535"),
    ({"scheduler": "fifo"}, "vlan_router_virtual_servers[0] (203.0.113.80:80/tcp): the scheduler 'fifo' is not one of rr, wrr, lc, wlc, sh, mh"),
    ({"check": {"type": "icmp"}}, "vlan_router_virtual_servers[0] (203.0.113.80:80/tcp): the check type 'icmp' is not one of http, tcp, udp"),
    ({"protocol": "udp"}, "vlan_router_virtual_servers[0] (203.0.113.80:80/udp): the check type 'http' cannot check a udp service"),
])
def test_a_bad_virtual_server_is_refused_naming_it_with_nothing_changed(make_lab, tmp_path, change, words):
    lab = make_lab({"switches": ["uplink", "trunk"],
                    "hosts": {"router": {"links": [{"switch": "uplink", "addresses": ["198.51.100.2/24"]}, {"switch": "trunk", "ifname": "eth1"}]}}})
    inventory = lab.inventory(python=sys.executable)
    inventory["all"]["hosts"]["router"].update({
        "vlan_router_trunk": "eth1", "vlan_router_uplink": "eth0", "vlan_router_root": str(tmp_path), "vlan_router_persistence": "systemd-networkd",
        "vlan_router_install_dependencies": False, "vlan_router_vlans": [{"id": 1235, "addresses": ["10.1.35.1/24"], "nat": True}],
        "vlan_router_virtual_servers": [{**GOOD, **change}],
    })
    before = state(lab, tmp_path)
    run = run_playbook([{"hosts": "router", "gather_facts": False, "roles": [{"role": "layer2.linux.vlan_router"}]}], inventory)
    assert run.rc != 0 and words in run.stdout, run.stdout
    assert run.changed == 0
    assert state(lab, tmp_path) == before
