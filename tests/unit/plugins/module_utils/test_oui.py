# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MAC prefixes: the shipped Raspberry Pi data, normalising, and vendor names from netaddr's IEEE registry."""

from __future__ import annotations

import pytest
from ansible_collections.layer2.linux.plugins.module_utils import _raspberry_pi_ouis
from ansible_collections.layer2.linux.plugins.module_utils._oui import OuiClassifier, normalize_prefix, registry_vendor


def test_the_shipped_pi_prefixes_have_a_source_and_match_the_registry():
    assert sorted(_raspberry_pi_ouis.RASPBERRY_PI_OUIS) == sorted(["b8:27:eb", "dc:a6:32", "e4:5f:01", "28:cd:c1", "d8:3a:dd", "2c:cf:67", "88:a2:9e"])
    assert "ieee" in _raspberry_pi_ouis.SOURCE.lower() and _raspberry_pi_ouis.CHECKED
    assert set(_raspberry_pi_ouis.SOURCES) == set(_raspberry_pi_ouis.RASPBERRY_PI_OUIS)
    for prefix, organisation in _raspberry_pi_ouis.RASPBERRY_PI_OUIS.items():
        assert "ieee" in _raspberry_pi_ouis.SOURCES[prefix].lower()
        # netaddr 1.3.0 predates 88:a2:9e (2025): there the registry knows nothing, and our data gives the name
        assert registry_vendor(prefix + ":00:00:01") in ({organisation, None} if prefix == "88:a2:9e" else {organisation})


def test_a_prefix_the_registry_lacks_gets_its_name_from_our_data():
    oui = OuiClassifier()
    assert oui.is_raspberry_pi("88:A2:9E:01:02:03")
    assert oui.vendor("88:a2:9e:01:02:03") == "Raspberry Pi (Trading) Ltd"


@pytest.mark.parametrize("text", ["B8:27:EB", "b8-27-eb", "b827eb", "b8.27.eb"])
def test_prefixes_are_normalised(text):
    assert normalize_prefix(text) == "b8:27:eb"


@pytest.mark.parametrize("text", ["b8:27", "b8:27:eb:01", "zz:27:eb", ""])
def test_bad_prefixes_are_refused(text):
    with pytest.raises(ValueError, match="is not a MAC prefix"):
        normalize_prefix(text)


def test_pis_and_vendors():
    oui = OuiClassifier()
    assert oui.is_raspberry_pi("DC:A6:32:01:02:03") and not oui.is_raspberry_pi("00:1b:21:01:02:03")
    assert oui.vendor("00:1b:21:01:02:03") == "Intel Corporate"
    assert oui.vendor("02:00:5e:00:00:01") is None  # locally administered: in no registry


def test_custom_prefixes_replace_the_default():
    oui = OuiClassifier(["02:00:5e"])
    assert oui.is_raspberry_pi("02:00:5e:00:00:01") and not oui.is_raspberry_pi("b8:27:eb:00:00:01")
