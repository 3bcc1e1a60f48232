#!/usr/bin/env python3
"""crashmodel: every state a power cut could leave at every point of a
recorded satokend trace (rec.so), each checked through the real recovery
and the real verification decision (crashchk).  ALICE's method (Pillai
et al., OSDI 2014), for our one directory.

The model.  The trace is replayed op by op over a model of the store's
directory: per file, the contents last made durable (fsync, fdatasync)
and the writes and truncations issued since; per directory, the entries
last made durable (an fsync of the directory) and the creations, renames
and unlinks since.  After every op, a power cut may leave:
  - per file: its durable contents plus an in-order prefix of its
    unsynced writes, or all of them but one (a dropped write), or a
    prefix whose last write is torn at 512-byte sectors (its first
    sectors kept, or its last ones);
  - per directory, strict POSIX (--fs posix): the durable entries plus an
    in-order prefix of the unsynced entry changes, or all but one;
    ext4 data=ordered (--fs ext4), the weaker run: entry changes are
    journalled in order and any fsync commits those before it, so
    only prefixes, and none outlives an fsync.
The journal, the base, the temporary copies and the directory are
enumerated exhaustively against two baselines for the others (all their
unsynced writes kept, none kept); the GDBM file, whose unsynced writes
run into the thousands between checkpoints, is sampled (prefixes, a
dropped write, a torn one), and so are states that mix every dimension.
Identical states (same names, same bytes) are checked once.

The check, per state, in a fresh directory: the store opens as the
writer (recovery runs); every token whose mint or rotation was
acknowledged before the cut verifies ok, unless a later change of it was
already being written; every token whose revocation (or rotation ending
it now) was acknowledged is refused; and the store's records equal the
state after some journal batch at or after the last one whose fdatasync
had returned (each acknowledgement follows its batch's).

    crashmodel.py --trace T --init DIR --db NAME --chk CRASHCHK
                  --work DIR [--fs posix|ext4] [--states N] [--seed S]
                  [--expect-failures]
Prints states explored, failures (the first few, each with a file that
rebuilds it), and the time taken.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time

O_CREAT, O_TRUNC, O_DIRECTORY = 0o100, 0o1000, 0o200000
SECTOR = 512


def parse_trace(path):
    recs = []
    with open(path, "rb") as f:
        while True:
            line = f.readline()
            if not line:
                break
            parts = line.rstrip(b"\n").split(b" ")
            op, fd, a, b, n = (parts[0].decode(), int(parts[1]),
                               int(parts[2]), int(parts[3]), int(parts[4]))
            p1 = parts[5].decode() if len(parts) > 5 else "-"
            p2 = parts[6].decode() if len(parts) > 6 else None
            data = f.read(n) if n else b""
            if len(data) != n:
                raise SystemExit("crashmodel: trace cut short")
            recs.append((op, fd, a, b, data, p1, p2))
    return recs


def apply_op(buf, op):
    if op[0] == "w":
        off, data = op[1], op[2]
        if len(buf) < off:
            buf.extend(b"\0" * (off - len(buf)))
        buf[off:off + len(data)] = data
    else:
        size = op[1]
        if len(buf) > size:
            del buf[size:]
        else:
            buf.extend(b"\0" * (size - len(buf)))


def torn(op, keep_first, s):
    """op with only some of its sectors: the first s, or all but the
    first s (a write is torn along the device's sector boundaries)."""
    off, data = op[1], op[2]
    cuts = [0]
    x = (off // SECTOR + 1) * SECTOR - off
    while x < len(data):
        cuts.append(x)
        x += SECTOR
    cuts.append(len(data))
    if keep_first:
        return [("w", off, data[:cuts[s]])]
    return [("w", off + cuts[s], data[cuts[s]:])]


def nsectors(op):
    off, data = op[1], op[2]
    return (off + len(data) - 1) // SECTOR - off // SECTOR + 1 if data else 0


class Ino:
    def __init__(self, ident, data=b""):
        self.id = ident
        self.durable = bytes(data)
        self.logical = bytearray(data)
        self.pending = []
        self.hashes = {}   # variant -> digest, for this version only


class Model:
    def __init__(self, init_dir, fs):
        self.fs = fs
        self.inos = []
        self.names = {}
        for name in sorted(os.listdir(init_dir)):
            with open(os.path.join(init_dir, name), "rb") as f:
                self.names[name] = self.new_ino(f.read())
        self.dnames = dict(self.names)
        self.pdir = []
        self.fds = {}

    def new_ino(self, data=b""):
        ino = Ino(len(self.inos), data)
        self.inos.append(ino)
        return ino

    def data_op(self, ino, op):
        apply_op(ino.logical, op)
        ino.pending.append(op)
        ino.hashes = {}

    def step(self, r, base):
        op, fd, a, _, data, p1, p2 = r
        if op == "O":
            if p1 == base:
                self.fds[fd] = None
                return
            name = os.path.basename(p1)
            if name not in self.names:
                if not a & O_CREAT:
                    raise SystemExit("crashmodel: %s opened, not there" % p1)
                self.names[name] = self.new_ino()
                self.pdir.append(("link", name, self.names[name]))
            elif a & O_TRUNC:
                self.data_op(self.names[name], ("t", 0))
            self.fds[fd] = self.names[name]
        elif op == "C":
            self.fds.pop(fd, None)
        elif op == "P":
            self.fds = {}
        elif op == "W":
            self.data_op(self.fds[fd], ("w", a, data))
        elif op == "T":
            self.data_op(self.fds[fd], ("t", a))
        elif op in "SD":
            ino = self.fds[fd]
            if ino is None:
                self.dnames = dict(self.names)
                self.pdir = []
            else:
                ino.durable = bytes(ino.logical)
                ino.pending = []
                ino.hashes = {}
                if self.fs == "ext4":
                    # one journal: an fsync commits every entry change
                    self.dnames = dict(self.names)
                    self.pdir = []
        elif op == "R":
            src, dst = os.path.basename(p1), os.path.basename(p2)
            self.names[dst] = self.names.pop(src)
            self.pdir.append(("rename", src, dst))
        elif op == "U":
            name = os.path.basename(p1)
            self.names.pop(name)
            self.pdir.append(("unlink", name))

    # ---- variants ----
    def dir_variants(self):
        n = len(self.pdir)
        out = [tuple(range(k)) for k in range(n + 1)]
        if self.fs == "posix":
            out += [tuple(i for i in range(n) if i != j) for j in range(n - 1)]
        return out

    def names_for(self, kept):
        names = dict(self.dnames)
        for i in kept:
            d = self.pdir[i]
            if d[0] == "link":
                names[d[1]] = d[2]
            elif d[0] == "rename":
                if d[1] in names:
                    names[d[2]] = names.pop(d[1])
            elif d[0] == "unlink":
                names.pop(d[1], None)
        return names

    @staticmethod
    def file_variants(ino):
        """Descriptors of ino's possible contents: ("p", k) the first k
        unsynced ops; ("d", j) all but op j; ("t", k, first, s) the
        first k ops and op k torn."""
        n = len(ino.pending)
        out = [("p", k) for k in range(n + 1)]
        out += [("d", j) for j in range(n - 1)]
        for k in range(n):
            op = ino.pending[k]
            if op[0] != "w":
                continue
            ns = nsectors(op)
            picks = range(1, ns) if ns <= 9 else (1, ns // 2, ns - 1)
            for s in picks:
                out += [("t", k, True, s), ("t", k, False, s)]
        return out

    def sample_variants(self, ino, rnd, m):
        n = len(ino.pending)
        out = [("p", n), ("p", 0)]
        for _ in range(m):
            c = rnd.random()
            if c < 0.4:
                out.append(("p", rnd.randrange(n + 1)))
            elif c < 0.7 and n > 1:
                j = n - 1 - min(rnd.randrange(n), rnd.randrange(8)) if n else 0
                out.append(("d", max(j, 0)))
            else:
                k = rnd.randrange(n)
                op = ino.pending[k]
                if op[0] == "w" and nsectors(op) > 1:
                    out.append(("t", k, rnd.random() < 0.5,
                                rnd.randrange(1, nsectors(op))))
        return out

    @staticmethod
    def chash(ino, v):
        h = ino.hashes.get(v)
        if h is None:
            h = hashlib.blake2b(Model.content(ino, v), digest_size=16).digest()
            ino.hashes[v] = h
        return h

    @staticmethod
    def content(ino, v):
        if v == ("p", len(ino.pending)):
            return bytes(ino.logical)
        buf = bytearray(ino.durable)
        if v[0] == "p":
            ops = ino.pending[:v[1]]
        elif v[0] == "d":
            ops = ino.pending[:v[1]] + ino.pending[v[1] + 1:]
        else:
            ops = ino.pending[:v[1]] + torn(ino.pending[v[1]], v[2], v[3])
        for op in ops:
            apply_op(buf, op)
        return bytes(buf)


def state_specs(model, rnd):
    """The states to consider at this point: (directory variant,
    {inode id: content variant}, the others all kept or none kept)."""
    dvars = model.dir_variants()
    dbino = model.names.get(ARGS.db)
    small = [ino for ino in model.inos if ino.pending and ino is not dbino]
    full_dir = tuple(range(len(model.pdir)))
    out = [(dv, {}, keep) for dv in dvars for keep in (True, False)]
    for ino in small:
        for v in Model.file_variants(ino):
            for dv in {(), full_dir}:
                for keep in (True, False):
                    out.append((dv, {ino.id: v}, keep))
    dbp = dbino is not None and dbino.pending
    if dbp:
        for v in model.sample_variants(dbino, rnd, ARGS.db_samples):
            for keep in (True, False):
                out.append((full_dir, {dbino.id: v}, keep))
    if small or dbp or model.pdir:
        for _ in range(ARGS.mixed):
            vs = {}
            for ino in small:
                vs[ino.id] = rnd.choice(Model.file_variants(ino))
            if dbp:
                vs[dbino.id] = rnd.choice(model.sample_variants(dbino, rnd, 2))
            out.append((rnd.choice(dvars), vs, rnd.random() < 0.5))
    return out


def build(model, dv, vs, keep):
    files = {}
    for name, ino in model.names_for(dv).items():
        v = vs.get(ino.id, ("p", len(ino.pending)) if keep else ("p", 0))
        files[name] = Model.content(ino, v)
    return files


def decode_batches(data):
    """(seq, [(key, value or None)]) of a journal batch frame, or None."""
    if len(data) < 24 or data[:4] != b"SJB1":
        return None
    seq = int.from_bytes(data[4:12], "big")
    count = int.from_bytes(data[12:16], "big")
    p, entries = 20, []
    for _ in range(count):
        kl = int.from_bytes(data[p:p + 2], "big")
        key = data[p + 2:p + 2 + kl]
        p += 2 + kl
        op = data[p]
        vl = int.from_bytes(data[p + 1:p + 5], "big")
        val = data[p + 5:p + 5 + vl]
        p += 5 + vl
        entries.append((key, val if op == 1 else None))
    return seq, entries


def digest_of(kv):
    h = hashlib.sha256()
    for k in sorted(kv):
        v = kv[k]
        h.update(len(k).to_bytes(4, "big") + k + len(v).to_bytes(4, "big") + v)
    return h.hexdigest()


def run_chk(chk, workdir, files, tokens, dump=False):
    shutil.rmtree(workdir, ignore_errors=True)
    os.mkdir(workdir, 0o755)
    for name, data in files.items():
        fd = os.open(os.path.join(workdir, name),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, data)
        os.close(fd)
    db = os.path.join(workdir, ARGS.db)
    args = [chk, db] + (["--dump"] if dump else [])
    inp = "".join("%s %s\n" % (acct, tok) for acct, tok, _ in tokens)
    p = subprocess.run(args, input=inp.encode(), capture_output=True,
                       timeout=120)
    return p.stdout.decode(errors="replace").splitlines(), p.stderr.decode(
        errors="replace")


def judge(workdir, files, toks, floor, by_digest):
    """None if the state recovers as it must, else what went wrong."""
    out, err = run_chk(ARGS.chk, workdir, files, toks)
    if not out or out[0] != "open ok":
        return "the store does not open: %s" % " ".join(out[:1] or [err[:200]])
    dig = out[1][len("digest "):] if len(out) > 1 and \
        out[1].startswith("digest ") else None
    reasons = out[2:]
    if dig is None:
        return "no digest: %s" % out[1:2]
    if dig not in by_digest:
        return "the records match no journal batch's state"
    if by_digest[dig] < floor:
        return "the records are those after batch %d, but batch %d was " \
               "durable" % (by_digest[dig], floor)
    if len(reasons) != len(toks):
        return "crashchk answered %d of %d tokens" % (len(reasons), len(toks))
    for (_, tok, want), got in zip(toks, reasons):
        if want == "ok" and got != "ok":
            return "an acknowledged token %s: %s" % (tok[4:16], got)
        if want == "refuse" and got == "ok":
            return "a token whose revocation was acknowledged (%s) " \
                   "verifies" % tok[4:16]
    return None


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--trace", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--dir", required=True, help="the traced store's directory")
    ap.add_argument("--db", required=True)
    ap.add_argument("--chk", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--fs", default="posix", choices=("posix", "ext4"))
    ap.add_argument("--states", type=int, default=0,
                    help="check at most this many (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db-samples", type=int, default=6)
    ap.add_argument("--mixed", type=int, default=3)
    ap.add_argument("--expect-failures", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", type=int, default=3,
                    help="failing states kept under WORK/fail-N")
    ARGS = ap.parse_args()
    t0 = time.time()
    rnd = random.Random(ARGS.seed)
    recs = parse_trace(ARGS.trace)
    base = ARGS.dir.rstrip("/")
    os.makedirs(ARGS.work, exist_ok=True)

    # the state the traced run started from, after its own recovery
    initfiles = {n: open(os.path.join(ARGS.init, n), "rb").read()
                 for n in os.listdir(ARGS.init)}
    out, err = run_chk(ARGS.chk, os.path.join(ARGS.work, "init"), initfiles,
                       [], dump=True)
    if not out or out[0] != "open ok":
        raise SystemExit("crashmodel: the initial store does not open: %s %s"
                         % (out, err))
    kv = {}
    for line in out:
        if line.startswith("kv "):
            _, k, v = line.split(" ")
            kv[bytes.fromhex(k) if k != "-" else b""] = \
                bytes.fromhex(v) if v != "-" else b""
    by_digest = {digest_of(kv): -1}

    # pass 1: the batches, the acknowledgements and the sync points
    model = Model(ARGS.init, ARGS.fs)
    jname = ARGS.db + ".journal"
    batch_at = {}          # seq -> trace index of its write
    synced_upto = []       # per trace index: highest seq durable by then
    acks = []              # (trace index, kind, reply)
    sockbuf = {}
    written = []           # (trace index, seq, keys)
    last_synced, pending_seqs = -1, []
    ntok_mods = 0
    first_seq = None
    for i, r in enumerate(recs):
        op, fd = r[0], r[1]
        if op == "W" and model.fds.get(fd) is not None and \
                model.fds[fd] is model.names.get(jname):
            b = decode_batches(r[4])
            if b is not None:
                seq, entries = b
                if first_seq is None:
                    first_seq = seq
                for k, v in entries:
                    if v is None:
                        kv.pop(k, None)
                    else:
                        kv[k] = v
                by_digest[digest_of(kv)] = max(
                    by_digest.get(digest_of(kv), -1), seq)
                batch_at[seq] = i
                written.append((i, seq, {k for k, _ in entries}))
                pending_seqs.append(seq)
        if op in "SD" and model.fds.get(fd) is not None and \
                model.fds[fd] is model.names.get(jname) and pending_seqs:
            last_synced = max(pending_seqs)
            pending_seqs = []
        if op == "A":
            buf = sockbuf.get(fd, b"") + r[4]
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                try:
                    rep = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rep, dict) and rep.get("ok"):
                    acks.append((i, rep))
            sockbuf[fd] = buf
        if op == "C" and r[5] == "-":
            sockbuf.pop(fd, None)
        if op == "P":
            sockbuf = {}
        model.step(r, base)
        synced_upto.append(last_synced)
    nbatches = len(batch_at)
    ncp = sum(1 for r in recs if r[0] == "R" and r[6] is not None and
              r[6].endswith(".base"))
    nacks = sum(1 for _, rep in acks if "token" in rep or rep.get("revoked_at"))

    # pass 2: the states, point by point, told apart by their contents;
    # only their descriptions are kept (a state is rebuilt to be checked)
    model = Model(ARGS.init, ARGS.fs)
    seen = set()
    candidates = []    # (point, dir variant, {ino id: variant}, keep)
    for i, r in enumerate(recs):
        model.step(r, base)
        for dv, vs, keep in state_specs(model, rnd):
            names = model.names_for(dv)
            key = hashlib.blake2b(digest_size=16)
            for name in sorted(names):
                ino = names[name]
                v = vs.get(ino.id, ("p", len(ino.pending)) if keep else ("p", 0))
                key.update(name.encode() + b"\0" + Model.chash(ino, v))
            key = key.digest()
            if key in seen:
                continue
            seen.add(key)
            candidates.append((i, dv, vs, keep))

    explored = len(candidates)
    if ARGS.states and explored > ARGS.states:
        idx = sorted(rnd.sample(range(explored), ARGS.states))
        todo = [candidates[j] for j in idx]
    else:
        todo = candidates

    # expectations per point, built once in trace order
    ack_ptr = 0
    tok_exp = {}
    idtok = {}
    ack_list = sorted(acks, key=lambda a: a[0])
    written_ptr = 0
    touched = {}       # token id -> trace index of the last batch write
    point_exp = {}
    need = sorted({c[0] for c in todo})
    need_ptr = 0
    for i in range(len(recs)):
        while written_ptr < len(written) and written[written_ptr][0] <= i:
            for k in written[written_ptr][2]:
                if k.startswith(b"t:"):
                    touched[k[2:].decode()] = written[written_ptr][0]
            written_ptr += 1
        while ack_ptr < len(ack_list) and ack_list[ack_ptr][0] <= i:
            ai, rep = ack_list[ack_ptr]
            if "token" in rep:
                idtok[rep["id"]] = (rep["account"], rep["token"])
                tok_exp[rep["id"]] = ("ok", ai)
                if rep.get("old_revoked_at"):
                    tok_exp[rep["old_id"]] = ("refuse", ai)
                elif rep.get("old_id"):
                    tok_exp.pop(rep["old_id"], None)   # in its grace
            elif rep.get("revoked_at") and rep.get("id"):
                tok_exp[rep["id"]] = ("refuse", ai)
            ack_ptr += 1
        if need_ptr < len(need) and need[need_ptr] == i:
            lst = []
            for tid, (want, ai) in tok_exp.items():
                if tid not in idtok:
                    continue
                # a later change of it already being written may be
                # durable: then "ok" cannot be asked of it
                if want == "ok" and touched.get(tid, -1) > ai:
                    continue
                lst.append((idtok[tid][0], idtok[tid][1], want))
            point_exp[i] = lst
            need_ptr += 1

    failures, checked, shown = 0, 0, 0
    model = Model(ARGS.init, ARGS.fs)
    stepped = -1
    pool = concurrent.futures.ThreadPoolExecutor(ARGS.jobs)
    free = [os.path.join(ARGS.work, "s%d" % n) for n in range(2 * ARGS.jobs)]
    inflight = {}

    def reap(block):
        nonlocal failures, checked, shown
        if not inflight:
            return
        done, _ = concurrent.futures.wait(
            inflight, return_when=concurrent.futures.FIRST_COMPLETED
            if block else concurrent.futures.ALL_COMPLETED)
        for fut in done:
            point, files, wd = inflight.pop(fut)
            free.append(wd)
            checked += 1
            if checked % 2000 == 0:
                print("crashmodel: %d of %d states checked, %d failures" %
                      (checked, len(todo), failures), file=sys.stderr,
                      flush=True)
            why = fut.result()
            if why is None:
                continue
            failures += 1
            if shown < ARGS.keep:
                keep = os.path.join(ARGS.work, "fail-%d" % shown)
                shutil.rmtree(keep, ignore_errors=True)
                os.makedirs(keep)
                for name, data in files.items():
                    with open(os.path.join(keep, name), "wb") as f:
                        f.write(data)
                print("%s state at trace op %d (%s %s): %s; files in %s" %
                      ("caught: a" if ARGS.expect_failures else "FAIL",
                       point, recs[point][0], os.path.basename(recs[point][5]),
                       why, keep))
                shown += 1

    for point, dv, vs, keep in todo:
        if failures and ARGS.expect_failures:
            break
        while stepped < point:
            stepped += 1
            model.step(recs[stepped], base)
        files = build(model, dv, vs, keep)
        if not free:
            reap(True)
        wd = free.pop()
        fut = pool.submit(judge, wd, files, point_exp[point],
                          synced_upto[point], by_digest)
        inflight[fut] = (point, files, wd)
    while inflight:
        reap(False)
    pool.shutdown()
    for wd in free:
        shutil.rmtree(wd, ignore_errors=True)
    print("crash[%s]: trace of %d ops, %d batches from seq %s, %d acknowledged "
          "changes, %d checkpoints; %d distinct crash states, %d checked, "
          "%d failures, %.1f s" % (ARGS.fs, len(recs), nbatches, first_seq,
                                    nacks, ncp, explored, checked, failures,
                                    time.time() - t0))
    if ARGS.expect_failures:
        sys.exit(0 if failures else 1)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
