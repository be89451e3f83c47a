# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A userspace ARP responder for labs: answers requests for addresses its kernel does not own, after a delay.

This host kernel has no sch_netem, so a "slow receiver" is emulated here: run inside a lab host with

    python -m tests.lab.responders --interface eth0 --delay 0.2 192.0.2.201=dc:a6:32:00:00:01 ...

and every ARP request for 192.0.2.201 is answered from dc:a6:32:00:00:01 `delay` seconds later. The addresses
must not be on the host (its kernel would answer at once). It prints "ready" once listening, and runs until killed.
With `--unsolicited IP=MAC` it also sends, with every answer, a reply nobody asked for (a scanner must ignore it).
With `--answer-only-repeats SECONDS` a request is answered only when the same address was asked within that many
seconds before: the first request of every scan is lost, as broadcasts are on a lossy Wi-Fi link, and only a retry
is answered.
"""

from __future__ import annotations

import argparse
import ctypes
import heapq
import ipaddress
import select
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

from tests.lab.arp import ARP_REQUEST, ETH_P_ARP, mac_bytes, read, reply

SO_ATTACH_FILTER = 26
BPF_LD_H_ABS, BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x28, 0x20, 0x15, 0x06
ARP_OPCODE_AT, ARP_TARGET_IP_AT = 20, 38  # byte offsets in the Ethernet frame


def only_requests_for(sock: socket.socket, addresses: list[bytes]) -> None:
    """Have the kernel hand us only ARP requests for our addresses (a classic BPF filter). A real slow host does not
    spend the scanner's CPU: without this, Python here would handle every broadcast of a /20 sweep in the lab."""
    if len(addresses) > 250:
        raise ValueError("a classic BPF jump skips at most 255 instructions: answer for 250 addresses at most")
    # Jumps count the instructions they skip: a match on the n-th address skips the rest and "return 0".
    drop = 3 + len(addresses)  # the index of "return 0"
    program = [(BPF_LD_H_ABS, 0, 0, ARP_OPCODE_AT), (BPF_JEQ_K, 0, drop - 2, 1), (BPF_LD_W_ABS, 0, 0, ARP_TARGET_IP_AT)]
    program += [(BPF_JEQ_K, len(addresses) - n, 0, int.from_bytes(ip, "big")) for n, ip in enumerate(addresses)]
    program += [(BPF_RET_K, 0, 0, 0), (BPF_RET_K, 0, 0, 0xFFFF)]
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *insn) for insn in program))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(program), ctypes.addressof(code)))


def serve(interface: str, delay: float, answers: dict[bytes, bytes], unsolicited: dict[bytes, bytes],
          answer_only_repeats: float | None = None) -> None:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    only_requests_for(sock, list(answers))
    sock.bind((interface, ETH_P_ARP))
    pending: list[tuple[float, bytes]] = []
    last_asked: dict[bytes, float] = {}
    print("ready", flush=True)
    while True:
        wait = max(0.0, pending[0][0] - time.monotonic()) if pending else None
        if select.select([sock], [], [], wait)[0]:
            asked = read(sock.recv(128))
            if asked and asked.op == ARP_REQUEST and asked.target_ip in answers and _heard(last_asked, asked.target_ip, answer_only_repeats):
                due = time.monotonic() + delay
                tpa = asked.target_ip
                heapq.heappush(pending, (due, reply(answers[tpa], tpa, asked.sender_mac, asked.sender_ip)))
                for ip, mac in unsolicited.items():
                    heapq.heappush(pending, (due, reply(mac, ip, asked.sender_mac, asked.sender_ip)))
        while pending and pending[0][0] <= time.monotonic():
            sock.send(heapq.heappop(pending)[1])


def _heard(last_asked: dict[bytes, float], ip: bytes, answer_only_repeats: float | None) -> bool:
    """Whether this request gets through: always, or on a lossy link only when it repeats a recent one."""
    now, before = time.monotonic(), last_asked.get(ip)
    last_asked[ip] = now
    return answer_only_repeats is None or (before is not None and now - before <= answer_only_repeats)


def start(lab, host: str, delay: float, answers: dict[str, str], *options: str) -> subprocess.Popen:
    """Run a responder in a lab host for answers {ip: mac}, with more command-line options; return once it listens."""
    argv = [sys.executable, "-m", "tests.lab.responders", "--delay", str(delay), *options] + [f"{ip}={mac}" for ip, mac in answers.items()]
    responder = lab.popen(host, argv, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    if responder.stdout.readline().strip() != "ready":
        raise RuntimeError(f"the ARP responder in lab host {host} did not start")
    return responder


def _pairs(items: list[str]) -> dict[bytes, bytes]:
    pairs = {}
    for item in items:
        ip, mac = item.split("=", 1)
        pairs[ipaddress.IPv4Address(ip).packed] = mac_bytes(mac)
    return pairs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interface", default="eth0")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds between a request and its answer")
    parser.add_argument("--unsolicited", action="append", default=[], metavar="IP=MAC", help="also claim this, unasked, with every answer")
    parser.add_argument("--answer-only-repeats", type=float, metavar="SECONDS",
                        help="lose a request unless the same address was asked within SECONDS before")
    parser.add_argument("answers", nargs="+", metavar="IP=MAC")
    args = parser.parse_args(argv)
    serve(args.interface, args.delay, _pairs(args.answers), _pairs(args.unsolicited), args.answer_only_repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
