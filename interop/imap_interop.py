#!/usr/bin/env python3
"""Interop checks of Mailroom's IMAP listener with Python's imaplib, smtplib and raw sockets.

Usage: imap_interop.py --imap HOST:PORT --smtp HOST:PORT --data-dir DIR --mailroom PATH [--keep-going]

Expects the directory set up by the calling test: example.com with alice@ (password
Correct-Horse-42) and bob@ (password Battery-Staple-7), both with empty default mailboxes and
no quota. Drives every command and extension Mailroom advertises, asserting on each response.
Prints one line per check and exits non-zero on the first failure (with --keep-going: after
running everything, listing every failure). Talks only to the addresses given.
"""
import argparse
import base64
import hashlib
import hmac
import imaplib
import os
import re
import select
import smtplib
import socket
import subprocess
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--imap", required=True)
ap.add_argument("--smtp", required=True)
ap.add_argument("--data-dir", required=True)
ap.add_argument("--mailroom", required=True)
ap.add_argument("--keep-going", action="store_true", help="report every failure, not only the first")
ARGS = ap.parse_args()
IMAP_HOST, IMAP_PORT = ARGS.imap.rsplit(":", 1)
SMTP_HOST, SMTP_PORT = ARGS.smtp.rsplit(":", 1)
IMAP_PORT, SMTP_PORT = int(IMAP_PORT), int(SMTP_PORT)
ALICE, ALICE_PW = "alice@example.com", "Correct-Horse-42"
BOB, BOB_PW = "bob@example.com", "Battery-Staple-7"
STARTED = time.monotonic()
FAILURES = []

# imaplib refuses commands it does not know; teach it the extensions' names.
for name in ("ID", "ENABLE", "UNSELECT", "MOVE", "GETQUOTA", "GETQUOTAROOT", "NAMESPACE"):
    imaplib.Commands.setdefault(name, ("NONAUTH", "AUTH", "SELECTED"))
# …and let the server, not imaplib, judge which state a command is allowed in.
for name in imaplib.Commands:
    imaplib.Commands[name] = ("NONAUTH", "AUTH", "SELECTED", "LOGOUT")
imaplib._MAXLINE = 10_000_000


def check(name, cond, detail=""):
    if cond:
        print(f"PASS {name}")
        return True
    print(f"FAIL {name}: {detail!r}"[:3000])
    sys.stdout.flush()
    FAILURES.append(name)
    if not ARGS.keep_going:
        sys.exit(1)
    return False


def section(title):
    print(f"--- {title}")


# ---------------------------------------------------------------------------------------------
# A raw IMAP connection, for what imaplib cannot do (SASL-IR, LITERAL+, IDLE timing, QRESYNC,
# SEARCHRES) and for exact control over the bytes sent.
class Lit:
    """A literal argument; `plus` sends it non-synchronizing (LITERAL+)."""

    def __init__(self, data, plus=False):
        self.data, self.plus = data, plus


class Raw:
    def __init__(self, host=IMAP_HOST, port=IMAP_PORT):
        self.sock = socket.create_connection((host, port), timeout=15)
        self.buf = b""
        self.n = 0
        self.greeting = self.line()

    def _fill(self):
        d = self.sock.recv(1 << 20)
        if not d:
            raise EOFError("server closed the connection")
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def response(self):
        """One response, literals inlined as `{n}\\r\\n<bytes>`."""
        out = self.line()
        while (m := re.search(rb"~?\{(\d+)\+?\}$", out)):
            n = int(m.group(1))
            while len(self.buf) < n:
                self._fill()
            out += b"\r\n" + self.buf[:n]
            self.buf = self.buf[n:]
            out += self.line()
        return out

    def pending(self, timeout):
        """True when a response is (or becomes, within timeout) ready to read."""
        if b"\r\n" in self.buf:
            return True
        r, _, _ = select.select([self.sock], [], [], timeout)
        return bool(r)

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, *parts):
        """Sends one command built from bytes/str and Lit parts; returns (status, tagged, untagged)."""
        self.n += 1
        tag = f"R{self.n}".encode()
        out = tag + b" "
        untagged = []
        for p in parts:
            if isinstance(p, str):
                p = p.encode()
            if isinstance(p, Lit):
                out += b"{%d%s}\r\n" % (len(p.data), b"+" if p.plus else b"")
                if not p.plus:
                    self.send(out)
                    out = b""
                    while True:
                        r = self.response()
                        if r.startswith(b"+"):
                            break
                        if r.startswith(tag + b" "):
                            return r.split(b" ")[1].decode(), r, untagged
                        untagged.append(r)
                out += p.data
            else:
                out += p
        self.send(out + b"\r\n")
        return self.finish(tag, untagged)

    def finish(self, tag, untagged=None):
        untagged = [] if untagged is None else untagged
        while True:
            r = self.response()
            if r.startswith(tag + b" "):
                return r.split(b" ")[1].decode(), r, untagged
            untagged.append(r)

    def login(self, user=ALICE, pw=ALICE_PW):
        st, t, _ = self.cmd(f'LOGIN "{user}" "{pw}"')
        assert st == "OK", t
        return self

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# imaplib helpers
def connect(user=ALICE, pw=ALICE_PW):
    M = imaplib.IMAP4(IMAP_HOST, IMAP_PORT, timeout=15)
    if user:
        M.login(user, pw)
    return M


def run(M, name, *args, literal=None):
    """Runs one command; returns (status, tagged text, untagged responses by type)."""
    M.untagged_responses = {}
    if literal is not None:
        M.literal = literal
    try:
        typ, dat = M._simple_command(name, *args)
    except imaplib.IMAP4.error as e:  # BAD is raised by imaplib
        return "BAD", str(e), dict(M.untagged_responses)
    text = b" ".join(d if isinstance(d, bytes) else b"" for d in dat if d is not None)
    untagged = {k: [i[0] + b"\r\n" + i[1] if isinstance(i, tuple) else i for i in v if i is not None]
                for k, v in M.untagged_responses.items()}
    return typ, text.decode("utf-8", "replace"), untagged


def list_names(entries):
    """Mailbox names from LIST/LSUB untagged data (names may come as literals)."""
    out = []
    for e in entries:
        if not e:
            continue
        m = re.search(rb"\{(\d+)\}\r\n", e)
        out.append(e[m.end():] if m else e.rsplit(b" ", 1)[-1].strip(b'"'))
    return out


def flat(items):
    """imaplib's literal tuples joined back into the wire form: `... {n}\\r\\n<bytes>...`."""
    out = b""
    for i in items or []:
        if isinstance(i, tuple):
            out += i[0] + b"\r\n" + i[1]
        elif i is not None:
            out += i
    return out


def literal_of(resp, item):
    """The value of a FETCH item given as a literal, or a quoted string, or NIL."""
    i = resp.find(item.encode() + b" ")
    if i < 0:
        return None
    rest = resp[i + len(item) + 1:]
    m = re.match(rb"~?\{(\d+)\}\r\n", rest)
    if m:
        return rest[m.end():m.end() + int(m.group(1))]
    m = re.match(rb'"((?:[^"\\]|\\.)*)"', rest)
    if m:
        return re.sub(rb"\\(.)", rb"\1", m.group(1))
    if rest.startswith(b"NIL"):
        return b""
    return None


def fetch(M, seq, items, uid=False):
    M.untagged_responses = {}
    try:
        if uid:
            typ, dat = M.uid("FETCH", seq, items)
        else:
            typ, dat = M.fetch(seq, items)
    except imaplib.IMAP4.error as e:
        return "BAD", str(e).encode()
    return typ, flat(dat)


def status_of(M, box, items):
    typ, text, u = run(M, "STATUS", box, f"({items})")
    data = b" ".join(u.get("STATUS", [b""])) if typ == "OK" else b""
    return typ, text, dict((k.decode(), int(v)) for k, v in re.findall(rb"([A-Z]+) (\d+)", data))


