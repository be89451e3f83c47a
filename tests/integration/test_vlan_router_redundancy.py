# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A redundant vlan_router pair on the host kernel: the role's `firewall` and `redundancy` entry points write each
router's files under its own scratch vlan_router_root, then the real keepalived and conntrackd run from those files in
the routers' namespaces (tests/support/keepalived.py, as a lab without systemd runs them), and real traffic crosses.

    internet 198.51.100.1 (203.0.113.0/24 on-link) --[uplink]-- eth0 r1 / r2 eth1.1234 --[v1234]-- vm1 203.0.113.11
                                                                   (sync0) eth1.1235 --[v1235]-- vm3 10.1.35.11 (NAT)

The VLAN sub-interfaces are stood in for by plain interfaces of the same names, each on its own switch, as in
test_vlan_router_firewall.py: the failover's timing is measured here, where UML's slow clock does not distort it.
"""

from __future__ import annotations

import sys
import time

import pytest

from tests.support.ansible import run_playbook
from tests.support.bad_input import assert_unchanged, settle, world
from tests.support.dnsmasq import start_dnsmasq
from tests.support.keepalived import holds, kill_daemons, start_conntrackd, start_keepalived, wait_for_address

INTERNET, VM1, VM3 = "198.51.100.1", "203.0.113.11", "10.1.35.11"
GATEWAY, NAT_GATEWAY, SHARED = "203.0.113.1", "10.1.35.1", "198.51.100.10"
ROUTERS = {"r1": {"own": 2, "priority": 200, "sync": "192.0.2.11"}, "r2": {"own": 3, "priority": 100, "sync": "192.0.2.12"}}
FILES = "__vlan_router_files_result"  # config_files, which runs keepalived -t on keepalived's new file first
# Generous: the bench measures; this only says the pair fails over in well under a second (0.1 s adverts).
FAILOVER_BOUND = 2.0


def spec() -> dict:
    def router(own, sync):
        return {"links": [{"switch": "uplink", "ifname": "eth0", "addresses": [f"198.51.100.{own}/24"]},
                          {"switch": "v1234", "ifname": "eth1.1234", "addresses": [f"203.0.113.{own}/26"]},
                          {"switch": "v1235", "ifname": "eth1.1235", "addresses": [f"10.1.35.{own}/24"]},
                          {"switch": "sync", "ifname": "sync0", "addresses": [f"{sync}/24"]}],
                # No picking up of connections in mid-stream: only conntrackd's copy carries the NAT connection over.
                "sysctl": {"net.ipv4.ip_forward": "1", "net.netfilter.nf_conntrack_tcp_loose": "0"}}

    return {
        "switches": ["uplink", "v1234", "v1235", "sync"],
        "hosts": {
            **{name: router(r["own"], r["sync"]) for name, r in ROUTERS.items()},
            # The upstream treats the public subnet as on-link: it ARPs on the uplink for the VMs' addresses.
            "internet": {"links": [{"switch": "uplink", "addresses": [f"{INTERNET}/24"]}], "routes": ["203.0.113.0/24 dev eth0"]},
            "vm1": {"links": [{"switch": "v1234", "addresses": [f"{VM1}/26"]}], "routes": [f"default via {GATEWAY}"]},
            "vm3": {"links": [{"switch": "v1235", "addresses": [f"{VM3}/24"]}], "routes": [f"default via {NAT_GATEWAY}"]},
        },
    }


def router_vars(name: str, root, **redundancy) -> dict:
    r, peer = ROUTERS[name], ROUTERS["r2" if name == "r1" else "r1"]
    return {
        "vlan_router_trunk": "eth1", "vlan_router_uplink": "eth0", "vlan_router_install_dependencies": False,
        "vlan_router_persistence": "none", "vlan_router_root": str(root / name),
        "vlan_router_vlans": [
            {"id": 1234, "addresses": [f"203.0.113.{r['own']}/26"], "gateway": f"{GATEWAY}/26", "proxy_arp": True},
            {"id": 1235, "addresses": [f"10.1.35.{r['own']}/24"], "gateway": f"{NAT_GATEWAY}/24", "nat": True},
        ],
        "vlan_router_redundancy": {"priority": r["priority"], "sync_interface": "sync0", "peer": peer["sync"], "conntrack_sync": True,
                                   "preempt": False, "uplink_address": f"{SHARED}/24", **redundancy},
    }


def pair(lab, root, hosts=("r1", "r2"), check=False, ok=True, **redundancy):
    """The role's firewall and redundancy entry points on both routers in one play, each with its own variables."""
    inventory = lab.inventory(python=sys.executable)
    for name in hosts:
        inventory["all"]["hosts"][name].update(router_vars(name, root, **redundancy))
    play = [{"hosts": ",".join(hosts), "gather_facts": False,
             "tasks": [{"name": f"the role's {entry}", "ansible.builtin.include_role": {"name": "layer2.linux.vlan_router", "tasks_from": entry}}
                       for entry in ("firewall", "redundancy")]}]
    run = run_playbook(play, inventory, check=check, diff=True)
    if ok:
        assert run.rc == 0, run.stdout + run.stderr
    return run


