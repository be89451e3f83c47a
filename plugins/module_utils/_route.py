# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routes present or absent, and purged within a named scope: validate, read one dump, plan, guard, apply in one batch.

A route is identified as the kernel identifies it: family, table, destination prefix and metric. A listed route found
under that identity with another gateway, device, scope, on-link flag or protocol is replaced in place (NLM_F_REPLACE).
Everything is validated and planned before the first change, so a refused task leaves the routing table as it was.
"""

from __future__ import annotations

import ipaddress
import socket

from ansible_collections.layer2.linux.plugins.module_utils import _rtnl as rt
from ansible_collections.layer2.linux.plugins.module_utils._iface import check_interface_name
from ansible_collections.layer2.linux.plugins.module_utils._mgmt import management_peer

FAMILY_NUMBERS = {"ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}
DEFAULT_METRIC = {"ipv4": 0, "ipv6": 1024}  # what the kernel gives a route added without one
COMPARED = ("via", "dev", "scope", "onlink", "protocol", "type")  # dev only when the task names one
OPTIONS = ("dst", "via", "dev", "table", "metric", "scope", "onlink", "protocol", "state", "family")


class RouteError(Exception):
    """A refusal or failure worded for the user; raised before any change unless the kernel refuses during apply."""


# --- the routes asked for ---------------------------------------------------------------------------------------------

def table_number(value) -> int:
    try:
        number = rt.number_of(rt.ROUTE_TABLES, str(value).strip())
    except ValueError:
        number = -1
    if not 1 <= number <= 0xFFFFFFFF or number == rt.RT_TABLE_COMPAT:
        raise RouteError(f"table {value!r} is not a routing table: give main, local, default or a number from 1 to 4294967295 (not 252)")
    return number


def table_id(table) -> int:
    """The number of a table as a route shows it (a name or a number); unchecked, for the kernel's own routes."""
    return rt.number_of(rt.ROUTE_TABLES, str(table))


def table_name(number: int):
    return rt.ROUTE_TABLES.get(number, number)


def describe(route: dict) -> str:
    """A route in the words of `ip route`, to name it in messages: "203.0.113.64/28 dev eth1.1234", "default via 192.0.2.1"."""
    words = [route.get("dst") or "?"]
    if route.get("via"):
        words += ["via", route["via"]]
    if route.get("dev"):
        words += ["dev", route["dev"]]
    table = route.get("table")
    if table not in (None, "main"):
        words += ["table", str(table)]
    return " ".join(words)


def checked_name(name, where: str) -> str:
    """An interface name by the kernel's rules (_iface), refused with where it was given."""
    try:
        return check_interface_name(name)
    except ValueError as exc:
        raise RouteError(f"{where}: {exc}") from None


def _network(dst: str, where: str):
    text = str(dst).strip()
    if text == "default":
        return None
    try:
        return ipaddress.ip_network(text)
    except ValueError as exc:
        if "host bits set" in str(exc):
            wide = ipaddress.ip_network(text, strict=False)
            raise RouteError(f"{where}: dst {text} has host bits set; the prefix is {wide}") from None
        raise RouteError(f"{where}: dst {text!r} is not an IPv4 or IPv6 prefix in CIDR form (such as 203.0.113.64/28, 2001:db8::/64) "
                         "nor default") from None


def _family_of(network, via, family, where: str, dst: str) -> str:
    found = None
    if network is not None and network.prefixlen:
        found = f"ipv{network.version}"
    elif via is not None:
        found = f"ipv{via.version}"
    elif network is not None:  # 0.0.0.0/0 or ::/0
        found = f"ipv{network.version}"
    if family and found and family != found:
        raise RouteError(f"{where}: {dst} is an {found} route, but family {family} was given")
    return found or family or "ipv4"  # `ip route` takes a bare `default` as IPv4 too


