# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router role's load balancer end to end: keepalived LVS-NAT in front of a private VLAN, in one lab.

    internet (198.51.100.1) --[uplink]-- eth0 router eth1 --[trunk]--+-- rs1    10.1.35.2:8080  weight 1, UDP 9053
                                                                     +-- rs2    10.1.35.3:8080  weight 2, UDP 9053
                                                                     +-- sorry  10.1.35.99:80   (VLAN 1235, NAT)

The role runs in check mode, for real, and again (changing nothing); the test then starts the real keepalived from the
file the role wrote (as keepalived.service would, in a private mount namespace with its pid files under the role's
root) and real HTTP servers on the real servers, and the internet makes requests to 203.0.113.80:80: split by weight,
the client's own address in the servers' logs, a dead server out within the check's detection time and back when it
returns, the sorry server when both are down, ipvs_facts showing the kernel's table, a changed weight reloading
keepalived. A UDP service on 203.0.113.80:9053 (sh, persistent, keepalived's UDP_CHECK) answers from the real server
its client sticks to, and loses that server within the detection time when its UDP answerer stops.

The load balancer in a redundant pair is test_vlan_router_pair's (the pair's lab carries a virtual server too).
"""

from __future__ import annotations

import json
import sys
import time

import pytest

from tests.kernel import vlan_router_lab as seed
from tests.support.ansible import run_module, run_playbook

VIP, PORT = "203.0.113.80", 80
GATEWAY = "10.1.35.1"
SERVERS = {"rs1": ("10.1.35.2", 8080, 1), "rs2": ("10.1.35.3", 8080, 2), "sorry": ("10.1.35.99", 80, None)}
CHECK = {"type": "http", "path": "/healthz", "status": 200, "interval": 1, "timeout": 1, "retries": 2}
DETECTION = CHECK["interval"] * (CHECK["retries"] + 1) + 1  # the issue's bound, in seconds
UDP_PORT, UDP_PERSISTENCE = 9053, 30
UDP_CHECK = {"type": "udp", "interval": 1, "timeout": 1, "retries": 2}  # as CHECK: the same DETECTION
KEEPALIVED = "etc/keepalived/keepalived.conf"

# An HTTP server that answers its name, 200 on /healthz (keepalived's check), and logs each client's address.
SERVER = """
import http.server, sys
name, port, log = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], 'a', buffering=1)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != '/healthz':
            log.write(self.client_address[0] + '\\n')
        body = name.encode()
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer.allow_reuse_address = True
server = http.server.ThreadingHTTPServer(('0.0.0.0', port), Handler)
print('ready', flush=True)
server.serve_forever()
"""
# A UDP server that answers every datagram with its name (keepalived's UDP_CHECK needs no answer) and logs the
# address of each client that asks "who".
UDP_SERVER = """
import socket, sys
name, port, log = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], 'a', buffering=1)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(('0.0.0.0', port))
print('ready', flush=True)
while True:
    data, client = sock.recvfrom(2048)
    if data == b'who':
        log.write(client[0] + '\\n')
    sock.sendto(name.encode(), client)
"""
# Requests from the internet: COUNT of them, a new connection each, every PAUSE seconds; one JSON line each (time, answer).
CLIENT = """
import json, sys, time, urllib.request
url, count, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
for _ in range(count):
    started = time.time()
    try:
        answer = urllib.request.urlopen(url, timeout=1).read().decode()
    except Exception as exc:
        answer = None
    print(json.dumps([started, answer]), flush=True)
    time.sleep(max(0.0, pause - (time.time() - started)))
"""
# UDP requests from the internet: COUNT datagrams "who", each from a new socket (a new source port), one JSON line each.
UDP_CLIENT = """
import json, socket, sys, time
address, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(count):
    started = time.time()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(1)
        try:
            sock.sendto(b'who', (address, port))
            answer = sock.recv(2048).decode()
        except OSError:
            answer = None
    print(json.dumps([started, answer]), flush=True)
