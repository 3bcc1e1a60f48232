#!/usr/bin/python3
# A stand-in for rsyslog, for the fail2ban test: receives syslog(3)
# datagrams on a Unix socket and writes each as rsyslog's traditional
# file format does ("Mmm dd hh:mm:ss HOST ident[pid]: message"), and its
# facility and severity to a second file.
#
# Usage: syslogd.py SOCKET LOGFILE PRIFILE READYFILE
import os
import re
import socket
import sys

sock_path, log_path, pri_path, ready_path = sys.argv[1:5]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock_path)
os.chmod(sock_path, 0o666)
host = socket.gethostname().split(".")[0]
open(ready_path, "w").close()
with open(log_path, "a") as log, open(pri_path, "a") as pri:
    while True:
        data = s.recv(65536).decode("utf-8", "replace").rstrip("\n\0")
        m = re.match(r"<(\d+)>(\w{3} [ \d]\d \d\d:\d\d:\d\d) (.*)", data, re.S)
        if m is None:
            continue
        p = int(m.group(1))
        log.write("%s %s %s\n" % (m.group(2), host, m.group(3)))
        pri.write("%d %d %s\n" % (p >> 3, p & 7, m.group(3)))
        log.flush()
        pri.flush()
