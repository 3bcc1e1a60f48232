#!/usr/bin/env python3
"""The load crash.sh records: CLIENTS connections to satokend, each
minting, rotating (ending the old token now, or after an hour) and
revoking its own tokens, one request at a time, until CHANGES changes
were acknowledged in all.  What was acknowledged is read off the
recorded replies by crashmodel.py, not from here: this only makes load.

    load.py SOCKET CHANGES CLIENTS ACCOUNT_PREFIX TAG

Token names are TAG-CLIENT-N: a run with a new TAG mints new names.
"""
import json
import random
import socket
import sys
import threading

sock_path, target, nclients, prefix, tag = (sys.argv[1], int(sys.argv[2]),
                                            int(sys.argv[3]), sys.argv[4],
                                            sys.argv[5])
lock = threading.Lock()
done = [0]
errors = []


def client(n):
    rnd = random.Random(n)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    f = s.makefile("rwb")
    live = []
    k = 0

    def ask(req):
        f.write(json.dumps(req).encode() + b"\n")
        f.flush()
        line = f.readline()
        if not line:
            raise RuntimeError("satokend closed the connection")
        return json.loads(line)

    while True:
        with lock:
            if done[0] >= target:
                break
        k += 1
        roll = rnd.random()
        if not live or roll < 0.5:
            rep = ask({"op": "token.mint", "account": "%s%d" % (prefix, n),
                       "name": "%s-%d-%d" % (tag, n, k), "ttl": 86400})
            if rep.get("ok"):
                live.append(rep["id"])
        elif roll < 0.75:
            req = {"op": "token.rotate", "id": rnd.choice(live)}
            if rnd.random() < 0.5:
                req["grace"] = 3600
            rep = ask(req)
            if rep.get("ok"):
                live.remove(req["id"])
                live.append(rep["id"])
        else:
            tid = live.pop(rnd.randrange(len(live)))
            rep = ask({"op": "token.revoke", "id": tid})
        if not rep.get("ok"):
            with lock:
                errors.append(rep)
            break
        with lock:
            done[0] += 1
    s.close()


threads = [threading.Thread(target=client, args=(i + 1,))
           for i in range(nclients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors:
    print("load: refused: %s" % json.dumps(errors[0])[:300], file=sys.stderr)
    sys.exit(1)
print("load: %d changes acknowledged" % done[0])