"""
# Each target proto:address:port probed at once, a second each: open (connected; for udp, answered), refused (the host
# said so: RST or port unreachable) or silent (dropped on the way); one JSON object, target -> outcome.
PROBE = """
import concurrent.futures, json, socket, sys
def probe(target):
    proto, address, port = target.split(':')
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM) as sock:
        sock.settimeout(1)
        try:
            sock.connect((address, int(port)))
            if proto == 'udp':
                sock.send(b'who')
                sock.recv(2048)
            return 'open'
        except ConnectionRefusedError:
            return 'refused'
        except TimeoutError:
            return 'silent'
        except OSError as exc:
            return str(exc)
with concurrent.futures.ThreadPoolExecutor(len(sys.argv) - 1) as pool:
    print(json.dumps(dict(zip(sys.argv[1:], pool.map(probe, sys.argv[1:])))))
"""
# One connection to the virtual service held open, idle (the server waits for its request), until stdin closes.
HOLD = """
import socket, sys
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
print('connected', flush=True)
sys.stdin.read()
"""


def spec() -> dict:
    hosts = {
        "router": {"links": [{"switch": "trunk", "ifname": "eth1"}, {"switch": "uplink", "ifname": "eth0", "addresses": [f"{seed.ROUTER_UPLINK}/24"]}]},
        # The upstream: the public subnet is on-link, so it ARPs for the virtual address on the uplink.
        "internet": {"links": [{"switch": "uplink", "ifname": "eth0", "addresses": [f"{seed.INTERNET}/24"]}], "routes": ["203.0.113.0/24 dev eth0"]},
    }
    hosts.update({name: {"links": [{"switch": "trunk", "ifname": "eth0"}]} for name in SERVERS})
    return {"switches": ["trunk", "uplink"], "hosts": hosts}


def router_vars(root, rs1_weight: int = 1) -> dict:
    return {
        "vlan_router_trunk": "eth1", "vlan_router_uplink": "eth0", "vlan_router_root": str(root), "vlan_router_persistence": "systemd-networkd",
        "vlan_router_install_dependencies": False,
        "vlan_router_vlans": [{"id": 1235, "addresses": [f"{GATEWAY}/24"], "nat": True}],
        "vlan_router_virtual_servers": [{
            "address": VIP, "port": PORT, "protocol": "tcp", "scheduler": "wrr", "check": CHECK,
            "sorry_server": {"address": SERVERS["sorry"][0], "port": SERVERS["sorry"][1]},
            "real_servers": [{"address": SERVERS["rs1"][0], "port": SERVERS["rs1"][1], "weight": rs1_weight},
                             {"address": SERVERS["rs2"][0], "port": SERVERS["rs2"][1], "weight": SERVERS["rs2"][2]}],
        }, {
            "address": VIP, "port": UDP_PORT, "protocol": "udp", "scheduler": "sh", "persistence_timeout": UDP_PERSISTENCE, "check": UDP_CHECK,
            "real_servers": [{"address": SERVERS[name][0]} for name in ("rs1", "rs2")],
        }],
    }


def play(lab, variables: dict, **kwargs):
    inventory = lab.inventory(python=sys.executable)
    inventory["all"]["hosts"]["router"].update(variables)
    plays = [{"hosts": "router", "gather_facts": False, "roles": [{"role": "layer2.linux.vlan_router"}]}]
    return run_playbook(plays, inventory, **kwargs)


class Servers:
    """The real servers' HTTP and UDP processes (started, stopped, started again) and their logs."""

    def __init__(self, lab, root, servers: dict):
        self.lab, self.root, self.servers, self.procs = lab, root, servers, {}

    def start(self, name, udp: bool = False):
        """Start the server (its UDP answerer: udp) unless it runs (a test that failed half way may have left it either way)."""
        if (name, udp) in self.procs:
            return
        script, port = (UDP_SERVER, UDP_PORT) if udp else (SERVER, self.servers[name][1])
        proc = self.lab.popen(name, [sys.executable, "-c", script, name, str(port), str(self.log(name, udp))], stdout=-1, text=True)
        assert proc.stdout.readline().strip() == "ready"
        self.procs[(name, udp)] = proc

    def stop(self, name, udp: bool = False) -> float:
        proc = self.procs.pop((name, udp))
        proc.kill()
        proc.wait()
        return time.time()

    def log(self, name, udp: bool = False):
        return self.root / f"{name}{'.udp' if udp else ''}.log"

    def clients(self, name, udp: bool = False) -> list[str]:
        path = self.log(name, udp)
        return path.read_text().split() if path.exists() else []