def pings(lab, host, address, wait=1) -> bool:
    return lab.run(host, ["ping", "-c", "1", "-W", str(wait), address], check=False).returncode == 0


def recovered(lab, host, address, since: float, timeout: float = 10.0) -> float:
    """Seconds from `since` until a ping from host to address is answered (each tried for 0.2 s), or `timeout`."""
    while time.monotonic() - since < timeout:
        if lab.run(host, ["ping", "-c", "1", "-W", "0.2", address], check=False).returncode == 0:
            break
    return time.monotonic() - since


def mac(lab, host, ifname="eth0") -> str:
    return lab.mac(host, ifname)


def start(lab, root, *hosts):
    for name in hosts:
        start_conntrackd(lab, name, root / name)
        start_keepalived(lab, name, root / name)


@pytest.fixture
def lab(make_lab, tmp_path):
    return make_lab(spec()), tmp_path


def test_check_mode_then_write_then_nothing_to_do(lab):
    lab, root = lab
    check = pair(lab, root, check=True)
    keepalived_conf = str(root / "r1/etc/keepalived/keepalived.conf")
    planned = check.task(FILES, "r1", by="register")
    assert check.changed and keepalived_conf in planned["validated"]
    # the diff shows the files that would be written, with the content they would have
    diffs = {item["after_header"]: item["after"] for item in planned["diff"]}
    assert "vrrp_sync_group layer2_vlan_router" in diffs[keepalived_conf]
    assert "Sync {" in diffs[str(root / "r1/etc/conntrackd/conntrackd.conf")]
    assert not (root / "r1/etc/keepalived/keepalived.conf").exists()
    first = pair(lab, root)
    # the firewall entry point's config_files writes (and checks) every file; the redundancy entry point's then finds them as planned
    assert first.changed and any(str(root / "r2/etc/keepalived/keepalived.conf") in r["result"].get("validated", [])
                                 for r in first.results if r.get("register") == FILES and r["host"] == "r2")
    conf = (root / "r1/etc/keepalived/keepalived.conf").read_text()
    assert "vrrp_sync_group layer2_vlan_router" in conf and "unicast_peer {\n        192.0.2.12\n    }" in conf
    assert f"{SHARED}/24 dev eth0" in conf and f"{GATEWAY}/26 dev eth1.1234" in conf
    nft = (root / "r1/etc/nftables.d/layer2-vlan-router.nft").read_text()
    assert f'oifname "eth0" snat to {SHARED}' in nft
    assert f'iifname "eth0" ip daddr {SHARED} ct state new,invalid meta l4proto {{ tcp, udp }} drop' in nft
    assert (root / "r1/usr/local/lib/layer2-linux/vlan-router-notify").stat().st_mode & 0o111
    # The isolation and NAT tables are the same on both routers: a failover changes no rule.
    assert (root / "r2/etc/nftables.d/layer2-vlan-router.nft").read_text() == nft
    # Under a scratch root the daemons are another system's: keepalived.service is left alone.
    assert first.status("__vlan_router_pair_services", "r1", by="register") == "skipped"
    assert pair(lab, root).changed == 0


