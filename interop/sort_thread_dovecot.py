#!/usr/bin/env python3
"""SORT, THREAD, ESORT and WITHIN answers of Mailroom beside a private Dovecot's, on the same
messages: hand-made ones aimed at RFC 5256's corners (base subjects, dates, display names,
broken and looping References) and a few thousand realistic ones from bench/imap/genmail.py.

Both servers get the same messages APPENDed over IMAP, in the same order on one connection,
so sequence numbers and UIDs agree and every answer can be compared byte for byte (ESEARCH
items in any order). Prints one line per command and exits 1 if any answer differs.

Usage (root; binds 127.0.0.1 only; starts and stops both servers itself):
  interop/sort_thread_dovecot.py [--mailroom .build/debug/mailroom] [--messages 3000]
Needs Dovecot (`apt-get install -y dovecot-imapd`).
"""
import argparse, atexit, os, re, shutil, signal, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "bench", "imap"))
import genmail  # noqa: E402
from imapraw import Conn  # noqa: E402
from servers import USER, PASSWORD, cleanups, cleanup, on_signal, free_port, log, start_dovecot, start_mailroom, append_all  # noqa: E402

D = "Date: {}\n"
# (internal date, message): the corners. Dates in several zones; some missing or unparseable.
HANDMADE = [
    ("2026-01-10", "From: \"Zoë\" <zoe@example.net>\nTo: list@example.org\nSubject: [dev] Release plan\n" + D.format("Sat, 10 Jan 2026 09:00:00 +0100") + "Message-ID: <r1@example.net>\n"),
    ("2026-01-10", "From: =?utf-8?q?Andr=C3=A9?= <andre@example.org>\nTo: list@example.org\nSubject: Re: [dev] Release plan\n" + D.format("Sat, 10 Jan 2026 10:00:00 +0100") + "Message-ID: <r2@example.org>\nIn-Reply-To: <r1@example.net>\nReferences: <r1@example.net>\n"),
    ("2026-01-11", "From: bob@example.org\nTo: \"Zoë\" <zoe@example.net>\nSubject: RE: Re: [dev] Release plan\n" + D.format("Sun, 11 Jan 2026 08:00:00 -0500") + "Message-ID: <r3@example.org>\nReferences: <r1@example.net> <r2@example.org>\n"),
    ("2026-01-11", "From: Carol <carol@example.com>\nSubject: Fwd: [dev] Release plan (fwd)\n" + D.format("Sun, 11 Jan 2026 23:30:00 +0000") + "Message-ID: <r4@example.com>\n"),
    ("2026-01-12", "From: dave@example.com\nSubject: [fwd: Release plan]\n" + D.format("Mon, 12 Jan 2026 01:00:00 +1300") + "Message-ID: <r5@example.com>\n"),
    ("2026-01-12", "From: erin@example.com\nSubject: Re: Lunch?\nMessage-ID: <l2@example.com>\nIn-Reply-To: <l1@example.com>\n"),
    ("2026-01-09", "From: frank@example.com\nSubject: Re: Lunch?\n" + D.format("not a date") + "Message-ID: <l3@example.com>\nReferences: <l1@example.com> <l2@example.com>\n"),
    ("2026-01-13", "From: Gail <gail@example.com>\nSubject: lunch?\n" + D.format("Tue, 13 Jan 2026 12:00:00 GMT") + "Message-ID: <l4@example.com>\n"),
    ("2026-01-13", "From: undisclosed:;, Hank <hank@example.com>\nCc: Ivy <ivy@example.com>, joe@example.com\nSubject: =?utf-8?b?UmU6IENhZsOp?=\n" + D.format("13 Jan 2026 14:00 +0000") + "Message-ID: <c1@example.com>\n"),
    ("2026-01-14", "From: ivy@example.com\nSubject: Café\n" + D.format("Wed, 14 Jan 2026 08:00:00 +0000") + "Message-ID: <c2@example.com>\n"),
    ("2026-01-14", "From: \"\" <kim@example.com>\nTo: \"Zed\" <a@example.com>\nSubject: [a][b] tagged\n" + D.format("Wed, 14 Jan 2026 09:00:00 +0000") + "Message-ID: <t1@example.com>\n"),
    ("2026-01-14", "From: Lee <lee@example.com>\nSubject: [a] [b]\n" + D.format("Wed, 14 Jan 2026 09:00:00 +0000") + "Message-ID: <t2@example.com>\n"),
    ("2026-01-15", "From: mo@example.com\nSubject: loop one\n" + D.format("Thu, 15 Jan 2026 09:00:00 +0000") + "Message-ID: <p1@example.com>\nReferences: <p2@example.com>\n"),
    ("2026-01-15", "From: mo@example.com\nSubject: loop two\n" + D.format("Thu, 15 Jan 2026 09:01:00 +0000") + "Message-ID: <p2@example.com>\nReferences: <p1@example.com>\n"),
    ("2026-01-16", "From: nia@example.com\nSubject: duplicate\n" + D.format("Fri, 16 Jan 2026 09:00:00 +0000") + "Message-ID: <dup@example.com>\n"),
    ("2026-01-16", "From: nia@example.com\nSubject: duplicate\n" + D.format("Fri, 16 Jan 2026 09:00:00 +0000") + "Message-ID: <dup@example.com>\n"),
    ("2026-01-17", "From: oz@example.com\nSubject: Re: orphan\n" + D.format("Sat, 17 Jan 2026 09:00:00 +0000") + "Message-ID: <o2@example.com>\nReferences: <gone@example.com>\n"),
    ("2026-01-17", "From: oz@example.com\nSubject: Re: orphan\n" + D.format("Sat, 17 Jan 2026 08:00:00 +0000") + "Message-ID: <o3@example.com>\nReferences: <gone@example.com>\n"),
    ("2026-01-18", "From: pat@example.com\nSubject: \n" + D.format("Sun, 18 Jan 2026 09:00:00 +0000")),
    ("2026-01-18", "From: pat@example.com\n" + D.format("Sun, 18 Jan 2026 09:00:00 +0000")),
    ("2026-01-19", "To: group: a@example.com, b@example.com;\nSubject: Re: Re[2]: Fw: quarterly   numbers\n" + D.format("Mon, 19 Jan 2026 09:00:00 +0000") + "Message-ID: <q1@example.com>\nIn-Reply-To: Your message of Monday <q0@example.com>\n"),
]

