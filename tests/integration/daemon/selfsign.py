#!/usr/bin/python3
# A raw client of satokend's self-rotation by key, for the replay tests:
# it signs with the openssl command (as any workload could) and sends the
# exact lines it chooses, so a signature can be sent twice, on another
# connection, or under another request.
#
# Usage: selfsign.py SOCKET KEY.pem SCENARIO TOKEN_ID
# Prints one line per request sent: the reply's error code, or "ok".
import base64
import json
import socket
import subprocess
import sys
import tempfile

sock_path, key, scenario, tid = sys.argv[1:5]


class Conn:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(sock_path)
        self.f = self.s.makefile("rb")

    def call(self, line):
        self.s.sendall(line.encode() + b"\n")
        return json.loads(self.f.readline())

    def nonce(self):
        return self.call('{"op":"self.challenge"}')["nonce"]


def sign(nonce, req):
    body = json.dumps(req, sort_keys=True, separators=(",", ":"))
    msg = "satoken-self-v1\n%s\n%s" % (nonce, body)
    with tempfile.NamedTemporaryFile() as m:
        m.write(msg.encode())
        m.flush()
        ed = b"ED25519" in subprocess.run(
            ["openssl", "pkey", "-in", key, "-noout", "-text"],
            capture_output=True).stdout.upper()
        cmd = (["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin",
                "-in", m.name] if ed else
               ["openssl", "dgst", "-sha256", "-sign", key, m.name])
        sig = subprocess.run(cmd, capture_output=True, check=True).stdout
    out = dict(req)
    out["signature"] = base64.b64encode(sig).decode()
    return json.dumps(out, separators=(",", ":"))


def show(reply):
    print("ok" if reply.get("ok") else reply.get("error"), flush=True)
    return reply


rot = {"op": "token.rotate", "id": tid}
a = Conn()
if scenario == "replay":
    line = sign(a.nonce(), rot)
    r = show(a.call(line))                 # ok: the new token
    show(a.call(line.replace(tid, r["id"])))  # another id: not what was signed
    show(a.call(sign(a.nonce(), dict(rot, id=r["id"]))))  # fresh: ok
    show(a.call(line))                     # the first line again: spent
elif scenario == "otherconn":
    line = sign(a.nonce(), rot)
    b = Conn()
    show(b.call(line))                     # b has no challenge
    b.nonce()
    show(b.call(line))                     # b's challenge is another nonce
elif scenario == "otherreq":
    n = a.nonce()
    line = sign(n, dict(rot, ttl=60))
    sig = json.loads(line)["signature"]
    show(a.call(json.dumps(dict(rot, ttl=7200, signature=sig))))