def mailroom(*args):
    r = subprocess.run([ARGS.mailroom, *args, "--data-dir", ARGS.data_dir], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def q(name):
    """A mailbox name as a quoted string (UTF8=ACCEPT lets us send UTF-8)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


CRLF = "\r\n"


def message(subject, body="Hello.\r\n", frm="Carol Sender <carol@example.net>", to="alice@example.com",
            date="Mon, 02 Nov 2026 10:00:00 +0000", extra=""):
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@interop>\r\n{extra}\r\n{body}").encode()


ATTACHMENT = bytes(range(256)) + b"\x00\xff" * 50
ATT_B64 = base64.encodebytes(ATTACHMENT).replace(b"\n", b"\r\n")
PART1 = b"Hello Bob, see the attachment. zebrafish"
MULTIPART = (
    b"From: Alice Example <alice@example.com>\r\n"
    b"To: Bob Example <bob@example.com>\r\n"
    b"Cc: carol@example.net\r\n"
    b"Subject: Multipart fetch test\r\n"
    b"Date: Mon, 02 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <multipart@interop>\r\n"
    b"X-Interop: yes\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="BOUNDARY"\r\n'
    b"\r\n"
    b"This is a multi-part message in MIME format.\r\n"
    b"--BOUNDARY\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 7bit\r\n"
    b"\r\n" + PART1 + b"\r\n"
    b"--BOUNDARY\r\n"
    b'Content-Type: application/octet-stream; name="data.bin"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b'Content-Disposition: attachment; filename="data.bin"\r\n'
    b"\r\n" + ATT_B64 +
    b"--BOUNDARY--\r\n"
)
PART2_MIME = (b'Content-Type: application/octet-stream; name="data.bin"\r\nContent-Transfer-Encoding: base64\r\n'
              b'Content-Disposition: attachment; filename="data.bin"\r\n\r\n')


# =============================================================================================
section("not authenticated: CAPABILITY, NOOP, ID, LOGIN failures, AUTHENTICATE")
r = Raw()
check("greeting is OK with capabilities", r.greeting.startswith(b"* OK") and b"IMAP4rev2" in r.greeting, r.greeting)
st, t, u = r.cmd("CAPABILITY")
caps = set(b" ".join(u).split()) if st == "OK" else set()
for c in (b"IMAP4rev1 IMAP4rev2 STARTTLS AUTH=PLAIN AUTH=SCRAM-SHA-256 SASL-IR LITERAL+ ENABLE ID IDLE NAMESPACE UIDPLUS "
          b"MOVE UNSELECT CHILDREN SPECIAL-USE CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE ESEARCH SEARCHRES "
          b"CONDSTORE QRESYNC QUOTA QUOTA=RES-STORAGE UTF8=ACCEPT BINARY").split():
    check(f"CAPABILITY lists {c.decode()}", c in caps, u)
check("CAPABILITY lists APPENDLIMIT", any(c.startswith(b"APPENDLIMIT") for c in caps), u)
check("CAPABILITY does not offer LOGINDISABLED on loopback", b"LOGINDISABLED" not in caps, u)
st, t, u = r.cmd("NOOP")
check("NOOP before login is OK", st == "OK", t)
st, t, u = r.cmd('ID ("name" "imap_interop" "version" "1")')
check("ID answers with the server's ID", st == "OK" and any(x.startswith(b"* ID (") or x == b"* ID NIL" for x in u), (t, u))
st, t, u = r.cmd("SELECT INBOX")
check("SELECT before login is refused", st in ("NO", "BAD"), t)
st, t, u = r.cmd(f'LOGIN "{ALICE}" "wrong-password"')
check("LOGIN with a wrong password: NO [AUTHENTICATIONFAILED]", st == "NO" and b"[AUTHENTICATIONFAILED]" in t, t)
st, t, u = r.cmd('LOGIN "nobody@example.com" "whatever-pw"')
check("LOGIN of an unknown user: NO [AUTHENTICATIONFAILED]", st == "NO" and b"[AUTHENTICATIONFAILED]" in t, t)
st, t, u = r.cmd("AUTHENTICATE PLAIN " + base64.b64encode(f"\0{ALICE}\0not-it".encode()).decode())
check("AUTHENTICATE PLAIN with a wrong password: NO [AUTHENTICATIONFAILED]", st == "NO" and b"AUTHENTICATIONFAILED" in t, t)
r.close()

# AUTHENTICATE PLAIN with SASL-IR (initial response on the command line)
r = Raw()
st, t, u = r.cmd("AUTHENTICATE PLAIN " + base64.b64encode(f"\0{ALICE}\0{ALICE_PW}".encode()).decode())
check("AUTHENTICATE PLAIN with SASL-IR", st == "OK", t)
st, t, u = r.cmd("SELECT INBOX")
check("…and the session is authenticated", st == "OK", t)
r.close()

# AUTHENTICATE PLAIN without SASL-IR: empty continuation, then the response.
r = Raw()
r.n += 1
r.send(b"P1 AUTHENTICATE PLAIN\r\n")
cont = r.line()
check("AUTHENTICATE PLAIN without initial response gets a continuation", cont.startswith(b"+"), cont)
r.send(base64.b64encode(f"\0{ALICE}\0{ALICE_PW}".encode()) + b"\r\n")
st, t, u = r.finish(b"P1")
check("AUTHENTICATE PLAIN without SASL-IR", st == "OK", t)
r.close()

# AUTHENTICATE PLAIN cancelled with "*"
r = Raw()
r.send(b"P2 AUTHENTICATE PLAIN\r\n")
r.line()
r.send(b"*\r\n")
st, t, u = r.finish(b"P2")
check("AUTHENTICATE cancelled with * is BAD", st == "BAD", t)
r.close()


def scram(password, user=ALICE, tamper=False):
    r = Raw()
    cnonce = base64.b64encode(os.urandom(18)).decode()
    bare = f"n={user},r={cnonce}"
    r.send(b"S1 AUTHENTICATE SCRAM-SHA-256\r\n")
    cont = r.line()
    if not cont.startswith(b"+"):
        return r, "NO", cont, "no continuation"
    r.send(base64.b64encode(("n,," + bare).encode()) + b"\r\n")
    cont = r.line()
    if not cont.startswith(b"+ "):
        return r, cont.split(b" ")[1].decode() if cont.startswith(b"S1 ") else "?", cont, "no server-first"
    server_first = base64.b64decode(cont[2:]).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    if not attrs["r"].startswith(cnonce):
        return r, "?", cont, "server nonce does not extend ours"
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored = hashlib.sha256(client_key).digest()
    without_proof = f"c=biws,r={attrs['r']}"
    auth_msg = f"{bare},{server_first},{without_proof}".encode()
    proof = bytes(a ^ b for a, b in zip(client_key, hmac.new(stored, auth_msg, "sha256").digest()))
    if tamper:
        proof = bytes([proof[0] ^ 1]) + proof[1:]
    r.send(base64.b64encode(f"{without_proof},p={base64.b64encode(proof).decode()}".encode()) + b"\r\n")
    resp = r.line()
    expected_v = base64.b64encode(hmac.new(hmac.new(salted, b"Server Key", "sha256").digest(), auth_msg, "sha256").digest())
    note = ""
    if resp.startswith(b"+ "):
        final = base64.b64decode(resp[2:]).decode()
        note = "server signature ok" if final == "v=" + expected_v.decode() else f"bad server-final {final}"
        r.send(b"\r\n")
        resp = r.line()
    elif resp.startswith(b"S1 OK"):
        note = "server signature ok" if expected_v in resp else "OK without server-final"
    return r, resp.split(b" ")[1].decode(), resp, note


r, st, t, note = scram(ALICE_PW)
check("AUTHENTICATE SCRAM-SHA-256 succeeds", st == "OK", (t, note))
check("SCRAM server signature verifies", note == "server signature ok", note)
r.close()
r, st, t, note = scram(ALICE_PW, tamper=True)
check("SCRAM-SHA-256 with a bad proof: NO [AUTHENTICATIONFAILED]", st == "NO" and b"AUTHENTICATIONFAILED" in t, (t, note))
r.close()

# =============================================================================================
section("authenticated: ENABLE, NAMESPACE, LIST, LSUB, SUBSCRIBE")
M = connect()
st, t, u = run(M, "ENABLE", "CONDSTORE", "QRESYNC", "UTF8=ACCEPT")
enabled = set(b" ".join(u.get("ENABLED", [b""])).split())
check("ENABLE CONDSTORE QRESYNC UTF8=ACCEPT", st == "OK" and {b"CONDSTORE", b"QRESYNC", b"UTF8=ACCEPT"} <= enabled, (t, u))
M._encoding = "utf-8"
st, t, u = run(M, "NOOP")
check("NOOP", st == "OK", t)
st, t, u = run(M, "NAMESPACE")
check("NAMESPACE: one personal namespace, no others", st == "OK" and u.get("NAMESPACE") == [b'(("" "/")) NIL NIL'], u)

st, t, u = run(M, "LIST", '""', '"*"')
lst = [l for l in u.get("LIST", []) if l]
names = list_names(lst)
check("LIST \"\" \"*\" shows the default mailboxes", set(names) >= {b"INBOX", b"Sent", b"Drafts", b"Trash", b"Junk", b"Archive"}, lst)
check("LIST separator is /", all(b'"/"' in l for l in lst), lst)
for box, use in (("Sent", b"\\Sent"), ("Drafts", b"\\Drafts"), ("Trash", b"\\Trash"), ("Junk", b"\\Junk"), ("Archive", b"\\Archive")):
    line = next((l for l in lst if l.endswith(box.encode()) or l.endswith(f'"{box}"'.encode())), b"")
    check(f"LIST marks {box} {use.decode()}", use in line, line)
st, t, u = run(M, "LIST", '(SPECIAL-USE)', '""', '"*"')
lst = u.get("LIST", [])
check("LIST (SPECIAL-USE) \"\" \"*\" returns only special-use mailboxes",
      st == "OK" and len(lst) == 5 and not any(l.endswith(b"INBOX") for l in lst), (t, lst))
st, t, u = run(M, "LIST", '""', '"*"', "RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN))")
check("LIST RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN)) gives a STATUS per mailbox",
      st == "OK" and sum(b"(MESSAGES 0 UNSEEN 0)" in s for s in u.get("STATUS", [])) == len(names), (t, u))
check("…and SPECIAL-USE attributes", any(b"\\Sent" in l for l in u.get("LIST", [])), u.get("LIST"))
st, t, u = run(M, "LIST", '""', '""')
check('LIST "" "" returns the hierarchy delimiter', st == "OK" and u.get("LIST") and b'"/"' in u["LIST"][0], u)

st, t, u = run(M, "CREATE", q("Projects/2026/Q1"))
check("CREATE nested Projects/2026/Q1 (parents implied)", st == "OK", t)
st, t, u = run(M, "CREATE", q("Projects/Mailroom"))
check("CREATE Projects/Mailroom", st == "OK", t)
st, t, u = run(M, "LIST", '""', '"%"')
top = list_names(u.get("LIST", []))
check('LIST "" "%" gives top level only', st == "OK" and b"Projects" in top and not any(b"/" in n for n in top), top)
proj = next((l for l in u.get("LIST", []) if l.endswith(b"Projects") or l.endswith(b'"Projects"')), b"")
check("CHILDREN: Projects \\HasChildren", b"\\HasChildren" in proj, proj)
st, t, u = run(M, "LIST", '"Projects/"', '"%"')
sub = list_names(u.get("LIST", []))
check('LIST "Projects/" "%" lists the children', set(sub) == {b"Projects/2026", b"Projects/Mailroom"}, sub)
st, t, u = run(M, "CREATE", q("INBOX"))
check("CREATE INBOX refused", st == "NO", t)
st, t, u = run(M, "CREATE", q("Projects/Mailroom"))
check("CREATE of an existing mailbox: NO [ALREADYEXISTS]", st == "NO" and "ALREADYEXISTS" in t, t)
st, t, u = run(M, "CREATE", q("Old Stuff"), "(USE (\\Archive))")
check("CREATE \"Old Stuff\" (USE (\\Archive))", st == "OK", t)
st, t, u = run(M, "LIST", '""', q("Old Stuff"))
check("…is listed as \\Archive", b"\\Archive" in b" ".join(u.get("LIST", [])), u)
st, t, u = run(M, "CREATE", q("Bogus"), "(USE (\\Inbox))")
check("CREATE (USE (\\Inbox)) refused: NO [USEATTR] or BAD", st in ("NO", "BAD"), t)

for name in ("Entwürfe", "日本語", "Entwürfe/Ünter"):
    st, t, u = run(M, "CREATE", q(name))
    check(f"CREATE UTF-8 name {name}", st == "OK", t)
st, t, u = run(M, "LIST", '""', '"*"')
allnames = b"\n".join(u.get("LIST", []))
check("LIST after ENABLE UTF8=ACCEPT shows UTF-8 names raw", "Entwürfe".encode() in allnames and "日本語".encode() in allnames, allnames)
check("…as quoted strings, not literals (RFC 9051 uQUOTED-CHAR)",
      '"Entwürfe"'.encode() in allnames and '"日本語"'.encode() in allnames and b"}\r\n" not in allnames, allnames)
M2 = connect()  # without UTF8=ACCEPT: modified UTF-7
st, t, u = run(M2, "LIST", '""', '"*"')
allnames7 = b"\n".join(u.get("LIST", []))
check("LIST without UTF8=ACCEPT shows modified UTF-7", b"Entw&APw-rfe" in allnames7 and b"&ZeVnLIqe-" in allnames7, allnames7)
st, t, u = run(M2, "SELECT", "&ZeVnLIqe-")
check("SELECT by modified UTF-7 name &ZeVnLIqe- (日本語)", st == "OK", t)
st, t, u = run(M2, "CREATE", '"Caf&AOk-"')
check("CREATE with a modified UTF-7 name", st == "OK", t)
M2.logout()
st, t, u = run(M, "LIST", '""', q("Café"))
check("…is the same mailbox as UTF-8 Café", list_names(u.get("LIST", [])) == ["Café".encode()], u)

st, t, u = run(M, "SUBSCRIBE", q("Projects/Mailroom"))
check("SUBSCRIBE", st == "OK", t)
st, t, u = run(M, "LSUB", '""', '"*"')
subs = b"\n".join(u.get("LSUB", []))
check("LSUB shows the subscription", b"Projects/Mailroom" in subs, subs)
st, t, u = run(M, "LIST", "(SUBSCRIBED)", '""', '"*"')
check("LIST (SUBSCRIBED) shows it with \\Subscribed", any(b"\\Subscribed" in l and b"Projects/Mailroom" in l for l in u.get("LIST", [])), u)
st, t, u = run(M, "UNSUBSCRIBE", q("Projects/Mailroom"))
check("UNSUBSCRIBE", st == "OK", t)
st, t, u = run(M, "LSUB", '""', '"*"')
check("LSUB no longer shows it", b"Projects/Mailroom" not in b"\n".join(u.get("LSUB", [])), u)

section("RENAME, DELETE")
M.append("Projects/2026/Q1", None, None, message("in-q1"))
st, t, u = run(M, "RENAME", q("Projects"), q("Work"))
check("RENAME Projects Work", st == "OK", t)
st, t, u = run(M, "LIST", '""', '"*"')
names = list_names(u.get("LIST", []))
check("RENAME moved the children", b"Work/2026/Q1" in names and b"Work/Mailroom" in names and not any(n.startswith(b"Projects") for n in names), names)
typ, text, s = status_of(M, "Work/2026/Q1", "MESSAGES")
check("…with their messages", s.get("MESSAGES") == 1, (text, s))
st, t, u = run(M, "RENAME", q("Work"), q("Trash"))
check("RENAME onto an existing name refused", st == "NO", t)
st, t, u = run(M, "RENAME", q("Nope"), q("Other"))
check("RENAME of a missing mailbox refused: NO [NONEXISTENT]", st == "NO" and "NONEXISTENT" in t, t)
st, t, u = run(M, "DELETE", q("Work/Mailroom"))
check("DELETE Work/Mailroom", st == "OK", t)
st, t, u = run(M, "DELETE", q("Work/Mailroom"))
check("DELETE again: NO [NONEXISTENT]", st == "NO" and "NONEXISTENT" in t, t)
st, t, u = run(M, "DELETE", q("INBOX"))
check("DELETE INBOX refused", st == "NO", t)
st, t, u = run(M, "DELETE", q("Work"))
check("DELETE of a mailbox with children: OK (becomes \\Noselect) or NO [HASCHILDREN]", st == "OK" or "HASCHILDREN" in t, t)
st, t, u = run(M, "LIST", '""', '"Work/*"')
check("…children survive", any(b"Work/2026/Q1" in l for l in u.get("LIST", [])), u)

# =============================================================================================
section("APPEND, STATUS, SELECT/EXAMINE")
st, t, u = run(M, "CREATE", "Fetch")
typ, text, s0 = status_of(M, "Fetch", "MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ")
check("STATUS of an empty mailbox", typ == "OK" and s0.get("MESSAGES") == 0 and s0.get("UIDNEXT", 0) >= 1 and s0.get("UIDVALIDITY", 0) > 0
      and s0.get("UNSEEN") == 0 and s0.get("DELETED") == 0 and s0.get("SIZE") == 0 and "HIGHESTMODSEQ" in s0, (text, s0))
typ, dat = M.append("Fetch", "(\\Flagged $Important)", '"02-Nov-2026 10:00:00 +0000"', MULTIPART)
tagged = dat[0] if dat else b""
m = re.search(rb"\[APPENDUID (\d+) (\d+)\]", tagged)
check("APPEND with flags and date: OK [APPENDUID v uid]", typ == "OK" and m and int(m.group(1)) == s0.get("UIDVALIDITY"), tagged)
MP_UID = int(m.group(2)) if m else 1
st, t, u = run(M, "APPEND", "Fetch", literal=message("sync literal", body="synchronizing\r\n"))
check("APPEND with a synchronizing literal", st == "OK" and "APPENDUID" in t, t)
r = Raw().login()
st, t, u = r.cmd("APPEND Fetch (\\Seen) ", Lit(message("literal plus", body="non-synchronizing\r\n"), plus=True))
check("APPEND with a LITERAL+ non-synchronizing literal", st == "OK" and b"APPENDUID" in t, t)
st, t, u = r.cmd("APPEND Nonexistent ", Lit(b"Subject: x\r\n\r\nx\r\n", plus=True))
check("APPEND to a missing mailbox: NO [TRYCREATE]", st == "NO" and b"TRYCREATE" in t, t)
st, t, u = r.cmd("APPEND Fetch (\\Recent) ", Lit(b"Subject: x\r\n\r\nx\r\n", plus=True))
check("APPEND with \\Recent flag refused (BAD) or ignored", st in ("BAD", "OK"), t)
if st == "OK":
    r.cmd("SELECT Fetch")
    r.cmd("UID STORE " + re.search(rb"APPENDUID \d+ (\d+)", t).group(1).decode() + " +FLAGS.SILENT (\\Deleted)")
    r.cmd("EXPUNGE")
r.close()

typ, text, s = status_of(M, "Fetch", "MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ")
check("STATUS after 3 APPENDs", s.get("MESSAGES") == 3 and s.get("UNSEEN") == 2 and s.get("UIDNEXT", 0) > MP_UID
      and s.get("SIZE", 0) > len(MULTIPART) and s.get("HIGHESTMODSEQ", 0) > s0.get("HIGHESTMODSEQ", 0), (text, s))
FETCH_UIDVALIDITY = s.get("UIDVALIDITY")

st, t, u = run(M, "EXAMINE", "Fetch")
check("EXAMINE: OK [READ-ONLY]", st == "OK" and "[READ-ONLY]" in t, t)
check("EXAMINE: 3 EXISTS", u.get("EXISTS") == [b"3"], u)
r = Raw().login()
st, t, u = r.cmd("EXAMINE Fetch")
r.cmd("FETCH 1 BODY[TEXT]")
st, t, u = r.cmd("FETCH 1 FLAGS")
check("FETCH BODY[] under EXAMINE does not set \\Seen", st == "OK" and b"\\Seen" not in b"".join(u), u)
st, t, u = r.cmd("STORE 1 +FLAGS (\\Deleted)")
check("STORE in a read-only mailbox refused", st == "NO", t)
r.close()

st, t, u = run(M, "SELECT", "Fetch", "(CONDSTORE)")
check("SELECT: OK [READ-WRITE]", st == "OK" and "[READ-WRITE]" in t, t)
check("SELECT: FLAGS", u.get("FLAGS") and all(f in u["FLAGS"][0] for f in (b"\\Answered", b"\\Flagged", b"\\Deleted", b"\\Seen", b"\\Draft")), u)
check("SELECT: FLAGS includes the keyword $Important in use", u.get("FLAGS") and b"$Important" in u["FLAGS"][0], u.get("FLAGS"))
check("SELECT: PERMANENTFLAGS with \\*", u.get("PERMANENTFLAGS") and b"\\*" in u["PERMANENTFLAGS"][0], u)
check("SELECT: 3 EXISTS", u.get("EXISTS") == [b"3"], u)
check("SELECT: UIDVALIDITY matches STATUS", u.get("UIDVALIDITY") == [str(FETCH_UIDVALIDITY).encode()], u)
check("SELECT: UIDNEXT", u.get("UIDNEXT") == [str(s.get("UIDNEXT")).encode()], (u.get("UIDNEXT"), s))
check("SELECT: HIGHESTMODSEQ", u.get("HIGHESTMODSEQ") == [str(s.get("HIGHESTMODSEQ")).encode()], (u.get("HIGHESTMODSEQ"), s))

# =============================================================================================
section("FETCH on a multipart message with a base64 attachment")
st, resp = fetch(M, "1", "(FLAGS INTERNALDATE RFC822.SIZE UID MODSEQ)")
check("FETCH FLAGS has \\Flagged $Important, not \\Seen", b"\\Flagged" in resp and b"$Important" in resp and b"\\Seen" not in resp, resp)
check("FETCH INTERNALDATE is the APPEND date", b'INTERNALDATE "02-Nov-2026 10:00:00 +0000"' in resp, resp)
check("FETCH RFC822.SIZE is the exact size", f"RFC822.SIZE {len(MULTIPART)}".encode() in resp, resp)
check("FETCH UID", f"UID {MP_UID}".encode() in resp, resp)
check("FETCH MODSEQ", re.search(rb"MODSEQ \(\d+\)", resp) is not None, resp)
st, resp = fetch(M, "1", "(ENVELOPE)")
check("ENVELOPE date/subject/from/to/cc/message-id",
      b'"Mon, 02 Nov 2026 10:00:00 +0000" "Multipart fetch test" (("Alice Example" NIL "alice" "example.com"))' in resp
      and b'(("Bob Example" NIL "bob" "example.com"))' in resp and b'((NIL NIL "carol" "example.net"))' in resp
      and b'"<multipart@interop>"' in resp, resp)
st, resp = fetch(M, "1", "(BODYSTRUCTURE)")
low = resp.lower()
# Lines are the part's own line breaks: the CRLF before the boundary is the boundary's.
part1_lines = PART1.count(b"\n")
check("BODYSTRUCTURE: text/plain part with charset, 7bit, size and lines",
      f'("text" "plain" ("charset" "utf-8") nil nil "7bit" {len(PART1)} {part1_lines}'.encode() in low, resp)
check("BODYSTRUCTURE: base64 attachment with name and disposition",
      f'("application" "octet-stream" ("name" "data.bin") nil nil "base64" {len(ATT_B64) - 2}'.encode() in low
      and b'("attachment" ("filename" "data.bin"))' in low, resp)
check("BODYSTRUCTURE: multipart/mixed with boundary", b'"mixed" ("boundary" "boundary")' in low, resp)
st, resp = fetch(M, "1", "(BODY)")
check("BODY (non-extensible structure) has no extension data", b'"mixed")' in resp.lower() and b"boundary" not in resp.lower(), resp)
st, resp = fetch(M, "1", "(BODY.PEEK[HEADER])")
hdr = literal_of(resp, "BODY[HEADER]")
check("BODY.PEEK[HEADER] is the header with the blank line", hdr == MULTIPART.split(b"\r\n\r\n")[0] + b"\r\n\r\n", resp)
st, resp = fetch(M, "1", "(FLAGS)")
check("…PEEK did not set \\Seen", b"\\Seen" not in resp, resp)
st, resp = fetch(M, "1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])")
v = literal_of(resp, "BODY[HEADER.FIELDS (SUBJECT FROM)]")
check("BODY[HEADER.FIELDS (SUBJECT FROM)]", v == b"From: Alice Example <alice@example.com>\r\nSubject: Multipart fetch test\r\n\r\n", resp)
st, resp = fetch(M, "1", "(BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT FROM TO CC DATE MESSAGE-ID MIME-VERSION CONTENT-TYPE)])")
v = literal_of(resp, "BODY[HEADER.FIELDS.NOT (SUBJECT FROM TO CC DATE MESSAGE-ID MIME-VERSION CONTENT-TYPE)]")
check("BODY[HEADER.FIELDS.NOT (...)]", v == b"X-Interop: yes\r\n\r\n", resp)
st, resp = fetch(M, "1", "(BODY.PEEK[1])")
check("BODY[1] is the text part", literal_of(resp, "BODY[1]") == PART1, resp)
st, resp = fetch(M, "1", "(BODY.PEEK[2.MIME])")
check("BODY[2.MIME] is the part's header", literal_of(resp, "BODY[2.MIME]") == PART2_MIME, resp)
st, resp = fetch(M, "1", "(BODY.PEEK[2])")
check("BODY[2] is the base64 text", literal_of(resp, "BODY[2]") == ATT_B64.rstrip(b"\r\n"), resp[:300])
st, resp = fetch(M, "1", "(BODY.PEEK[]<0.10>)")
check("BODY[]<0.10> is the first 10 bytes, labelled <0>", b"BODY[]<0> {10}\r\n" + MULTIPART[:10] in resp, resp)
st, resp = fetch(M, "1", "(BODY.PEEK[]<20.15>)")
check("BODY[]<20.15>", literal_of(resp, "BODY[]<20>") == MULTIPART[20:35], resp)
st, resp = fetch(M, "1", "(BINARY.PEEK[1] BINARY.SIZE[1])")
check("BINARY[1] of a 7bit part is its text", literal_of(resp, "BINARY[1]") == PART1, resp)
check("BINARY.SIZE[1]", f"BINARY.SIZE[1] {len(PART1)}".encode() in resp, resp)
st, resp = fetch(M, "1", "(BINARY.PEEK[2] BINARY.SIZE[2])")
check("BINARY[2] decodes base64 to the original bytes", literal_of(resp, "BINARY[2]") == ATTACHMENT, resp[:200])
check("BINARY.SIZE[2] is the decoded size", f"BINARY.SIZE[2] {len(ATTACHMENT)}".encode() in resp, resp[-200:])
st, resp = fetch(M, "1", "(BODY[TEXT])")
check("BODY[TEXT]", literal_of(resp, "BODY[TEXT]") == MULTIPART.split(b"\r\n\r\n", 1)[1], resp[:300])
check("non-PEEK fetch reports the new \\Seen flag", b"\\Seen" in resp, resp[-200:])
st, resp = fetch(M, "2", "(BODY[])")
check("BODY[] of message 2", literal_of(resp, "BODY[]") == message("sync literal", body="synchronizing\r\n"), resp)
st, resp = fetch(M, "1:3", "(FLAGS)")
check("after BODY[] messages 1-3 are all \\Seen", resp.count(b"\\Seen") == 3, resp)
st, resp = fetch(M, str(MP_UID), "(FLAGS)", uid=True)
check("UID FETCH includes UID", f"UID {MP_UID}".encode() in resp, resp)
st, resp = fetch(M, "1", "(RFC822.HEADER)")
check("RFC822.HEADER", literal_of(resp, "RFC822.HEADER") == MULTIPART.split(b"\r\n\r\n")[0] + b"\r\n\r\n", resp)
st, resp = fetch(M, "9", "(FLAGS)")
check("FETCH of a message number beyond EXISTS is BAD or NO", st in ("BAD", "NO"), resp)
st, resp = fetch(M, "1", "(BODY.PEEK[3])")
check("BODY[3] of a 2-part message is empty or NIL, not an error", st == "OK" and literal_of(resp, "BODY[3]") in (b"", None) and b"BODY[3]" in resp, resp)

# =============================================================================================
section("STORE")
st, resp = fetch(M, "2", "(MODSEQ)")
ms2 = int(re.search(rb"MODSEQ \((\d+)\)", resp).group(1)) if b"MODSEQ (" in resp else 0
typ, dat = M.store("1", "-FLAGS", "(\\Seen)")
resp = flat(dat)
check("STORE -FLAGS (\\Seen) answers with FETCH FLAGS", typ == "OK" and b"FLAGS" in resp and b"\\Seen" not in resp, resp)
typ, dat = M.store("1", "+FLAGS", "(\\Answered $Label1)")
resp = flat(dat)
check("STORE +FLAGS with a keyword", b"\\Answered" in resp and b"$Label1" in resp and b"\\Flagged" in resp, resp)
typ, dat = M.store("1", "FLAGS", "(\\Draft)")
resp = flat(dat)
check("STORE FLAGS replaces", b"\\Draft" in resp and b"\\Answered" not in resp and b"$Label1" not in resp, resp)
M.untagged_responses = {}
typ, dat = M.store("1", "+FLAGS.SILENT", "(\\Flagged)")
check("STORE +FLAGS.SILENT sends no FETCH", typ == "OK" and not M.untagged_responses.get("FETCH"), M.untagged_responses)
st, resp = fetch(M, "1", "(FLAGS)")
check("…but the flag is set", b"\\Flagged" in resp and b"\\Draft" in resp, resp)
st, t, u = run(M, "STORE", "2", f"(UNCHANGEDSINCE {ms2 - 1})", "+FLAGS", "(\\Answered)") if ms2 else ("?", "", {})
check("STORE (UNCHANGEDSINCE older) gives OK [MODIFIED 2]", st == "OK" and re.search(r"\[MODIFIED 2\]", t), (st, t))
st, t, u = run(M, "STORE", "2", f"(UNCHANGEDSINCE {ms2})", "+FLAGS", "(\\Answered)")
check("STORE (UNCHANGEDSINCE current) succeeds", st == "OK" and "MODIFIED" not in t and b"MODSEQ" in b" ".join(x if isinstance(x, bytes) else b"" for x in u.get("FETCH", [])), (t, u))
st, t, u = run(M, "UID", "STORE", str(MP_UID), "+FLAGS", "(\\Seen)")
check("UID STORE answers with UID", st == "OK" and f"UID {MP_UID}".encode() in b" ".join(u.get("FETCH", [])), u)
st, t, u = run(M, "STORE", "1", "+FLAGS", "(\\Recent)")
check("STORE \\Recent refused", st in ("BAD", "NO"), t)

# =============================================================================================
section("SEARCH")
st, t, u = run(M, "CREATE", "Search")
st, t, u = run(M, "SELECT", "Search")
SRCH = [
    message("alpha report", body="The quarterly numbers are in.\r\n", frm="Dora <dora@example.net>", to="alice@example.com",
            date="Tue, 01 Sep 2026 08:00:00 +0000", extra="X-Tracking: one\r\n"),
    message("beta meeting", body="Let us meet about the zeppelin.\r\n" + "padding line\r\n" * 200, frm="Eve <eve@example.org>",
            to="team@example.com", date="Thu, 15 Oct 2026 23:30:00 -0500"),  # 16 Oct in UTC
    message("Grüße aus Köln", body="Schöne Grüße, Jürgen\r\n", frm="Jürgen <juergen@example.de>", to="alice@example.com",
            date="Sun, 01 Nov 2026 09:00:00 +0100", extra="MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n")
    .replace(b"Subject: Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln", b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?="),
    message("gamma", body="nothing\r\n", frm="Dora <dora@example.net>", date="Mon, 02 Nov 2026 10:00:00 +0000"),
]
for i, (raw, date, flags) in enumerate(zip(SRCH, ["01-Sep-2026 08:00:00 +0000", "15-Oct-2026 12:00:00 +0000",
                                                  "01-Nov-2026 09:00:00 +0000", "02-Nov-2026 10:00:00 +0000"],
                                           ["(\\Seen)", "(\\Flagged)", "(\\Seen \\Answered $Work)", "()"])):
    typ, dat = M.append("Search", flags, f'"{date}"', raw)
st, t, u = run(M, "SELECT", "Search")


def search(*crit, literal=None, uid=False):
    if uid:
        st, t, u = run(M, "UID", "SEARCH", *crit, literal=literal)
    else:
        st, t, u = run(M, "SEARCH", *crit, literal=literal)
    nums = b" ".join(u.get("SEARCH", [b""])).split()
    return st, sorted(int(n) for n in nums if n.isdigit()), t, u


for crit, want in [
    (("ALL",), [1, 2, 3, 4]), (("SEEN",), [1, 3]), (("UNSEEN",), [2, 4]), (("FLAGGED",), [2]), (("ANSWERED",), [3]),
    (("KEYWORD", "$Work"), [3]), (("UNKEYWORD", "$Work"), [1, 2, 4]), (("DELETED",), []),
    (("SUBJECT", "report"), [1]), (("SUBJECT", '"beta MEETING"'), [2]), (("FROM", "dora"), [1, 4]),
    (("TO", "team@example.com"), [2]), (("BODY", "zeppelin"), [2]), (("TEXT", "quarterly"), [1]), (("TEXT", "eve@example.org"), [2]),
    (("HEADER", "X-Tracking", "one"), [1]), (("HEADER", "X-Tracking", '""'), [1]), (("LARGER", "2000"), [2]), (("SMALLER", "2000"), [1, 3, 4]),
    (("SINCE", "15-Oct-2026"), [2, 3, 4]), (("BEFORE", "15-Oct-2026"), [1]), (("ON", "15-Oct-2026"), [2]),
    (("SENTSINCE", "01-Nov-2026"), [3, 4]), (("SENTBEFORE", "01-Oct-2026"), [1]), (("SENTON", "02-Nov-2026"), [4]),
    # The sender's calendar day, not the UTC one (RFC 3501 §6.4.4: "disregarding time and timezone").
    (("SENTON", "15-Oct-2026"), [2]), (("SENTON", "16-Oct-2026"), []), (("SENTBEFORE", "16-Oct-2026"), [1, 2]),
    (("2:3",), [2, 3]), (("1,4",), [1, 4]), (("*",), [4]), (("OR", "SEEN", "FLAGGED"), [1, 2, 3]), (("NOT", "SEEN"), [2, 4]),
    (("(SEEN", "FROM", "dora)"), [1]), (("OR", "(FROM", "eve)", "(SUBJECT", "gamma)"), [2, 4]),
    (("NOT", "(OR", "SEEN", "FLAGGED)"), [4]), (("SUBJECT", '"Köln"'), [3]), (("BODY", '"Jürgen"'), [3]),
]:
    st, got, t, u = search(*crit)
    check(f"SEARCH {' '.join(crit)} → {want}", st == "OK" and got == want, (st, got, t))
st, uids, t, u = search("ALL", uid=True)
check("UID SEARCH ALL", st == "OK" and len(uids) == 4, (t, uids))
st, got, t, u = search("UID", f"{uids[1]}:{uids[2]}")
check("SEARCH UID set", got == [2, 3], (t, got))
st, got, t, u = search("CHARSET", "UTF-8", "SUBJECT", literal="Grüße".encode())
check("SEARCH CHARSET UTF-8 SUBJECT {literal} (encoded-word subject)", st == "OK" and got == [3], (st, got, t))
st, got, t, u = search("CHARSET", "UTF-8", "BODY", literal="Schöne".encode())
check("SEARCH CHARSET UTF-8 BODY {literal} (8bit body)", st == "OK" and got == [3], (st, got, t))
st, got, t, u = search("CHARSET", "KOI8-NOPE", "SUBJECT", "x")
check("SEARCH with an unknown charset: NO [BADCHARSET]", st == "NO" and "BADCHARSET" in t, t)
M.store("2", "+FLAGS", "(\\Draft)")
st, resp = fetch(M, "2", "(MODSEQ)")
ms = int(re.search(rb"MODSEQ \((\d+)\)", resp).group(1)) if b"MODSEQ (" in resp else 0
st, got, t, u = search("MODSEQ", str(ms))
check("SEARCH MODSEQ n finds the changed message, with (MODSEQ n)", st == "OK" and got == [2] and re.search(rb"\(MODSEQ \d+\)", b" ".join(u.get("SEARCH", []))), (t, u))
st, got, t, u = search("FOO")
check("SEARCH with an unknown key is BAD", st == "BAD", t)

r = Raw().login()
r.cmd("ENABLE CONDSTORE")
st, t, u = r.cmd("SELECT Search")
st, t, u = r.cmd("UID SEARCH RETURN (MIN MAX COUNT ALL) ALL")
es = b" ".join(x for x in u if x.startswith(b"* ESEARCH"))
check("UID SEARCH RETURN (MIN MAX COUNT ALL)", st == "OK" and f"MIN {uids[0]}".encode() in es and f"MAX {uids[-1]}".encode() in es
      and b"COUNT 4" in es and b"ALL " in es and b"UID" in es and f'(TAG "R{r.n}")'.encode() in es, u)
st, t, u = r.cmd("SEARCH RETURN () SEEN")
check("SEARCH RETURN () is ESEARCH ALL", st == "OK" and any(b"ALL 1,3" in x or b"ALL 1 3" in x or b"ALL 1,3" in x for x in u), u)
st, t, u = r.cmd("SEARCH RETURN (COUNT) DELETED")
check("ESEARCH COUNT 0 on no match", st == "OK" and any(b"COUNT 0" in x for x in u), u)
st, t, u = r.cmd("UID SEARCH RETURN (SAVE) FROM dora")
check("SEARCH RETURN (SAVE) sends no ESEARCH", st == "OK" and not any(x.startswith(b"* ESEARCH") for x in u), u)
st, t, u = r.cmd("FETCH $ (UID FLAGS)")
got = sorted(int(m) for m in re.findall(rb"\* (\d+) FETCH", b"\n".join(u)))
check("FETCH $ uses the saved result", st == "OK" and got == [1, 4], (t, u))
st, t, u = r.cmd("UID SEARCH $ SEEN")
check("SEARCH $ SEEN combines the saved result", st == "OK" and b" ".join(u).split()[-1:] == [str(uids[0]).encode()], u)
r.cmd("SEARCH RETURN (SAVE) UNSEEN")
st, t, u = r.cmd("UID FETCH $ (FLAGS)")
got = sorted(int(m) for m in re.findall(rb"\* (\d+) FETCH", b"\n".join(u)))
check("a second SAVE replaces $", got == [2, 4], u)
r.cmd("LOGOUT")
r.close()

# =============================================================================================
section("COPY, MOVE, EXPUNGE, UID EXPUNGE, CLOSE, UNSELECT")
P = connect()  # no CONDSTORE/QRESYNC here: expunges are reported as EXPUNGE
st, t, u = run(P, "CREATE", "Dest")
typ, text, dest = status_of(P, "Dest", "UIDVALIDITY UIDNEXT")
st, t, u = run(P, "SELECT", "Search")
st, t, u = run(P, "COPY", "1:2", "Dest")
m = re.search(r"\[COPYUID (\d+) (\S+) (\S+)\]", t)
check("COPY 1:2: OK [COPYUID v src dst]", st == "OK" and m and int(m.group(1)) == dest.get("UIDVALIDITY") and m.group(2) in (f"{uids[0]}:{uids[1]}", f"{uids[0]},{uids[1]}"), t)
st, t, u = run(P, "UID", "COPY", str(uids[2]), "Dest")
check("UID COPY: OK [COPYUID]", st == "OK" and "COPYUID" in t, t)
st, t, u = run(P, "COPY", "1", "Missing")
check("COPY to a missing mailbox: NO [TRYCREATE]", st == "NO" and "TRYCREATE" in t, t)
typ, text, ds = status_of(P, "Dest", "MESSAGES")
check("Dest has 3 messages", ds.get("MESSAGES") == 3, ds)
st, t, u = run(P, "SELECT", "Dest")
st, resp = fetch(P, "3", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
check("copied message keeps flags and content", b"\\Answered" in resp and b"$Work" in resp and b"K=C3=B6ln" in resp, resp)
st, t, u = run(P, "MOVE", "1", "Trash")
check("MOVE 1 Trash: COPYUID + EXPUNGE", st == "OK" and ("COPYUID" in t or u.get("COPYUID")) and u.get("EXPUNGE") == [b"1"], (t, u))
st, t, u = run(P, "UID", "SEARCH", "ALL")
dest_uids = [int(x) for x in b" ".join(u.get("SEARCH", [b""])).split()]
st, t, u = run(P, "UID", "MOVE", str(dest_uids[0]), "Archive")
check("UID MOVE: COPYUID + EXPUNGE", st == "OK" and ("COPYUID" in t or u.get("COPYUID")) and u.get("EXPUNGE") == [b"1"], (t, u))
check("Dest has 1 left", u.get("EXISTS") is None, u)
typ, text, ts = status_of(P, "Trash", "MESSAGES")
check("Trash got the moved message", ts.get("MESSAGES") == 1, ts)
st, t, u = run(P, "SELECT", "Search")
P.store("1,3", "+FLAGS.SILENT", "(\\Deleted)")
st, t, u = run(P, "UID", "EXPUNGE", str(uids[2]))
check("UID EXPUNGE removes only the named \\Deleted message", st == "OK" and u.get("EXPUNGE") == [b"3"], u)
st, t, u = run(P, "EXPUNGE")
check("EXPUNGE removes the rest", st == "OK" and u.get("EXPUNGE") == [b"1"], u)
st, t, u = run(P, "SEARCH", "ALL")
check("2 left in Search", b" ".join(u.get("SEARCH", [])).split() == [b"1", b"2"], u)
P.store("1", "+FLAGS.SILENT", "(\\Deleted)")
st, t, u = run(P, "UNSELECT")
check("UNSELECT", st == "OK", t)
typ, text, ss = status_of(P, "Search", "MESSAGES DELETED")
check("UNSELECT does not expunge", ss.get("MESSAGES") == 2 and ss.get("DELETED") == 1, ss)
st, t, u = run(P, "FETCH", "1", "FLAGS")
check("FETCH after UNSELECT is refused", st in ("BAD", "NO"), t)
run(P, "SELECT", "Search")
st, t, u = run(P, "CLOSE")
check("CLOSE sends no EXPUNGE", st == "OK" and not u.get("EXPUNGE"), u)
typ, text, ss = status_of(P, "Search", "MESSAGES DELETED")
check("CLOSE expunged the \\Deleted message", ss.get("MESSAGES") == 1 and ss.get("DELETED") == 0, ss)
P.logout()

# =============================================================================================
section("IDLE")


def idle_wait(idler, word):
    """What the IDLE session is sent until a line holds word, and after how many ms.
    The latency itself is measured by bench/imap/idle-memory, beside Dovecot: on a loaded CI
    machine a time limit here would fail for the machine's sake, not the server's."""
    t0 = time.monotonic()
    seen = b""
    while time.monotonic() - t0 < 15 and word not in seen:
        if idler.pending(0.005):
            seen += idler.line()
    return seen, (time.monotonic() - t0) * 1000


run(M, "SELECT", "INBOX")
idler = Raw().login()
idler.cmd("SELECT INBOX")
idler.send(b"I1 IDLE\r\n")
cont = idler.line()
check("IDLE gets a continuation", cont.startswith(b"+"), cont)
typ, dat = M.append("INBOX", None, None, message("idle wakeup"))
seen, delay = idle_wait(idler, b"EXISTS")
check(f"IDLE sees * 1 EXISTS after another session's APPEND ({delay:.1f} ms)", seen.startswith(b"* 1 EXISTS"), seen)
s = smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=15)
s.ehlo("interop.example.net")
s.sendmail("carol@example.net", [ALICE], message("idle smtp"))
seen, delay = idle_wait(idler, b"EXISTS")
check(f"IDLE sees * 2 EXISTS after SMTP delivery ({delay:.1f} ms after 250)", b"* 2 EXISTS" in seen, seen)
s.quit()
M.store("1", "+FLAGS", "(\\Flagged)")
seen, delay = idle_wait(idler, b"FETCH")
check("IDLE sees a flag change as FETCH", b"* 1 FETCH" in seen and b"\\Flagged" in seen, seen)
idler.send(b"DONE\r\n")
st, t, u = idler.finish(b"I1")
check("DONE ends IDLE with OK", st == "OK", (t, u))
st, t, u = idler.cmd("NOOP")
check("session usable after IDLE", st == "OK", t)
idler.close()

# =============================================================================================
section("CONDSTORE / QRESYNC")
a = Raw().login()
st, t, u = a.cmd("ENABLE QRESYNC")
check("ENABLE QRESYNC", st == "OK" and any(b"QRESYNC" in x for x in u), u)
st, t, u = a.cmd("SELECT Fetch")
uv = int(re.search(rb"UIDVALIDITY (\d+)", b"\n".join(u)).group(1))
hms = int(re.search(rb"HIGHESTMODSEQ (\d+)", b"\n".join(u)).group(1))
st, t, u = a.cmd("UID SEARCH ALL")
fetch_uids = [int(x) for x in b" ".join(u).split()[2:]]
a.cmd("LOGOUT")
a.close()
run(M, "SELECT", "Fetch")
st, t, u = run(M, "UID", "STORE", str(fetch_uids[-1]), "+FLAGS.SILENT", "(\\Deleted)")
st, t, u = run(M, "UID", "EXPUNGE", str(fetch_uids[-1]))
check("expunge in a QRESYNC session is reported as VANISHED <uid>", st == "OK" and u.get("VANISHED") == [str(fetch_uids[-1]).encode()] and not u.get("EXPUNGE"), u)
M.store("1", "+FLAGS.SILENT", "($Changed)")
b = Raw().login()
b.cmd("ENABLE QRESYNC")
st, t, u = b.cmd(f"SELECT Fetch (QRESYNC ({uv} {hms}))")
vanished = [x for x in u if x.startswith(b"* VANISHED")]
check("SELECT (QRESYNC (uidvalidity modseq)) gives VANISHED (EARLIER) with the expunged UID",
      st == "OK" and vanished and vanished[0].startswith(b"* VANISHED (EARLIER) ") and str(fetch_uids[-1]).encode() in vanished[0], u)
check("…and FETCH of the changed message with MODSEQ", any(b"FETCH" in x and b"$Changed" in x and b"MODSEQ" in x for x in u), u)
check("…and not of unchanged ones", sum(1 for x in u if b" FETCH " in x) == 1, u)
st, t, u = b.cmd(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {hms} VANISHED)")
check("UID FETCH (CHANGEDSINCE m VANISHED)", st == "OK" and any(x.startswith(b"* VANISHED (EARLIER)") for x in u), u)
st, t, u = b.cmd(f"SELECT Fetch (QRESYNC ({uv + 1} {hms}))")
check("QRESYNC with a stale UIDVALIDITY sends no VANISHED", st == "OK" and not any(x.startswith(b"* VANISHED") for x in u), u)
M.store("1", "+FLAGS.SILENT", "(\\Deleted)")
M.expunge()
time.sleep(0.05)
st, t, u = b.cmd("NOOP")
check("a QRESYNC session is told VANISHED, not EXPUNGE", any(x.startswith(b"* VANISHED") for x in u) or b"VANISHED" in b"".join(u), u)
b.close()

# =============================================================================================
section("SMTP delivery read back byte-identical via BODY[]")
# Senders outside the server's domains: mail on the MX that claims example.com from outside,
# unsigned, is refused (own-domain protection).
PLAIN = (b"From: Sender <sender@elsewhere.test>\r\nTo: alice@example.com\r\nSubject: byte-exact plain\r\n"
         b"Date: Mon, 02 Nov 2026 10:00:00 +0000\r\nMessage-ID: <exact-plain@interop>\r\n\r\n"
         b"Line one.\r\n..leading dot preserved\r\n  indented\t tab \r\n\r\nlast line\r\n")
MP_SMTP = MULTIPART.replace(b"<multipart@interop>", b"<exact-multipart@interop>").replace(
    b"From: Alice Example <alice@example.com>", b"From: Alice Example <alice@elsewhere.test>")
UTF8 = ("From: Søren <soren@elsewhere.test>\r\nTo: alice@example.com\r\nSubject: Grüße — ünïcödé 日本語\r\n"
        "Date: Mon, 02 Nov 2026 10:00:00 +0000\r\nMessage-ID: <exact-utf8@interop>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Schöne Grüße aus Köln — 日本語のテキスト\r\n").encode()
s = smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=15)
s.ehlo("interop.example.net")
for raw, opts in ((PLAIN, []), (MP_SMTP, []), (UTF8, ["SMTPUTF8", "BODY=8BITMIME"])):
    check("SMTP accepts the message", s.sendmail("sender@elsewhere.test", [ALICE], raw, mail_options=opts) == {})
s.quit()
run(M, "SELECT", "INBOX")
TRACE = re.compile(rb"^(Return-Path|Delivered-To|Authentication-Results|Received):[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*", re.I)
for label, raw, mid in (("plain", PLAIN, "exact-plain"), ("multipart", MP_SMTP, "exact-multipart"), ("8-bit UTF-8", UTF8, "exact-utf8")):
    st, t, u = run(M, "UID", "SEARCH", "HEADER", "Message-ID", f"<{mid}@interop>")
    found = b" ".join(u.get("SEARCH", [b""])).split()
    check(f"{label}: found by Message-ID", st == "OK" and len(found) == 1, (t, u))
    if not found:
        continue
    st, resp = fetch(M, found[0].decode(), "(BODY.PEEK[])", uid=True)
    body = literal_of(resp, "BODY[]") or b""
    stripped, added = body, []
    while (m := TRACE.match(stripped)):
        added.append(m.group(1).lower())
        stripped = stripped[m.end():]
    check(f"{label}: Mailroom added Return-Path, Delivered-To, Authentication-Results, Received on top",
          {b"return-path", b"delivered-to", b"authentication-results", b"received"} <= set(added), body[:400])
    check(f"{label}: BODY[] below the trace headers is byte-identical to what was sent", stripped == raw,
          (stripped[:300], raw[:300]))
    st, resp = fetch(M, found[0].decode(), "(RFC822.SIZE)", uid=True)
    check(f"{label}: RFC822.SIZE is the stored size", f"RFC822.SIZE {len(body)}".encode() in resp, (resp, len(body)))

# =============================================================================================
section("isolation: bob cannot reach alice's mailboxes")
B = connect(BOB, BOB_PW)
B.append("INBOX", None, None, message("bob's own", to=BOB))
run(B, "SELECT", "INBOX")
typ, text, before = status_of(M, "INBOX", "MESSAGES")
LONG = "a" * 2000
for name in ("../alice", "../alice@example.com/INBOX", "~alice/INBOX", "~alice@example.com/INBOX", "#shared", "#shared/alice",
             "#users/alice/INBOX", "Other Users/alice/INBOX", "/alice/INBOX", "%", "*", "", LONG, "alice@example.com/INBOX",
             "..", "INBOX/../../alice", "Fetch", "Work/2026/Q1"):
    label = name if len(name) < 40 else f"<{len(name)}-char name>"
    B2 = connect(BOB, BOB_PW)
    st, t, u = run(B2, "SELECT", q(name))
    check(f"bob SELECT {label!r} → NO/BAD, no data", st in ("NO", "BAD") and not u.get("EXISTS"), (st, t, u))
    B2.logout()
    st, t, u = run(B, "STATUS", q(name), "(MESSAGES UIDNEXT)")
    check(f"bob STATUS {label!r} → NO/BAD, no data", st in ("NO", "BAD") and not u.get("STATUS"), (st, t, u))
    st, t, u = run(B, "APPEND", q(name), literal=message("intrusion", to=ALICE))
    check(f"bob APPEND {label!r} → NO/BAD", st in ("NO", "BAD"), (st, t))
    st, t, u = run(B, "COPY", "1", q(name))
    check(f"bob COPY 1 {label!r} → NO/BAD", st in ("NO", "BAD"), (st, t))
    st, t, u = run(B, "MOVE", "1", q(name)) if name in ("../alice", "~alice/INBOX") else ("NO", "", {})
    check(f"bob MOVE 1 {label!r} → NO/BAD", st in ("NO", "BAD"), (st, t))
st, t, u = run(B, "LIST", '""', '"*"')
check("bob's LIST shows only bob's default mailboxes", len(u.get("LIST", [])) == 6 and not any(b"Fetch" in l or b"Work" in l for l in u.get("LIST", [])), u)
st, t, u = run(B, "LIST", '"../"', '"*"')
check("bob LIST with a ../ reference shows nothing of alice's", not any(b"Fetch" in l or b"Work" in l for l in u.get("LIST", [])), u)
st, t, u = run(B, "LIST", '"~alice/"', '"*"')
check("bob LIST with a ~alice/ reference shows nothing of alice's", not any(b"Fetch" in l or b"Work" in l for l in u.get("LIST", [])), u)
st, t, u = run(B, "SEARCH", "TEXT", "zebrafish")
check("bob's SEARCH does not find alice's messages", b" ".join(u.get("SEARCH", [b""])).strip() == b"", u)
typ, text, after = status_of(M, "INBOX", "MESSAGES")
check("alice's INBOX unchanged after bob's attempts", before == after, (before, after))
st, t, u = run(M, "LIST", '""', '"*"')
check("alice's mailbox list gained nothing", not any(b"alice" in l.lower() or b"shared" in l.lower() or b"aaaa" in l for l in u.get("LIST", [])), u)
B.logout()

# =============================================================================================
section("QUOTA")
code, out = mailroom("account", "set", ALICE, "--quota", "1M")
check("mailroom account set --quota 1M", code == 0, out)
M_OLD = M
st, t, u = run(M, "GETQUOTAROOT", "INBOX")
roots = u.get("QUOTAROOT", [])
check("GETQUOTAROOT INBOX names a root (session logged in before the quota was set)", st == "OK" and roots and roots[0].startswith(b"INBOX "), (t, u))
qline = b" ".join(u.get("QUOTA", []))
m = re.search(rb"STORAGE (\d+) (\d+)", qline)
check("GETQUOTAROOT includes QUOTA with STORAGE used/1024 KiB (session logged in before)", m and int(m.group(2)) == 1024 and int(m.group(1)) > 0, (t, u))
M = connect()  # quota state is read at login (see the check further down for sessions already open)
st, t, u = run(M, "GETQUOTAROOT", "INBOX")
roots = u.get("QUOTAROOT", [])
qline = b" ".join(u.get("QUOTA", []))
m = re.search(rb"STORAGE (\d+) (\d+)", qline)
check("GETQUOTAROOT INBOX in a new session: root and STORAGE used/1024 KiB", m and int(m.group(2)) == 1024 and int(m.group(1)) > 0, (t, u))
root = roots[0].split(b" ", 1)[1] if roots and b" " in roots[0] else b'""'
st, t, u = run(M, "GETQUOTA", root.decode())
check("GETQUOTA of the root", st == "OK" and b"STORAGE" in b" ".join(u.get("QUOTA", [])), (t, u))
big = message("too big", body=("x" * 76 + "\r\n") * 14000)
r = Raw().login()
st, t, u = r.cmd("APPEND INBOX ", Lit(big, plus=True))
check("APPEND over quota (LITERAL+, new session): NO [OVERQUOTA], connection still usable", st == "NO" and b"OVERQUOTA" in t and r.cmd("NOOP")[0] == "OK", t)
st, t, u = r.cmd("APPEND INBOX ", Lit(big))
check("APPEND over quota (synchronizing literal): NO [OVERQUOTA] (before or after the literal)", st == "NO" and b"OVERQUOTA" in t, t)
r.close()
st, t, u = run(M, "APPEND", "INBOX", literal=message("small fits"))
check("a small APPEND still fits", st == "OK", t)
st, t, u = run(M_OLD, "APPEND", "INBOX", literal=big)
check("APPEND over quota in a session logged in before the quota was set: NO [OVERQUOTA]", st == "NO" and "OVERQUOTA" in t, t)
code, out = mailroom("account", "set", ALICE, "--quota", "unlimited")
check("quota back to unlimited", code == 0, out)


section("STARTTLS")
import ssl, socket
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
T = imaplib.IMAP4(IMAP_HOST, IMAP_PORT, timeout=15)
typ, dat = T.starttls(ssl_context=ctx)
check("STARTTLS: OK, then TLS", typ == "OK" and isinstance(T.sock, ssl.SSLSocket), (typ, dat))
typ, dat = T.capability()
caps = dat[0].split()
check("after STARTTLS: no STARTTLS advertised, logins offered", b"STARTTLS" not in caps and b"AUTH=PLAIN" in caps, dat)
typ, dat = T.login(ALICE, ALICE_PW)
check("LOGIN over STARTTLS", typ == "OK", dat)
T.logout()
# Commands pipelined after STARTTLS in clear text must be dropped, never run inside TLS.
s0 = socket.create_connection((IMAP_HOST, int(IMAP_PORT)), timeout=10)
s0.recv(4096)
s0.sendall(b"S1 STARTTLS\r\nS2 LOGIN " + ALICE.encode() + b" " + ALICE_PW.encode() + b"\r\n")
got = b""
while not got.endswith(b"\r\n"):
    chunk = s0.recv(1)
    if not chunk:
        break
    got += chunk
check("STARTTLS answered OK", got.startswith(b"S1 OK"), got)
t0 = ctx.wrap_socket(s0, server_hostname="mx.test")
t0.settimeout(2)
t0.sendall(b"S3 NOOP\r\n")
after = b""
try:
    while b"S3 " not in after:
        chunk = t0.recv(4096)
        if not chunk:
            break
        after += chunk
except socket.timeout:
    pass
check("clear-text command pipelined after STARTTLS was not run", b"S2" not in after and b"S3 OK" in after, after)
t0.close()

section("LOGOUT")
typ, dat = M.logout()
check("LOGOUT: BYE then OK", typ == "BYE" or typ == "OK", (typ, dat))
r = Raw().login()
r.send(b"L1 LOGOUT\r\n")
bye = r.line()
fin = r.line()
check("LOGOUT raw: * BYE then tagged OK", bye.startswith(b"* BYE") and fin.startswith(b"L1 OK"), (bye, fin))
r.close()

print(f"IMAP interop run took {time.monotonic() - STARTED:.1f} s")
if FAILURES:
    print(f"{len(FAILURES)} IMAP interop checks FAILED: " + "; ".join(FAILURES))
    sys.exit(1)
print("all IMAP interop checks passed")
