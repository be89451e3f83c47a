# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pi_discover refuses bad input in words that name the option, with no exception text, and changes nothing: not the
scanner's addresses and links, and not the neighbour tables of the other hosts on the segment. A victim (whose
address a bad source_address would borrow) and an observer (whose ARP cache holds the victim's MAC) read theirs.

Each case runs the module itself (python pi_discover.py ARGS.json, as Ansible's module runner does) inside the
scanner's namespace: one process per case keeps 25 cases to seconds. The last test shows the check can see harm:
forced, the same source_address moves the victim's entry in the observer's cache to the scanner's MAC.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

import pytest

from tests.lab import Lab
from tests.support.ansible import ROOT, collections_path

NET = "192.0.2"
SCANNER_MAC, VICTIM_MAC, OBSERVER_MAC = "02:00:5e:00:00:01", "b8:27:eb:00:00:20", "dc:a6:32:00:00:30"
VICTIM, OBSERVER = f"{NET}.20", f"{NET}.30"
MODULE = ROOT / "plugins" / "modules" / "pi_discover.py"
LEAKED = re.compile(r"Traceback|\b[A-Z]\w*(Error|Exception)\b|\[Errno |object has no attribute")  # exception text in the output

# (params, the option the message must name, words the message must contain)
CASES = [
    ({"interface": "eth0", "source_address": VICTIM}, "source_address", f"{VICTIM} is not an address of interface eth0"),
    ({"interface": "eth0", "network": [f"{OBSERVER}/32"], "source_address": VICTIM}, "source_address", "0.0.0.0 (a duplicate-address probe"),
    ({"interface": "eth0", "source_address": "198.51.100.1"}, "source_address", "is not an address of interface eth0"),  # eth1's
    ({"interface": "eth0", "source_address": f"{NET}.255", "force": True}, "source_address", "broadcast address of network 192.0.2.0/24"),
    ({"interface": "eth0", "source_address": "224.0.0.1", "force": True}, "source_address", "force does not lift this"),
    ({"interface": "eth0", "source_address": "255.255.255.255", "force": True}, "source_address", "multicast, loopback or broadcast"),
    ({"interface": "eth0", "source_address": "banana"}, "source_address", "'banana' is not an IPv4 address"),
    ({"interface": "eth0", "network": []}, "network", "no network given"),
    ({"interface": "eth0", "retries": 1000}, "retries", "retries 1000 is outside 0-10"),
    ({"interface": "eth0", "retries": -1}, "retries", "outside 0-10"),
    ({"interface": "eth0", "network": ["10.1.0.0/16"], "source_address": "0.0.0.0", "rate": 10}, "rate", "would take about 13107 s, more than 300 s"),
    ({"interface": "eth0", "rate": 0}, "rate", "rate 0 packets/s is outside 1-100000"),
    ({"interface": "eth0", "rate": "fast"}, "rate", "int"),
    ({"interface": "eth0", "timeout": 0}, "timeout", "outside 0-60 seconds"),
    ({"interface": "eth0", "timeout": 61}, "timeout", "outside 0-60 seconds"),
    ({"network": ["192.0.2.0/33"]}, "network", "'192.0.2.0/33' is not an IPv4 network in CIDR form"),
    ({"network": ["2001:db8::/64"]}, "network", "ARP scans are IPv4 only"),
    ({"network": ["10.0.0.0/8"]}, "network", "more than a /16"),
    ({"interface": "eth9"}, "interface", "'eth9' does not exist on this host"),
    ({"interface": "lo", "network": ["127.0.0.0/24"]}, "interface", "lo has no Ethernet address"),
    ({"interface": "eth0", "network": ["198.18.0.0/24"]}, "network", "interface eth0 has no address in network 198.18.0.0/24"),
    ({"network": ["198.18.0.0/24"]}, "network", "no interface of this host has an address in it"),
    ({"interface": "eth0", "ouis": ["b8:27"]}, "ouis", "'b8:27' is not a MAC prefix"),
    ({"interface": "eth0", "exclude": ["banana"]}, "exclude", "'banana' is not an IPv4 network"),
    ({"interface": "eth1", "ipv6": True}, "ipv6", "interface eth1 has no usable IPv6 link-local address"),
    ({"interface": "eth0", "names": "perhaps"}, "names", "bool"),
    ({}, "interface", "one of the following is required: network, interface"),
]


@pytest.fixture(scope="module")
def segment():
    if os.geteuid() != 0:
        pytest.skip("namespace labs need root")
    lan = {"switch": "lan", "ifname": "eth0"}
    lab = Lab({"switches": ["lan", "other"], "hosts": {
        "scanner": {"links": [dict(lan, mac=SCANNER_MAC, addresses=[f"{NET}.1/24"]),
                              {"switch": "other", "ifname": "eth1", "mac": "02:00:5e:00:00:02", "addresses": ["198.51.100.1/24"]}],
                    "sysctl": {"net.ipv6.conf.eth1.disable_ipv6": "1"}},
        "victim": {"links": [dict(lan, mac=VICTIM_MAC, addresses=[f"{VICTIM}/24"])]},
        "observer": {"links": [dict(lan, mac=OBSERVER_MAC, addresses=[f"{OBSERVER}/24"])]},
    }})
    try:
        lab.up()
        lab.run("observer", ["ping", "-c1", "-W1", VICTIM])  # the observer's cache: the victim at the victim's MAC
        lab.run("observer", ["ping", "-c1", "-W1", f"{NET}.1"])
        time.sleep(1.1)  # past the neighbour locktime (1 s), so a poisoning request would move the entry: the check can see it
        yield lab
    finally:
        lab.down()


def world(lab) -> dict:
    """What a refused task must leave as it was: the scanner's addresses and links, the others' neighbour entries."""
    def neighbours(host):
        return sorted((n["dst"], n.get("lladdr")) for n in lab.ip_json(host, "neigh", "show"))

    addresses = sorted((link["ifname"], a["family"], a["local"], a["prefixlen"]) for link in lab.ip_json("scanner", "addr", "show") for a in link["addr_info"])
    links = sorted((link["ifname"], link.get("address"), tuple(link["flags"]), link["mtu"]) for link in lab.ip_json("scanner", "link", "show"))
    return {"scanner addresses": addresses, "scanner links": links,
            "victim neighbours": neighbours("victim"), "observer neighbours": neighbours("observer")}


def run_module(lab, params: dict, tmp_path) -> tuple[dict, str]:
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": params}))
    proc = lab.run("scanner", [sys.executable, str(MODULE), str(args)], check=False, env=dict(os.environ, PYTHONPATH=str(collections_path())))
    return json.loads(proc.stdout), proc.stdout + proc.stderr


@pytest.mark.parametrize("params, option, words", CASES, ids=[f"{n}-{c[1]}" for n, c in enumerate(CASES)])
def test_refused_in_words_and_nothing_changed(segment, tmp_path, params, option, words):
    before = world(segment)
    result, output = run_module(segment, params, tmp_path)
    after = world(segment)
    assert result.get("failed") is True, result
    message = result["msg"]
    assert option in message and words in message, message
    assert not LEAKED.search(output), output
    assert after == before
    assert dict(after["observer neighbours"])[VICTIM] == VICTIM_MAC


def test_the_check_sees_a_poisoned_cache_when_forced(segment, tmp_path):
    """Forced, the same borrowed source_address is sent: the observer now sends the victim's traffic to the scanner."""
    result, _output = run_module(segment, {"interface": "eth0", "network": [f"{OBSERVER}/32"], "source_address": VICTIM, "force": True,
                                           "all_hosts": True}, tmp_path)
    assert result.get("failed") is not True and [h["mac"] for h in result["hosts"]] == [OBSERVER_MAC], result
    assert dict(world(segment)["observer neighbours"])[VICTIM] == SCANNER_MAC
