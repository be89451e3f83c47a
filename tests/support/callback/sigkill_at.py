# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: ansible-playbook sends itself SIGKILL when the task named by $LAYER2_SIGKILL_AT starts (fault tests)."""

from __future__ import annotations

import os
import signal

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: sigkill_at
type: aggregate
short_description: kill ansible-playbook at the start of a named task, for fault tests
description:
  - When the task whose name is LAYER2_SIGKILL_AT starts, ansible-playbook sends itself SIGKILL, as an operator's kill -9
    or a lost controller would end it; no later task, handler or callback runs.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "sigkill_at"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_task_start(self, task, is_conditional):
        if task.name == os.environ.get("LAYER2_SIGKILL_AT"):
            os.kill(os.getpid(), signal.SIGKILL)
