# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPv4/IPv6 forwarding and per-interface proxy ARP/NDP through /proc/sys, forwarding first, optionally persisted."""

from __future__ import annotations

import os

from ansible_collections.layer2.linux.plugins.module_utils._files import check_target, write_atomically
from ansible_collections.layer2.linux.plugins.module_utils._iface import check_interface_name
from ansible_collections.layer2.linux.plugins.module_utils._sysctl import (
    PROC_SYS,
    SysctlError,
    as_number,
    proc_path,
    read_conf,
    read_value,
    render_conf,
    sysctl_name,
    write_value,
)

IPV4_FORWARD = ("net", "ipv4", "ip_forward")
IPV6_FORWARD = ("net", "ipv6", "conf", "all", "forwarding")
FORWARDING_NAMES = (sysctl_name(IPV4_FORWARD), sysctl_name(IPV6_FORWARD))
PER_INTERFACE = {
    "proxy_arp": ("net", "ipv4", "conf"),
    "proxy_arp_pvlan": ("net", "ipv4", "conf"),
    "proxy_ndp": ("net", "ipv6", "conf"),
}
HEADER = ("Written by the layer2.linux.ip_forwarding Ansible module; changes here may be overwritten.\n"
          "Forwarding comes first: the kernel resets per-interface values when forwarding flips.")


def wanted_settings(ipv4_forwarding=None, ipv6_forwarding=None, interfaces=()) -> list[tuple[tuple, int]]:
    """(sysctl components, 0 or 1) in the order they must be written: forwarding, then each interface's values."""
    settings = []
    for parts, flag in ((IPV4_FORWARD, ipv4_forwarding), (IPV6_FORWARD, ipv6_forwarding)):
        if flag is not None:
            settings.append((parts, int(bool(flag))))
    seen = set()
    for entry in interfaces or []:
        name = _interface_name(entry.get("name"))
        if name in seen:
            raise SysctlError(f"interface {name} is listed twice under interfaces; give each interface once")
        seen.add(name)
        for option, prefix in PER_INTERFACE.items():
            if entry.get(option) is not None:
                settings.append((prefix + (name, option), int(bool(entry[option]))))
    return settings


def _interface_name(name) -> str:
    if not name or not isinstance(name, str):
        raise SysctlError("every entry of interfaces needs a name, such as eth1 or eth1.1234")
    try:
        return check_interface_name(name)
    except ValueError as exc:
        raise SysctlError(str(exc)) from None


def read_all(settings, root: str = PROC_SYS) -> dict:
    """Current values by sysctl name; a missing interface or disabled IPv6 is refused with what is missing."""
    values = {}
    for parts, _value in settings:
        path = proc_path(parts, root)
        if not os.path.exists(path):
            raise SysctlError(missing_reason(parts, root))
        values[sysctl_name(parts)] = as_number(read_value(parts, root))
    return values


def missing_reason(parts, root: str) -> str:
    if parts[1] == "ipv6" and not os.path.isdir(os.path.join(root, "net", "ipv6")):
        return "IPv6 is disabled on this host (no /proc/sys/net/ipv6), so IPv6 forwarding and proxy_ndp cannot be set"
    if parts[2] == "conf" and parts[3] not in ("all", "default"):
        return f"interface {parts[3]} does not exist on this host (no {proc_path(parts[:4], '/proc/sys')})"
    return f"this kernel has no {sysctl_name(parts)} ({proc_path(parts, '/proc/sys')} is missing)"


def apply(settings, root: str = PROC_SYS) -> None:
    """Write what differs, forwarding first, re-reading each value just before writing it (a flip may have reset it)."""
    for parts, value in settings:
        if as_number(read_value(parts, root)) != value:
            try:
                write_value(parts, value, root)
            except OSError as exc:
                raise SysctlError(f"could not set {sysctl_name(parts)} = {value}: {exc.strerror} (writing {proc_path(parts, '/proc/sys')})") from None


def ensure_forwarding(ipv4_forwarding=None, ipv6_forwarding=None, interfaces=(), persist=False,
                      persist_path="/etc/sysctl.d/90-layer2-linux.conf", check_mode=False, root: str = PROC_SYS,
                      persist_exclusive=False) -> dict:
    """The whole task: validate and read everything first, then write (not in check mode), read back, persist."""
    settings = wanted_settings(ipv4_forwarding, ipv6_forwarding, interfaces)
    if persist:
        checked_persist_path(persist_path)
    before = read_all(settings, root)
    wanted = {sysctl_name(parts): value for parts, value in settings}
    file_before, file_after = planned_file(persist_path, wanted, persist_exclusive) if persist else (None, None)
    file_changed = persist and file_before != file_after
    if check_mode:
        after = dict(wanted)
    else:
        try:
            apply(settings, root)
            after = read_all(settings, root)
            refused = {k: v for k, v in after.items() if v != wanted[k]}
            if refused:
                raise SysctlError("the kernel did not keep " + ", ".join(f"{k} = {wanted[k]} (reads {v})" for k, v in refused.items()))
            if file_changed:
                try:
                    write_atomically(persist_path, file_after)
                except OSError as exc:
                    raise SysctlError(f"persist_path {persist_path} could not be written: {exc.strerror}") from None
        except SysctlError as exc:  # all or nothing: a task that fails leaves the kernel as it found it
            raise SysctlError(f"{exc}; the kernel values were {undo(settings, before, root)}") from None
    return result(before, after, persist, persist_path, file_before, file_after)


def checked_persist_path(path) -> None:
    """The sysctl.d file, refused before anything is set: absolute, a regular file or absent, in a writable directory."""
    try:
        check_target(path, "persist_path")
    except ValueError as exc:
        raise SysctlError(str(exc)) from None


def undo(settings, before: dict, root: str) -> str:
    """Put the values of `before` back, forwarding first as always; says how that went, for the failure message."""
    try:
        apply([(parts, before[sysctl_name(parts)]) for parts, _value in settings], root)
    except SysctlError as exc:
        return f"set and could not all be put back: {exc}"
    return "put back as they were; nothing was changed"


def planned_file(path: str, wanted: dict, exclusive: bool = False) -> tuple[str | None, str]:
    """The persistence file's current text and the text it should have: its settings updated with this task's,
    or (exclusive) this task's alone, so a file the task owns loses the lines of interfaces no longer given."""
    try:
        text, settings = read_conf(path)
    except UnicodeDecodeError:
        raise SysctlError(f"persist_path {path} is not UTF-8 text, so it is no sysctl.d file this module can keep the lines of; "
                          "name another file, or fix or remove this one") from None
    if exclusive:
        settings = {}
    settings.update({k: str(v) for k, v in wanted.items()})
    return text, render_conf(settings, HEADER, first=FORWARDING_NAMES)


def result(before, after, persist, persist_path, file_before, file_after) -> dict:
    changed_values = before != after
    diff = [{"before_header": "sysctl", "after_header": "sysctl", "before": _lines(before), "after": _lines(after)}]
    if persist:
        diff.append({"before_header": persist_path, "after_header": persist_path, "before": file_before or "", "after": file_after})
    return {
        "changed": changed_values or (persist and file_before != file_after),
        "before": before,
        "after": after,
        "persist_path": persist_path if persist else None,
        "persist_changed": bool(persist and file_before != file_after),
        "diff": diff,
    }


def _lines(values: dict) -> str:
    return "".join(f"{k} = {v}\n" for k, v in values.items())
