# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pi_discover on a namespace LAN of 50 Pis (all six prefixes), 100 other hosts, late and lossy answerers, a mute host and a conflict."""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

import pytest

from tests.lab import Lab, responders
from tests.support.ansible import ROOT, ansible_env, run_module, run_playbook

PI_PREFIXES = ["b8:27:eb", "dc:a6:32", "e4:5f:01", "28:cd:c1", "d8:3a:dd", "2c:cf:67"]
OTHER_PREFIXES = {"00:1b:21": "Intel Corporate", "00:0c:29": "VMware, Inc.", "3c:22:fb": "Apple, Inc.", "02:42:ac": None}
PI_VENDORS = {"b8:27:eb": "Raspberry Pi Foundation", "2c:cf:67": "Raspberry Pi (Trading) Ltd"}  # the rest: Raspberry Pi Trading Ltd
NET = "198.51.100"
SCANNER = f"{NET}.1"
LATE = {f"{NET}.241": "dc:a6:32:fe:00:01", f"{NET}.242": "2c:cf:67:fe:00:02", f"{NET}.243": "00:0c:29:fe:00:03", f"{NET}.244": "02:42:ac:fe:00:04"}
WIFI = {f"{NET}.245": "d8:3a:dd:fe:00:05"}  # a Pi on Wi-Fi in power save: the only host to answer 400 ms late
LOSSY = {f"{NET}.247": "e4:5f:01:fe:00:07"}  # a Pi on a lossy Wi-Fi link: every scan's first request is lost, a retry answered 300 ms late
UNASKED = ("203.0.113.7", "b8:27:eb:fe:00:07")  # claimed, unasked, by the late responder with every answer
MUTE = f"{NET}.246"  # has the address but never answers ARP
CONFLICT = {"dup_pi": (f"{NET}.250", "b8:27:eb:fd:00:01"), "dup_nas": (f"{NET}.250", "00:11:32:fd:00:02")}
PYTHON = sys.executable
ANSIBLE_BIN = Path(sys.executable).parent


def host(mac, ip, **extra):
    return dict({"links": [{"switch": "lan", "mac": mac, "addresses": [f"{ip}/24"]}]}, **extra)


def pi_lan_spec():
    """The spec and the truth: which (ip, mac) pairs should answer, and which of them are Pis."""
    rng = random.Random(2026)
    octets = rng.sample(range(2, 240), 150)
    hosts = {"scanner": host("02:00:5e:00:00:01", SCANNER), "late": host("02:00:5e:00:00:02", f"{NET}.240"),
             "mute": host("02:00:5e:00:00:03", MUTE, sysctl={"net.ipv4.conf.all.arp_ignore": "8"})}
    answering = {(f"{NET}.240", "02:00:5e:00:00:02")}
    for n, octet in enumerate(octets):
        prefix = PI_PREFIXES[n % 6] if n < 50 else list(OTHER_PREFIXES)[n % 4]
        mac = f"{prefix}:{n >> 8:02x}:{n & 255:02x}:{octet:02x}"
        hosts[f"{'pi' if n < 50 else 'pc'}{n}"] = host(mac, f"{NET}.{octet}")
        answering.add((f"{NET}.{octet}", mac))
    for name, (ip, mac) in CONFLICT.items():
        hosts[name] = host(mac, ip)
        answering.add((ip, mac))
    answering |= set(LATE.items()) | set(WIFI.items()) | set(LOSSY.items())
    pis = {(ip, mac) for ip, mac in answering if mac[:8] in PI_PREFIXES}
    return {"switches": ["lan"], "hosts": hosts}, answering, pis


def start_late_responders(lab):
    responders.start(lab, "late", 0.2, LATE, f"--unsolicited={UNASKED[0]}={UNASKED[1]}")
    responders.start(lab, "late", 0.4, WIFI)
    responders.start(lab, "late", 0.3, LOSSY, "--answer-only-repeats", "0.3")


