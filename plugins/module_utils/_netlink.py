# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pyroute2 access: links and addresses read as plain data (dicts, lists, strings) the modules can compare."""

from __future__ import annotations

import errno
import os
import socket
import traceback
from contextlib import contextmanager

try:
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    HAS_PYROUTE2 = True
    PYROUTE2_TRACEBACK = None
except ImportError:  # reported by the module through missing_required_lib()
    HAS_PYROUTE2 = False
    PYROUTE2_TRACEBACK = traceback.format_exc()

    class NetlinkError(Exception):
        """Stands in for pyroute2's error so `except NetlinkError` still parses without pyroute2."""


@contextmanager
def netlink_session(netns: str | None = None):
    """One rtnetlink socket for a whole task, closed whatever happens; optionally in a named namespace.

    pyroute2 0.9 creates a namespace that does not exist (a typo becomes an empty namespace) unless flags=0:
    with flags=0 a missing namespace raises FileNotFoundError instead.
    """
    ipr = IPRoute(netns=netns, flags=0) if netns else IPRoute()
    try:
        yield ipr
    finally:
        ipr.close()


def link_facts(msg) -> dict:
    """The fields of an RTM_NEWLINK message a user reads (as `ip link` shows them)."""
    return {
        "name": msg.get("ifname"),
        "index": msg["index"],
        "mac": msg.get("address"),
        "mtu": msg.get("mtu"),
        "operstate": msg.get("operstate"),
        "kind": msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND"),
        "up": bool(msg["flags"] & 1),  # IFF_UP
    }


def links(ipr) -> dict[str, dict]:
    """Every link of the namespace by name."""
    return {facts["name"]: facts for facts in map(link_facts, ipr.get_links())}


def addresses(ipr, index: int | None = None) -> list[dict]:
    """Addresses (as CIDR strings, with family and interface index), optionally of one interface."""
    found = []
    for msg in ipr.get_addr(index=index) if index is not None else ipr.get_addr():
        found.append(
            {
                # IFA_LOCAL is the address itself on IPv4 (IFA_ADDRESS is the peer on point-to-point links).
                "cidr": f"{msg.get('IFA_LOCAL') or msg.get('IFA_ADDRESS')}/{msg['prefixlen']}",
                "family": "ipv6" if msg["family"] == socket.AF_INET6 else "ipv4",
                "index": msg["index"],
            }
        )
    return found


def kernel_says(exc) -> str:
    """A netlink error in the kernel's words ("File exists (EEXIST)"), not pyroute2's tuple."""
    code = getattr(exc, "code", None)
    if isinstance(exc, NetlinkError) and isinstance(code, int) and code > 0:
        return f"{os.strerror(code)} ({errno.errorcode.get(code, code)})"
    return str(exc)
