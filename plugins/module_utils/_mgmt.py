# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which address carries the current management connection, so a task never cuts the branch it sits on."""

from __future__ import annotations

import ipaddress
import os


def management_address(environ=None):
    """The managed node's own address of the SSH session running this task (SSH_CONNECTION's third field), or None."""
    return _ssh_connection_address(environ, 2)


def management_peer(environ=None):
    """The far end of the SSH session running this task (SSH_CONNECTION's first field: the controller, or a jump host), or None."""
    return _ssh_connection_address(environ, 0)


def _ssh_connection_address(environ, field: int):
    fields = (environ if environ is not None else os.environ).get("SSH_CONNECTION", "").split()
    if len(fields) < 3:
        return None
    try:
        # An IPv6 session may carry a zone ("fe80::1%eth0"); the zone is not part of the address.
        return ipaddress.ip_address(fields[field].split("%", 1)[0])
    except ValueError:
        return None


def carries_management(cidrs, environ=None):
    """The first of the CIDRs (or bare addresses) whose address is the management address, or None."""
    mgmt = management_address(environ)
    if mgmt is None:
        return None
    for cidr in cidrs:
        if ipaddress.ip_interface(cidr).ip == mgmt:
            return cidr
    return None


def refusal(what, cidr):
    """The message for a refused change: what would be cut, and how to do it anyway."""
    return (f"refusing to {what}: {cidr} carries the current management connection (SSH_CONNECTION); "
            "doing it would cut this session. Set force=true if another path reaches the host.")
