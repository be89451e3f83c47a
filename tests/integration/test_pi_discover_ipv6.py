# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pi_discover beyond ARP, on one namespace LAN: Pis of all seven prefixes, some with IPv4 and IPv6, some with an
IPv6 link-local address only, three running a real avahi-daemon, look-alike MACs, a bridge answering for a Pi, a Pi
that ignores multicast echoes and one without IPv6; the inventory plugin's names and hostvars, and ansible -m ping
over SSH to an IPv6-only Pi at the link-local address the plugin gives.

Nothing leaves the lab: every scan runs inside the scanner's namespace, and under a private mount namespace whose
/etc/hosts, /etc/resolv.conf and /etc/nsswitch.conf are the test's (the names' reverse-DNS fallback reads the test's
hosts file; its DNS server is 127.0.0.1 of the scanner's namespace, where nothing listens).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_pi_discover import inventory_list
from tests.lab import Lab
from tests.support import ssh_node
from tests.support.ansible import ansible_env, run_playbook

PYTHON = sys.executable
BIN = Path(sys.executable).parent
NET = "192.0.2"
SCANNER_MAC, SCANNER6_MAC = "02:00:5e:00:00:01", "02:00:5e:00:00:02"
NO_DAD = {"net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.eth0.accept_dad": "0"}  # link-locals usable at once
# name: (mac, IPv4 address or None, avahi host name or None, extra sysctl)
HOSTS = {
    "pi_kitchen": ("b8:27:eb:00:00:11", f"{NET}.11", "pi-kitchen", {}),
    "pi_b": ("dc:a6:32:00:00:12", f"{NET}.12", None, {}),
    "pi_garage": ("e4:5f:01:00:00:13", None, "pi-garage", {}),  # IPv6 only, named over mDNS on IPv6
    "pi_ssh": ("28:cd:c1:00:00:14", None, None, {}),  # IPv6 only, runs sshd
    "pi_e": ("d8:3a:dd:00:00:15", f"{NET}.15", None, {}),
    "pi_v4": ("2c:cf:67:00:00:16", f"{NET}.16", None, {"net.ipv6.conf.eth0.disable_ipv6": "1"}),  # no IPv6: ARP only
    "pi_attic": ("88:a2:9e:00:00:17", f"{NET}.17", "pi-attic", {}),
    "pi_quiet": ("dc:a6:32:00:00:18", f"{NET}.18", None, {"net.ipv6.icmp.echo_ignore_multicast": "1"}),  # ignores the echo
    "look_ec": ("b8:27:ec:00:00:21", f"{NET}.21", None, {}),  # one off a Pi prefix
    "look_local": ("ba:27:eb:00:00:22", f"{NET}.22", None, {}),  # b8:27:eb with the locally-administered bit
    "look_9f": ("88:a2:9f:00:00:23", None, None, {}),
    "printer": ("00:1b:21:00:00:24", f"{NET}.24", None, {}),  # named by the test's /etc/hosts only
    # a bridge answering from its own MAC for a Pi behind it: its link-local is the Pi's EUI-64 one
    "bridge": ("00:0c:29:00:00:25", None, None, {"net.ipv6.conf.eth0.addr_gen_mode": "1"}),
}
BRIDGED_PI_LL = "fe80::ba27:ebff:fe00:99"
PIS = {"pi_kitchen", "pi_b", "pi_garage", "pi_ssh", "pi_e", "pi_v4", "pi_attic", "pi_quiet", "bridge"}
NAMES = {"pi_kitchen": "pi-kitchen.local", "pi_garage": "pi-garage.local", "pi_attic": "pi-attic.local", "printer": "printer.lab"}
NO_ECHO = {"pi_v4", "pi_quiet"}
AVAHI_CONF = """[server]
host-name={name}
domain-name=local
use-ipv4=yes
use-ipv6=yes
allow-interfaces=eth0
enable-dbus=no
[publish]
publish-workstation=no
publish-hinfo=no
"""


def eui64_link_local(mac: str) -> str:
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    iid = octets[:3] + [0xFF, 0xFE] + octets[3:]
    groups = [f"{iid[i] << 8 | iid[i + 1]:x}" for i in range(0, 8, 2)]
    return "fe80::" + ":".join(groups)


def expected_link_local(name: str) -> str | None:
    if name in NO_ECHO:
        return None
    return f"{BRIDGED_PI_LL if name == 'bridge' else eui64_link_local(HOSTS[name][0])}%eth0"


