# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nftables.service's file per distribution family: where the role's include line lands, and that it lands once.

On the firewall test's stand-ins (test_vlan_router_firewall.py), the role's firewall entry point with a scratch
vlan_router_root. The family is given as the facts a play would have gathered: `ansible_facts` as an extra variable
(the role reads `ansible_facts.os_family`), which the plays here see instead of facts they do not gather.
"""

from __future__ import annotations

import stat

import pytest

from tests.integration.test_vlan_router_firewall import FILTER, NAT, firewall, tables
from tests.integration.test_vlan_router_firewall import spec as firewall_spec

INCLUDE = 'include "/etc/nftables.d/layer2-vlan-router.nft"\n'
# /etc/nftables.conf as Debian's nftables package ships it (bookworm, nftables 1.0.6; dpkg's md5 4d4241fcd44b9a69b74f69d571f35a20), mode 0755.
DEBIAN_STOCK = """#!/usr/sbin/nft -f

flush ruleset

table inet filter {
\tchain input {
\t\ttype filter hook input priority filter;
\t}
\tchain forward {
\t\ttype filter hook forward priority filter;
\t}
\tchain output {
\t\ttype filter hook output priority filter;
\t}
}
"""


def family(name: str) -> dict:
    return {"ansible_facts": {"os_family": name}}


@pytest.fixture
def router(make_lab, tmp_path):
    return make_lab(firewall_spec()), tmp_path


def test_red_hat_gets_the_include_in_sysconfig_created_with_its_directory(router):
    lab, root = router
    first = firewall(lab, root, **family("RedHat"))
    assert first.task("__vlan_router_nft_include_result", by="register")["changed"]
    assert (root / "etc/sysconfig/nftables.conf").read_text() == INCLUDE
    assert not (root / "etc/nftables.conf").exists()
    assert sorted(tables(lab)) == sorted([FILTER, NAT])
    again = firewall(lab, root, **family("RedHat"))
    assert again.changed == 0, again.stdout
    assert (root / "etc/sysconfig/nftables.conf").read_text() == INCLUDE


def test_debian_stock_file_gets_the_line_appended_once(router):
    lab, root = router
    conf = root / "etc/nftables.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(DEBIAN_STOCK)
    conf.chmod(0o755)
    first = firewall(lab, root, **family("Debian"))
    assert first.task("__vlan_router_nft_include_result", by="register")["changed"]
    again = firewall(lab, root, **family("Debian"))
    assert again.changed == 0, again.stdout
    assert conf.read_text() == DEBIAN_STOCK + INCLUDE  # the stock ruleset kept, the line once at the end
    assert stat.S_IMODE(conf.stat().st_mode) == 0o755 and not (root / "etc/sysconfig").exists()
