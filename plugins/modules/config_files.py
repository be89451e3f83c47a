#!/usr/bin/python
# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: config_files
short_description: Write a set of small configuration files atomically in one task, and purge strays
version_added: 0.1.0
description:
  - Makes each listed file have exactly the given content and mode; only differing files are written, each
    through a temporary file in the same directory renamed over the old one, so a reader never sees half a file.
  - Files matching a O(purge) pattern that are not listed are removed (a VLAN taken out of a router's list
    takes its systemd-networkd files with it).
  - One task handles hundreds of files in a single remote call, where a loop of P(ansible.builtin.template#module)
    tasks pays one round trip per file. The C(layer2.linux.vlan_router) role renders its templates on the controller
    and hands the results to this module.
author:
  - layer2.linux contributors (@layer2-linux)
extends_documentation_fragment:
  - layer2.linux.requirements.ATTRIBUTES
options:
  files:
    description: The files to hold, with their content.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the file; missing parent directories are created (mode 0755).
        type: path
        required: true
      content:
        description: The whole content of the file.
        type: str
        required: true
      mode:
        description: Permissions, as an octal string.
        type: raw
        default: "0644"
  purge:
    description: Absolute glob patterns; a regular file matching one of them and not listed in O(files) is removed.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Persist two VLANs for systemd-networkd
  layer2.linux.config_files:
    files:
      - path: /etc/systemd/network/60-layer2-vlan-router-eth1.1234.netdev
        content: |
          [NetDev]
          Name=eth1.1234
          Kind=vlan

          [VLAN]
          Id=1234
      - path: /etc/modules-load.d/layer2-vlan-router.conf
        content: "8021q\n"
    purge:
      - /etc/systemd/network/60-layer2-vlan-router-*
"""

RETURN = r"""
written:
  description: Files whose content was (or, in check mode, would be) written.
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/network/60-layer2-vlan-router-eth1.1234.netdev]
modes_fixed:
  description: Files whose content was right but whose mode was (or would be) corrected.
  returned: always
  type: list
  elements: str
  sample: []
removed:
  description: Files matching a purge pattern that were (or would be) removed.
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/network/60-layer2-vlan-router-eth1.1235.netdev]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.layer2.linux.plugins.module_utils._config_files import ConfigFilesError, apply, plan
from ansible_collections.layer2.linux.plugins.module_utils._errors import failing_in_words


def main():
    module = AnsibleModule(
        argument_spec={
            "files": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "path": {"type": "path", "required": True},
                    "content": {"type": "str", "required": True},
                    "mode": {"type": "raw", "default": "0644"},
                },
            },
            "purge": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    with failing_in_words(module, ConfigFilesError, doing="reading the configuration files"):
        todo = plan(module.params["files"], module.params["purge"])
    result = {
        "changed": todo.changed,
        "written": [path for path, _content, _mode in todo.write],
        "modes_fixed": [path for path, _mode in todo.chmod],
        "removed": list(todo.remove),
    }
    if module._diff:
        result["diff"] = todo.diff
    if todo.changed and not module.check_mode:
        try:
            apply(todo)
        except OSError as exc:
            module.fail_json(msg=f"could not write the configuration files: {exc}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
