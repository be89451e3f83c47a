# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ip_address and ip_route refuse a name Linux cannot give an interface with _iface's words, before any socket is opened."""

from __future__ import annotations

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _ip_address, _route
from ansible_collections.layer2.linux.plugins.module_utils import _rtnl as rt
from ansible_collections.layer2.linux.plugins.module_utils._address_plan import AddressError
from ansible_collections.layer2.linux.plugins.module_utils._iface import check_interface_name

BAD = ["eth0.1234567890123", "eth0:1", "eth/1", "eth 1", ".."]


def words(name) -> str:
    with pytest.raises(ValueError) as refused:
        check_interface_name(name)
    return str(refused.value)


@pytest.fixture
def no_socket(monkeypatch):
    def refuse():
        raise AssertionError("a socket was opened for a name no interface can have")
    monkeypatch.setattr(rt, "Rtnl", refuse)


@pytest.mark.parametrize("name", BAD)
def test_ip_address_refuses_the_name_in_ifaces_words(name, no_socket):
    with pytest.raises(AddressError) as refused:
        _ip_address.ensure_addresses(name, ["192.0.2.10/24"])
    assert str(refused.value) == words(name)


@pytest.mark.parametrize("name", BAD)
@pytest.mark.parametrize("state", ["present", "absent"])
def test_ip_route_refuses_the_dev_by_route_in_ifaces_words(name, state, no_socket):
    with pytest.raises(_route.RouteError) as refused:
        _route.desired([{"dst": "198.51.100.0/24", "dev": name, "state": state}], {"eth0": {"index": 2}})
    assert str(refused.value) == f"routes[0] (198.51.100.0/24): {words(name)}"


def test_ip_route_refuses_a_purge_interface_in_ifaces_words():
    with pytest.raises(_route.RouteError) as refused:
        _route.purge_scope({"interfaces": ["eth0", "eth0:1"]}, [])
    assert str(refused.value) == f"purge.interfaces: {words('eth0:1')}"
