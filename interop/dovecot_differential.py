#!/usr/bin/env python3
"""Mailroom's IMAP answers beside Dovecot's, on the same messages: a differential test.

Usage: dovecot_differential.py --mailroom PATH [--keep]

Starts a private Dovecot 2.3 and a Mailroom (both on 127.0.0.1, in a temporary folder, stopped
on exit; needs root and `dovecot-imapd`), APPENDs the same messages with the same flags and
dates to both, then sends each command below to both and compares the untagged responses
(literals written as quoted strings, so that a string sent either way compares equal). The
messages hold what Dovecot's own compliance suite (imaptest) exercises: every RFC 5322 address
form, groups, routes, comments as names, quoted-printable with white space at line ends, empty
parts, parts without a final line break, nested messages. Prints SAME or DIFF per command and
exits non-zero when anything differs.
"""
import argparse
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "bench", "imap"))
import servers  # noqa: E402
from imapraw import Conn, IMAPError, quote  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--mailroom", required=True, help="the mailroom binary")
ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
ARGS = ap.parse_args()


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


MESSAGES = [
    crlf("""Message-ID: <one@example.org>
In-Reply-To: <zero@example.org>
Date: Sat, 01 Feb 2025 01:02:03 +0200
Subject: Plain and simple
From: Ann Real <ann@example.org>
To: Ben Real <ben@example.net>
Cc: Cyd <cyd@example.net>
Bcc: "Dee, D." <dee@example.net>
Sender: Ann's Assistant <asst@example.org>
Reply-To: Lists <lists@example.org>

Hello there.
"""),
    crlf("""Date: Sun, 02 Feb 2025 10:00:00 +0000
Subject: Comments as names
From: user@domain.test (Real Name)
To: group: g1@d1.test, g2@d2.test;, group2: g3@d3.test;
Cc: empty:;

body
"""),
    crlf("""Date: Mon, 03 Feb 2025 10:00:00 -0500
Subject: Routes and comments
From: <@route.test:user@domain.test>
To: <user-to (comment)@ (comment) domain.test>
Sender:
Reply-To:

body
"""),
    crlf("""Date: Tue, 04 Feb 2025 10:00:00 +0100
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus =?iso-8859-1?q?K=F6ln?=
From: =?utf-8?q?J=C3=BCrgen?= <j@example.de>
To: "Quoted \\"Name\\"" <q@example.de>, plain@example.de
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe  =20
line with trailing space   
soft=
break
"""),
    crlf("""Date: Wed, 05 Feb 2025 10:00:00 +0000
Subject: Multipart with quoted-printable and an empty part
From: a@example.org
To: b@example.org
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="foo bar"

Prologue
--foo bar
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: quoted-printable

first line   
second=20line\t
last line without break
--foo bar
Content-Type: text/plain

--foo bar
Content-Type: application/octet-stream; name="data.bin"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="data.bin"

AAECAwQFBgcICQ==
--foo bar--
Epilogue
"""),
    crlf("""Date: Thu, 06 Feb 2025 10:00:00 +0000
Subject: Fwd: nested
From: a@example.org
To: b@example.org
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: text/plain

see below

--outer
Content-Type: message/rfc822

From: sub@example.org
Date: Sun, 12 Aug 2012 12:34:56 +0300
Subject: submsg
Content-Type: multipart/alternative; boundary="sub1"

Sub prologue
--sub1
Content-Type: text/html

<p>Hello world</p>

--sub1
Content-Type: text/plain

Hello another world
--sub1--
Sub epilogue

--outer--
"""),
    crlf("""Date: Fri, 07 Feb 2025 10:00:00 +0000
Subject: No final line break
From: a@example.org
To: b@example.org

just this""").rstrip(b"\r\n"),
    crlf("""Date: Sat, 08 Feb 2025 10:00:00 +0000
Subject: RFC 2231 and digest
From: a@example.org
To: b@example.org
MIME-Version: 1.0
Content-Type: multipart/digest; boundary=d

--d

Subject: one

first
--d

Subject: two

second
--d
Content-Type: application/pdf; name*=utf-8''r%C3%A9sum%C3%A9.pdf
Content-Disposition: attachment; filename*0="long"; filename*1="name.pdf"
Content-Language: en, de
Content-Location: http://example.org/x

%PDF
--d--
"""),
]
FLAGS = ["\\Seen", "\\Seen \\Flagged", "", "\\Answered", "", "\\Seen", "", "\\Draft"]