def validate(entry: dict, where: str, links: dict) -> dict:
    """One entry of routes, checked and completed: the route in the public shape, plus what the request needs (_key, _oif...)."""
    if not entry.get("dst"):
        raise RouteError(f"{where}: dst is required (a prefix such as 203.0.113.64/28, a bare address, or default)")
    where = f"{where} ({entry['dst']})"
    network = _network(entry["dst"], where)
    via = None
    if entry.get("via"):
        try:
            via = ipaddress.ip_address(str(entry["via"]).strip())
        except ValueError:
            raise RouteError(f"{where}: via {entry['via']!r} is not an IPv4 or IPv6 address") from None
    family = _family_of(network, via, entry.get("family"), where, entry["dst"])
    if via is not None and f"ipv{via.version}" != family:
        raise RouteError(f"{where}: the gateway {via} is an ipv{via.version} address; an {family} route needs an {family} gateway")
    if network is None or network.prefixlen == 0:
        dst, dst_len = "default", 0
    else:
        dst, dst_len = network.with_prefixlen, network.prefixlen
    state = entry.get("state") or "present"
    try:
        table = table_number(entry.get("table") if entry.get("table") is not None else "main")
    except RouteError as exc:
        raise RouteError(f"{where}: {exc}") from None
    metric = entry.get("metric")
    if metric is None:
        metric = DEFAULT_METRIC[family]
    if not 0 <= int(metric) <= 0xFFFFFFFF:
        raise RouteError(f"{where}: metric {metric} is out of range 0-4294967295")
    dev = checked_name(entry["dev"], where) if entry.get("dev") else None
    if dev is not None and dev not in links and state == "present":
        raise RouteError(f"{where}: interface {dev} does not exist on this host")
    scope = entry.get("scope")
    if family == "ipv6":
        if scope not in (None, "global"):
            raise RouteError(f"{where}: IPv6 routes have no scope (the kernel keeps them all global); leave scope out")
        scope = "global"
    elif scope is None:
        scope = "link" if dev and via is None else "global"
    onlink = bool(entry.get("onlink"))
    if state == "present":
        if via is None and dev is None:
            raise RouteError(f"{where}: a route needs a gateway (via), an interface (dev) or both")
        if onlink and (via is None or dev is None):
            raise RouteError(f"{where}: onlink needs both via and dev (the gateway is taken as directly reachable on dev)")
    route = {
        "family": family, "dst": dst, "via": str(via) if via is not None else None, "dev": dev, "table": table_name(table),
        "metric": int(metric), "scope": scope, "protocol": entry.get("protocol") or "static", "type": "unicast", "onlink": onlink,
    }
    return dict(route, _state=state, _key=(family, table, dst, int(metric)), _dst_len=dst_len, _where=where)


def desired(entries, links: dict) -> list[dict]:
    """Every entry validated; all refusals at once, and a route listed twice (same identity) refused."""
    wanted, errors, seen = [], [], {}
    for position, entry in enumerate(entries or []):
        where = f"routes[{position}]"
        try:
            route = validate({k: entry.get(k) for k in OPTIONS}, where, links)
        except RouteError as exc:
            errors.append(str(exc))
            continue
        if route["_key"] in seen:
            errors.append(f"{route['_where']} is the same route (family, table, dst, metric) as {seen[route['_key']]}; list each route once")
        seen[route["_key"]] = route["_where"]
        wanted.append(route)
    if errors:
        raise RouteError("; ".join(errors))
    return wanted


def purge_scope(purge: dict | None, wanted: list) -> dict | None:
    if not purge:
        return None
    families = purge.get("families") or ["ipv4", "ipv6"]
    for family in families:
        if family not in FAMILY_NUMBERS:
            raise RouteError(f"purge.families: {family!r} is not ipv4 or ipv6")
    table = table_number(purge.get("table") if purge.get("table") is not None else "main")
    interfaces = purge.get("interfaces")
    for name in interfaces or []:
        checked_name(name, "purge.interfaces")
    # A default route is purged only where the task manages the default route of that family and table.
    defaults = {(w["family"], table_id(w["table"])) for w in wanted if w["dst"] == "default" and w["_state"] == "present"}
    return {"families": list(families), "table": table, "interfaces": None if interfaces is None else list(interfaces), "defaults": defaults}


# --- the routes found -------------------------------------------------------------------------------------------------

def view(route: dict, names: dict) -> dict:
    """A parsed route (rt.parse_route) in the public shape: the output link by name; next hops of a multipath route too."""
    public = {
        "family": route["family"], "dst": route["dst"], "via": route["via"], "dev": names.get(route["oif"]) if route["oif"] else None,
        "table": route["table"], "metric": route["metric"], "scope": route["scope"], "protocol": route["protocol"], "type": route["type"],
        "onlink": route["onlink"],
    }
    if "nexthops" in route:
        public["nexthops"] = [{"via": h["via"], "dev": names.get(h["oif"]), "onlink": h["onlink"]} for h in route["nexthops"]]
    return public


def key_of(route: dict) -> tuple:
    return route["family"], table_id(route["table"]), route["dst"], route["metric"]


