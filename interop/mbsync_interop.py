#!/usr/bin/env python3
"""Two-way sync of a 1,000-message mailbox between Mailroom and a local Maildir with mbsync (isync).

Usage: mbsync_interop.py --imap HOST:PORT --smtp HOST:PORT --data-dir DIR --mailroom PATH [--mbsync PATH] [--work DIR]

Expects alice@example.com (password Correct-Horse-42) with an empty INBOX. Fills the INBOX with
1,000 messages over IMAP (pipelined LITERAL+ APPENDs), then:
  1. mbsync pulls them all into a Maildir (flags included);
  2. flags change, messages are deleted and new ones added on BOTH sides; mbsync syncs both
     ways; server and Maildir must then agree on the set of messages and their flags;
  3. a third mbsync run must change nothing on either side.
Exits non-zero with a clear message on the first failure.
"""
import argparse
import imaplib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--imap", required=True)
ap.add_argument("--smtp", required=True)
ap.add_argument("--data-dir", required=True)
ap.add_argument("--mailroom", required=True)
ap.add_argument("--mbsync", default=shutil.which("mbsync") or "/usr/bin/mbsync")
ap.add_argument("--work", default=None, help="work folder (default: a new temporary one, removed at the end)")
ARGS = ap.parse_args()
HOST, PORT = ARGS.imap.rsplit(":", 1)
PORT = int(PORT)
USER, PW = "alice@example.com", "Correct-Horse-42"
N = 1000
WORK = ARGS.work or tempfile.mkdtemp(prefix="mbsync-interop-")
LOCAL = os.path.join(WORK, "local")
INBOX = os.path.join(LOCAL, "INBOX")
STARTED = time.monotonic()


def check(name, cond, detail=""):
    if not cond:
        print(f"FAIL {name}: {detail}"[:4000])
        sys.exit(1)
    print(f"PASS {name}")


def message(i, origin="server"):
    return (f"From: Sender {i} <sender{i}@example.net>\r\nTo: {USER}\r\nSubject: mbsync message {origin} {i}\r\n"
            f"Date: Mon, 02 Nov 2026 10:{i % 60:02d}:00 +0000\r\nMessage-ID: <{origin}-{i}@mbsync.interop>\r\n\r\n"
            f"Body of message {i} from the {origin}.\r\n").encode()


def pipelined_append(messages):
    """APPENDs every (flags, bytes) with LITERAL+ in one pipelined burst; returns the failures."""
    s = socket.create_connection((HOST, PORT), timeout=60)
    f = s.makefile("rb")
    f.readline()
    s.sendall(f'L LOGIN "{USER}" "{PW}"\r\n'.encode())
    while not (line := f.readline()).startswith(b"L "):
        pass
    check("pipelined APPEND session logged in", line.startswith(b"L OK"), line)
    out = b"".join(b"A%d APPEND INBOX (%s) {%d+}\r\n%s\r\n" % (i, flags.encode(), len(m), m) for i, (flags, m) in enumerate(messages))
    s.sendall(out)
    bad, done = [], 0
    while done < len(messages):
        line = f.readline()
        if not line:
            bad.append("connection closed")
            break
        if line.startswith(b"A"):
            done += 1
            if b" OK " not in line:
                bad.append(line)
    s.sendall(b"Z LOGOUT\r\n")
    s.close()
    return bad


def server_state():
    """{message-id: (uid, flags)} and the mailbox's (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, EXISTS)."""
    M = imaplib.IMAP4(HOST, PORT, timeout=60)
    M.login(USER, PW)
    M._simple_command("ENABLE", "CONDSTORE")
    typ, _ = M.select("INBOX", readonly=True)
    meta = tuple(M.untagged_responses.get(k, [b"?"])[-1] for k in ("UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ", "EXISTS"))
    state = {}
    typ, data = M.uid("FETCH", "1:*", "(FLAGS MODSEQ BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    for item in data or []:
        if not isinstance(item, tuple):
            continue
        uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
        flags = set(re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode().split())
        mid = re.search(rb"<([^>]+)>", item[1]).group(1).decode()
        state[mid] = (uid, frozenset(f for f in flags if f != "\\Recent"))
    M.logout()
    return state, meta


MAILDIR_FLAGS = {"S": "\\Seen", "F": "\\Flagged", "R": "\\Answered", "D": "\\Draft", "T": "\\Deleted"}


def local_state():
    """{message-id: (file name, flags)} of the Maildir INBOX."""
    state = {}
    for sub in ("cur", "new"):
        d = os.path.join(INBOX, sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), "rb") as fh:
                mid = re.search(rb"(?im)^Message-ID: <([^>]+)>", fh.read()).group(1).decode()
            info = name.split(":2,", 1)[1] if ":2," in name else ""
            state[mid] = (f"{sub}/{name}", frozenset(MAILDIR_FLAGS[c] for c in info if c in MAILDIR_FLAGS))
    return state


