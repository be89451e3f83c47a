# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # What every netlink module needs on the managed node; main() fails with missing_required_lib() otherwise.
    PYROUTE2 = r"""
requirements:
  - pyroute2 >= 0.7.10 on the managed node (Debian and Ubuntu package C(python3-pyroute2)).
  - Linux; the modules talk to the kernel over rtnetlink and C(/proc/sys), never through C(ip) or C(ifconfig).
# Ansible refuses a fragment with neither options nor attributes.
options: {}
"""

    # The ARP modules read links over rtnetlink and send on AF_PACKET with the standard library: no pyroute2 import to pay.
    RAW_SOCKETS = r"""
requirements:
  - Linux; the module reads interfaces, addresses and routes over rtnetlink and sends on an C(AF_PACKET) socket, with the
    Python standard library only (no pyroute2, so it starts fast).
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
