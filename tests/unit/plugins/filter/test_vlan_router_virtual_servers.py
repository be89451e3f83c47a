# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vlan_router plan's load balancer: vlan_router_virtual_servers -> keepalived's virtual_server blocks, the virtual
address on its VLAN, the IPVS modules and sysctl; refusals in words naming the entry; the rendered file checked by the
real keepalived -t."""

from __future__ import annotations

import copy
import shutil
import subprocess

import jinja2
import pytest
from ansible_collections.layer2.linux.plugins.filter.vlan_router import PlanError, problems

from tests.unit.plugins.filter.test_vlan_router_plan import ROOT, healthy_facts, seed_plan

WEB = {"address": "198.51.100.80", "port": 80, "protocol": "tcp", "scheduler": "wrr", "persistence_timeout": 0,
       "check": {"type": "http", "path": "/healthz", "status": 200, "interval": 1, "timeout": 1, "retries": 2},
       "sorry_server": {"address": "10.1.35.99", "port": 80},
       "real_servers": [{"address": "10.1.35.2", "port": 8080, "weight": 1}, {"address": "10.1.35.3", "port": 8080, "weight": 2}]}


def web(**changes) -> list[dict]:
    entry = copy.deepcopy(WEB)
    entry.update(changes)
    return [entry]


def file_of(the_plan, template):
    return next(f for f in the_plan["files"] if f["template"] == template)


def render(file) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT / "roles/vlan_router/templates"), trim_blocks=True, undefined=jinja2.StrictUndefined)
    return env.get_template(file["template"]).render(data=file["data"])


def test_without_virtual_servers_nothing_of_the_load_balancer_is_planned():
    the_plan = seed_plan()
    assert the_plan["load_balancer"] == {"virtual_servers": [], "modules": []} and the_plan["keepalived"] is None
    assert not [f for f in the_plan["files"] if f["template"] in ("keepalived.conf.j2", "sysctl.conf.j2")]
    assert file_of(the_plan, "modules-load.conf.j2")["data"] == {"modules": ["8021q"]}


def test_a_virtual_server_is_planned_for_keepalived_with_its_vlan_modules_and_sysctl():
    the_plan = seed_plan(root="/tmp/r", virtual_servers=web())
    [vs] = the_plan["load_balancer"]["virtual_servers"]
    assert vs == {"address": "198.51.100.80", "port": 80, "protocol": "tcp", "scheduler": "wrr", "persistence_timeout": 0,
                  "check": {"checker": "HTTP_GET", "path": "/healthz", "status": 200, "interval": 1, "timeout": 1, "retries": 2},
                  "sorry_server": {"address": "10.1.35.99", "port": 80, "vlan": "eth1.1235"},
                  "real_servers": [{"address": "10.1.35.2", "port": 8080, "vlan": "eth1.1235", "weight": 1},
                                   {"address": "10.1.35.3", "port": 8080, "vlan": "eth1.1235", "weight": 2}],
                  "vlan": "eth1.1235"}
    assert the_plan["load_balancer"]["modules"] == ["ip_vs", "ip_vs_wrr"]
    assert the_plan["keepalived"] == "/tmp/r/etc/keepalived/keepalived.conf"
    keepalived = {"path": "/tmp/r/etc/keepalived/keepalived.conf", "template": "keepalived.conf.j2", "data": {"virtual_servers": [vs]},
                  "validate": "keepalived -t -f %s"}
    assert file_of(the_plan, "keepalived.conf.j2") == keepalived
    sysctl = {"path": "/tmp/r/etc/sysctl.d/91-layer2-vlan-router-ipvs.conf", "template": "sysctl.conf.j2", "data": {"values": {"net.ipv4.vs.conntrack": 1}}}
    assert file_of(the_plan, "sysctl.conf.j2") == sysctl
    assert file_of(the_plan, "modules-load.conf.j2")["data"] == {"modules": ["8021q", "ip_vs", "ip_vs_wrr"]}


def test_the_virtual_address_is_a_32_on_the_first_real_servers_vlan_created_persisted_and_verified():
    the_plan = seed_plan(virtual_servers=web() + web(port=443, scheduler="sh", real_servers=[{"address": "10.1.35.4"}]))
    vlan = next(item for item in the_plan["vlan_interface"] if item["name"] == "eth1.1235")
    assert vlan["addresses"] == ["10.1.35.1/24", "198.51.100.80/32"], "once, after the VLAN's own (the first stays the gateway)"
    network = next(f for f in the_plan["files"] if f["path"].endswith("eth1.1235.network"))
    assert network["data"]["addresses"] == ["10.1.35.1/24", "198.51.100.80/32"]
    assert the_plan["load_balancer"]["modules"] == ["ip_vs", "ip_vs_sh", "ip_vs_wrr"]
    facts = healthy_facts(the_plan)
    assert problems(the_plan, facts) == []
    facts["links"]["eth1.1235"]["addresses"].remove("198.51.100.80/32")
    assert problems(the_plan, facts) == ["eth1.1235 lacks the address 198.51.100.80/32"]


def test_defaults_a_check_of_the_services_protocol_every_second_retried_twice_real_server_port_and_weight():
    entries = [{"address": "198.51.100.80", "port": 53, "protocol": protocol, "real_servers": [{"address": "10.1.36.7"}]} for protocol in ("udp", "tcp")]
    udp, tcp = seed_plan(virtual_servers=entries)["load_balancer"]["virtual_servers"]
    assert (udp["scheduler"], udp["check"]["checker"], udp["check"]["interval"], udp["check"]["retries"]) == ("wrr", "UDP_CHECK", 1, 2)
    assert tcp["check"]["checker"] == "TCP_CHECK"
    assert udp["real_servers"] == [{"address": "10.1.36.7", "port": 53, "vlan": "eth1.1236", "weight": 1}]
    assert udp["sorry_server"] is None


def test_a_tcp_check_of_a_udp_service_is_allowed_for_a_service_on_both_as_dns():
    [vs] = seed_plan(virtual_servers=web(port=53, protocol="udp", check={"type": "tcp"}))["load_balancer"]["virtual_servers"]
    assert vs["check"]["checker"] == "TCP_CHECK"


@pytest.mark.parametrize(("entry", "words"), [
    ({"real_servers": [{"address": "192.0.2.9", "port": 8080}]},
     "vlan_router_virtual_servers[0] (198.51.100.80:80/tcp) real_servers[0] 192.0.2.9:8080: 192.0.2.9 is outside every VLAN of the router"),
    ({"sorry_server": {"address": "192.0.2.99"}}, "sorry_server 192.0.2.99:80: 192.0.2.99 is outside every VLAN"),
    ({"port": 0}, "vlan_router_virtual_servers[0] (198.51.100.80:0/tcp): port 0 is out of range 1-65535"),
    ({"port": 70000}, "port 70000 is out of range 1-65535"),
    ({"real_servers": [{"address": "10.1.35.2", "port": 65536}]}, "real_servers[0] 10.1.35.2:65536: port 65536 is out of range 1-65535"),
    ({"scheduler": "fifo"}, "vlan_router_virtual_servers[0] (198.51.100.80:80/tcp): the scheduler 'fifo' is not one of rr, wrr, lc, wlc, sh, mh"),
    ({"check": {"type": "ping"}}, "vlan_router_virtual_servers[0] (198.51.100.80:80/tcp): the check type 'ping' is not one of http, tcp, udp"),
    ({"protocol": "udp"}, "vlan_router_virtual_servers[0] (198.51.100.80:80/udp): the check type 'http' cannot check a udp service (every check "
                          "would fail and take all its real servers out); use udp or tcp"),
    ({"check": {"type": "udp"}}, "vlan_router_virtual_servers[0] (198.51.100.80:80/tcp): the check type 'udp' cannot check a tcp service"),
    ({"protocol": "sctp"}, "the protocol 'sctp' is not tcp or udp"),
    ({"address": "10.1.35.80"}, "the virtual address 10.1.35.80 is inside VLAN 1235's own addresses"),
    ({"address": "2001:db8::80"}, "2001:db8::80 is IPv6"),
    ({"real_servers": []}, "no real_servers"),
    ({"real_servers": [{"address": "10.1.35.2", "port": 8080}, {"address": "10.1.35.2", "port": 8080}]}, "the real server 10.1.35.2:8080 is listed twice"),
    ({"real_servers": [{"address": "10.1.35.2", "weight": -1}]}, "weight -1 is not from 0 to 65535"),
    ({"real_servers": [{"address": "10.1.35.2", "weight": 0}]}, "every real server has weight 0"),
    ({"check": {"type": "http", "status": 700}}, "check status 700 is not an HTTP status code"),
    ({"check": {"interval": 0}}, "check interval 0 is not a number of seconds above 0"),
    ({"persistence_timeout": -5}, "persistence_timeout -5 is not a number of seconds"),
])
def test_bad_entries_are_refused_naming_the_entry(entry, words):
    with pytest.raises(PlanError) as refused:
        seed_plan(virtual_servers=web(**entry))
    assert words in str(refused.value)


def test_the_same_service_twice_and_a_static_nat_address_are_refused():
    with pytest.raises(PlanError, match=r"vlan_router_virtual_servers\[1\] .*the same address, port and protocol as vlan_router_virtual_servers\[0\]"):
        seed_plan(virtual_servers=web() + web())
    with pytest.raises(PlanError, match=r"already a static NAT or port forward's public address"):
        seed_plan(virtual_servers=web(), static_nat=[{"public": "198.51.100.80", "private": "10.1.35.11"}])
    seed_plan(virtual_servers=web() + web(protocol="udp", check={"type": "udp"}))  # another protocol is another service


def test_problems_name_ipvs_not_loaded_conntrack_off_and_keepalived_not_running():
    the_plan = seed_plan(root="/", virtual_servers=web())
    facts = healthy_facts(the_plan)
    assert problems(the_plan, facts, ipvs={"available": True, "conntrack": True}, services={"keepalived.service": {"state": "running"}}) == []
    assert problems(the_plan, facts, ipvs={"available": False, "conntrack": None}) == [
        "IPVS is not available (ip_vs is not loaded): the virtual servers cannot be served"]
    assert problems(the_plan, facts, ipvs={"available": True, "conntrack": False}) == [
        "net.ipv4.vs.conntrack is 0: the isolation filter's state rules do not see the virtual servers' connections"]
    assert problems(the_plan, facts, services={}) == ["keepalived.service is not installed, not running: the virtual servers are not served"]


def test_the_rendered_file_prints_the_plan_and_the_real_keepalived_accepts_it(tmp_path):
    entries = web(persistence_timeout=300) + web(port=53, protocol="udp", scheduler="mh", check={"type": "udp", "interval": 0.5, "timeout": 0.25},
                                                 sorry_server=None, real_servers=[{"address": "10.1.36.7", "weight": 0}, {"address": "10.1.36.8"}])
    text = render(file_of(seed_plan(virtual_servers=entries), "keepalived.conf.j2"))
    assert "virtual_server 198.51.100.80 80 {\n    delay_loop 1\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n    persistence_timeout 300\n" in text
    assert "    sorry_server 10.1.35.99 80\n    real_server 10.1.35.2 8080 {\n        weight 1\n        HTTP_GET {\n" in text
    assert "url {\n                path /healthz\n                status_code 200\n            }\n" in text
    assert "connect_timeout 1\n            retry 2\n            delay_before_retry 1\n" in text
    assert "virtual_server 198.51.100.80 53 {\n    delay_loop 0.5\n    lb_algo mh\n    lb_kind NAT\n    protocol UDP\n    real_server 10.1.36.7 53 {" in text
    assert "UDP_CHECK {\n            connect_timeout 0.25\n            retry 2\n            delay_before_retry 0.5\n        }\n" in text
    keepalived = shutil.which("keepalived") or "/usr/sbin/keepalived"
    path = tmp_path / "keepalived.conf"
    path.write_text(text)
    run = subprocess.run([keepalived, "-t", "-f", str(path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    path.write_text(text.replace("lb_algo wrr", "lb_algo fifo"))
    assert subprocess.run([keepalived, "-t", "-f", str(path)], capture_output=True, check=False).returncode != 0, "the check is real"