@pytest.fixture(scope="module")
def pi_lan():
    if os.geteuid() != 0:
        pytest.skip("namespace labs need root")
    spec, answering, pis = pi_lan_spec()
    lab = Lab(spec).up()
    try:
        start_late_responders(lab)
        lab.answering, lab.pis = answering, pis
        yield lab
    finally:
        lab.down()


def pairs(hosts):
    return {(h["ip"], h["mac"]) for h in hosts}


def discover(lab, **params):
    return run_module(lab, "scanner", "layer2.linux.pi_discover", dict({"interface": "eth0"}, **params))


# -- finding ------------------------------------------------------------------------------------------------------------------

def test_every_host_found_and_nothing_else(pi_lan):
    result = discover(pi_lan, all_hosts=True)
    assert result["_status"] == "ok" and result["changed"] is False, result
    assert pairs(result["hosts"]) == pi_lan.answering
    assert pairs(result["raspberry_pis"]) == pi_lan.pis and len(pi_lan.pis) == 55
    wifi = [h for h in result["hosts"] if h["ip"] in WIFI]
    assert len(wifi) == 1 and wifi[0]["rtt_ms"] >= 390, "the default timeout (0.5 s) waits for a lone 400 ms answerer"
    assert {h["mac"][:8] for h in result["raspberry_pis"]} == set(PI_PREFIXES)
    found_ips = {h["ip"] for h in result["hosts"]}
    assert MUTE not in found_ips and UNASKED[0] not in found_ips
    assert [(c["ip"], sorted(c["macs"])) for c in result["conflicts"]] == [(f"{NET}.250", sorted(mac for _ip, mac in CONFLICT.values()))]
    assert result["counts"] == {"addresses_asked": 253, "requests_sent": result["counts"]["requests_sent"], "responders": len(pi_lan.answering),
                                "ipv6_responders": 0, "raspberry_pis": 55, "conflicts": 1}
    assert all(h["ipv6_link_local"] is None and h["hostname"] is None for h in result["hosts"]), "neither asked"
    assert result["networks"] == [f"{NET}.0/24"] and result["interfaces"] == ["eth0"]


def test_vendors_come_from_the_ieee_registry(pi_lan):
    by_mac = {h["mac"]: h for h in discover(pi_lan, all_hosts=True)["hosts"]}
    for mac, found in by_mac.items():
        prefix = mac[:8]
        expected = PI_VENDORS.get(prefix, "Raspberry Pi Trading Ltd") if prefix in PI_PREFIXES else OTHER_PREFIXES.get(prefix)
        if prefix == "00:11:32":
            expected = "Synology Incorporated"
        if prefix == "02:00:5e":
            expected = None
        assert found["vendor"] == expected, found
        assert found["is_raspberry_pi"] == (prefix in PI_PREFIXES)


def test_only_the_pis_by_default_and_in_check_mode(pi_lan):
    result = run_module(pi_lan, "scanner", "layer2.linux.pi_discover", {"network": [f"{NET}.0/24"]}, check=True)
    assert result["_status"] == "ok" and result["changed"] is False, result
    assert pairs(result["hosts"]) == pairs(result["raspberry_pis"]) == pi_lan.pis


def test_every_pi_on_every_run(pi_lan):
    """Five scans in a row through the engine the module uses: each one finds every host, the late ones included."""
    code = (f"import json, sys; sys.path.insert(0, {str(ansible_env()['ANSIBLE_COLLECTIONS_PATH'])!r});"
            "from ansible_collections.layer2.linux.plugins.module_utils._scan import discover_here;"
            "print(json.dumps([discover_here(interface='eth0', all_hosts=True)['hosts'] for _ in range(5)]))")
    runs = json.loads(pi_lan.run("scanner", [PYTHON, "-c", code]).stdout)
    assert [len(pairs(hosts)) for hosts in runs] == [len(pi_lan.answering)] * 5
    assert all(pairs(hosts) == pi_lan.answering for hosts in runs)