def differs(current: dict, want: dict) -> list:
    """The fields in which a route found differs from the one asked for (dev only when the task names one)."""
    return [f for f in COMPARED if current.get(f) != want[f] and not (f == "dev" and want["dev"] is None)]


def _in_purge(route: dict, scope: dict) -> bool:
    if route["family"] not in scope["families"] or table_id(route["table"]) != scope["table"]:
        return False
    if route["protocol"] == "kernel" or route["type"] != "unicast":
        return False  # connected routes and local, broadcast, multicast... are the kernel's
    if route["dst"] == "default" and (route["family"], scope["table"]) not in scope["defaults"]:
        return False
    if scope["interfaces"] is None:
        return True
    devs = [h["dev"] for h in route["nexthops"]] if route.get("nexthops") else [route["dev"]]
    return bool(devs) and all(d in scope["interfaces"] for d in devs)


def plan(current: list, wanted: list, scope: dict | None) -> dict:
    """What to remove, add and replace (routes in the public shape) to turn the current routes into those asked for; pure."""
    by_key = {}
    for route in current:
        by_key.setdefault(key_of(route), route)
    remove, add, replace = [], [], []
    listed = set()
    for want in wanted:
        listed.add(want["_key"])
        found = by_key.get(want["_key"])
        if want["_state"] == "absent":
            if found is not None:
                remove.append(found)
        elif found is None:
            add.append(want)
        elif differs(found, want):
            replace.append((found, want))
    if scope is not None:
        remove += [r for r in current if key_of(r) not in listed and _in_purge(r, scope) and r not in remove]
    return {"remove": remove, "add": add, "replace": replace}


# --- the task ---------------------------------------------------------------------------------------------------------

def management_route(nl, environ, names: dict) -> dict | None:
    """The route that carries the replies to the SSH session running this task, or None outside SSH."""
    peer = management_peer(environ)
    if peer is None:
        return None
    found = nl.route_match(str(peer))
    return view(found, names) if found else None


def guard(steps: dict, mgmt: dict | None, force: bool) -> None:
    if mgmt is None or force:
        return
    touched = [("remove", r) for r in steps["remove"]] + [("replace", old) for old, _new in steps["replace"]]
    for verb, route in touched:
        if key_of(route) == key_of(mgmt):
            raise RouteError(f"refusing to {verb} the route {describe(route)}: it carries the current management connection "
                             "(SSH_CONNECTION); doing it would cut this session. Set force=true if another path reaches the host.")


def requests(steps: dict, links: dict) -> list:
    """(type, flags, body, route, verb) for Rtnl.batch: removals first, then link routes before the routes via a gateway,
    so that a gateway added in the same task is reachable by the time a route through it is added."""
    out = []
    for route in steps["remove"]:
        out.append((rt.RTM_DELROUTE, 0, _body(route, links, delete=True), route, "removing"))
    news = [(w, "adding") for w in steps["add"]] + [(w, "replacing with") for _old, w in steps["replace"]]
    news.sort(key=lambda item: item[0]["via"] is not None)
    for want, verb in news:
        out.append((rt.RTM_NEWROUTE, rt.NLM_F_CREATE | rt.NLM_F_REPLACE, _body(want, links), want, verb))
    return out


def _body(route: dict, links: dict, delete: bool = False) -> bytes:
    family = FAMILY_NUMBERS[route["family"]]
    dst_len = 0 if route["dst"] == "default" else int(route["dst"].split("/")[1])
    dst = None if route["dst"] == "default" else route["dst"].split("/")[0]
    oif = links[route["dev"]]["index"] if route.get("dev") in links else None
    table = table_id(route["table"])
    if delete:
        return rt.route_request(family, dst, dst_len, table, route["metric"], via=route["via"], oif=oif, scope=rt.RT_SCOPE_NOWHERE,
                                protocol=0, route_type=0)
    return rt.route_request(family, dst, dst_len, table, route["metric"], via=route["via"], oif=oif,
                            scope=rt.number_of(rt.ROUTE_SCOPES, route["scope"]), protocol=rt.number_of(rt.ROUTE_PROTOCOLS, route["protocol"]),
                            onlink=route["onlink"])


def in_view(route: dict, pairs: set) -> bool:
    """A unicast route of one of the (family, table) pairs the task names."""
    return route["type"] == "unicast" and (route["family"], table_id(route["table"])) in pairs


def read(nl) -> tuple[dict, list]:
    links = nl.links_by_name()
    names = {link["index"]: name for name, link in links.items()}
    return links, [view(r, names) for r in nl.routes()]


