# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The modules that change links and addresses speak rtnetlink with the standard library (module_utils/_rtnl.py).
    NETLINK = r"""
requirements:
  - Linux; the module talks to the kernel over rtnetlink with the Python standard library only, never through C(ip) or
    C(ifconfig). No Python package is needed on the managed node.
  - root or the C(CAP_NET_ADMIN) capability, to change links and addresses.
# Ansible refuses a fragment with neither options nor attributes.
options: {}
"""

    # The ARP modules read links over rtnetlink and send on AF_PACKET with the standard library: no third-party import to pay.
    RAW_SOCKETS = r"""
requirements:
  - Linux; the module reads interfaces, addresses and routes over rtnetlink and sends on an C(AF_PACKET) socket, with the
    Python standard library only (no Python package is needed, so it starts fast).
  - root or the C(CAP_NET_RAW) capability, to send and receive raw frames.
options: {}
"""

    # Check mode, diff and idempotence support, declared once; a module overrides `support` where it differs
    # (Ansible merges a module's attributes into the fragment's, attribute by attribute).
    ATTRIBUTES = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
"""