def on_vlan_1235(lab) -> None:
    """Each server host: VLAN 1235 on its trunk cable, its address there, the router as default route."""
    for name, (address, _port, _weight) in SERVERS.items():
        lab.run(name, ["ip", "-batch", "-"], input=(f"link add link eth0 name eth0.1235 type vlan id 1235\nlink set eth0.1235 up\n"
                                                    f"address add {address}/24 dev eth0.1235\nroute add default via {GATEWAY}\n"))


def answers_of(lines) -> list[tuple[float, str | None]]:
    """CLIENT's output, a JSON line per request: (time it started, the server's name or None) each."""
    return [tuple(json.loads(line)) for line in lines]


def requests(lab, count: int, pause: float = 0.0, url: str = f"http://{VIP}:{PORT}/") -> list[tuple[float, str | None]]:
    """COUNT requests from the internet: (time, the server's name or None) each."""
    run = lab.run("internet", [sys.executable, "-c", CLIENT, url, str(count), str(pause)], timeout=count * (pause + 2) + 60)
    return answers_of(run.stdout.splitlines())


def udp_requests(lab, count: int) -> list[tuple[float, str | None]]:
    """COUNT UDP requests from the internet to the virtual UDP service: (time, the server's name or None) each."""
    run = lab.run("internet", [sys.executable, "-c", UDP_CLIENT, VIP, str(UDP_PORT), str(count)], timeout=count * 2 + 60)
    return answers_of(run.stdout.splitlines())


def outage(answers: list[tuple[float, str | None]], since: float) -> tuple[float, list[str | None]]:
    """After a death at `since`: how long requests went on failing (from `since` to the start of the last failed one; 0
    when none failed after it), and the answers to the requests started after that."""
    last = max([since] + [started for started, answer in answers if answer is None])
    return last - since, [answer for started, answer in answers if started > last]


def ipvs_table(lab) -> dict:
    facts = run_module(lab, "router", "layer2.linux.ipvs_facts", {})
    assert facts["_status"] == "ok" and not facts["changed"], facts
    return facts


def service(facts, port: int = PORT, protocol: str = "tcp") -> dict:
    return next(s for s in facts["services"] if (s["address"], s["port"], s["protocol"]) == (VIP, port, protocol))


def ipvsadm(lab, port: int = PORT, protocol: str = "TCP") -> dict[str, tuple[int, int, int]]:
    """A virtual service's real servers in IPVS now, address -> (weight, active, inactive connections), as `ipvsadm -Ln`
    prints them (cheap enough to poll in UML; ipvs_facts is checked against it in its own test)."""
    table = lab.run("router", ["ipvsadm", "-Ln"]).stdout.splitlines()
    start = next((i for i, line in enumerate(table) if line.startswith(f"{protocol}  {VIP}:{port} ")), None)
    servers = {}
    for line in table[start + 1:] if start is not None else []:
        if not line.startswith("  ->"):
            break
        _arrow, server, _forward, weight, active, inactive = line.split()
        servers[server.rsplit(":", 1)[0]] = (int(weight), int(active), int(inactive))
    return servers


def live(lab, port: int = PORT, protocol: str = "TCP") -> dict[str, int]:
    """A virtual service's real servers in IPVS now, address -> weight."""
    return {address: weight for address, (weight, _active, _inactive) in ipvsadm(lab, port, protocol).items()}


def wait_for(what, predicate, seconds: float):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {seconds} s")