def public(route: dict) -> dict:
    return {k: v for k, v in route.items() if not k.startswith("_")}


def ensure_routes(params: dict, check_mode: bool = False, environ=None) -> dict:
    """The whole task: validate, read, plan, guard, apply (not in check mode), read back. Returns the module result."""
    with rt.Rtnl() as nl:
        links, current = read(nl)
        wanted = desired(params.get("routes"), links)
        scope = purge_scope(params.get("purge"), wanted)
        steps = plan(current, wanted, scope)
        guard(steps, management_route(nl, environ, {link["index"]: name for name, link in links.items()}), bool(params.get("force")))
        pairs = {(w["family"], table_id(w["table"])) for w in wanted}
        if scope is not None:
            pairs |= {(family, scope["table"]) for family in scope["families"]}
        before = [r for r in current if in_view(r, pairs)]
        changed = bool(steps["remove"] or steps["add"] or steps["replace"])
        if check_mode or not changed:
            after = predicted(before, steps)
        else:
            apply(nl, requests(steps, links))
            _links, now = read(nl)
            after = [r for r in now if in_view(r, pairs)]
            missing = [describe(w) for w in steps["add"] + [w for _o, w in steps["replace"]]
                       if not any(key_of(r) == w["_key"] and not differs(r, w) for r in after)]
            if missing:
                raise RouteError(f"the kernel accepted {', '.join(missing)} but does not show it afterwards; another program may manage these routes")
    return result(steps, before, after, changed)


def apply(nl, batch: list) -> None:
    errors = nl.batch([(kind, flags, body) for kind, flags, body, _route, _verb in batch])
    refused = rt.refusals(errors, [f"{verb} {describe(route)}" for _k, _f, _b, route, verb in batch])
    if refused:
        done = sum(error is None for error in errors)
        raise RouteError(f"{refused}. {done} of the {len(batch)} route changes were made; "
                         "fix the route (is the gateway on a connected network? does the device exist?) and run the task again")


def predicted(before: list, steps: dict) -> list:
    """The routes in view as they would be after the steps (check mode; unchanged when there are none)."""
    gone = [key_of(r) for r in steps["remove"]] + [key_of(old) for old, _new in steps["replace"]]
    kept = [r for r in before if key_of(r) not in gone]
    return kept + [public(w) for _old, w in steps["replace"]] + [public(w) for w in steps["add"]]


def sort_key(route: dict) -> tuple:
    dst = ipaddress.ip_network("0.0.0.0/0" if route["family"] == "ipv4" else "::/0") if route["dst"] == "default" else ipaddress.ip_network(route["dst"])
    return route["family"], str(route["table"]), int(dst.network_address), dst.prefixlen, route["metric"]


def route_line(route: dict) -> str:
    """One route as `ip route` (`ip -6 route`) prints it: host routes without /32 or /128, table when not main, proto,
    scope when not global, metric when the family shows it."""
    dst = route["dst"]
    if dst.endswith("/32" if route["family"] == "ipv4" else "/128"):
        dst = dst.rsplit("/", 1)[0]
    words = [dst] if route["type"] == "unicast" else [str(route["type"]), dst]
    if route.get("nexthops"):
        words += [f"nexthop via {h['via']} dev {h['dev']}" for h in route["nexthops"]]
    if route["via"]:
        words += ["via", route["via"]]
    if route["dev"]:
        words += ["dev", route["dev"]]
    if route["table"] != "main":
        words += ["table", str(route["table"])]
    if route["protocol"] != "boot":  # as `ip route` leaves it out
        words += ["proto", str(route["protocol"])]
    if route["scope"] != "global":
        words += ["scope", str(route["scope"])]
    if route["metric"] or route["family"] == "ipv6":
        words += ["metric", str(route["metric"])]
    if route["onlink"]:
        words.append("onlink")
    return " ".join(words)


def result(steps: dict, before: list, after: list, changed: bool) -> dict:
    before, after = sorted(before, key=sort_key), sorted(after, key=sort_key)
    return {
        "changed": changed,
        "added": [public(w) for w in steps["add"]],
        "removed": [public(r) for r in steps["remove"]],
        "replaced": [public(w) for _old, w in steps["replace"]],
        "routes": after,
        "diff": {
            "before_header": "routes",
            "after_header": "routes",
            "before": "".join(f"{route_line(r)}\n" for r in before),
            "after": "".join(f"{route_line(r)}\n" for r in after),
        },
    }
