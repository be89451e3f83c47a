# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: netns
short_description: Run tasks inside a Linux network namespace on the controller
version_added: 0.1.0
description:
  - Runs commands and modules on the controller, inside a named network namespace, as C(ip netns exec) does.
  - The task sees only that namespace's interfaces, addresses, routes, neighbours and C(/proc/sys/net) values,
    and C(/sys/class/net) is remounted for it, so gathered facts describe the namespace and not the host.
  - Files are copied as with the local connection; the namespace shares the controller's file system.
  - Meant for labs, tests and demos where each host of a topology is a namespace.
author:
  - layer2.linux contributors (@layer2)
requirements:
  - C(ip) from iproute2 on the controller.
  - root (or CAP_SYS_ADMIN) on the controller, to enter the namespace.
options:
  netns_name:
    description:
      - Name of the network namespace, as listed by C(ip netns list) (a file under C(/run/netns)).
      - Defaults to the inventory host name (or C(ansible_host)).
    type: str
    vars:
      - name: ansible_netns_name
  remote_addr:
    description: The host address; used as the namespace name when O(netns_name) is not set.
    type: str
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
notes:
  - The namespace must exist before the play; this plugin never creates one (a mistyped name fails instead of
    silently creating an empty namespace).
"""

EXAMPLES = r"""
# inventory.yml: each lab host is a namespace
# all:
#   hosts:
#     gw:
#       ansible_connection: layer2.linux.netns
#       ansible_netns_name: lab-gw
#     pi1:
#       ansible_connection: layer2.linux.netns
#       ansible_netns_name: lab-pi1

- name: Show the addresses the namespace sees
  hosts: all
  gather_facts: true
  tasks:
    - name: Print the interfaces of this namespace
      ansible.builtin.debug:
        var: ansible_facts.interfaces
"""

import os
import shlex

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.connection.local import Connection as LocalConnection

NETNS_DIR = "/run/netns"


class Connection(LocalConnection):
    """The local connection, with every command run through `ip netns exec NAME`."""

    transport = "layer2.linux.netns"

    def _namespace(self) -> str:
        name = self.get_option("netns_name") or self.get_option("remote_addr")
        if not name or "/" in name or name in (".", ".."):
            raise AnsibleConnectionFailure(f"netns: {name!r} is not a network namespace name")
        if not os.path.exists(os.path.join(NETNS_DIR, name)):
            raise AnsibleConnectionFailure(f"netns: network namespace {name!r} does not exist (see `ip netns list`)")
        return name

    def _connect(self):
        self._netns = self._namespace()
        return super()._connect()

    def exec_command(self, cmd, in_data=None, sudoable=True):
        if not getattr(self, "_netns", None):
            self._connect()
        # `ip netns exec` also gives the command a /sys for the namespace, so facts list its interfaces only.
        wrapped = f"ip netns exec {shlex.quote(self._netns)} {cmd}"
        return super().exec_command(wrapped, in_data=in_data, sudoable=sudoable)