@pytest.fixture(scope="module")
def balancer(request, tmp_path_factory):
    from tests.lab import Lab

    root = tmp_path_factory.mktemp("lb-root")
    lab = Lab(spec()).up()
    request.addfinalizer(lab.down)
    on_vlan_1235(lab)
    variables = router_vars(root)
    variables["vlan_router_nftables_apply"] = seed.nft_ip_family(lab)
    ip_vs = lab.run("router", ["test", "-e", "/proc/net/ip_vs"], check=False).returncode == 0
    runs = {"check": play(lab, variables, check=True, diff=True)}
    runs["ip_vs_loaded_by_check"] = not ip_vs and lab.run("router", ["test", "-e", "/proc/net/ip_vs"], check=False).returncode == 0
    runs["written_by_check"] = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]
    runs["first"] = play(lab, variables, diff=True)
    runs["second"] = play(lab, variables)
    servers = Servers(lab, root, SERVERS)
    for name in SERVERS:
        servers.start(name)
    for name in ("rs1", "rs2"):
        servers.start(name, udp=True)
    # keepalived as keepalived.service starts it, from the role's file, with its pid files under the role's root (the
    # handler reloads it there); a private mount namespace keeps anything else it writes to /run away from the host's.
    (root / "run").mkdir(exist_ok=True)
    keepalived = ["keepalived", "--dont-fork", "--log-console", "--log-detail", "-f", str(root / KEEPALIVED), "-p", str(root / "run/keepalived.pid"),
                  "-r", str(root / "run/keepalived_vrrp.pid"), "-c", str(root / "run/keepalived_checkers.pid")]
    daemon = lab.popen("router", ["unshare", "--mount", "sh", "-c", 'mount -t tmpfs tmpfs /run && exec "$@"', "sh"] + keepalived,
                       stdout=open(root / "keepalived.log", "w"), stderr=-2)  # noqa: SIM115 (the lab owns the process and its file)
    request.addfinalizer(daemon.terminate)  # before the lab goes: keepalived takes its services out of IPVS on the way
    wait_for("keepalived programming IPVS with both real servers of each service",
             lambda: len(live(lab)) == 2 and len(live(lab, UDP_PORT, "UDP")) == 2, 60)
    return lab, root, variables, runs, servers


def test_check_mode_reports_changes_and_changes_nothing(balancer):
    _lab, root, _variables, runs, _servers = balancer
    check = runs["check"]
    assert check.rc == 0, check.stdout + check.stderr
    assert check.recap["router"]["changed"] > 0
    files = check.task("__vlan_router_files_result", "router", by="register")
    assert str(root / KEEPALIVED) in files["validated"], "keepalived -t checked the file in check mode"
    [keepalived] = [d for d in files["diff"] if d["after_header"] == str(root / KEEPALIVED)]
    assert keepalived["before"] == "" and f"virtual_server {VIP} {PORT} {{" in keepalived["after"].splitlines(), keepalived
    assert runs["written_by_check"] == [] and not runs["ip_vs_loaded_by_check"]


def test_first_run_applies_and_verifies_and_the_second_changes_nothing(balancer):
    _lab, root, _variables, runs, _servers = balancer
    first, second = runs["first"], runs["second"]
    assert first.rc == 0 and first.recap["router"]["changed"] > 0, first.stdout + first.stderr
    assert not first.task("__vlan_router_verify_result", "router", by="register").get("failed")
    assert second.rc == 0, second.stdout + second.stderr
    assert second.changed == 0, [r["task"] for r in second.results if r["result"].get("changed")]
    text = (root / KEEPALIVED).read_text()
    assert f"virtual_server {VIP} {PORT} {{" in text and "lb_kind NAT" in text and "sorry_server 10.1.35.99 80" in text
    assert (root / "etc/modules-load.d/layer2-vlan-router.conf").read_text().split("\n")[2:] == ["8021q", "ip_vs", "ip_vs_sh", "ip_vs_wrr", ""]
    assert (root / "etc/sysctl.d/91-layer2-vlan-router-ipvs.conf").read_text().endswith("net.ipv4.vs.conntrack = 1\n")


def test_the_router_holds_the_virtual_address_and_answers_arp_for_it_on_the_uplink(balancer):
    lab = balancer[0]
    assert "203.0.113.80/32" in [f"{a['local']}/{a['prefixlen']}" for a in lab.ip_json("router", "address", "show", "dev", "eth1.1235")[0]["addr_info"]]
    assert lab.run("router", ["cat", "/proc/sys/net/ipv4/vs/conntrack"]).stdout.strip() == "1"
    requests(lab, 1)
    assert lab.neighbour("internet", VIP)["lladdr"] == lab.mac("router", "eth0")


