# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A redundant vlan_router pair end to end with real 802.1Q (see vlan_router_pair_lab): one lab, the tests in order.

The role's main entry point on both routers (VLAN sub-interfaces on the trunk, NAT, the pair's files, DHCP with a
reservation for vm3 on NAT VLAN 1235), keepalived, conntrackd and dnsmasq started from those files as their units would
(tests/support/keepalived.py; dnsmasq with a /run of its own), then what a tenant and the upstream would see: r1 holds
the gateways and both directions work through it, vm3's DHCP lease names the gateway as router and DNS server; r1 loses
power; the same paths work through r2, vm3's TCP connection through NAT, opened before, still carries data, and vm3
gets the same lease from r2 and resolves its reservation's name at the gateway; r1 comes back and leaves the gateways
where they are (a real boot: r1 is persisted with ifupdown, and its power off removes everything the role made; the
boot rebuilds it from its files with Debian's programs, tests/kernel/boot.py, conntrackd and keepalived's VRRP started
as their units start them, and r1's conntrackd holds r2's connections); playbooks/router_handover.yml hands them
back without losing a ping; the role's second run on both changes nothing. Timing is bench/router_failover's (host
kernel): here, UML's slow clock only gets a bound.

The pair is also a load balancer (issue 14, keepalived LVS-NAT): a virtual server on the uplink, vm3 its real server
behind the NAT VLAN's gateway. Only the master holds the virtual address (a VRRP address on the uplink, never a /32 on a
VLAN, which both routers would answer ARP for); a run of requests from the internet goes on through r1's power cut and
succeeds again through r2 within the failover bound.
"""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.kernel import boot
from tests.kernel import vlan_router_pair_lab as pair
from tests.kernel.test_vlan_router_load_balancer import CHECK, CLIENT, Servers, answers_of, outage, requests
from tests.kernel.test_vlan_router_services import SCRIPT, dhcp, lookup
from tests.support.ansible import ROOT, PlaybookRun, run_playbook
from tests.support.dnsmasq import start_dnsmasq
from tests.support.keepalived import DAEMONS, daemon_pids, holds, kill_daemons, start_conntrackd, start_keepalived

PLAYBOOK = ROOT / "playbooks" / "vlan_router.yml"
HANDOVER = ROOT / "playbooks" / "router_handover.yml"
VM1 = pair.VMS["vm1"][2]
ADVERT = 1.0
# The bench measures the failover on the host kernel (target 0.5 s); here 3 adverts and a skew, with UML's slowness.
FAILOVER_BOUND = 10.0
PING_INTERVAL = 0.05  # seconds between the pings of the handover: about 12 times the bench's 10 ms
NAT_VLAN = 1235
VM3 = pair.VMS["vm3"][2]
GATEWAY = pair.VLANS[NAT_VLAN][1]
BOOTED = "r1"  # persisted with ifupdown: it comes back from its files through a real boot
BOOT_LINKS = ["eth0", "eth1", "sync0"]
DOMAIN, VM3_NAME = "tenant1.internal", "web1"
VIP, VIP_PORT, REAL_PORT = "203.0.113.80", 80, 8080  # the virtual server: public, on-link for the upstream, outside VLAN 1234's /26


@dataclass
class Pair:
    lab: object
    work: Path
    inventory: dict
    runs: dict[str, PlaybookRun] = field(default_factory=dict)
    recovered_at: float = 0.0  # when both paths worked through r2 after r1's power cut
    died_at: float = 0.0  # when r1 lost power
    requesting: object = None  # the internet's run of requests to the virtual server through the power cut


def with_services(variables: dict, vm3_mac: str) -> dict:
    """The pair's variables with DHCP on the NAT VLAN (vm3's reservation, named in the VLAN's domain) and a virtual server
    with vm3 as its real server, the same on both."""
    vlans = [vlan | {"dhcp": {"domain": DOMAIN, "hosts": [{"mac": vm3_mac, "ip": VM3, "name": VM3_NAME}]}} if vlan["id"] == NAT_VLAN else vlan
             for vlan in variables["vlan_router_vlans"]]
    virtual = {"address": VIP, "port": VIP_PORT, "scheduler": "rr", "check": CHECK, "real_servers": [{"address": VM3, "port": REAL_PORT}]}
    # the internet stands for the upstream resolver: nothing answers there, no name leaves the lab
    return variables | {"vlan_router_vlans": vlans, "vlan_router_dns_upstream": [pair.INTERNET], "vlan_router_virtual_servers": [virtual]}


def machine_files(root: Path, router: str) -> None:
    """The booted router's own network configuration (not the role's): its uplink and sync addresses, as the lab gives them."""
    uplink, sync, _own, _priority = pair.ROUTERS[router]
    (root / "etc/network").mkdir(parents=True, exist_ok=True)
    stanzas = ["auto lo", "iface lo inet loopback", "", "auto eth0", "iface eth0 inet static", f"    address {uplink}/24", "",
               "auto sync0", "iface sync0 inet static", f"    address {sync}/24", "", "source /etc/network/interfaces.d/*", ""]
    (root / "etc/network/interfaces").write_text("\n".join(stanzas))


def router_vars(lab, work: Path, router: str) -> dict:
    variables = with_services(pair.router_vars(router, work / router, advert_interval=ADVERT), lab.mac("vm3"))
    if router == BOOTED:
        machine_files(work / router, router)
        variables["vlan_router_persistence"] = "ifupdown"
    return variables


def booted_cmdlines(lab, router: str) -> dict[str, list[list[str]]]:
    """The command lines of the router's keepalived and conntrackd processes, by name."""
    out = {}
    for pid in daemon_pids(lab, router, DAEMONS):
        name = Path(f"/proc/{pid}/comm").read_text().strip()
        out.setdefault(name, []).append(Path(f"/proc/{pid}/cmdline").read_text().rstrip("\0").split("\0"))
    return out