COMMANDS = [
    "SORT (DATE) UTF-8 ALL", "SORT (REVERSE DATE) UTF-8 ALL", "SORT (ARRIVAL) UTF-8 ALL", "SORT (SIZE) UTF-8 ALL",
    "SORT (SUBJECT) UTF-8 ALL", "SORT (REVERSE SUBJECT) UTF-8 ALL", "SORT (FROM) UTF-8 ALL", "SORT (TO) UTF-8 ALL",
    "SORT (CC) UTF-8 ALL", "SORT (DISPLAYFROM) UTF-8 ALL", "SORT (DISPLAYTO) UTF-8 ALL",
    "SORT (SUBJECT REVERSE DATE) UTF-8 ALL", "SORT (FROM REVERSE SIZE) UTF-8 ALL", "UID SORT (REVERSE ARRIVAL) UTF-8 ALL",
    "SORT (DATE) UTF-8 SUBJECT lunch", "UID SORT (SUBJECT) UTF-8 UNSEEN",
    "THREAD ORDEREDSUBJECT UTF-8 ALL", "THREAD REFERENCES UTF-8 ALL", "UID THREAD REFERENCES UTF-8 ALL",
    "THREAD REFERENCES UTF-8 1:100", "THREAD ORDEREDSUBJECT UTF-8 SINCE 1-Jan-2025",
    "UID SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL", "SORT RETURN (ALL) (REVERSE ARRIVAL) UTF-8 1:50",
    "SORT RETURN (COUNT MIN) (SUBJECT) UTF-8 KEYWORD $nothing",
    "SEARCH OLDER 31536000", "UID SEARCH YOUNGER 31536000", "SEARCH OLDER 1 NOT SEEN",
]


