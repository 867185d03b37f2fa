#!/usr/bin/env python3
"""dns_stub — a UDP "DNS server" on 127.0.0.1 that only misbehaves, for the
failure rows of resolve_cli_test.sh that dnsmasq cannot produce on demand.

usage: dns_stub.py silent|servfail|refused
Prints its port on stdout, then serves until killed:
  silent    reads queries and never answers (resolver timeout);
  servfail  answers every query with RCODE 2, no records;
  refused   answers every query with RCODE 5, no records.
It parses nothing but the header and the question it echoes back; it binds
only to 127.0.0.1 and exits by itself after 120 s so a broken test cannot
leave it behind.
"""
import socket
import sys
import time

RCODES = {"servfail": 2, "refused": 5}


def question_end(packet):
    """Offset just past the first question (name, type, class), or None."""
    i = 12
    while i < len(packet):
        n = packet[i]
        if n == 0:
            return i + 5 if i + 5 <= len(packet) else None
        if n & 0xC0:
            return None  # queries do not compress their question name
        i += 1 + n
    return None


def main():
    mode = sys.argv[1] if len(sys.argv) == 2 else ""
    if mode not in ("silent", *RCODES):
        print(__doc__, file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    sock.settimeout(1.0)
    stop = time.monotonic() + 120
    while time.monotonic() < stop:
        try:
            packet, peer = sock.recvfrom(4096)
        except socket.timeout:
            continue
        end = question_end(packet)
        if mode == "silent" or len(packet) < 12 or end is None:
            continue
        flags = 0x8000 | (packet[2] & 0x01) << 8 | 0x0080 | RCODES[mode]  # QR, RD copied, RA
        header = packet[0:2] + flags.to_bytes(2, "big") + (1).to_bytes(2, "big") + bytes(6)
        sock.sendto(header + packet[12:end], peer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