def start_daemons(state: Pair, router: str) -> None:
    start_conntrackd(state.lab, router, state.work / router)
    start_keepalived(state.lab, router, state.work / router)
    # ready once it serves DHCP, and DNS on the router's own address (bind-dynamic: the gateway's follows with keepalived)
    start_dnsmasq(state.lab, router, state.work / router, [f"{pair.ROUTERS[router][2][NAT_VLAN]}:53", "0.0.0.0:67"])


def ask_for_a_lease(state: Pair, name: str) -> dict | None:
    """vm3's busybox udhcpc: the lease it was given (ip, mask, router, dns, domain), or None."""
    script = state.work / f"udhcpc-{name}.sh"
    script.write_text(SCRIPT)
    script.chmod(0o755)
    return dhcp(state.lab, "vm3", script)


def gateways_of(state: Pair, router: str) -> dict[str, bool]:
    """Which of the pair's addresses (each VLAN's gateway, the shared uplink address) the router holds."""
    wanted = {f"eth1.{vid}": gateway for vid, (_length, gateway, _proxy, _nat) in pair.VLANS.items()} | {"eth0": pair.SHARED_UPLINK}
    return {address: holds(state.lab, router, ifname, address) for ifname, address in wanted.items()}


def pings(lab, host, address, wait=2) -> bool:
    return lab.run(host, ["ping", "-c", "1", "-W", str(wait), address], check=False).returncode == 0


def until(condition, timeout: float) -> float | None:
    """Seconds until condition() holds, or None after timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.05)
    return None


@pytest.fixture(scope="module")
def state(request) -> Pair:
    """The pair's lab, the role applied to both routers, the daemons running with r1 master."""
    from tests.lab import Lab

    # On /dev/shm, the guest's own tmpfs: keepalived watches the handover file with inotify, which on UML's hostfs (the
    # host's /) does not see a write made through another path to the file. Not under pytest's tmp_path either: a pytest
    # on the host (the same /tmp/pytest-of-root) takes a guest pytest's lock for a dead process and deletes its directory.
    work = Path(tempfile.mkdtemp(prefix="l2pair-", dir="/dev/shm"))
    request.addfinalizer(lambda: shutil.rmtree(work, ignore_errors=True))
    lab = Lab(pair.spec()).up()
    request.addfinalizer(lab.down)
    pair.bridge_vms(lab)
    # Adverts of 1 s: inside UML (about 12 times slower) the default 0.1 s lets a busy backup miss three in a row and take
    # the gateways from a live master; the default's timing is bench/router_failover's, on the host kernel.
    inventory = pair.inventory(lab, {router: router_vars(lab, work, router) for router in pair.ROUTERS})
    result = Pair(lab, work, inventory)
    result.runs["first"] = run_playbook(PLAYBOOK, inventory, args=["--limit", "routers"])
    assert result.runs["first"].rc == 0, result.runs["first"].stdout + result.runs["first"].stderr
    Servers(lab, work, {"vm3": (VM3, REAL_PORT, 1)}).start("vm3")  # the virtual server's real server, before keepalived checks it
    # Both start as backup and the first to hear no one takes the gateways: r1 first, and nopreempt keeps them there.
    start_daemons(result, "r1")
    assert until(lambda: all(gateways_of(result, "r1").values()), 15) is not None, (work / "r1/keepalived.log").read_text()
    start_daemons(result, "r2")
    time.sleep(2 * ADVERT)  # r2 hears r1's adverts and stays backup
    return result


