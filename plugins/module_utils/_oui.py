# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MAC prefixes (read by _iface, the one MAC parser): telling a Raspberry Pi by its prefix, and the vendor name from the IEEE registry.

Vendor names come from netaddr, which ships the IEEE MA-L registry; the Raspberry Pi prefixes are our own
data (_raspberry_pi_ouis) so that "is it a Pi" never depends on how a registry spells a company name.
"""

from __future__ import annotations

import importlib.util
import threading

from ansible_collections.layer2.linux.plugins.module_utils._iface import normalize_mac, normalize_prefix
from ansible_collections.layer2.linux.plugins.module_utils._raspberry_pi_ouis import RASPBERRY_PI_OUIS

# netaddr is imported only when a vendor name is wanted: importing it costs 17 ms, a tenth of a quick scan's start.
# Without it vendor names become None; Pi detection still works.
HAS_NETADDR = importlib.util.find_spec("netaddr") is not None


def prefix_of(mac: str) -> str:
    return normalize_mac(mac)[:8]


class OuiClassifier:
    """Answers 'which vendor' and 'is it one of ours' for MAC addresses, with a per-prefix cache."""

    def __init__(self, pi_prefixes=None):
        chosen = RASPBERRY_PI_OUIS if pi_prefixes is None else pi_prefixes
        self.pi_prefixes = frozenset(normalize_prefix(p) for p in chosen)
        self._vendors: dict[str, str | None] = {}

    @staticmethod
    def load_registry_in_background() -> None:
        """Read the IEEE registry (about 60 ms of Python) in a thread, for a caller about to wait on the network;
        vendor() then finds it loaded, or waits on Python's import lock until it is. Loading it twice costs nothing."""
        if HAS_NETADDR:
            threading.Thread(target=importlib.import_module, args=("netaddr.eui.ieee",), daemon=True).start()

    def is_raspberry_pi(self, mac: str) -> bool:
        return prefix_of(mac) in self.pi_prefixes

    def vendor(self, mac: str) -> str | None:
        prefix = prefix_of(mac)
        if prefix not in self._vendors:
            self._vendors[prefix] = registry_vendor(mac) or RASPBERRY_PI_OUIS.get(prefix)
        return self._vendors[prefix]


def registry_vendor(mac: str) -> str | None:
    """The organisation the IEEE registry lists for a MAC's prefix; None when unregistered, local, or netaddr is absent."""
    if not HAS_NETADDR:
        return None
    from netaddr import EUI, NotRegisteredError  # pylint: disable=import-outside-toplevel

    try:
        return EUI(normalize_mac(mac)).oui.registration().org.strip() or None
    except (NotRegisteredError, IndexError, ValueError):
        return None