def spec() -> dict:
    hosts = {"scanner": {"links": [{"switch": "lan", "mac": SCANNER_MAC, "addresses": [f"{NET}.1/24"]}], "sysctl": NO_DAD},
             "scanner6": {"links": [{"switch": "lan", "mac": SCANNER6_MAC}], "sysctl": NO_DAD}}  # no IPv4 at all
    for name, (mac, ip, _avahi, sysctl) in HOSTS.items():
        addresses = [f"{ip}/24"] if ip else []
        if name == "bridge":
            addresses.append(f"{BRIDGED_PI_LL}/64")
        hosts[name] = {"links": [{"switch": "lan", "mac": mac, "addresses": addresses}], "sysctl": dict(NO_DAD, **sysctl)}
    return {"switches": ["lan"], "hosts": hosts}


def start_avahi(lab, directory: Path) -> None:
    """avahi-daemon in each named host, without D-Bus, as root, with its own config and a private /run (two instances
    would otherwise share /run/avahi-daemon's pid file); lab.down() kills them, whatever happened."""
    logs = {}
    for host, (_mac, _ip, avahi, _sysctl) in HOSTS.items():
        if not avahi:
            continue
        conf = directory / f"{host}.avahi.conf"
        conf.write_text(AVAHI_CONF.format(name=avahi))
        logs[host] = directory / f"{host}.avahi.log"
        inside = f"mount -t tmpfs tmpfs /run && mkdir /run/avahi-daemon && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f {conf}"
        with logs[host].open("w") as log:
            lab.popen(host, ["unshare", "--mount", "--propagation", "private", "sh", "-c", inside], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while not all("Server startup complete" in log.read_text() for log in logs.values()):
        if time.monotonic() > deadline:
            raise RuntimeError("avahi-daemon did not start: " + " | ".join(log.read_text() for log in logs.values()))
        time.sleep(0.1)


def start_sshd(lab, directory: Path) -> subprocess.Popen:
    config = ssh_node.prepare(directory, "::")
    Path("/run/sshd").mkdir(exist_ok=True)  # its privilege-separation directory
    sshd = lab.popen("pi_ssh", [ssh_node.SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
    for _attempt in range(100):
        if lab.run("pi_ssh", ["ss", "-Hltn", "sport = :22"]).stdout.strip():
            return sshd
        time.sleep(0.1)
    raise RuntimeError("sshd did not start listening in pi_ssh")


def private_etc(directory: Path) -> list[str]:
    """argv prefix: a private mount namespace whose resolver files are the test's (the real /etc is not written)."""
    files = {"hosts": f"127.0.0.1 localhost\n{NET}.24 printer.lab\n", "resolv.conf": "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
             "nsswitch.conf": "hosts: files dns\n"}
    mounts = []
    for name, text in files.items():
        (directory / name).write_text(text)
        mounts.append(f"mount --bind {directory / name} /etc/{name}")
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", " && ".join(mounts) + ' && exec "$@"', "private-etc"]


@pytest.fixture(scope="module")
def lan6():
    if ssh_node.missing():
        pytest.fail(ssh_node.missing())
    if not shutil.which("avahi-daemon"):
        pytest.fail("needs avahi-daemon (scripts/system-deps.sh installs it; it runs only in lab namespaces)")
    directory = ssh_node.short_directory()
    lab = Lab(spec())
    try:
        lab.up()
        start_avahi(lab, directory)
        lab.sshd = start_sshd(lab, directory)
        lab.directory, lab.prefix_argv = directory, private_etc(directory)
        yield lab
    finally:
        ssh_node.close_master(directory, pi_ssh_name())
        lab.down()
        shutil.rmtree(directory, ignore_errors=True)


def discover(lab, host="scanner", **params):
    play = [{"hosts": host, "gather_facts": False, "tasks": [{"name": "the task", "layer2.linux.pi_discover": dict({"interface": "eth0"}, **params)}]}]
    run = run_playbook(play, lab.inventory(python=PYTHON), prefix=lab.prefix_argv)
    result = run.task("the task", host)
    assert run.status("the task", host) == "ok" and result["changed"] is False, result
    return result


@pytest.fixture(scope="module")
def found(lan6):
    return discover(lan6, all_hosts=True, ipv6=True, names=True)


def by_mac(hosts):
    macs = [h["mac"] for h in hosts]
    assert len(macs) == len(set(macs)), "every host exactly once, merged by MAC"
    return {h["mac"]: h for h in hosts}


def test_every_pi_once_with_its_addresses(found):
    hosts = by_mac(found["hosts"])
    assert set(hosts) == {mac for mac, *_rest in HOSTS.values()} | {SCANNER6_MAC}, "the other scanner has no IPv4 address: found by its echo answer"
    for name, (mac, ip, _avahi, _sysctl) in HOSTS.items():
        host = hosts[mac]
        assert (host["ip"], host["ipv6_link_local"]) == (ip, expected_link_local(name)), name
        assert host["is_raspberry_pi"] is (name in PIS), name
    assert {h["mac"] for h in found["raspberry_pis"]} == {HOSTS[name][0] for name in PIS}
    assert {h["mac"][:8] for h in found["raspberry_pis"]} >= {"b8:27:eb", "dc:a6:32", "e4:5f:01", "28:cd:c1", "d8:3a:dd", "2c:cf:67", "88:a2:9e"}
    assert hosts["88:a2:9e:00:00:17"]["vendor"] == "Raspberry Pi (Trading) Ltd", "from our data: netaddr 1.3.0 lacks the prefix"
    without_ipv4 = 1 + sum(1 for _mac, ip, *_rest in HOSTS.values() if ip is None)
    assert [h["ip"] for h in found["hosts"]][-without_ipv4:] == [None] * without_ipv4, "hosts without IPv4 come last"
    assert found["counts"]["ipv6_responders"] == len(HOSTS) - len(NO_ECHO) + 1, "every host but the two that cannot answer, and the other scanner"


def test_names_from_avahi_and_the_fallback_and_null_for_the_rest(found):
    hosts = by_mac(found["hosts"])
    for name, (mac, *_rest) in HOSTS.items():
        assert hosts[mac]["hostname"] == NAMES.get(name), name


def test_names_add_at_most_the_timeout(found, lan6):
    without = discover(lan6, all_hosts=True, ipv6=True)
    assert all(h["hostname"] is None for h in without["hosts"])
    assert without["duration"] < 1.0 and found["duration"] <= without["duration"] + 0.5 + 0.15, (without["duration"], found["duration"])


def test_an_interface_without_ipv4_is_scanned_over_ipv6(lan6):
    result = discover(lan6, host="scanner6", all_hosts=True, ipv6=True, names=True)
    hosts = by_mac(result["hosts"])
    assert result["networks"] == [] and result["counts"]["addresses_asked"] == 0
    assert all(h["ip"] is None for h in hosts.values())
    for name, (mac, _ip, avahi, _sysctl) in HOSTS.items():
        if name not in NO_ECHO:
            assert hosts[mac]["ipv6_link_local"] == expected_link_local(name)
            assert hosts[mac]["hostname"] == (NAMES[name] if avahi else None), name  # no fallback for link-local addresses


def pi_ssh_name():
    return expected_link_local("pi_ssh")


def inventory_config(lab, **extra):
    ssh = ssh_node.inventory_vars(lab.directory, "unused")
    compose = {key: repr(value) for key, value in ssh.items() if key != "ansible_host"}
    return dict({"interface": "eth0", "all_hosts": True, "ipv6": True, "names": True, "compose": compose,
                 "groups": {"sshable": f"mac == '{HOSTS['pi_ssh'][0]}'"}}, **extra)


def test_inventory_names_and_hostvars(lan6, tmp_path):
    proc, inv = inventory_list(lan6, tmp_path, inventory_config(lan6), prefix=lan6.prefix_argv)
    assert proc.returncode == 0, proc.stderr
    hostvars = inv["_meta"]["hostvars"]
    expected_names = {}
    for name, (mac, ip, _avahi, _sysctl) in HOSTS.items():
        inventory_name = NAMES[name].removesuffix(".local") if name in NAMES else ip or expected_link_local(name)
        expected_names[inventory_name] = (mac, ip or expected_link_local(name), expected_link_local(name), NAMES.get(name))
    assert set(expected_names) <= set(hostvars)
    for inventory_name, (mac, ansible_host, link_local, hostname) in expected_names.items():
        got = hostvars[inventory_name]
        assert (got["mac"], got["ansible_host"], got["ipv6_link_local"], got["hostname"]) == (mac, ansible_host, link_local, hostname), inventory_name
    assert {"pi-kitchen", "pi-garage", "pi-attic", pi_ssh_name()} <= set(inv["raspberry_pi"]["hosts"])
    assert inv["sshable"]["hosts"] == [pi_ssh_name()]


def test_ansible_pings_an_ipv6_only_pi_at_its_link_local_address(lan6, tmp_path):
    source = tmp_path / "lab.arp_scan.yml"
    source.write_text(json.dumps(dict({"plugin": "layer2.linux.arp_scan"}, **inventory_config(lan6))))
    argv = lan6.prefix_argv + [str(BIN / "ansible"), "sshable", "-i", str(source), "-m", "ansible.builtin.ping"]
    proc = lan6.run("scanner", argv, check=False, env=ansible_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{pi_ssh_name()} | SUCCESS" in proc.stdout and '"ping": "pong"' in proc.stdout, proc.stdout + proc.stderr