def test_late_answerers_are_found_while_the_scan_listens(pi_lan):
    hurried = discover(pi_lan, all_hosts=True, retries=0, timeout=0.05)
    missing = pi_lan.answering - pairs(hurried["hosts"])
    assert missing == set(LATE.items()) | set(WIFI.items()) | set(LOSSY.items()), "a 0.05 s wait misses exactly the late and the lossy"
    patient = discover(pi_lan, all_hosts=True, retries=2, timeout=0.1)
    assert pi_lan.answering - pairs(patient["hosts"]) == set(WIFI.items()) | set(LOSSY.items()), \
        "two retries keep listening 0.3 s: not the 0.4 s that the Wi-Fi Pi and the lossy Pi's retry take"
    late = [h for h in patient["hosts"] if h["ip"] in LATE]
    assert all(h["rtt_ms"] >= 190 for h in late), late


def test_a_lost_request_is_made_good_by_the_retry(pi_lan):
    """Broadcasts are lost on Wi-Fi (no acknowledgement, no retransmission): the retry is what finds such a Pi."""
    once = discover(pi_lan, network=[f"{NET}.0/24"], retries=0)
    assert pi_lan.pis - pairs(once["raspberry_pis"]) == set(LOSSY.items())
    again = discover(pi_lan, network=[f"{NET}.0/24"])
    assert pairs(again["raspberry_pis"]) == pi_lan.pis
    lossy = [h for h in again["raspberry_pis"] if h["ip"] in LOSSY]
    assert lossy[0]["rtt_ms"] >= 390, "counted from the first request: the lost one, then 0.1 s to the retry and 0.3 s to its answer"


def test_excluded_addresses_are_not_asked(pi_lan):
    pi_ip = sorted(pi_lan.pis)[0][0]
    result = discover(pi_lan, network=[f"{NET}.0/24"], exclude=[pi_ip, f"{NET}.128/25"], all_hosts=True)
    expected = {(ip, mac) for ip, mac in pi_lan.answering if ip != pi_ip and int(ip.rsplit(".", 1)[1]) < 128}
    assert pairs(result["hosts"]) == expected
    assert result["counts"]["addresses_asked"] == 125  # .1-.127 without the scanner and the excluded Pi


# -- the inventory plugin -----------------------------------------------------------------------------------------------------

