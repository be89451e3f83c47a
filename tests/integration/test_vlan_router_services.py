# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router role's services on the host kernel: the role's `services` entry point renders dnsmasq's file under a
scratch vlan_router_root (dnsmasq --test checks it first), then the real dnsmasq runs from that file in the router's
namespace, as a lab without systemd runs it, and real clients talk to it: busybox udhcpc for DHCP, busybox nslookup for
DNS, the kernel's own SLAAC for router advertisements. The upstream resolver is another dnsmasq on the internet side.

The VLAN sub-interfaces are stood in for by plain interfaces of the same names (eth1.1235 ...), each on its own switch,
as in test_vlan_router_firewall.py. Every process the test starts is killed when the lab goes down, failed or not.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
import time

import pytest

from tests.support.ansible import run_playbook
from tests.support.bad_input import assert_unchanged, settle, world
from tests.support.dnsmasq import DNSMASQ_CONF as CONF
from tests.support.dnsmasq import listening, start_dnsmasq, start_resolver

ROUTER, UPLINK, UPSTREAM = "10.9.9.10", "198.51.100.2", "198.51.100.1"
FILES = "__vlan_router_files_result"  # config_files, which runs dnsmasq --test on dnsmasq's new file first
WEB1, WEB2, UNKNOWN = "02:00:00:00:35:02", "02:00:00:00:35:03", "02:00:00:00:35:99"
VLANS = [
    {"id": 1235, "addresses": [f"{ROUTER}/24", "2001:db8:35::1/64"], "nat": True, "ipv6_ra": True,
     "dhcp": {"range": ["10.9.9.100", "10.9.9.199"], "lease_time": "12h", "domain": "tenant1.internal",
              "hosts": [{"mac": WEB1, "ip": "10.9.9.2", "name": "web1"}, {"mac": WEB2, "ip": "10.9.9.3", "name": "web2"}]}},
    # Reservations only (CloudStack's "static"): an unknown MAC gets nothing.
    {"id": 1236, "addresses": ["10.9.6.1/24"], "dhcp": {"hosts": [{"mac": "02:00:00:00:36:02", "ip": "10.9.6.2"}]}},
]
# udhcpc runs this on each event: on "bound" it records what it was given and puts the address on the interface.
SCRIPT = """#!/bin/sh
[ "$1" = bound ] || exit 0
echo "ip=$ip mask=$mask router=$router dns=$dns domain=$domain lease=$lease" >"$0.$interface.lease"
ip addr add "$ip/$mask" dev "$interface"
"""


def spec() -> dict:
    def vm(switch, mac):
        return {"links": [{"switch": switch, "mac": mac}], "sysctl": {"net.ipv6.conf.eth0.accept_ra": "1"}}

    return {
        "switches": ["uplink", "v1235", "v1236"],
        "hosts": {
            "router": {
                "links": [
                    {"switch": "uplink", "ifname": "eth0", "addresses": [f"{UPLINK}/24", "2001:db8:ff::2/64"]},
                    {"switch": "v1235", "ifname": "eth1.1235", "addresses": VLANS[0]["addresses"]},
                    {"switch": "v1236", "ifname": "eth1.1236", "addresses": VLANS[1]["addresses"]},
                ],
                "routes": ["default via 198.51.100.1", "default via 2001:db8:ff::1"],
                "sysctl": {"net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1"},
            },
            # The upstream resolver too, where a test starts one (start_resolver): no name ever leaves the lab.
            "internet": {"links": [{"switch": "uplink", "addresses": [f"{UPSTREAM}/24", "2001:db8:ff::1/64"]}]},
            "web1": vm("v1235", WEB1),
            "stranger": vm("v1235", UNKNOWN),
            "stranger6": vm("v1236", "02:00:00:00:36:99"),
        },
    }


