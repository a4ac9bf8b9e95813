#!/usr/bin/python3
"""Sends real 802.1Q-tagged frames from a VM's interface and waits for the answers.

For trunk tests on a kernel without the 8021q module (no VLAN sub-interfaces):
from `iface`, tagged with `vlan`, an ARP request for `dst_ip` as `src_mac`/`src_ip`,
then an ICMP echo request to the MAC that answered; succeeds (exit 0, one JSON line)
only when both answers come back tagged with the same VLAN. The kernel moves a
received tag into the packet's metadata, so it is read from PACKET_AUXDATA.

    vlan_probe.py IFACE VLAN SRC_MAC SRC_IP DST_IP [TIMEOUT_S]
"""
import json
import os
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_8021Q = 0x8100
ETH_P_ARP = 0x0806
ETH_P_IP = 0x0800
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(':'))


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def tagged(dst, src, vlan, ethertype, payload):
    frame = dst + src + struct.pack('!HHH', ETH_P_8021Q, vlan, ethertype) + payload
    return frame + b'\0' * max(0, 64 - len(frame))


def receive(sock, deadline):
    """(vlan or None, ethertype, payload, src mac) of the next frame, or None at the deadline."""
    while True:
        left = deadline - time.time()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            data, anc, _flags, _addr = sock.recvmsg(65535, socket.CMSG_LEN(20))
        except socket.timeout:
            return None
        vlan = None
        for level, kind, value in anc:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(value) >= 20:
                status, _len, _snap, _mac, _net, tci, _tpid = struct.unpack('IIIHHHH', value[:20])
                if status & TP_STATUS_VLAN_VALID or tci:
                    vlan = tci & 0x0fff
        ethertype = struct.unpack('!H', data[12:14])[0]
        payload = data[14:]
        if ethertype == ETH_P_8021Q:
            vlan = struct.unpack('!H', data[14:16])[0] & 0x0fff
            ethertype = struct.unpack('!H', data[16:18])[0]
            payload = data[18:]
        return vlan, ethertype, payload, data[6:12]


def main():
    iface, vlan, src_mac, src_ip, dst_ip = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    timeout = float(sys.argv[6]) if len(sys.argv) > 6 else 3.0
    src, sip, dip = mac_bytes(src_mac), socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    sock.bind((iface, 0))
    out = {'vlan': vlan, 'arp': None, 'echo': False}

    arp = struct.pack('!HHBBH', 1, ETH_P_IP, 6, 4, 1) + src + sip + b'\0' * 6 + dip
    deadline = time.time() + timeout
    sock.send(tagged(b'\xff' * 6, src, vlan, ETH_P_ARP, arp))
    dst = None
    while dst is None:
        got = receive(sock, deadline)
        if got is None:
            break
        v, et, p, _ = got
        if et == ETH_P_ARP and v == vlan and len(p) >= 28 and struct.unpack('!H', p[6:8])[0] == 2 and p[14:18] == dip and p[24:28] == sip:
            dst = p[8:14]
    if dst is None:
        print(json.dumps(out))
        return 1
    out['arp'] = ':'.join('%02x' % b for b in dst)

    ident, seq = os.getpid() & 0xffff, 1
    icmp = struct.pack('!BBHHH', 8, 0, 0, ident, seq) + b'trunk-vlan-probe'
    icmp = icmp[:2] + struct.pack('!H', checksum(icmp)) + icmp[4:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0, sip, dip)
    ip = ip[:10] + struct.pack('!H', checksum(ip)) + ip[12:]
    deadline = time.time() + timeout
    sock.send(tagged(dst, src, vlan, ETH_P_IP, ip + icmp))
    while True:
        got = receive(sock, deadline)
        if got is None:
            break
        v, et, p, _ = got
        if et == ETH_P_IP and v == vlan and len(p) >= 28 and p[9] == 1 and p[12:16] == dip and p[20] == 0 \
                and struct.unpack('!H', p[24:26])[0] == ident:
            out['echo'] = True
            break
    print(json.dumps(out))
    return 0 if out['echo'] else 1


if __name__ == '__main__':
    sys.exit(main())
