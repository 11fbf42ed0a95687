"""Peers of the load balancer's e2e test (test_lb.py), run inside the test
namespaces with `ip netns exec NS /usr/bin/python3 lbpeer.py ...`.

    lbpeer.py serve  --bind ADDR --port P --name NAME
    lbpeer.py client --addr VIP --port P [--timeout T]

serve: every connection first gets "NAME\\n", then every line it sends is
echoed back; prints {"listening": port} once it accepts.
client: reads commands on stdin and answers each with one JSON line:
  "open K"   opens K more connections to VIP:P, reads each one's name
             -> {"names": [name or null per new connection]}
  "check"    sends a line on every open connection, waits for its echo
             -> {"alive": [[name, bool] per connection, oldest first]}
  "quit"     closes them all.
"""
import argparse
import json
import select
import socket
import sys
import threading


def serve(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.bind, args.port))
    s.listen(512)
    print(json.dumps({"listening": args.port}), flush=True)

    def one(c):
        with c:
            try:
                c.sendall(args.name.encode() + b"\n")
                while True:
                    b = c.recv(4096)
                    if not b:
                        return
                    c.sendall(b)
            except OSError:
                return

    while True:
        c, _ = s.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


def readline(c, timeout):
    buf = b""
    while not buf.endswith(b"\n"):
        r, _, _ = select.select([c], [], [], timeout)
        if not r:
            return None
        b = c.recv(4096)
        if not b:
            return None
        buf += b
    return buf.decode().strip()


def client(args):
    conns = []   # [socket, name]
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "open":
            names = []
            for _ in range(int(cmd[1])):
                c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                c.settimeout(args.timeout)
                try:
                    c.connect((args.addr, args.port))
                    name = readline(c, args.timeout)
                except OSError:
                    name = None
                names.append(name)
                conns.append([c, name])
            print(json.dumps({"names": names}), flush=True)
        elif cmd[0] == "check":
            alive = []
            for c, name in conns:
                try:
                    c.sendall(b"ping\n")
                    ok = readline(c, args.timeout) == "ping"
                except OSError:
                    ok = False
                alive.append([name, ok])
            print(json.dumps({"alive": alive}), flush=True)
        elif cmd[0] == "quit":
            break
    for c, _ in conns:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["serve", "client"])
    ap.add_argument("--bind")
    ap.add_argument("--addr")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--name")
    ap.add_argument("--timeout", type=float, default=3.0)
    args = ap.parse_args()
    serve(args) if args.mode == "serve" else client(args)


if __name__ == "__main__":
    main()