def mbsync(label):
    t0 = time.monotonic()
    r = subprocess.run([ARGS.mbsync, "-c", os.path.join(WORK, "mbsyncrc"), "-V", "mailroom"], capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    check(f"mbsync {label} exits 0 ({time.monotonic() - t0:.1f} s)", r.returncode == 0, out[-3000:])
    return out


def compare(label):
    srv, _ = server_state()
    loc = local_state()
    only_srv = sorted(set(srv) - set(loc))
    only_loc = sorted(set(loc) - set(srv))
    check(f"{label}: same messages on both sides ({len(srv)} on the server, {len(loc)} in the Maildir)",
          not only_srv and not only_loc, f"only on server {only_srv[:10]}, only local {only_loc[:10]}")
    differ = [(m, sorted(srv[m][1]), sorted(loc[m][1])) for m in srv if srv[m][1] != loc[m][1]]
    check(f"{label}: same flags on both sides", not differ, f"{len(differ)} differ, e.g. {differ[:10]}")
    return srv, loc


os.makedirs(LOCAL, exist_ok=True)
with open(os.path.join(WORK, "mbsyncrc"), "w") as fh:
    fh.write(f"""FSync no
IMAPAccount mailroom
Host {HOST}
Port {PORT}
User {USER}
Pass {PW}
SSLType None
AuthMechs LOGIN PLAIN

IMAPStore mailroom-remote
Account mailroom

MaildirStore mailroom-local
Path {LOCAL}/
Inbox {INBOX}

Channel mailroom
Far :mailroom-remote:
Near :mailroom-local:
Patterns INBOX
Create Both
Expunge Both
Sync All
SyncState *
""")

# --- 1. 1,000 messages on the server, some already \Seen or \Flagged; first sync pulls all.
t0 = time.monotonic()
bad = pipelined_append([("\\Seen" if i % 3 == 0 else "\\Flagged" if i % 7 == 0 else "", message(i)) for i in range(N)])
check(f"{N} pipelined APPENDs accepted ({time.monotonic() - t0:.1f} s)", not bad, bad[:5])
srv, meta = server_state()
check(f"server INBOX holds {N} messages", len(srv) == N, meta)
mbsync("first run (pull 1,000)")
loc = local_state()
check(f"{N} Maildir files arrived", len(loc) == N, len(loc))
compare("after the first run")

# --- 2. changes on both sides
ids = sorted(loc, key=lambda m: int(m.rsplit("-", 1)[1].split("@")[0]))
local_seen, local_flag, local_del = ids[1:11], ids[11:21], ids[21:31]
srv_seen, srv_flag, srv_del = ids[40:50], ids[50:60], ids[60:70]
srv_unseen = [m for m in ids[100:130] if "\\Seen" in srv[m][1]]


def with_flags(path, add):
    base, _, info = path.partition(":2,")
    info = "".join(sorted(set(info) | set(add)))
    return f"{base}:2,{info}"


for m in local_seen + local_flag:
    path = os.path.join(INBOX, loc[m][0])
    new = with_flags(path.replace("/new/", "/cur/"), "S" if m in local_seen else "F")
    os.rename(path, new)
for m in local_del:
    os.remove(os.path.join(INBOX, loc[m][0]))
for i in range(5):
    name = f"{int(time.time())}.local{i}.interop"
    with open(os.path.join(INBOX, "tmp", name), "wb") as fh:
        fh.write(message(i, origin="local"))
    os.rename(os.path.join(INBOX, "tmp", name), os.path.join(INBOX, "new" if i % 2 else "cur", name + ("" if i % 2 else ":2,S")))

M = imaplib.IMAP4(HOST, PORT, timeout=60)
M.login(USER, PW)
M.select("INBOX")
uid_set = lambda ms: ",".join(str(srv[m][0]) for m in ms)
check("server: +FLAGS \\Seen", M.uid("STORE", uid_set(srv_seen), "+FLAGS.SILENT", "(\\Seen)")[0] == "OK")
check("server: +FLAGS \\Flagged", M.uid("STORE", uid_set(srv_flag), "+FLAGS.SILENT", "(\\Flagged)")[0] == "OK")
if srv_unseen:
    check("server: -FLAGS \\Seen", M.uid("STORE", uid_set(srv_unseen), "-FLAGS.SILENT", "(\\Seen)")[0] == "OK")
check("server: delete", M.uid("STORE", uid_set(srv_del), "+FLAGS.SILENT", "(\\Deleted)")[0] == "OK" and M.expunge()[0] == "OK")
for i in range(5):
    check(f"server: APPEND new {i}", M.append("INBOX", "(\\Flagged)" if i == 0 else None, None, message(i, origin="server-new"))[0] == "OK")
M.logout()

mbsync("second run (both ways)")
srv, loc = compare("after the second run")
expected = N - len(local_del) - len(srv_del) + 5 + 5
check(f"both sides hold {expected} messages", len(srv) == expected, len(srv))
check("local deletions reached the server", not any(m in srv for m in local_del))
check("server deletions reached the Maildir", not any(m in loc for m in srv_del))
check("local \\Seen reached the server", all("\\Seen" in srv[m][1] for m in local_seen), [srv[m] for m in local_seen])
check("local \\Flagged reached the server", all("\\Flagged" in srv[m][1] for m in local_flag), [srv[m] for m in local_flag])
check("server \\Seen reached the Maildir", all("\\Seen" in loc[m][1] for m in srv_seen), [loc[m] for m in srv_seen])
check("server \\Flagged reached the Maildir", all("\\Flagged" in loc[m][1] for m in srv_flag), [loc[m] for m in srv_flag])
check("server -\\Seen reached the Maildir", all("\\Seen" not in loc[m][1] for m in srv_unseen), [loc[m] for m in srv_unseen])
check("new local messages reached the server", all(f"local-{i}@mbsync.interop" in srv for i in range(5)))
check("new local message's \\Seen reached the server", "\\Seen" in srv["local-0@mbsync.interop"][1], srv.get("local-0@mbsync.interop"))
check("new server messages reached the Maildir", all(f"server-new-{i}@mbsync.interop" in loc for i in range(5)))
check("new server message's \\Flagged reached the Maildir", "\\Flagged" in loc["server-new-0@mbsync.interop"][1], loc.get("server-new-0@mbsync.interop"))

# --- 3. nothing left to do: a third run changes nothing on either side.
srv_before, meta_before = server_state()
files_before = sorted(v[0] for v in local_state().values())
out = mbsync("third run (no changes)")
srv_after, meta_after = server_state()
files_after = sorted(v[0] for v in local_state().values())
check("third run: Maildir unchanged", files_before == files_after, sorted(set(files_before) ^ set(files_after))[:10])
check("third run: server messages and flags unchanged", srv_before == srv_after,
      [(m, srv_before.get(m), srv_after.get(m)) for m in set(srv_before) | set(srv_after) if srv_before.get(m) != srv_after.get(m)][:10])
check("third run: UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, EXISTS unchanged", meta_before == meta_after, (meta_before, meta_after))
# mbsync prints its +new *flags #trash -expunged counters only on a terminal; when they are there, all are 0.
counters = re.findall(r"(?:far|near): \+(\d+) \*(\d+) #(\d+) -(\d+)", out)
check("third run: mbsync's counters (when printed) report nothing propagated", all(set(c) <= {"0"} for c in counters), counters)

if not ARGS.work:
    shutil.rmtree(WORK, ignore_errors=True)
print(f"all mbsync interop checks passed ({time.monotonic() - STARTED:.1f} s)")
