# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""/proc/sys read and write, sysctl.d files read and rendered (_files writes them), and names with dots in them.

A sysctl is kept as its path components, ("net", "ipv4", "conf", "eth1.1234", "proxy_arp"), because the two spellings
differ: under /proc/sys it is net/ipv4/conf/eth1.1234/proxy_arp, while in sysctl.d files (dot-separated) the dots inside
a component become slashes: net.ipv4.conf.eth1/1234.proxy_arp.
"""

from __future__ import annotations

import os

PROC_SYS = "/proc/sys"


class SysctlError(Exception):
    """A refusal or failure, worded for the user."""


def sysctl_name(parts) -> str:
    """The dotted name sysctl(8) and sysctl.d(5) use; a dot inside a component is written as a slash."""
    return ".".join(part.replace(".", "/") for part in parts)


def parse_name(name: str) -> tuple:
    """Components of a sysctl name in either spelling (sysctl.d(5): if the first separator is a slash, dots are literal)."""
    name = name.strip()
    slash, dot = name.find("/"), name.find(".")
    if slash != -1 and (dot == -1 or slash < dot):
        return tuple(name.split("/"))
    return tuple(part.replace("/", ".") for part in name.split("."))


def proc_path(parts, root: str = PROC_SYS) -> str:
    return os.path.join(root, *parts)


def read_value(parts, root: str = PROC_SYS) -> str:
    with open(proc_path(parts, root), encoding="ascii") as handle:
        return handle.read().strip()


def write_value(parts, value, root: str = PROC_SYS) -> None:
    with open(proc_path(parts, root), "w", encoding="ascii") as handle:
        handle.write(f"{value}\n")


def as_number(text: str):
    """Sysctl values as the user wrote them in YAML: 1, not "1"."""
    try:
        return int(text)
    except ValueError:
        return text


# --- sysctl.d persistence --------------------------------------------------------------------------------------------

def read_conf(path: str) -> tuple[str | None, dict]:
    """The file's text (None when absent) and its settings by canonical name, in file order."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None, {}
    settings = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, value = line.lstrip("-").split("=", 1)
        settings[sysctl_name(parse_name(key))] = value.strip()
    return text, settings


def render_conf(settings: dict, header: str, first=()) -> str:
    """The file: a header, the keys named in `first` (forwarding) before the others, one `key = value` per line."""
    ordered = [k for k in first if k in settings] + [k for k in settings if k not in first]
    lines = [f"# {line}" for line in header.splitlines()] + [f"{key} = {settings[key]}" for key in ordered]
    return "\n".join(lines) + "\n"