def test_r1_holds_the_gateways(state):
    assert all(gateways_of(state, "r1").values()), gateways_of(state, "r1")
    assert not any(gateways_of(state, "r2").values()), gateways_of(state, "r2")
    proxy = ["sysctl", "-n", "net.ipv4.conf.eth0.proxy_arp"]
    assert state.lab.run("r1", proxy).stdout.strip() == "1" and state.lab.run("r2", proxy).stdout.strip() == "0"


def test_only_the_master_holds_the_virtual_address_and_serves_it(state):
    lab = state.lab
    assert f"        {VIP}/32 dev eth0\n" in (state.work / "r1/etc/keepalived/keepalived.conf").read_text()
    assert holds(lab, "r1", "eth0", VIP) and not holds(lab, "r2", "eth0", VIP)
    for router in pair.ROUTERS:  # never a /32 on a VLAN: both routers would answer ARP for it
        assert not holds(lab, router, f"eth1.{NAT_VLAN}", VIP)
    assert until(lambda: requests(lab, 1, url=f"http://{VIP}:{VIP_PORT}/")[0][1] == "vm3", 15) is not None, "keepalived never put vm3 in IPVS"
    assert lab.neighbour("internet", VIP)["lladdr"] == lab.mac("r1", "eth0")
    assert set((state.work / "vm3.log").read_text().split()) == {pair.INTERNET}  # LVS-NAT: vm3 sees the client's own address


def test_vm1_and_the_internet_reach_each_other_through_r1(state):
    lab = state.lab
    assert pings(lab, "vm1", pair.INTERNET) and pings(lab, "internet", VM1)
    # The upstream treats the public subnet as on-link: r1 answered for vm1's address by proxy ARP.
    assert lab.neighbour("internet", VM1)["lladdr"] == lab.mac("r1", "eth0")
    assert pings(lab, "vm2", pair.INTERNET) and pings(lab, "vm3", pair.INTERNET)  # vm3 through NAT


def test_vm3_gets_its_reserved_lease_with_the_gateway_as_router_and_dns(state):
    # Both routers answer a reservation alike (whichever offer came first): the address, and the gateway, never a router's own.
    assert ask_for_a_lease(state, "before") == {"ip": VM3, "mask": "24", "router": GATEWAY, "dns": GATEWAY, "domain": DOMAIN}


def test_r1_loses_power_and_the_same_paths_work_through_r2(state):
    lab = state.lab
    pair.start_tcp(lab, state.work / "tcp")
    # Requests to the virtual server every 0.1 s through the cut (test_the_virtual_server_answers_through_r2 reads them).
    state.requesting = lab.popen("internet", [sys.executable, "-c", CLIENT, f"http://{VIP}:{VIP_PORT}/", "150", "0.1"], stdout=-1, text=True)
    assert answers_of([state.requesting.stdout.readline()])[0][1] == "vm3"
    time.sleep(1.0)  # conntrackd has sent r1's new connection to r2
    # A power cut: the links go down and the daemons die without a word (no priority 0 advert).
    state.died_at = time.time()
    kill_daemons(lab, "r1", DAEMONS + ("dnsmasq",))
    lab.run("r1", ["ip", "-batch", "-"], input="".join(f"link set {link.ifname} down\n" for link in lab.hosts["r1"].links))
    took = until(lambda: pings(lab, "vm1", pair.INTERNET, wait=1) and pings(lab, "internet", VM1, wait=1), FAILOVER_BOUND)
    assert took is not None, f"no path through r2 {FAILOVER_BOUND} s after r1 lost power; r2 holds {gateways_of(state, 'r2')}"
    state.recovered_at = time.time()
    assert all(gateways_of(state, "r2").values()), gateways_of(state, "r2")
    # r2's notify script announced vm1's address on the uplink: the upstream's entry moved to r2's MAC.
    assert lab.neighbour("internet", VM1)["lladdr"] == lab.mac("r2", "eth0")
    assert pings(lab, "vm2", pair.INTERNET) and pings(lab, "vm3", pair.INTERNET)


