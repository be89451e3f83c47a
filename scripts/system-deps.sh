#!/usr/bin/env bash
# Install the Debian packages the demo and the test tiers need (as root), only when one is missing.
set -eu
packages=(iproute2 iputils-ping iputils-arping kmod nftables user-mode-linux arp-scan nmap python3-venv git openssh-client openssh-server shellcheck avahi-daemon dnsmasq-base busybox
    keepalived conntrackd conntrack ipvsadm
    systemd ifupdown  # the reboot test's boot programs: systemd-networkd(-wait-online), systemd-sysctl, systemd-modules-load; ifup
    linux-source-6.1 flex bison bc make gcc xz-utils)  # the kernel tier's UML kernel build (tests/kernel/build-uml-kernel)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# openssh-server's, avahi-daemon's (and dbus's), keepalived's, conntrackd's and ifupdown's installations would start
# their daemons (or networking.service) on this machine; the tests run them only inside lab namespaces.
if [[ " ${missing[*]} " =~ \ (openssh-server|avahi-daemon|keepalived|conntrackd|ifupdown)\  ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