def test_bad_input_refused_with_nothing_changed(lab):
    lab, root = lab
    pair(lab, root)
    before = world(lab, ROUTERS, files=root)
    cases = {
        # every refusal is unit-tested (tests/unit/plugins/filter/test_vlan_router_redundancy.py); the through the role:
        "vlan_router_redundancy: priority 255 is out of range 1-254": {"priority": 255},
        "vlan_router_redundancy: priority 0 is out of range 1-254": {"priority": 0},
        "vlan_router_redundancy: advert_interval 0.001 is out of range 0.01-40": {"advert_interval": 0.001},
        "vlan_router_redundancy: advert_interval 41 is out of range 0.01-40": {"advert_interval": 41},
        "vlan_router_redundancy: VLAN 1235 is nat, and without uplink_address": {"uplink_address": None},
    }
    for message, redundancy in cases.items():
        run = pair(lab, root, ok=False, **redundancy)
        assert run.rc != 0 and message in run.stdout, message + "\n" + run.stdout
        assert run.changed == 0
    assert_unchanged(before, world(lab, ROUTERS, files=root))


def test_a_gateway_outside_its_subnet_is_refused_before_anything_is_installed(lab):
    """The main entry point with vlan_router_install_dependencies on: the plan is checked before the packages."""
    lab, root = lab
    settle(lab)  # the links' own IPv6 link-local addresses first
    before = world(lab, ["r1"], files=root)
    vlans = router_vars("r1", root)["vlan_router_vlans"]
    vlans[0] = vlans[0] | {"gateway": "203.0.113.100/26"}
    inventory = lab.inventory(python=sys.executable)
    inventory["all"]["hosts"]["r1"].update(router_vars("r1", root) | {"vlan_router_vlans": vlans, "vlan_router_install_dependencies": True})
    run = run_playbook([{"hosts": "r1", "gather_facts": False, "roles": [{"role": "layer2.linux.vlan_router"}]}], inventory)
    assert run.rc != 0 and "VLAN 1234 gateway: 203.0.113.100/26 is outside the VLAN's own subnet 203.0.113.0/26" in run.stdout, run.stdout
    assert "__vlan_router_dependencies" not in {record.get("register") for record in run.results}
    assert run.changed == 0
    assert_unchanged(before, world(lab, ["r1"], files=root))


