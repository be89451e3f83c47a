# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AF_PACKET raw sockets on one interface: the scan's socket, and whole ARP/NDP frames sent and read back."""

from __future__ import annotations

import select
import socket
import time

from ansible_collections.layer2.linux.plugins.module_utils._arp_frame import parse_frame

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23  # Linux 4.20+
SO_RCVBUFFORCE = 33


def packet_socket(ifname: str, protocol: int = 0, ignore_outgoing: bool = False, receive_buffer: int = 0) -> socket.socket:
    """An AF_PACKET raw socket bound to one interface, receiving frames of `protocol` (0: none, it only sends).

    ignore_outgoing: the kernel stops handing back our own frames (Linux 4.20+; readers still drop PACKET_OUTGOING for older ones).
    receive_buffer: bytes for frames that arrive while we are busy sending (SO_RCVBUFFORCE as root, else SO_RCVBUF).
    """
    # Created with no protocol and given one by bind: frames of other interfaces never reach it, and the kernel does
    # not have to unhook an all-interface socket on bind (which waits for an RCU grace period, ~7 ms).
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    try:
        sock.bind((ifname, protocol))
    except OSError:
        sock.close()
        raise
    if ignore_outgoing:
        try:
            sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        except OSError:
            pass
    if receive_buffer:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, receive_buffer)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    return sock


def pending_frames(sock, size: int = 2048):
    """Yield every frame already waiting on a non-blocking packet socket, our own outgoing ones left out."""
    while True:
        try:
            frame, address = sock.recvfrom(size)
        except (BlockingIOError, InterruptedError):
            return
        if isinstance(address, tuple) and len(address) > 2 and address[2] == PACKET_OUTGOING:
            continue
        yield frame


class RawLink:
    """An AF_PACKET socket on one interface: send whole frames, read ARP and NDP frames others send."""

    def __init__(self, ifname: str, listen: bool = False):
        self.ifname = ifname
        self.sock = packet_socket(ifname, ETH_P_ALL if listen else 0)

    def __enter__(self) -> RawLink:
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()

    def send(self, frame: bytes) -> float:
        self.sock.send(frame)
        return time.time()

    def receive(self, deadline: float):
        """Yield (time, parsed frame) for ARP/NDP frames received (not our own outgoing ones) until the monotonic deadline."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return
            frame, addr = self.sock.recvfrom(2048)
            if addr[2] == PACKET_OUTGOING:
                continue
            parsed = parse_frame(frame)
            if parsed is not None:
                yield time.time(), parsed
