# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migrate_address playbook moves an address between lab hosts while the gateway keeps pinging it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import migration_lab
from tests.support.ansible import ROOT, run_playbook
from tests.support.migration_lab import ADDR, ADDR6, GW_MAC, NEW_MAC, OLD_MAC, OTHER_MAC, gw_mac

PLAYBOOK = ROOT / "playbooks" / "migrate_address.yml"


@pytest.fixture
def lab(make_lab):
    return migration_lab.build(make_lab, with_other=True)


def migrate(lab, address=f"{ADDR}/24", gateway="192.0.2.1", check=False, **extra):
    extra_vars = {"migrate_address_to": "new", "migrate_address_from": "old", "migrate_address_address": address,
                  "migrate_address_gateway": gateway, **extra}
    return run_playbook(PLAYBOOK, lab.inventory(python=sys.executable), extra_vars=extra_vars, check=check)


def holds(lab, host, address):
    return any(a["local"] == address for link in lab.ip_json(host, "addr", "show", "dev", "eth0") for a in link["addr_info"])


def prober(lab, address):
    """The gateway pings the address every 10 ms for the whole test, as a busy client would."""
    return lab.popen("gw", ["ping", "-n", "-i", "0.01", "-W", "1", address], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def switch_rule(lab, table, rule):
    """One nftables rule on the switch's bridge: every frame crossing it passes through."""
    lab.run("lan", ["nft", "-f", "-"], input=f"table bridge {table} {{\n chain forward {{\n  type filter hook forward priority 0\n  {rule}\n }}\n}}\n")


def task(run, register):
    """The last result of a task of the role or the playbook, by its register name (a display name may be reworded)."""
    return run.task(register, by="register")


def order(run) -> list[str]:
    """The register names of the tasks that ran, in the order they ran."""
    return [r["register"] for r in run.results if r["status"] != "skipped" and r["register"]]


def executed(run, register):
    return register in order(run)


def test_make_before_break_moves_the_address_and_a_second_run_changes_nothing(lab):
    ping = prober(lab, ADDR)
    check = migrate(lab, check=True)
    assert check.rc == 0, check.stdout
    assert (holds(lab, "old", ADDR), holds(lab, "new", ADDR), gw_mac(lab, ADDR)) == (True, False, OLD_MAC)
    assert [f["kind"] for f in task(check, "migrate_address__announcement")["frames"]][:3] == ["gratuitous request", "gratuitous reply", "request"]

    run = migrate(lab)
    assert run.rc == 0, run.stdout
    assert gw_mac(lab, ADDR) == NEW_MAC
    assert (holds(lab, "old", ADDR), holds(lab, "new", ADDR)) == (False, True)
    ran = order(run)
    assert ran.index("migrate_address__claimed") < ran.index("migrate_address__released")
    assert executed(run, "migrate_address__announced_again")
    assert not executed(run, "migrate_address__released_first")
    assert task(run, "migrate_address__verification")["macs"] == [GW_MAC]

    again = migrate(lab)
    assert again.rc == 0 and again.changed == 0, again.stdout
    assert not executed(again, "migrate_address__claimed")
    refresh = migrate(lab, migrate_address_refresh=True)
    assert refresh.rc == 0 and refresh.changed == 0
    assert task(refresh, "migrate_address__refreshed")["sent"] == 3

    ping.terminate()
    out = ping.communicate()[0]
    assert "bytes from 192.0.2.100" in out
    # The old host cannot win the address back: it no longer has it to send from.
    assert lab.run("old", ["ping", "-c1", "-W1", "-I", ADDR, "192.0.2.1"], check=False).returncode != 0
    assert lab.run("gw", ["ping", "-c1", "-W1", ADDR]).returncode == 0
    assert gw_mac(lab, ADDR) == NEW_MAC


def test_a_dead_old_host_does_not_stop_the_move(lab):
    ping = prober(lab, ADDR)
    subprocess.run(["ip", "netns", "del", lab.netns("old")], check=True)  # the old server is gone, its port too
    run = migrate(lab)
    assert run.rc == 0, run.stdout
    assert task(run, "migrate_address__old_ping").get("unreachable")
    assert not executed(run, "migrate_address__released")
    assert gw_mac(lab, ADDR) == NEW_MAC and holds(lab, "new", ADDR)
    ping.terminate()
    assert "bytes from 192.0.2.100" in ping.communicate()[0]


def test_a_duplicate_answering_host_is_refused_and_nothing_changes(lab):
    lab.run("other", ["ip", "addr", "add", f"{ADDR}/24", "dev", "eth0"])
    run = migrate(lab)
    assert run.rc != 0
    message = task(run, "migrate_address__duplicate_check")["msg"]
    assert OTHER_MAC in message and "nothing was changed" in message and OLD_MAC in message
    assert (holds(lab, "old", ADDR), holds(lab, "new", ADDR), gw_mac(lab, ADDR)) == (True, False, OLD_MAC)


def test_an_ipv6_address_moves_and_the_gateways_entry_is_overridden(lab):
    ping = prober(lab, ADDR6)
    run = migrate(lab, address=f"{ADDR6}/64", gateway="2001:db8::1")
    assert run.rc == 0, run.stdout
    assert gw_mac(lab, ADDR6) == NEW_MAC
    assert (holds(lab, "old", ADDR6), holds(lab, "new", ADDR6)) == (False, True)
    [info] = [a for a in lab.ip_json("new", "addr", "show", "dev", "eth0")[0]["addr_info"] if a["local"] == ADDR6]
    assert not info.get("tentative") and not info.get("dadfailed") and info.get("nodad")
    # The claim skipped duplicate detection for that address alone; the interface's setting was never touched.
    assert lab.run("new", ["sysctl", "-n", "net.ipv6.conf.eth0.accept_dad"]).stdout.strip() == "1"
    ping.terminate()
    assert "bytes from 2001:db8::100" in ping.communicate()[0]
    assert migrate(lab, address=f"{ADDR6}/64", gateway="2001:db8::1").changed == 0


def test_the_burst_converges_with_30_percent_of_arp_frames_dropped(lab):
    switch_rule(lab, "lossy", "ether type arp numgen random mod 100 < 30 counter drop")
    ping = prober(lab, ADDR)
    run = migrate(lab)
    assert run.rc == 0, run.stdout
    assert gw_mac(lab, ADDR) == NEW_MAC
    ping.terminate()
    ping.communicate()
    counters = lab.run("lan", ["nft", "list", "table", "bridge", "lossy"]).stdout
    assert "packets 0 " not in counters, counters  # frames were really dropped


def test_a_new_host_cut_off_from_the_gateway_is_refused_before_any_change(lab):
    switch_rule(lab, "cut", f"ether saddr {NEW_MAC} drop")
    run = migrate(lab)
    assert run.rc != 0
    assert "gets no answer from the gateway 192.0.2.1" in task(run, "migrate_address__gateway_check")["msg"]
    assert (holds(lab, "old", ADDR), holds(lab, "new", ADDR), gw_mac(lab, ADDR)) == (True, False, OLD_MAC)


def test_failed_verification_rolls_the_move_back(lab):
    # Like a switch's ARP inspection: the new host may speak for itself but not for the moved address.
    switch_rule(lab, "inspect", f"ether saddr {NEW_MAC} arp saddr ip {ADDR} drop")
    run = migrate(lab)
    assert run.rc != 0
    message = task(run, "migrate_address__failure")["msg"]
    assert "Verify" in message or "does not answer" in message
    assert "gave it back to old" in message
    assert (holds(lab, "old", ADDR), holds(lab, "new", ADDR)) == (True, False)
    assert gw_mac(lab, ADDR) == OLD_MAC
    assert lab.run("gw", ["ping", "-c1", "-W1", ADDR]).returncode == 0


def test_missing_hosts_fail_clearly_and_change_nothing(lab):
    run = run_playbook(PLAYBOOK, lab.inventory(python=sys.executable), extra_vars={"migrate_address_address": f"{ADDR}/24"})
    assert run.rc != 0
    assert "set migrate_address_to" in task(run, "migrate_address__hosts_check")["msg"]
    assert (holds(lab, "old", ADDR), holds(lab, "new", ADDR), gw_mac(lab, ADDR)) == (True, False, OLD_MAC)


def test_bad_variables_are_refused_before_any_change(lab):
    run = migrate(lab, migrate_address_order="sideways")
    assert run.rc != 0
    assert "migrate_address_order" in run.stdout and "sideways" in run.stdout
    run = migrate(lab, address="192.0.2.300/24")
    assert run.rc != 0
    assert "192.0.2.300" in run.stdout
    assert (holds(lab, "old", ADDR), holds(lab, "new", ADDR), gw_mac(lab, ADDR)) == (True, False, OLD_MAC)


def test_break_before_make_when_asked(lab):
    run = migrate(lab, migrate_address_order="break_before_make")
    assert run.rc == 0, run.stdout
    ran = order(run)
    assert ran.index("migrate_address__released_first") < ran.index("migrate_address__claimed")
    assert not executed(run, "migrate_address__released")
    assert (holds(lab, "old", ADDR), holds(lab, "new", ADDR), gw_mac(lab, ADDR)) == (False, True, NEW_MAC)
