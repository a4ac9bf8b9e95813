"""systemd's side of sd_notify for the tests: a unix datagram socket bound at
argv[1] (abstract when it starts with '@'), with SO_PASSCRED so each
datagram carries its sender's pid as the kernel checked it. Prints one JSON
line per datagram: {"t": monotonic seconds, "pid": sender pid, "msg": text};
"listening" first. Ends on SIGTERM or when stdin closes."""
import json, os, select, socket, sys, time

path = sys.argv[1]
addr = b'\0' + os.fsencode(path[1:]) if path.startswith('@') else os.fsencode(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(addr)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({'listening': path}), flush=True)
while True:
    r, _, _ = select.select([s, sys.stdin], [], [])
    if sys.stdin in r and not os.read(sys.stdin.fileno(), 4096):
        break
    if s in r:
        data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(12))
        pid = None
        for level, kind, blob in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = int.from_bytes(blob[0:4], sys.byteorder)
        print(json.dumps({'t': time.monotonic(), 'pid': pid, 'msg': data.decode('utf8', 'replace')}), flush=True)