def role(lab, root, *tasks_from, check=False, ok=True, **extra):
    """The role's task files one after the other in one play (registered results carry over, as in main.yml)."""
    variables = {"vlan_router_trunk": "eth1", "vlan_router_uplink": "eth0", "vlan_router_install_dependencies": False,
                 "vlan_router_persistence": "none", "vlan_router_root": str(root), "vlan_router_vlans": VLANS,
                 "vlan_router_dns_upstream": [UPSTREAM], "vlan_router_ipv6_forwarding": True} | extra
    play = [{"hosts": "router", "gather_facts": False,
             "tasks": [{"name": f"the role's {name}", "ansible.builtin.include_role": {"name": "layer2.linux.vlan_router", "tasks_from": name}}
                       for name in tasks_from]}]
    run = run_playbook(play, lab.inventory(python=sys.executable), extra_vars=variables, check=check, diff=True)
    if ok:
        assert run.rc == 0, run.stdout + run.stderr
    return run


def services(lab, root, check=False, ok=True, **extra):
    return role(lab, root, "services", check=check, ok=ok, **extra)


def dhcp(lab, host, script, tries=3) -> dict | None:
    """A real DHCP client's lease (what the server gave), or None when no server answered `tries` discovers 4 s apart
    (one is enough where none must answer: dnsmasq answers within milliseconds or never)."""
    done = lab.run(host, ["busybox", "udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", str(tries), "-T", "4", "-s", str(script)], check=False, timeout=30)
    lease = script.parent / f"{script.name}.eth0.lease"
    if done.returncode != 0:
        return None
    text = lease.read_text()
    lease.unlink()
    return dict(item.split("=", 1) for item in text.split())


def lookup(lab, host, name, server=ROUTER) -> list[str]:
    """busybox nslookup asked at the server only (never the host's resolver): the names or addresses in the answer."""
    out = lab.run(host, ["busybox", "nslookup", name, server], check=False, timeout=20).stdout
    return re.findall(r"^Address:?\s+(\S+)$", out.split("\n\n", 1)[-1], re.M) + re.findall(r"name = (\S+)", out)


@pytest.fixture
def router(make_lab, tmp_path):
    script = tmp_path / "udhcpc.sh"
    script.write_text(SCRIPT)
    script.chmod(0o755)
    return make_lab(spec()), tmp_path / "root", script


def test_services_check_then_render_then_nothing_to_do(router):
    lab, root, _script = router
    check = services(lab, root, check=True)
    assert check.task(FILES, by="register")["validated"] == [str(root / CONF)] and not (root / CONF).exists()
    diff = next(d for d in check.task(FILES, by="register")["diff"] if d["after_header"] == str(root / CONF))
    assert diff["before"] == "" and f"\ndhcp-host={WEB1},10.9.9.2,web1,12h\n" in diff["after"]  # what it would write, shown
    first = services(lab, root)
    assert first.changed and first.task(FILES, by="register")["validated"] == [str(root / CONF)]
    text = (root / CONF).read_text()
    assert "interface=eth1.1235\ninterface=eth1.1236\nexcept-interface=eth0\n" in text
    again = services(lab, root)
    assert again.changed == 0 and again.task(FILES, by="register")["validated"] == []  # unchanged: not checked again