def test_the_tcp_connection_opened_before_still_carries_data(state):
    log = state.work / "tcp"
    # Data sent after the failover comes back (TCP's retransmission may take a few seconds), and nothing reset the connection.
    until(lambda: any(e[0] == "error" or e[1] > state.recovered_at + 0.5 for e in pair.tcp_events(log)), 30)
    time.sleep(1.0)
    events = pair.tcp_events(log)
    assert not [e for e in events if e[0] == "error"], events[-5:]
    assert events[-1][1] > state.recovered_at + 0.5 and events[-1][1] > time.time() - 0.5, "the connection stopped carrying data"
    # r2 carries it from the entry conntrackd copied and the notify script committed (the routers pick up nothing in mid-stream).
    entries = state.lab.run("r2", ["conntrack", "-L", "-p", "tcp", "--dport", str(pair.TCP_PORT)]).stdout
    assert f"src={VM3}" in entries and "ESTABLISHED" in entries, entries


def test_the_virtual_server_answers_through_r2_within_the_failover_bound(state):
    lab = state.lab
    answers = answers_of(state.requesting.stdout)
    state.requesting.wait()
    before = [answer for started, answer in answers if started < state.died_at - 0.5]
    assert before and None not in before, before
    # A request whose SYN was lost is retried by TCP and may still succeed, late.
    failing, after = outage(answers, state.died_at)
    assert failing <= FAILOVER_BOUND, f"requests failed until {failing:.1f} s after r1 died"
    assert after and set(after) == {"vm3"}, after
    served = [started for started, answer in answers if answer is not None and started > state.died_at]
    print(f"virtual server: {len(answers) - len(served)} of {len(answers)} requests failed; first answer through r2 "
          f"{min(served) - state.died_at:.2f} s after the cut")
    assert holds(lab, "r2", "eth0", VIP)  # (r1's dead keepalived left its addresses on its dark links, as a power cut would)
    # keepalived's gratuitous ARP moved the upstream's entry for the virtual address to r2.
    assert lab.neighbour("internet", VIP)["lladdr"] == lab.mac("r2", "eth0")


def test_after_the_failover_r2_gives_vm3_the_same_lease_and_answers_dns_at_the_gateway(state):
    lease = ask_for_a_lease(state, "after")
    assert lease == {"ip": VM3, "mask": "24", "router": GATEWAY, "dns": GATEWAY, "domain": DOMAIN}, (state.work / "r2/dnsmasq.log").read_text()[-2000:]
    assert VM3 in (state.work / "r2/var/lib/misc/dnsmasq.leases").read_text()  # r1 is dark: r2 gave it
    # r2's dnsmasq (bind-dynamic) answers at the gateway it took over: the reservation's name forward and back
    assert lookup(state.lab, "vm3", f"{VM3_NAME}.{DOMAIN}", GATEWAY) == [VM3]
    assert lookup(state.lab, "vm3", VM3, GATEWAY) == [f"{VM3_NAME}.{DOMAIN}"]


