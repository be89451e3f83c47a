# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One way for every module's main() to end a failed task with fail_json in words, never a traceback."""

from __future__ import annotations

import errno
from contextlib import contextmanager

from ansible_collections.layer2.linux.plugins.module_utils._rtnl import RtnlError

NEEDS_ROOT = (errno.EPERM, errno.EACCES)


@contextmanager
def failing_in_words(module, *refusals, doing: str = "talking to the kernel", **facts):
    """Run a module's work; its own refusals, a kernel refusal (RtnlError) or a socket or file error (OSError) end it with fail_json.

        with failing_in_words(module, AddressError, doing=f"changing the addresses of {interface}", interface=interface):
            result = ensure_addresses(...)

    facts go into the failed result as they are.
    """
    try:
        yield
    except refusals as exc:
        module.fail_json(msg=str(exc), **facts)
    except RtnlError as exc:
        module.fail_json(msg=f"{doing} failed, the kernel refused: {exc}", errno=errno.errorcode.get(exc.code, exc.code), **facts)
    except OSError as exc:
        module.fail_json(msg=os_error_words(exc, doing), errno=errno.errorcode.get(exc.errno, exc.errno), **facts)


def os_error_words(exc: OSError, doing: str) -> str:
    """'talking to the kernel failed: Operation not permitted (EPERM); run it as root (become: true) ...' from an OSError."""
    name = errno.errorcode.get(exc.errno, exc.errno)
    where = f" ({exc.filename})" if exc.filename else ""
    text = f"{doing} failed{where}: {exc.strerror or exc} ({name})"
    if exc.errno in NEEDS_ROOT:
        text += "; run it as root (become: true) or with the CAP_NET_ADMIN and CAP_NET_RAW capabilities"
    return text
