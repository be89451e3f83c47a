# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ip_address is all or nothing (issue 18): when the kernel refuses one change of the batch, the others are undone."""

from __future__ import annotations

import errno
import ipaddress

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _ip_address
from ansible_collections.layer2.linux.plugins.module_utils import _rtnl as rt
from ansible_collections.layer2.linux.plugins.module_utils._address_plan import AddressError


class FakeKernel:
    """Holds addresses; refuses adding any address in `refuse`; records every batch."""

    def __init__(self, held, refuse=()):
        self.held, self.refuse, self.batches = [ipaddress.ip_interface(h) for h in held], {ipaddress.ip_interface(r) for r in refuse}, []

    def batch(self, requests):
        self.batches.append(requests)
        return [self._one(kind, cidr) for kind, cidr in requests]

    def _one(self, kind, cidr):
        if kind == rt.RTM_NEWADDR and cidr in self.refuse:
            return rt.RtnlError(errno.EINVAL, "refused for the test")
        (self.held.append if kind == rt.RTM_NEWADDR else self.held.remove)(cidr)
        return None

    def addresses(self, index):
        return [{"cidr": str(h), "index": index} for h in self.held]


@pytest.fixture(autouse=True)
def plain_requests(monkeypatch):
    monkeypatch.setattr(rt, "address_change", lambda kind, index, cidr, nodad=False: (kind, cidr))


def test_a_refused_change_undoes_the_others_and_says_so():
    kernel = FakeKernel(["192.0.2.10/24"], refuse=["2001:db8::9/64"])
    remove, add = [ipaddress.ip_interface("192.0.2.10/24")], [ipaddress.ip_interface("192.0.2.11/24"), ipaddress.ip_interface("2001:db8::9/64")]
    with pytest.raises(AddressError) as refused:
        _ip_address.apply(kernel, "eth0", 2, remove, add)
    assert str(refused.value) == ("the kernel refused adding 2001:db8::9/64 on eth0: refused for the test (EINVAL); "
                                  "the 2 other changes were undone, so nothing was changed")
    assert kernel.held == [ipaddress.ip_interface("192.0.2.10/24")]


def test_nothing_made_means_nothing_to_undo():
    kernel = FakeKernel([], refuse=["2001:db8::9/64"])
    with pytest.raises(AddressError, match="; nothing was changed$"):
        _ip_address.apply(kernel, "eth0", 2, [], [ipaddress.ip_interface("2001:db8::9/64")])
    assert len(kernel.batches) == 1