def test_r1_comes_back_from_its_files_through_a_real_boot_and_does_not_take_the_gateways(state):
    lab, root = state.lab, state.work / BOOTED
    # Powered off: nothing of what the role made survives (the VLANs, every address, the tables, forwarding; the
    # daemons died at the cut), and /run, a tmpfs, is empty (conntrackd's lock and socket under the root go too).
    boot.power_off(lab, BOOTED, BOOT_LINKS)
    assert boot.powered_off(lab, BOOTED) == boot.POWERED_OFF
    shutil.rmtree(root / "run")
    for directory in ("run/lock", "run/dnsmasq"):
        (root / directory).mkdir(parents=True)
    log = state.work / "boot.log"
    start = time.monotonic()
    proc = boot.boot(lab, BOOTED, root, "ifupdown", log)
    assert proc.wait(timeout=180) == 0, log.read_text()
    uplink, sync, own, _priority = pair.ROUTERS[BOOTED]
    wanted = {("eth0", uplink), ("sync0", sync)} | {(f"eth1.{vid}", address) for vid, address in own.items()}
    held = {(link["ifname"], a["local"]) for link in lab.ip_json(BOOTED, "addr", "show") for a in link["addr_info"]}
    assert wanted <= held, f"missing {sorted(wanted - held)}:\n{log.read_text()}"
    assert [step.split(" with the links")[0] for step in boot.steps(log)] == [
        "boot: systemd-modules-load", "boot: systemd-sysctl", "boot: nftables", "boot: conntrackd", "boot: ifupdown", "boot: dnsmasq",
        "boot: keepalived"], log.read_text()
    # keepalived and conntrackd run from /etc as Debian's units start them (the boot's /etc: the role's files bound there).
    cmdlines = booted_cmdlines(lab, BOOTED)
    assert cmdlines.get("conntrackd") == [["/usr/sbin/conntrackd", "-C", "/etc/conntrackd/conntrackd.conf"]], cmdlines
    assert ["/usr/sbin/keepalived", "--dont-fork"] in cmdlines.get("keepalived", []), cmdlines
    time.sleep(5 * ADVERT)  # r1, with the higher priority, hears r2's adverts and stays backup (preempt: false)
    assert all(gateways_of(state, "r2").values()) and not any(gateways_of(state, BOOTED).values())
    # Proxy ARP is the master's alone: the role's stanza boots the VLAN with it off, and as backup the notify script
    # leaves it off on the uplink and the VLAN.
    assert "eth1/1234.proxy_arp=0" in (root / "etc/network/interfaces.d/layer2-vlan-router").read_text()
    proxy = lab.run(BOOTED, ["cat", "/proc/sys/net/ipv4/conf/eth0/proxy_arp", "/proc/sys/net/ipv4/conf/eth1.1234/proxy_arp"]).stdout.split()
    assert proxy == ["0", "0"], proxy
    # The booted conntrackd asked r2 for its table (the notify script's BACKUP step, -n): vm3's connection through NAT,
    # opened before the cut and still open, is in r1's external cache, ready for the next failover.
    conf = root / "etc/conntrackd/conntrackd.conf"

    def external() -> str:
        return lab.run(BOOTED, ["conntrackd", "-C", str(conf), "-e"], check=False).stdout

    assert until(lambda: f"src={VM3}" in external() and f"dport={pair.TCP_PORT}" in external(), 20) is not None, external()
    print(f"r1 booted: back and synced {time.monotonic() - start:.1f} s after its boot began; {boot.steps(log)}")
    assert pings(lab, "vm1", pair.INTERNET) and pings(lab, "internet", VM1)


def test_the_handover_back_to_r1_loses_no_ping(state):
    lab, work = state.lab, state.work
    out, back = work / "handover-vm1-to-internet", work / "handover-internet-to-vm1"
    pinging = [pair.pinging(lab, "vm1", pair.INTERNET, out, PING_INTERVAL), pair.pinging(lab, "internet", VM1, back, PING_INTERVAL)]
    assert until(lambda: pair.replies(out) and pair.replies(back), 10) is not None
    run = run_playbook(HANDOVER, state.inventory, extra_vars={"router_handover_to": "r1"})
    time.sleep(1.0)
    for proc in pinging:
        proc.send_signal(signal.SIGINT)
        proc.wait()
    assert run.rc == 0, run.stdout + run.stderr
    assert all(gateways_of(state, "r1").values()) and not any(gateways_of(state, "r2").values())
    assert lab.neighbour("internet", VM1)["lladdr"] == lab.mac("r1", "eth0")
    sent = {path.name: len(pair.replies(path)) for path in (out, back)}
    assert pair.unanswered(out) == 0 and pair.unanswered(back) == 0, f"lost: {pair.unanswered(out)} and {pair.unanswered(back)} of {sent}"
    # r2 left maintenance: it waits as backup, ready for the next failover.
    assert (work / "r2" / "etc/keepalived/layer2-vlan-router-handover").read_text() == "0\n"
    again = run_playbook(HANDOVER, state.inventory, extra_vars={"router_handover_to": "r1"})
    assert again.rc == 0 and again.changed == 0, again.stdout


def test_the_second_run_on_both_changes_nothing(state):
    second = run_playbook(PLAYBOOK, state.inventory, args=["--limit", "routers"])
    assert second.rc == 0, second.stdout + second.stderr
    assert second.changed == 0, [(r["host"], r["task"]) for r in second.results if r["result"].get("changed")]
    # The re-run left the pair alone: one router still holds every gateway, the other none.
    held = sorted(sum(gateways_of(state, router).values()) for router in pair.ROUTERS)
    assert held == [0, 3], {router: gateways_of(state, router) for router in pair.ROUTERS}
