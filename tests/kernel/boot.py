# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A router's reboot in a lab: "power off" (what the role made and the daemons gone, as a fresh boot finds the
machine), then "boot" (BOOT: the real programs of a Debian boot, in a private mount namespace, from the files under a
scratch root). Shared by test_vlan_router_reboot.py (the seed's router, four boots) and test_vlan_router_pair.py
(r1 of the redundant pair, its VRRP and conntrackd booted too).

    power_off(lab, "r1", ["eth0", "eth1", "sync0"])   # the daemons of DAEMONS killed
    proc = boot(lab, "r1", root, "ifupdown", log)
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.support.keepalived import daemon_pids, kill_daemons

# What a boot can start, killed by every power off (as the kernel names them: 15 characters, "systemd-network" is networkd).
DAEMONS = ("systemd-network", "dnsmasq", "keepalived", "conntrackd")

# Run by `unshare --mount` inside the router's namespace (`ip netns exec` has mounted that namespace's /sys):
#   sh -c BOOT boot ROOT BACKEND
# The mount namespace of a booting machine without udev: /sys read-only (systemd-networkd then does not wait for udev to
# initialise links, as in a container), a fresh /run with networkd's state directory owned by systemd-network, and /etc a
# private copy of this machine's with every file of the scratch root's etc/ bound over it. Nothing is written to the real
# /etc. Then the programs in the order of Debian's units: systemd-modules-load.service and systemd-sysctl.service (each
# given the role's files only: the machine's other files set values outside this namespace), nftables.service (before
# network-pre.target), then, when the role wrote its file, conntrackd (see below), then networking: systemd-networkd (it
# stays in the foreground) or `ifup -a`, and, when the role wrote their files (it enables their units then), dnsmasq and
# keepalived as Debian's units run them (see below).
BOOT = r"""
set -eu
root=$1 backend=$2
mount -o remount,bind,ro /sys
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/systemd/netif /run/network /run/l2etc
chown systemd-network:systemd-network /run/systemd/netif
cp -a /etc/. /run/l2etc/
mount --bind /run/l2etc /etc
(cd "$root/etc" && find . -type f) | while read -r file; do
    mkdir -p "/etc/${file%/*}"
    [ -e "/etc/$file" ] || : >"/etc/$file"
    mount --bind "$root/etc/$file" "/etc/$file"
done
# In User-Mode Linux the kernel's modules are in the tier's cache (see uml-exec), not under /lib/modules where
# systemd-modules-load (libkmod) looks: bind them there. A file system without /lib/modules at all (a container's) has no
# directory to bind over, and creating one would write the real /usr: /usr/lib is then covered by a private one made of
# binds of its entries, plus modules.
modules=$(dirname "$(cat /proc/sys/kernel/modprobe)")/modroot/lib/modules
release=$(uname -r)
if [ ! -d "/lib/modules/$release" ] && [ -d "$modules/$release" ]; then
    if [ ! -d /lib/modules ]; then
        mkdir /run/l2lib
        for entry in /usr/lib/*; do
            name=${entry##*/}
            if [ -L "$entry" ]; then cp -P "$entry" /run/l2lib/
            elif [ -d "$entry" ]; then mkdir "/run/l2lib/$name" && mount --rbind "$entry" "/run/l2lib/$name"
            else : >"/run/l2lib/$name" && mount --bind "$entry" "/run/l2lib/$name"
            fi
        done
        mkdir /run/l2lib/modules
        mount --rbind /run/l2lib /usr/lib
    fi
    mount --bind "$modules" /lib/modules
fi
cd /
echo "boot: systemd-modules-load"; /lib/systemd/systemd-modules-load /etc/modules-load.d/layer2-vlan-router.conf
echo "boot: systemd-sysctl"; /lib/systemd/systemd-sysctl /etc/sysctl.d/*-layer2-vlan-router*.conf
echo "boot: nftables"; nft -f /etc/nftables.conf
# dnsmasq.service is After=network.target. Debian's unit runs /usr/share/dnsmasq/systemd-helper (package dnsmasq):
# ExecStartPre `checkconfig`, then `exec`, with /etc/default/dnsmasq's CONFIG_DIR and the helper's --local-service; this
# is its command line, on the tmpfiles.d directory. dnsmasq forks (Type=forking) and serves until the power off. The
# step names the links that exist as it starts.
dnsmasq_service() {
    [ -e /etc/dnsmasq.d/layer2-vlan-router.conf ] || return 0
    echo "boot: dnsmasq with the links" $(ls /sys/class/net)
    mkdir -p /run/dnsmasq
    chown dnsmasq:nogroup /run/dnsmasq
    set -- -7 /etc/dnsmasq.d,.dpkg-dist,.dpkg-old,.dpkg-new --local-service
    /usr/sbin/dnsmasq --test "$@"
    /usr/sbin/dnsmasq -x /run/dnsmasq/dnsmasq.pid -u dnsmasq "$@"
}
# keepalived.service: After=network-online.target, ConditionFileNotEmpty, EnvironmentFile=-/etc/default/keepalived,
# `keepalived --dont-fork $DAEMON_ARGS` (Type=notify: it stays in the foreground, here in the background, until the
# power off).
keepalived_service() {
    [ -s /etc/keepalived/keepalived.conf ] || return 0
    echo "boot: keepalived"
    DAEMON_ARGS=
    [ ! -r /etc/default/keepalived ] || . /etc/default/keepalived
    /usr/sbin/keepalived --dont-fork $DAEMON_ARGS &
}
# conntrackd.service (a redundant pair's, conntrack_sync): `conntrackd -C /etc/conntrackd/conntrackd.conf`, Type=notify
# (in the foreground, here in the background until the power off), with no ordering against the network: only the
# default dependencies (after basic.target), as networking.service, so systemd starts both at once. It starts here
# before the network, the earlier of the two, with no address on its sync interface yet. keepalived's notify script,
# later, tells it the router's state.
conntrackd_service() {
    [ -e "$root/etc/conntrackd/conntrackd.conf" ] || return 0  # not the machine's (Debian's example file): the role's
    echo "boot: conntrackd"
    /usr/sbin/conntrackd -C /etc/conntrackd/conntrackd.conf &
}
conntrackd_service
echo "boot: $backend"
case $backend in
    systemd-networkd)
        # network.target follows systemd-networkd.service, which is ready long before networkd has made the VLANs:
        # dnsmasq starts right after networkd. network-online.target waits for systemd-networkd-wait-online.service.
        /lib/systemd/systemd-networkd &
        networkd=$!
        dnsmasq_service
        echo "boot: systemd-networkd-wait-online"
        /lib/systemd/systemd-networkd-wait-online
        keepalived_service
        wait $networkd ;;
    ifupdown)
        # networking.service (Type=oneshot) reaches network.target and network-online.target once `ifup -a` returned.
        ifup -a
        dnsmasq_service
        keepalived_service ;;
esac
"""


def power_off(lab, host: str, links: list[str], daemons=DAEMONS) -> None:
    """What a freshly booted machine has: the links down, no address, no VLAN, no table, no forwarding or proxy ARP, no
    daemon (networkd's included), an empty IPVS table (ip_vs stays loaded, as 8021q does: unloading 8021q would delete
    the compute nodes' VLANs in the same kernel)."""
    kill_daemons(lab, host, daemons)
    deadline = time.monotonic() + 10
    while daemon_pids(lab, host, daemons):
        if time.monotonic() > deadline:
            raise AssertionError(f"{host}'s daemons outlived SIGKILL: {daemon_pids(lab, host, daemons)}")
        time.sleep(0.1)
    lab.run(host, ["sh", "-c", "[ ! -e /proc/net/ip_vs ] || { ipvsadm -C && sysctl -q -w net.ipv4.vs.conntrack=0; }"])
    vlans = [link["ifname"] for link in lab.ip_json(host, "-d", "link", "show") if link.get("linkinfo", {}).get("info_kind") == "vlan"]
    lines = [f"link del {name}" for name in vlans] + [f"addr flush dev {name}" for name in links] + [f"link set {name} down" for name in links]
    lab.run(host, ["ip", "-batch", "-"], input="\n".join(lines) + "\n")
    lab.run(host, ["nft", "flush", "ruleset"])
    lab.run(host, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=0", "net.ipv6.conf.all.forwarding=0",
                   *[f"net.ipv4.conf.{name}.proxy_arp=0" for name in links]])