def unwrap(value):
    """ansible-inventory --list marks strings from plugins as unsafe: {"__ansible_unsafe": "x"} -> "x"."""
    if isinstance(value, dict):
        return value["__ansible_unsafe"] if set(value) == {"__ansible_unsafe"} else {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def inventory_list(lab, tmp_path, config: dict, name="lab.arp_scan.yml", args=(), prefix=(), env=None):
    """ansible-inventory --list on an arp_scan source, run inside the scanner's namespace (never on the real interfaces)."""
    source = tmp_path / name
    source.write_text(json.dumps(dict({"plugin": "layer2.linux.arp_scan"}, **config)))
    argv = list(prefix) + [str(ANSIBLE_BIN / "ansible-inventory"), "-i", str(source), "--list", *args]
    proc = lab.run("scanner", argv, check=False, env=ansible_env(dict({"ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1"}, **(env or {}))))
    return proc, (unwrap(json.loads(proc.stdout)) if proc.returncode == 0 else None)


def test_inventory_groups_and_hostvars(pi_lan, tmp_path):
    config = {"interface": "eth0", "all_hosts": True, "compose": {"ansible_user": "'pi'"},
              "groups": {"intel_nics": "vendor == 'Intel Corporate'"},
              "keyed_groups": [{"key": "mac[:8] | replace(':', '')", "prefix": "oui"}]}
    proc, inv = inventory_list(pi_lan, tmp_path, config)
    assert proc.returncode == 0, proc.stderr
    hostvars = inv["_meta"]["hostvars"]
    answering_ips = {ip for ip, _mac in pi_lan.answering}
    assert set(hostvars) == answering_ips
    pi_ips = {ip for ip, _mac in pi_lan.pis}
    conflict_ip = f"{NET}.250"
    assert set(inv["raspberry_pi"]["hosts"]) - {conflict_ip} == pi_ips - {conflict_ip}
    assert "address conflict" in proc.stderr
    for ip, mac in pi_lan.answering - {pair for pair in pi_lan.answering if pair[0] == conflict_ip}:
        assert hostvars[ip]["ansible_host"] == ip and hostvars[ip]["mac"] == mac and hostvars[ip]["ansible_user"] == "pi"
        assert (ip in inv["raspberry_pi"]["hosts"]) == hostvars[ip]["is_raspberry_pi"] == (mac[:8] in PI_PREFIXES)
    intel = {ip for ip, mac in pi_lan.answering if mac.startswith("00:1b:21")}
    assert set(inv["vendor_intel_corporate"]["hosts"]) == intel == set(inv["oui_001b21"]["hosts"]) == set(inv["intel_nics"]["hosts"])
    assert {ip for ip, mac in pi_lan.pis if mac.startswith("b8:27:eb") and ip != conflict_ip} <= set(inv["vendor_raspberry_pi_foundation"]["hosts"])
    assert hostvars[f"{NET}.244"]["vendor"] is None and f"{NET}.244" in inv["vendor_unknown"]["hosts"]


def test_inventory_pis_only_by_default(pi_lan, tmp_path):
    proc, inv = inventory_list(pi_lan, tmp_path, {"network": f"{NET}.0/24"})
    assert proc.returncode == 0, proc.stderr
    assert set(inv["_meta"]["hostvars"]) == set(inv["raspberry_pi"]["hosts"]) == {ip for ip, _mac in pi_lan.pis}


def test_inventory_cache_serves_the_last_scan_until_flushed(make_lab, tmp_path):
    lab = make_lab({"switches": ["lan"], "hosts": {"scanner": host("02:00:5e:00:00:01", "192.0.2.1"), "pi": host("28:cd:c1:00:00:02", "192.0.2.2")}})
    config = {"interface": "eth0", "cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    first = inventory_list(lab, tmp_path, config)[1]
    lab.run("pi", ["ip", "link", "set", "eth0", "down"])
    cached = inventory_list(lab, tmp_path, config)[1]
    flushed = inventory_list(lab, tmp_path, config, args=["--flush-cache"])[1]
    assert first["raspberry_pi"]["hosts"] == cached["raspberry_pi"]["hosts"] == ["192.0.2.2"]
    assert list((tmp_path / "cache").iterdir()), "the scan was written to the cache"
    assert "192.0.2.2" not in flushed["_meta"]["hostvars"]


def test_inventory_refuses_a_file_name_it_does_not_own(pi_lan, tmp_path):
    proc, _inv = inventory_list(pi_lan, tmp_path, {"interface": "eth0"}, name="lab.yml")
    assert proc.returncode != 0


# -- privileges and bad input -------------------------------------------------------------------------------------------------

# root, but without CAP_NET_RAW: what an unprivileged controller or a become-less task has
NO_NET_RAW = ["setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw"]


def test_without_cap_net_raw_the_inventory_says_so(pi_lan, tmp_path):
    proc, _inv = inventory_list(pi_lan, tmp_path, {"interface": "eth0"}, prefix=NO_NET_RAW)
    assert proc.returncode != 0
    assert "needs root or the CAP_NET_RAW capability" in proc.stderr, proc.stderr


def test_without_cap_net_raw_the_module_says_so(pi_lan):
    argv = NO_NET_RAW + [str(ANSIBLE_BIN / "ansible"), "localhost", "-c", "local", "-m", "layer2.linux.pi_discover", "-a", "interface=eth0"]
    proc = pi_lan.run("scanner", argv, check=False, env=ansible_env())
    assert proc.returncode != 0
    assert "needs root or the CAP_NET_RAW capability" in proc.stdout, proc.stdout + proc.stderr


def test_a_foreign_network_with_a_source_address(make_lab):
    """The scanner has no address in 203.0.113.0/24: asked from 0.0.0.0 (a probe), the Pi answers and learns nothing;
    from an address the scanner does not hold only with force."""
    pi = {"links": [{"switch": "lan", "mac": "e4:5f:01:00:00:02", "addresses": ["203.0.113.5/24"]}]}
    lab = make_lab({"switches": ["lan"], "hosts": {"scanner": host("02:00:5e:00:00:01", "192.0.2.1"), "pi": pi}})
    probe = run_module(lab, "scanner", "layer2.linux.pi_discover", {"interface": "eth0", "network": "203.0.113.0/24", "source_address": "0.0.0.0"})
    assert pairs(probe["raspberry_pis"]) == {("203.0.113.5", "e4:5f:01:00:00:02")}, probe
    assert lab.ip_json("pi", "neigh", "show", "dev", "eth0") == [], "a probe teaches no cache"
    forced = run_module(lab, "scanner", "layer2.linux.pi_discover", {"interface": "eth0", "network": "203.0.113.0/24", "source_address": "203.0.113.250",
                                                                     "force": True})
    assert pairs(forced["raspberry_pis"]) == {("203.0.113.5", "e4:5f:01:00:00:02")}, forced


# -- the playbook -------------------------------------------------------------------------------------------------------------

def test_discover_pis_playbook(make_lab, tmp_path):
    lab = make_lab({"switches": ["lan"], "hosts": {
        "scanner": host("02:00:5e:00:00:01", "192.0.2.1"),
        "pi_a": host("b8:27:eb:00:00:0a", "192.0.2.10"), "pi_b": host("d8:3a:dd:00:00:0b", "192.0.2.11"),
        "pc": host("00:1b:21:00:00:0c", "192.0.2.12")}})
    inventory = lab.inventory(python=PYTHON)
    # The lab's hosts are also known by their addresses, so the Pis the scan adds are reachable through their namespaces.
    for name, ip in {"pi_a": "192.0.2.10", "pi_b": "192.0.2.11", "pc": "192.0.2.12"}.items():
        inventory["all"]["hosts"][ip] = inventory["all"]["hosts"].pop(name)
    out_file = tmp_path / "pis.yml"
    run = run_playbook(ROOT / "playbooks" / "discover_pis.yml", inventory,
                       extra_vars={"discover_pis_from": "scanner", "discover_pis_interface": "eth0", "discover_pis_inventory_file": str(out_file),
                                   "discover_pis_user": "pi"})
    assert run.rc == 0, run.stdout + run.stderr
    pinged = sorted(r["host"] for r in run.results if r["task"] == "Ping each Pi" and r["status"] == "ok")
    assert pinged == ["192.0.2.10", "192.0.2.11"]
    import yaml

    written = yaml.safe_load(out_file.read_text())
    assert written == {"all": {"children": {"raspberry_pi": {"hosts": {
        "192.0.2.10": {"ansible_user": "pi", "mac": "b8:27:eb:00:00:0a", "vendor": "Raspberry Pi Foundation"},
        "192.0.2.11": {"ansible_user": "pi", "mac": "d8:3a:dd:00:00:0b", "vendor": "Raspberry Pi Trading Ltd"}}}}}}


def test_discover_pis_playbook_runs_a_role(make_lab, tmp_path):
    lab = make_lab({"switches": ["lan"], "hosts": {"scanner": host("02:00:5e:00:00:01", "192.0.2.1"), "pi": host("2c:cf:67:00:00:0a", "192.0.2.10")}})
    inventory = lab.inventory(python=PYTHON)
    inventory["all"]["hosts"]["192.0.2.10"] = inventory["all"]["hosts"].pop("pi")
    role = tmp_path / "roles" / "pi_hello" / "tasks"
    role.mkdir(parents=True)
    (role / "main.yml").write_text("- name: Hello from the role\n  ansible.builtin.command: cat /sys/class/net/eth0/address\n  changed_when: false\n")
    run = run_playbook(ROOT / "playbooks" / "discover_pis.yml", inventory, env={"ANSIBLE_ROLES_PATH": str(tmp_path / "roles")},
                       extra_vars={"discover_pis_from": "scanner", "discover_pis_network": ["192.0.2.0/24"], "discover_pis_role": "pi_hello"})
    assert run.rc == 0, run.stdout + run.stderr
    assert run.task("pi_hello : Hello from the role", "192.0.2.10")["stdout"] == "2c:cf:67:00:00:0a"
    assert not [r for r in run.results if r["task"] == "Ping each Pi" and r["status"] == "ok"]
