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
  - A temporary file that an earlier run, killed between writing and renaming, left next to a listed file
    (C(.NAME.) and eight characters) is removed too, and listed in RV(removed).
  - Every path and mode is checked before the first file is written. Should writing still fail part way (a full disk),
    the task fails, nothing is rolled back, and RV(written), RV(modes_fixed) and RV(removed) list only what was done.
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
        description:
          - Absolute path of the file; missing parent directories are created (mode 0755).
          - It must be a regular file or not exist yet. A directory, device, FIFO or socket at the path, a parent that is
            a file, a path longer than Linux allows, a NUL character or a directory this user cannot write is refused
            before any file of the task is written. The path is looked at, never opened, so a FIFO cannot hang the task.
        type: path
        required: true
      content:
        description: The whole content of the file.
        type: str
        required: true
      mode:
        description:
          - Permissions, as a quoted octal string of three or four digits, with or without a leading zero (C("0644"), C("644"), C("2750")).
          - Anything else is refused, unlike P(ansible.builtin.file#module) which takes numbers and symbolic modes, because YAML reads an
            unquoted C(644) as the decimal number 644 (octal 1204), and C(true) would be mode 0001.
        type: raw
        default: "0644"
      validate:
        description:
          - A command that checks the new content before anything is written, C(%s) standing for a temporary file holding it
            (as in P(ansible.builtin.template#module)), such as C(dnsmasq --test --conf-file=%s) or C(nft -c -f %s).
          - Run only for a file whose content differs, in check mode too. When it exits non-zero the task fails naming the
            file, in the command's words, and no file of the task is written.
          - A command that is not installed fails the task, except in check mode (where the dependencies may not be
            installed yet), which warns and leaves the check out.
        type: str
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
  description: Files whose content was (or, in check mode, would be) written; when the task fails part way, only those written.
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
validated:
  description: Files whose new content their O(files[].validate) command accepted.
  returned: always
  type: list
  elements: str
  sample: [/etc/dnsmasq.d/layer2-vlan-router.conf]
removed:
  description: Files matching a purge pattern that were (or would be) removed.
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/network/60-layer2-vlan-router-eth1.1235.netdev]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.layer2.linux.plugins.module_utils._config_files import ConfigFilesError, Plan, apply, plan, validate
from ansible_collections.layer2.linux.plugins.module_utils._errors import failing_in_words, os_error_words


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
                    "validate": {"type": "str"},
                },
            },
            "purge": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )

    def run(argv):
        # handle_exceptions=False: a command that is not installed raises FileNotFoundError, which validate() words
        return module.run_command(argv, handle_exceptions=False)

    with failing_in_words(module, ConfigFilesError, doing="reading the configuration files"):
        todo = plan(module.params["files"], module.params["purge"])
        validated, warnings = validate(todo, module.params["files"], run, module.check_mode)
    for warning in warnings:
        module.warn(warning)
    result = {
        "changed": todo.changed,
        "written": [path for path, _content, _mode in todo.write],
        "validated": validated,
        "modes_fixed": [path for path, _mode in todo.chmod],
        "removed": list(todo.remove),
    }
    if module._diff:
        result["diff"] = todo.diff
    if todo.changed and not module.check_mode:
        done = Plan()
        try:
            apply(todo, done)
        except OSError as exc:
            made = {"written": [path for path, _content, _mode in done.write], "modes_fixed": [path for path, _mode in done.chmod],
                    "removed": list(done.remove)}
            count = sum(len(v) for v in made.values())
            module.fail_json(msg=f"{os_error_words(exc, 'writing the configuration files')}; the {count} changes before it were made and "
                                 f"are listed under written, modes_fixed and removed, nothing was rolled back", **{**result, **made})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