def test_real_dhcp_dns_and_router_advertisements(router):
    lab, root, script = router
    services(lab, root)
    start_dnsmasq(lab, "router", root, [f"{ROUTER}:53"])
    # The upstream answers the other names, and every name in the VLAN's domain with a decoy: what the router answers
    # there is its own.
    upstream_log = root.parent / "upstream.log"
    start_resolver(lab, "internet", UPSTREAM, {"example.test": "192.0.2.7", "tenant1.internal": "192.0.2.66"}, upstream_log)

    lease = {"ip": "10.9.9.2", "mask": "24", "router": ROUTER, "dns": ROUTER, "domain": "tenant1.internal", "lease": "43200"}  # 12h
    assert dhcp(lab, "web1", script) == lease
    stranger = dhcp(lab, "stranger", script)
    assert ipaddress.ip_address("10.9.9.100") <= ipaddress.ip_address(stranger["ip"]) <= ipaddress.ip_address("10.9.9.199")
    assert (stranger["router"], stranger["dns"], stranger["lease"]) == (ROUTER, ROUTER, "43200")
    assert dhcp(lab, "stranger6", script, tries=1) is None  # reservations only, and not this MAC

    assert lookup(lab, "stranger", "web1.tenant1.internal") == ["10.9.9.2"]
    assert lookup(lab, "stranger", "10.9.9.2") == ["web1.tenant1.internal"]
    assert lookup(lab, "stranger", "nothere.tenant1.internal") == []  # local to the router: not forwarded
    assert lookup(lab, "stranger", "www.example.test") == ["192.0.2.7"]  # forwarded to vlan_router_dns_upstream
    asked = upstream_log.read_text()
    assert "query[A] www.example.test from 198.51.100.2" in asked and "tenant1.internal" not in asked, asked

    # Never on the uplink: dnsmasq holds no socket on its addresses (its DHCP socket, serving two VLANs, is a wildcard
    # the uplink's datagrams reach too), and neither a DNS query nor a DHCP discover from the internet gets an answer.
    uplink = {a["local"] for a in lab.ip_json("router", "addr", "show", "dev", "eth0")[0]["addr_info"]}
    held = {s.rsplit(":", 1)[0].strip("[]") for s in listening(lab, "router") | listening(lab, "router", tcp=True)}
    assert ROUTER in held and not held & uplink, held
    assert lookup(lab, "internet", "www.example.test", server=UPLINK) == []
    assert dhcp(lab, "internet", script, tries=1) is None

    assert_advertised(lab, "web1", "eth1.1235", "2001:db8:35::/64")


def assert_advertised(lab, vm, router_dev, prefix, tries=100):
    """The VM's SLAAC address lies in the prefix and its default route is the router's link-local address on router_dev."""
    router_ll = next(a["local"] for a in lab.ip_json("router", "-6", "addr", "show", "dev", router_dev)[0]["addr_info"] if a["scope"] == "link")
    for _attempt in range(tries):  # dnsmasq sends its first advertisements within seconds, and at once to a solicitation
        addresses = [a["local"] for a in lab.ip_json(vm, "-6", "addr", "show", "dev", "eth0")[0]["addr_info"] if a["scope"] == "global"]
        routes = lab.ip_json(vm, "-6", "route", "show", "default")
        if addresses and routes:
            break
        time.sleep(0.2)
    assert addresses and all(ipaddress.ip_address(a) in ipaddress.ip_network(prefix) for a in addresses)
    assert routes and routes[0]["gateway"] == router_ll and routes[0]["dev"] == "eth0"


VERIFY = "__vlan_router_verify_result"


def dnsmasq_problems(run) -> list[str]:
    """What verify says about dnsmasq (the stand-ins are no VLANs: it names that too, and the tables not loaded here)."""
    result = run.task(VERIFY, by="register")
    return [problem for problem in result.get("msg", "").removeprefix("The router is not as asked: ").split("; ") if problem.startswith("dnsmasq")]


def test_verify_names_where_dnsmasq_does_not_listen(router):
    """Under a scratch root the role starts no daemon: verify checks the dnsmasq a lab started from the role's file, by
    the sockets it holds, and names each address and service it does not serve."""
    lab, root, script = router
    services(lab, root, vlan_router_vlans=[VLANS[0] | {"dhcp": None}])  # an older file: router advertisements on 1235 only
    assert dnsmasq_problems(role(lab, root, "read_facts", "verify", ok=False)) == []  # none runs: the role runs none here
    old = start_dnsmasq(lab, "router", root, [f"{ROUTER}:53", "[2001:db8:35::1]:53"])
    assert dnsmasq_problems(role(lab, root, "read_facts", "verify", ok=False)) == [
        "dnsmasq does not answer DNS on 10.9.6.1 (eth1.1236, UDP port 53)",
        "dnsmasq does not listen for DHCP (UDP port 67): eth1.1235, eth1.1236 get no leases"]

    services(lab, root)  # the file as asked; a lab without systemd restarts the daemon itself
    old.terminate()
    old.wait(10)
    start_dnsmasq(lab, "router", root, [f"{ROUTER}:53", "10.9.6.1:53", "[2001:db8:35::1]:53"])
    run = role(lab, root, "read_facts", "verify", ok=False)
    assert dnsmasq_problems(run) == [] and "eth1.1235 is not VLAN 1235 on eth1" in run.task(VERIFY, by="register")["msg"]  # verify did run
    assert dhcp(lab, "web1", script)["ip"] == "10.9.9.2"