def test_requests_are_split_by_weight_and_keep_the_clients_address(balancer):
    lab, _root, _variables, _runs, servers = balancer
    before = {name: len(servers.clients(name)) for name in ("rs1", "rs2")}
    answers = [answer for _t, answer in requests(lab, 60)]
    assert None not in answers, answers
    counts = {name: answers.count(name) for name in ("rs1", "rs2")}
    assert counts["rs1"] + counts["rs2"] == 60
    # Weights 1 and 2: 20 and 40, within 20 %.
    assert abs(counts["rs1"] - 20) <= 4 and abs(counts["rs2"] - 40) <= 8, counts
    for name in ("rs1", "rs2"):
        logged = servers.clients(name)[before[name]:]
        assert len(logged) == counts[name] and set(logged) == {seed.INTERNET}, (name, logged)


def test_the_internet_reaches_nothing_else_in_the_private_vlan(balancer):
    lab = balancer[0]
    if not seed.nft_ip_family(lab):
        pytest.fail("this kernel cannot load the role's isolation filter (no nf_tables ip/inet family)")
    # With a route to the private subnet through the router, the servers themselves are still out of reach: their
    # services, and a port that no virtual service publishes (where rs1 would refuse), are dropped on the way (silent);
    # the virtual services, probed the same way, answer.
    private = ["tcp:10.1.35.2:8080", "tcp:10.1.35.3:8080", "tcp:10.1.35.99:80", "tcp:10.1.35.2:22", f"udp:10.1.35.2:{UDP_PORT}"]
    public = [f"tcp:{VIP}:{PORT}", f"udp:{VIP}:{UDP_PORT}"]
    lab.run("internet", ["ip", "route", "replace", "10.1.35.0/24", "via", seed.ROUTER_UPLINK])
    try:
        probed = json.loads(lab.run("internet", [sys.executable, "-c", PROBE] + private + public).stdout)
    finally:
        lab.run("internet", ["ip", "route", "del", "10.1.35.0/24"])
    assert probed == dict.fromkeys(private, "silent") | dict.fromkeys(public, "open"), probed


def test_ipvs_facts_show_the_kernels_table(balancer):
    lab = balancer[0]
    # One connection held open through the virtual address: ActiveConn 1 on its real server; the earlier requests'
    # closed ones are InActConn (TIME_WAIT) for two minutes.
    hold = lab.popen("internet", [sys.executable, "-c", HOLD, VIP, str(PORT)], stdin=-1, stdout=-1, text=True)
    try:
        assert hold.stdout.readline().strip() == "connected"
        # ipvsadm before and after the module: the counts it read are those of a quiet moment (an entry may expire between).
        for _attempt in range(3):
            before, facts, after = ipvsadm(lab), ipvs_table(lab), ipvsadm(lab)
            if before == after:
                break
    finally:
        hold.stdin.close()
        hold.wait()
    assert facts["available"] and facts["conntrack"] is True
    web = service(facts)
    assert (web["scheduler"], web["flags"], web["persistence_timeout"]) == ("wrr", [], 0)
    assert sorted((r["address"], r["port"], r["weight"], r["forwarding"]) for r in web["real_servers"]) == [
        ("10.1.35.2", 8080, 1, "masq"), ("10.1.35.3", 8080, 2, "masq")]
    assert web["stats"]["connections"] >= 60
    # ipvsadm, the classic tool, agrees on the weights and the live connection counts.
    assert before == after, (before, after)
    assert {r["address"]: (r["weight"], r["active_connections"], r["inactive_connections"]) for r in web["real_servers"]} == before
    assert sum(active for _weight, active, _inactive in before.values()) >= 1 and sum(inactive for _weight, _active, inactive in before.values()) >= 1, before
    assert f"TCP  {VIP}:{PORT} wrr" in lab.run("router", ["ipvsadm", "-Ln"]).stdout
    udp = service(facts, UDP_PORT, "udp")
    assert (udp["scheduler"], udp["flags"], udp["persistence_timeout"]) == ("sh", ["persistent"], UDP_PERSISTENCE)
    assert sorted((r["address"], r["port"], r["weight"], r["forwarding"]) for r in udp["real_servers"]) == [
        ("10.1.35.2", UDP_PORT, 1, "masq"), ("10.1.35.3", UDP_PORT, 1, "masq")]