COMMANDS = [
    "FETCH 1:* (FLAGS RFC822.SIZE INTERNALDATE)",
    "FETCH 1:* ENVELOPE",
    "FETCH 1:* BODYSTRUCTURE",
    "FETCH 1:* BODY",
    "SEARCH FROM user@domain.test",
    "SEARCH FROM \"Real Name\"",
    "SEARCH TO user-to@domain.test",
    "SEARCH TO g3@d3.test",
    "SEARCH TO group2",
    "SEARCH CC example.net",
    "SEARCH SUBJECT grüße",
    "SEARCH BODY \"trailing space\"",
    "SEARCH UNSEEN",
    "SEARCH HEADER SENDER \"\"",
]
for n in range(1, len(MESSAGES) + 1):
    COMMANDS.append(f"FETCH {n} (BODY.PEEK[1] BODY.PEEK[1.MIME] BINARY.SIZE[1])")
    COMMANDS.append(f"FETCH {n} (BINARY.PEEK[1] BINARY.PEEK[1]<3.5>)")
    COMMANDS.append(f"FETCH {n} (BODY.PEEK[TEXT] BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])")
# Sections that exist. (For one that does not, Dovecot answers "" and Mailroom NIL, as Cyrus
# does: both are what the grammar allows, so they are not compared.)
for n, sections in [(5, ["2", "3", "2.MIME", "3.MIME"]), (6, ["2", "2.HEADER", "2.TEXT", "2.1", "2.2", "2.2.MIME"]), (8, ["1", "1.TEXT", "3"])]:
    for section in sections:
        COMMANDS.append(f"FETCH {n} (BODY.PEEK[{section}])")
        if "." not in section or section[-1].isdigit():
            COMMANDS.append(f"FETCH {n} (BINARY.PEEK[{section}] BINARY.SIZE[{section}])")

LITERAL = re.compile(rb"~?\{(\d+)\+?\}\r\n")


def normalise(resp, tag):
    """The untagged responses, literals as quoted strings; the tagged line as OK/NO/BAD only."""
    out = bytearray()
    i = 0
    while True:
        m = LITERAL.search(resp, i)
        if not m:
            out += resp[i:]
            break
        out += resp[i:m.start()]
        n = int(m.group(1))
        data = resp[m.end():m.end() + n]
        out += b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\r", b"\\r").replace(b"\n", b"\\n") + b'"'
        i = m.end() + n
    lines = []
    for line in bytes(out).split(b"\r\n"):
        if line.startswith(tag + b" "):
            lines.append(line.split(b" ")[1].decode())
            continue
        if not line:
            continue
        text = line.decode(errors="replace")
        # Human text after a response code is the server's own; the order of flags is not
        # meaningful; MIME types and parameter names are case-insensitive, and Dovecot writes
        # them in lower case, Mailroom in upper case.
        text = re.sub(r"^(\* (?:OK|NO) \[[^\]]*\]).*", r"\1", text)
        text = re.sub(r"FLAGS \(([^)]*)\)", lambda m: "FLAGS (" + " ".join(sorted(m.group(1).split())) + ")", text)
        if re.match(r"\* \d+ FETCH \((BODY|BODYSTRUCTURE) \(", text):
            text = text.lower()
        lines.append(text)
    return lines


def send(conn, command):
    tag = conn.next_tag()
    conn.send(tag + b" " + command.encode() + b"\r\n")
    try:
        return normalise(conn.read_tagged(tag), tag)
    except IMAPError as e:
        return [str(e).split(" ")[1] if " " in str(e) else str(e)]


def main():
    work = tempfile.mkdtemp(prefix="mailroom-dovecot-diff-")
    os.chmod(work, 0o755)  # Dovecot's auth process reads its passwd file under it
    if not ARGS.keep:
        servers.cleanups.append(lambda: __import__("shutil").rmtree(work, ignore_errors=True))
    try:
        dport = servers.free_port()
        servers.start_dovecot(work, dport)
        mailroom = servers.start_mailroom(work, os.path.abspath(ARGS.mailroom))
        peers = {"dovecot": Conn("127.0.0.1", dport, timeout=60), "mailroom": Conn("127.0.0.1", mailroom["imap"], timeout=60)}
        for name, c in peers.items():
            c.login(servers.USER, servers.PASSWORD)
            for message, flags in zip(MESSAGES, FLAGS):
                c.cmd(b"APPEND INBOX (" + flags.encode() + b') "07-Feb-2025 10:00:00 +0000" {%d+}\r\n' % len(message) + message)
        selects = {name: send(c, "SELECT INBOX") for name, c in peers.items()}
        unseen = {name: [l for l in lines if "[UNSEEN" in l] for name, lines in selects.items()}
        differences = 0
        checks = [("SELECT INBOX: [UNSEEN n]", unseen["dovecot"], unseen["mailroom"])]
        for command in COMMANDS:
            checks.append((command, send(peers["dovecot"], command), send(peers["mailroom"], command)))
        for command, theirs, ours in checks:
            if theirs == ours:
                print(f"SAME {command}")
                continue
            differences += 1
            print(f"DIFF {command}")
            for a, b in zip(theirs + [""] * len(ours), ours + [""] * len(theirs)):
                if a != b:
                    print(f"  dovecot:  {a}\n  mailroom: {b}")
        print(f"{len(checks) - differences} same, {differences} different")
        return 1 if differences else 0
    finally:
        servers.cleanup()


if __name__ == "__main__":
    sys.exit(main())