def everything(lab, root) -> dict:
    """What the services entry point could change: every file under the scratch root (type, mode, content), and in the
    router's namespace its links and addresses, routes, nftables ruleset and the sockets a daemon holds."""
    return world(lab, ["router"], files=root) | {
        "routes": lab.ip_json("router", "route", "show", "table", "all"), "ruleset": lab.run("router", ["nft", "list", "ruleset"]).stdout,
        "sockets": listening(lab, "router") | listening(lab, "router", tcp=True)}


def test_bad_input_refused_with_nothing_changed(router):
    lab, root, _script = router
    services(lab, root)
    settle(lab)  # the kernel's own late changes (an IPv6 link-local address leaving DAD) are not the role's
    before = everything(lab, root)
    cases = {
        "VLAN 1235 dhcp: hosts[1] (02:00:00:00:35:03) address 10.9.8.3 is outside the VLAN's subnet 10.9.9.0/24":
            {"hosts": [{"mac": WEB1, "ip": "10.9.9.2"}, {"mac": WEB2, "ip": "10.9.8.3"}]},
        "VLAN 1235 dhcp hosts[1]: MAC 02:00:00:00:35:02 is reserved twice (also hosts[0])":
            {"hosts": [{"mac": WEB1, "ip": "10.9.9.2"}, {"mac": WEB1, "ip": "10.9.9.3"}]},
        "VLAN 1235 dhcp hosts[1] (02:00:00:00:35:03): 10.9.9.2 is reserved twice (also hosts[0])":
            {"hosts": [{"mac": WEB1, "ip": "10.9.9.2"}, {"mac": WEB2, "ip": "10.9.9.2"}]},
        "VLAN 1235 dhcp: range start 10.9.8.100 is outside the VLAN's subnet 10.9.9.0/24": {"range": ["10.9.8.100", "10.9.8.199"]},
        "VLAN 1235 dhcp hosts[0]: '02:00:00:00:35' is not a MAC address": {"hosts": [{"mac": "02:00:00:00:35", "ip": "10.9.9.2"}]},
    }
    for message, dhcp_vars in cases.items():
        vlans = [VLANS[0] | {"dhcp": VLANS[0]["dhcp"] | dhcp_vars}, VLANS[1]]
        run = services(lab, root, ok=False, vlan_router_vlans=vlans)
        assert run.rc != 0 and message in run.stdout, message + "\n" + run.stdout
        assert_unchanged(before, everything(lab, root))


def test_the_dependencies_task_finds_dnsmasq_installed(tmp_path):
    """In check mode on this Debian host: with VLANs asking for dhcp under a scratch root the role wants dnsmasq-base
    (the program, no service), which system-deps.sh installed, so nothing would change."""
    system_python = "/usr/bin/python3"
    if subprocess.run([system_python, "-c", "import apt"], capture_output=True, check=False).returncode != 0:
        pytest.skip("needs Debian's python3-apt for /usr/bin/python3 (the apt module's check mode)")
    local = {"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": system_python}}}}
    play = [{"hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "the role", "ansible.builtin.include_role": {"name": "layer2.linux.vlan_router", "tasks_from": "dependencies"}}]}]
    run = run_playbook(play, local, extra_vars={"vlan_router_root": str(tmp_path), "vlan_router_vlans": VLANS}, check=True, diff=True)
    assert run.rc == 0, run.stdout + run.stderr
    install = run.task("__vlan_router_dependencies", by="register")
    assert "dnsmasq-base" in install["invocation"]["module_args"]["name"] and not install["changed"], install