def test_a_dead_real_server_is_out_within_the_detection_time_and_back_when_it_returns(balancer):
    lab, _root, _variables, _runs, servers = balancer
    client = lab.popen("internet", [sys.executable, "-c", CLIENT, f"http://{VIP}:{PORT}/", "120", "0.1"], stdout=-1, text=True)
    # Python starts slowly in UML: the death comes after the client's first answers, not after a guessed delay.
    answers = answers_of(client.stdout.readline() for _first in range(5))
    try:
        died = servers.stop("rs2")
        answers += answers_of(client.stdout)
        client.wait()
    finally:
        servers.start("rs2")
    assert None not in [answer for _t, answer in answers[:5]], answers[:5]
    # Requests to rs2 fail until keepalived's check finds it dead (none at all when the client was between requests).
    failing, after = outage(answers, died)
    assert failing <= DETECTION, f"the last request failed {failing:.1f} s after the death (bound {DETECTION} s)"
    assert after and set(after) == {"rs1"}, after
    wait_for("rs2 back in IPVS", lambda: len(live(lab)) == 2, DETECTION + 10)
    assert "rs2" in [answer for _t, answer in requests(lab, 6)]


def test_with_every_real_server_dead_the_sorry_server_answers(balancer):
    lab, _root, _variables, _runs, servers = balancer
    try:
        servers.stop("rs1")
        servers.stop("rs2")
        wait_for("the sorry server answering", lambda: requests(lab, 1)[0][1] == "sorry", DETECTION + 10)
        assert {answer for _t, answer in requests(lab, 5)} == {"sorry"}
    finally:
        servers.start("rs1")
        servers.start("rs2")
    wait_for("both real servers back", lambda: sorted(live(lab)) == ["10.1.35.2", "10.1.35.3"], DETECTION + 10)


def test_a_udp_service_sticks_to_one_real_server_which_udp_check_takes_out_when_it_stops(balancer):
    lab, _root, _variables, _runs, servers = balancer
    answers = [answer for _t, answer in udp_requests(lab, 4)]
    # sh and persistence: one client, one real server, whatever its source port.
    assert len(set(answers)) == 1 and answers[0] in ("rs1", "rs2"), answers
    chosen = answers[0]
    other = "rs2" if chosen == "rs1" else "rs1"
    assert servers.clients(chosen, udp=True)[-4:] == [seed.INTERNET] * 4, "NAT keeps the client's address"
    try:
        died = servers.stop(chosen, udp=True)
        wait_for(f"UDP_CHECK taking {chosen} out", lambda: SERVERS[chosen][0] not in live(lab, UDP_PORT, "UDP"), DETECTION + 10)
        out = time.time() - died
        # The persistence template of a server taken out no longer holds: the client goes to the other.
        assert {answer for _t, answer in udp_requests(lab, 2)} == {other}
    finally:
        servers.start(chosen, udp=True)
    assert out <= DETECTION, f"{chosen}'s UDP answerer was out of IPVS {out:.1f} s after it stopped (bound {DETECTION} s)"


def test_a_changed_weight_rewrites_the_file_and_reloads_keepalived(balancer):
    lab, root, variables, _runs, _servers = balancer
    run = play(lab, {**variables, **router_vars(root, rs1_weight=3), "vlan_router_nftables_apply": variables["vlan_router_nftables_apply"]})
    assert run.rc == 0, run.stdout + run.stderr
    changed = [r.get("register") or r["task"] for r in run.results if r["result"].get("changed")]
    assert changed == ["__vlan_router_files_result", "__vlan_router_keepalived_hup"], changed
    wait_for("keepalived giving rs1 weight 3", lambda: live(lab) == {"10.1.35.2": 3, "10.1.35.3": 2}, 20)
    again = play(lab, {**variables, **router_vars(root, rs1_weight=3), "vlan_router_nftables_apply": variables["vlan_router_nftables_apply"]})
    assert again.rc == 0 and again.changed == 0, [r["task"] for r in again.results if r["result"].get("changed")]