def test_failover_without_preemption_and_nat_connection_survives(lab):
    lab, root = lab
    pair(lab, root)
    start(lab, root, "r1")
    wait_for_address(lab, "r1", "eth1.1234", GATEWAY)
    start(lab, root, "r2")
    time.sleep(1)  # r2 hears r1 and stays backup
    assert holds(lab, "r1", "eth1.1235", NAT_GATEWAY) and holds(lab, "r1", "eth0", SHARED)
    assert not holds(lab, "r2", "eth1.1234", GATEWAY) and not holds(lab, "r2", "eth0", SHARED)
    assert lab.run("r1", ["sysctl", "-n", "net.ipv4.conf.eth0.proxy_arp"]).stdout.strip() == "1"
    assert lab.run("r2", ["sysctl", "-n", "net.ipv4.conf.eth0.proxy_arp"]).stdout.strip() == "0"

    # Both directions through r1; the internet learns r1's MAC for the VM's address by proxy ARP.
    assert pings(lab, "vm1", INTERNET) and pings(lab, "internet", VM1)
    assert lab.neighbour("internet", VM1)["lladdr"] == mac(lab, "r1")

    # A long-lived TCP connection from the NAT VLAN, opened before the failover, leaving with the shared address.
    server = lab.popen("internet", [sys.executable, "-c", ECHO_SERVER], stdout=-1, text=True)
    assert server.stdout.readline().strip() == "ready"
    client = lab.popen("vm3", [sys.executable, "-u", "-c", ECHO_CLIENT], stdin=-1, stdout=-1, text=True)
    assert client.stdout.readline().strip() == "connected"
    assert server.stdout.readline().strip() == SHARED  # the peer the server sees: the pair's shared address
    assert talk(client, "before") == "echo before"
    time.sleep(0.5)  # conntrackd sends r1's new connection to r2

    # Power cut on r1: its links go down and its daemons die without a word.
    # keepalived dies first, so it sends no priority-0 advert (a clean resignation) when its links go down.
    started = time.monotonic()
    kill_daemons(lab, "r1")
    lab.run("r1", ["ip", "-batch", "-"], input="".join(f"link set {ifname} down\n" for ifname in ("eth0", "eth1.1234", "eth1.1235", "sync0")))
    took = wait_for_address(lab, "r2", "eth1.1234", GATEWAY, timeout=FAILOVER_BOUND)
    vm_out, vm_in = recovered(lab, "vm1", INTERNET, started), recovered(lab, "internet", VM1, started)
    print(f"gateway on r2 after {took:.2f} s; vm1 -> internet after {vm_out:.2f} s, internet -> vm1 after {vm_in:.2f} s")
    assert max(vm_out, vm_in) < FAILOVER_BOUND, f"gateway on r2 after {took:.2f} s; vm1 -> internet after {vm_out:.2f} s, internet -> vm1 after {vm_in:.2f} s"
    # The notify script announced the VM's address on the uplink: the internet's entry moved to r2's MAC.
    assert lab.neighbour("internet", VM1)["lladdr"] == mac(lab, "r2")
    # The new master's kernel has the connection, committed from conntrackd's copy by the notify script.
    assert "dport=7000" in lab.run("r2", ["conntrack", "-L", "-p", "tcp", "--dport", "7000"]).stdout
    assert talk(client, "after") == "echo after", "the NAT connection did not survive the failover"

    # r1 comes back and does not take the gateways back (preempt: false).
    for ifname in ("eth0", "eth1.1234", "eth1.1235", "sync0"):
        lab.run("r1", ["ip", "link", "set", ifname, "up"])
    start(lab, root, "r1")
    time.sleep(1.5)
    assert holds(lab, "r2", "eth1.1234", GATEWAY) and not holds(lab, "r1", "eth1.1234", GATEWAY)
    assert pings(lab, "internet", VM1) and pings(lab, "vm1", INTERNET)
    assert pair(lab, root).changed == 0


# Run in the internet namespace: an echo server on port 7000 that prints "ready", then the peer's address.
ECHO_SERVER = (
    "import socket\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 7000)); s.listen(1)\n"
    "print('ready', flush=True); c, peer = s.accept(); print(peer[0], flush=True)\n"
    "while True:\n"
    "    data = c.recv(100)\n"
    "    if not data: break\n"
    "    c.sendall(b'echo ' + data)\n"
)
# Run on vm3: connects to the internet's echo server, then sends each line of stdin and prints the answer.
ECHO_CLIENT = (
    "import socket, sys\n"
    f"c = socket.create_connection(('{INTERNET}', 7000), timeout=20); print('connected', flush=True)\n"
    "for line in sys.stdin:\n"
    "    c.sendall(line.strip().encode()); print(c.recv(100).decode(), flush=True)\n"
)


def talk(client, text: str) -> str:
    client.stdin.write(text + "\n")
    client.stdin.flush()
    return client.stdout.readline().strip()


def test_the_notify_script_announces_on_the_uplink_from_the_role_files(lab):
    """The installed script alone (no keepalived): MASTER turns proxy ARP on and moves the internet's entry for the
    VM's address to this router's MAC; BACKUP turns proxy ARP off."""
    lab, root = lab
    pair(lab, root, conntrack_sync=False)
    assert pings(lab, "internet", "203.0.113.2")  # gives the internet an entry to move ...
    lab.run("internet", ["ip", "neigh", "replace", VM1, "lladdr", mac(lab, "r1"), "dev", "eth0", "nud", "stale"])
    script = str(root / "r2/usr/local/lib/layer2-linux/vlan-router-notify")
    data = str(root / "r2/etc/keepalived/layer2-vlan-router-notify.json")
    lab.run("r2", [script, data, "GROUP", "layer2_vlan_router", "MASTER", "100"])
    assert lab.run("r2", ["sysctl", "-n", "net.ipv4.conf.eth0.proxy_arp"]).stdout.strip() == "1"
    assert lab.neighbour("internet", VM1)["lladdr"] == mac(lab, "r2")
    lab.run("r2", [script, data, "GROUP", "layer2_vlan_router", "BACKUP", "100"])
    assert lab.run("r2", ["sysctl", "-n", "net.ipv4.conf.eth0.proxy_arp", "net.ipv4.conf.eth1/1234.proxy_arp"]).stdout.split() == ["0", "0"]


