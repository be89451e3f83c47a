# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_mgmt: the address the management connection (SSH) arrives on, which a task must not remove."""

from __future__ import annotations

from ansible_collections.layer2.linux.plugins.module_utils._mgmt import carries_management, management_address


def test_management_address_is_the_server_side_of_ssh_connection():
    env = {"SSH_CONNECTION": "198.51.100.4 50022 192.0.2.10 22"}
    assert str(management_address(env)) == "192.0.2.10"
    assert carries_management(["192.0.2.11/24", "192.0.2.10/24"], env) == "192.0.2.10/24"
    assert carries_management(["192.0.2.11/24"], env) is None
    assert management_address({}) is None and management_address({"SSH_CONNECTION": "garbage"}) is None
    assert str(management_address({"SSH_CONNECTION": "fe80::2%eth0 1 fe80::1%eth0 22"})) == "fe80::1"
