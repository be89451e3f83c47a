# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test support: layer2.linux.netns for a lab that lives inside the kernel tier's User-Mode Linux guest.

The controller runs on the host (tests/kernel/controller.py) and reaches the guest over SSH, as a real router is
managed; each command then enters the lab host's namespace with `ip netns exec`, as the netns connection does on the
controller. A host without a namespace (localhost) runs in the guest's own namespace. Everything else is Ansible's
ssh connection, whose options this plugin keeps.
"""

from __future__ import annotations

import shlex

import yaml
from ansible.plugins.connection.ssh import DOCUMENTATION as SSH_DOCUMENTATION
from ansible.plugins.connection.ssh import Connection as SshConnection


def _documentation() -> str:
    doc = yaml.safe_load(SSH_DOCUMENTATION)
    doc["name"] = "uml_netns"
    doc["short_description"] = "ssh into the kernel tier's UML guest, then into a lab host's network namespace"
    doc["options"]["netns_name"] = {"description": "The lab host's namespace in the guest; none runs in the guest's own.", "type": "str",
                                    "vars": [{"name": "ansible_netns_name"}]}
    return yaml.safe_dump(doc)


DOCUMENTATION = _documentation()


class Connection(SshConnection):
    transport = "uml_netns"

    def exec_command(self, cmd, in_data=None, sudoable=True):
        namespace = self.get_option("netns_name")
        if namespace:
            cmd = f"ip netns exec {shlex.quote(namespace)} {cmd}"
        return super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