def test_shared_address_is_the_nat_source(lab):
    """Without keepalived running nobody holds the shared address, but r1's NAT already leaves with it."""
    lab, root = lab
    pair(lab, root, hosts=("r1",))
    sink = lab.popen("internet", [sys.executable, "-c", UDP_SINK], stdout=-1, text=True)
    assert sink.stdout.readline().strip() == "ready"
    lab.run("r1", ["ip", "addr", "add", f"{NAT_GATEWAY}/24", "dev", "eth1.1235"])
    lab.run("vm3", ["bash", "-c", f"echo hello >/dev/udp/{INTERNET}/5555"])
    assert sink.stdout.readline().strip() == SHARED


UDP_SINK = (
    "import socket\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 5555)); s.settimeout(30)\n"
    "print('ready', flush=True); data, peer = s.recvfrom(100); print(peer[0], flush=True)\n"
)


def test_dnsmasq_serves_the_gateway_once_this_router_holds_it(lab):
    """One of a pair: dnsmasq (bind-dynamic) started on the backup, before the gateway is there, answers DHCP with the
    gateway as router and resolver, and DNS at the gateway as soon as the router holds it (as keepalived adds it)."""
    lab, root = lab
    vm3_mac = lab.mac("vm3")
    vlans = router_vars("r2", root)["vlan_router_vlans"]
    vlans[1] = vlans[1] | {"dhcp": {"domain": "tenant.internal", "hosts": [{"mac": vm3_mac, "ip": VM3, "name": "web"}]}}
    inventory = lab.inventory(python=sys.executable)
    inventory["all"]["hosts"]["r2"].update(router_vars("r2", root) | {"vlan_router_vlans": vlans, "vlan_router_dns_upstream": [INTERNET]})
    play = [{"hosts": "r2", "gather_facts": False,
             "tasks": [{"name": "the role's services", "ansible.builtin.include_role": {"name": "layer2.linux.vlan_router", "tasks_from": "services"}}]}]
    assert run_playbook(play, inventory).rc == 0
    conf = root / "r2/etc/dnsmasq.d/layer2-vlan-router.conf"
    assert "\nbind-dynamic\n" in conf.read_text()
    start_dnsmasq(lab, "r2", root / "r2", ["0.0.0.0:67"])  # DHCP only: the gateway, and DNS on it, are not there yet
    lab.run("r2", ["ip", "addr", "add", f"{NAT_GATEWAY}/24", "dev", "eth1.1235"])  # what keepalived does on becoming master
    for _attempt in range(50):
        answer = lab.run("vm3", ["busybox", "nslookup", "web.tenant.internal", NAT_GATEWAY], check=False, timeout=20).stdout
        if VM3 in answer.split("\n\n", 1)[-1]:
            break
        time.sleep(0.1)
    assert VM3 in answer.split("\n\n", 1)[-1], answer + (root / "r2/dnsmasq.log").read_text()
    script = root / "udhcpc.sh"
    script.write_text('#!/bin/sh\n[ "$1" = bound ] && echo "router=$router dns=$dns" >"$0.lease"\nexit 0\n')
    script.chmod(0o755)
    lab.run("vm3", ["busybox", "udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", "3", "-T", "2", "-s", str(script)], timeout=30)
    assert (root / "udhcpc.sh.lease").read_text().split() == [f"router={NAT_GATEWAY}", f"dns={NAT_GATEWAY}"]