def powered_off(lab, host: str, daemons=DAEMONS) -> dict:
    """The host's state that a boot has to bring back, as read after power_off."""
    links = lab.ip_json(host, "-d", "addr", "show")
    return {
        "vlans": [link["ifname"] for link in links if link.get("linkinfo", {}).get("info_kind") == "vlan"],
        "up": [link["ifname"] for link in links if link["ifname"] != "lo" and "UP" in link["flags"]],
        "addresses": [a["local"] for link in links if link["ifname"] != "lo" for a in link["addr_info"]],
        "tables": lab.run(host, ["nft", "list", "tables"]).stdout.split(),
        "forwarding": lab.run(host, ["cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv4/conf/eth0/proxy_arp"]).stdout.split(),
        "daemons": daemon_pids(lab, host, daemons),
        "ipvs": lab.run(host, ["sh", "-c", "[ ! -e /proc/net/ip_vs ] || ipvsadm -Sn"]).stdout.split(),
    }


POWERED_OFF = {"vlans": [], "up": [], "addresses": [], "tables": [], "forwarding": ["0", "0"], "daemons": [], "ipvs": []}


def boot(lab, host: str, root: Path, backend: str, log: Path) -> subprocess.Popen:
    """Start the boot (BOOT) in the host; with networkd it keeps running until the lab goes down or the next power off."""
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", BOOT, "boot", str(root), backend]
    with log.open("w") as out:
        return lab.popen(host, argv, stdout=out, stderr=subprocess.STDOUT)


def steps(log: Path) -> list[str]:
    """The boot's steps so far, as its log names them."""
    return [line for line in log.read_text().splitlines() if line.startswith("boot: ")]


def stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()
    if proc is not None:
        proc.wait()
