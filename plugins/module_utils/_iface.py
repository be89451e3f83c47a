# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An interface as every module sees it: its name checked by the kernel's rules, its MAC address read and written one
way, and whether it is Ethernet (so ARP and neighbour discovery apply to it).

Only the standard library and no other module of the collection: _rtnl prints the MACs of its dumps with mac_text.
"""

from __future__ import annotations

import re

ARPHRD_ETHER = 1  # include/uapi/linux/if_arp.h: the link type rtnetlink reports for Ethernet, veth, bridges, VLANs
ZERO_MAC = "00:00:00:00:00:00"
IFNAMSIZ = 16  # include/uapi/linux/if.h, the terminating NUL included: a name has at most 15 bytes

_HEX_PAIR = re.compile(r"[0-9a-f]{1,2}")
_CISCO = re.compile(r"[0-9a-f]{4}(\.[0-9a-f]{4})+")
_BARE = re.compile(r"[0-9a-f]+")


def _octets(text, count: int) -> bytes | None:
    """`count` bytes from '02:00:5e:00:00:01', '02-00-5E-00-00-01', '02.00.5e.00.00.01', '0200.5e00.0001' or '02005e000001'; None otherwise."""
    value = str(text).strip().lower()
    for separator in (":", "-", ".", " "):
        parts = value.split(separator)
        if len(parts) == count and all(_HEX_PAIR.fullmatch(p) for p in parts):
            return bytes(int(p, 16) for p in parts)
    digits = value.replace(".", "") if _CISCO.fullmatch(value) else value
    if len(digits) == 2 * count and _BARE.fullmatch(digits):
        return bytes.fromhex(digits)
    return None


def mac_bytes(text) -> bytes:
    """The six bytes of a MAC address in any usual spelling; ValueError in words otherwise."""
    raw = _octets(text, 6)
    if raw is None:
        raise ValueError(f"{text!r} is not a MAC address (six bytes such as 02:00:5e:00:00:01)")
    return raw


def mac_text(raw: bytes) -> str:
    """Bytes as the kernel prints them: lower-case hex pairs joined by colons."""
    return ":".join(f"{b:02x}" for b in raw)


def normalize_mac(text) -> str:
    return mac_text(mac_bytes(text))


def normalize_prefix(text) -> str:
    """A 24-bit MAC prefix (OUI) in any usual spelling -> 'b8:27:eb'; ValueError in words otherwise."""
    raw = _octets(text, 3)
    if raw is None:
        raise ValueError(f"{text!r} is not a MAC prefix (three octets such as b8:27:eb)")
    return mac_text(raw)


# The kernel's isspace() (lib/ctype.c): ASCII space and \t \n \v \f \r, and byte 0xa0 (Latin-1 no-break space), which
# UTF-8 puts inside characters such as U+00A0 and U+0120.
_KERNEL_SPACE = frozenset(b" \t\n\v\f\r\xa0")


def check_interface_name(name) -> str:
    """The name, when the kernel creates an interface with exactly that name (net/core/dev.c dev_valid_name and
    dev_get_valid_name: a '%' makes it a template, "eth%d" becomes eth0); ValueError in words otherwise."""
    if not isinstance(name, str) or not name:
        raise ValueError("an interface name is missing; give one such as eth1 or eth1.1234")
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) >= IFNAMSIZ:
        unit = "characters" if len(raw) == len(name) else "bytes"
        why = f"it is {len(raw)} {unit}; Linux allows at most {IFNAMSIZ - 1}, so give a shorter name"
    elif name in (".", ".."):
        why = "'.' and '..' name directories"
    elif "\0" in name:
        why = "it holds a NUL character, where the kernel would cut the name short"
    elif "%" in name:
        why = "it holds a '%', which the kernel reads as a template ('eth%d' becomes the first free eth0, eth1...)"
    elif "/" in name or ":" in name or any(c.isspace() for c in name) or _KERNEL_SPACE.intersection(raw):
        why = "it holds a '/', ':' or whitespace (for the kernel, also any character whose UTF-8 holds the byte 0xa0)"
    else:
        return name
    raise ValueError(f"{name!r} is not a Linux interface name (at most {IFNAMSIZ - 1} characters, fewer when some are not ASCII: "
                     f"the kernel counts {IFNAMSIZ - 1} bytes; no '/', ':', '%', whitespace or NUL; not '.' or '..'): {why}")


def is_ethernet(link: dict) -> bool:
    """Whether a link from the rtnetlink dump speaks Ethernet: link type ARPHRD_ETHER and a MAC address that is not all zeros
    (loopback, tunnels and WireGuard have other link types)."""
    return link.get("link_type") == ARPHRD_ETHER and link.get("mac") not in (None, ZERO_MAC)


def ethernet_link(links: dict, name, doing: str) -> dict:
    """The named link of a {name: link} dump when ARP and neighbour discovery can use it: a valid name, present, up,
    Ethernet. ValueError in words otherwise; `doing` ("scanning") says what it was wanted for."""
    check_interface_name(name)
    if name not in links:
        raise ValueError(f"interface {name!r} does not exist on this host (it has {', '.join(sorted(links))})")
    link = links[name]
    if not is_ethernet(link):
        raise ValueError(f"interface {name} has no Ethernet address (loopback or a layer-3 tunnel), so ARP and neighbour discovery do not apply")
    if not link["up"]:
        raise ValueError(f"interface {name} is down: bring it up before {doing} on it")
    return link