def answer(resp):
    """The untagged data lines, with ESEARCH's items sorted (their order is free)."""
    out = []
    for line in resp.split(b"\r\n"):
        if not line.startswith((b"* SORT", b"* THREAD", b"* SEARCH", b"* ESEARCH")):
            continue
        text = line.decode("utf-8", "replace").rstrip()
        if text.startswith("* ESEARCH"):
            uid = re.search(r"\) UID\b|^\* ESEARCH UID\b", text) is not None
            items = sorted(re.findall(r"(MIN|MAX|COUNT|ALL) (\S+)", text))
            text = "* ESEARCH" + (" UID" if uid else "") + "".join(f" {k} {v}" for k, v in items)
        out.append(text)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mailroom", default=os.environ.get("MAILROOM_BIN", os.path.join(HERE, "..", ".build", "debug", "mailroom")))
    ap.add_argument("--messages", type=int, default=3000, help="realistic messages from genmail.py, after the hand-made ones")
    ap.add_argument("--explain", action="store_true", help="print the headers of the messages where answers differ")
    a = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root (Dovecot switches to the vmail user)")
    if not shutil.which("dovecot"):
        raise SystemExit("Dovecot is required: apt-get install -y dovecot-imapd")
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    atexit.register(cleanup)
    work = tempfile.mkdtemp(prefix="mailroom-sort-interop-")
    os.chmod(work, 0o755)
    cleanups.insert(0, lambda: shutil.rmtree(work, ignore_errors=True))

    msgdir = os.path.join(work, "messages")
    os.makedirs(msgdir)
    items = []
    for n, (day, head) in enumerate(HANDMADE):
        p = os.path.join(msgdir, f"h{n}")
        with open(p, "w") as f:
            f.write(head + "\nbody " + "x" * (n * 37 % 500) + "\n")
        items.append((p, "S" if n % 3 == 0 else "", time.mktime(time.strptime(day + " 12", "%Y-%m-%d %H")) - time.timezone + n))
    for i in range(a.messages):
        data, ts, flags, _ = genmail.make_message(i, 1)
        p = os.path.join(msgdir, f"g{i}")
        with open(p, "wb") as f:
            f.write(data)
        items.append((p, flags, ts))

    dport = free_port()
    start_dovecot(work, dport)
    mr = start_mailroom(work, os.path.abspath(a.mailroom))
    log(f"Mailroom IMAP 127.0.0.1:{mr['imap']}, Dovecot IMAP 127.0.0.1:{dport}; appending {len(items)} messages to each")
    append_all(mr["imap"], items, connections=1)
    append_all(dport, items, connections=1)

    answers = {}
    for name, port in (("Mailroom", mr["imap"]), ("Dovecot", dport)):
        c = Conn("127.0.0.1", port)
        c.login(USER, PASSWORD)
        c.select("INBOX")
        answers[name] = {cmd: answer(c.cmd(cmd)[1]) for cmd in COMMANDS}
        c.logout()
    failed = 0
    for cmd in COMMANDS:
        m, d = answers["Mailroom"][cmd], answers["Dovecot"][cmd]
        if m == d:
            print(f"same     {cmd}")
            continue
        failed += 1
        mt, dt = re.findall(r"\d+|[()]|[A-Z]+", " ".join(m)), re.findall(r"\d+|[()]|[A-Z]+", " ".join(d))
        k = next((k for k in range(min(len(mt), len(dt))) if mt[k] != dt[k]), min(len(mt), len(dt)))
        print(f"DIFFERS  {cmd}: from token {k}\n  Mailroom {' '.join(mt[max(0, k - 12):k + 30])}\n"
              f"  Dovecot  {' '.join(dt[max(0, k - 12):k + 30])}")
        if a.explain:
            shown = {int(t) for t in mt[max(0, k - 12):k + 30] + dt[max(0, k - 12):k + 30] if t.isdigit()}
            for n in sorted(shown)[:40]:
                if n <= len(items):
                    head = open(items[n - 1][0], "rb").read().split(b"\n\n")[0]
                    keep = [ln for ln in head.split(b"\n") if ln[:5].lower() in (b"subje", b"date:", b"messa", b"in-re", b"refer")]
                    print(f"    {n}: " + " | ".join(x.decode("utf-8", "replace")[:90] for x in keep))
    print(f"{len(COMMANDS) - failed} of {len(COMMANDS)} answers the same")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
