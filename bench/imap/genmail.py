#!/usr/bin/env python3
"""genmail.py -- deterministic, realistic test messages for bench/imap.

Writes N messages into a Maildir (files in cur/, Dovecot-style names with S= and W= sizes,
flags in the :2, suffix, mtime = Date so Dovecot's INTERNALDATE matches). bench/imap/run
then APPENDs the very same files (in name order, LF -> CRLF) to Mailroom, so both servers
hold identical mail.

Messages are built by hand (Python's email package is ~6 ms a message: too slow for 100k).
Mix: plain text (most; 7bit, or 8bit / quoted-printable when not ASCII),
multipart/alternative text+HTML (~15%), multipart/mixed with a base64 attachment (~5%),
replies with In-Reply-To/References and "Re:" (~12%), RFC 2047 UTF-8 subjects (~8%),
Cc on ~20%, X-Mailer on ~30%, dates over two years; flags ~70% \\Seen, ~5% \\Flagged,
~3% \\Answered.

Search markers (counts are known from the seed; the bench checks both servers agree):
  SUBJECT_MARKER "xyzzy"     ~0.1% of subjects ("... xyzzy-<n>", some inside encoded words)
  BODY_MARKER    "zanzibar"  ~1% of text bodies (and the HTML part when there is one)
  BODY_COMMON    "meeting"   a common word: most messages match

Usage: genmail.py --maildir DIR --count N [--seed 1] [--chown UID:GID] [--procs 2]
"""
import argparse, base64, binascii, os, random, sys, textwrap, time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from multiprocessing import Pool

SUBJECT_MARKER = "xyzzy"
BODY_MARKER = "zanzibar"
BODY_COMMON = "meeting"

FIRST = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy",
         "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter",
         "Yasmin", "Zoë", "José", "Björn", "Chen", "Priya", "Kwame", "Anaïs", "Søren"]
LAST = ["Smith", "Jones", "Nguyen", "García", "Müller", "Rossi", "Kowalski", "Tanaka",
        "Okafor", "Silva", "Dubois", "Novak", "Haddad", "Larsen", "O'Brien", "Ivanova"]
DOMAINS = ["example.com", "example.org", "example.net", "test.example", "mail.test",
           "corp.example", "lists.example.org", "shop.example"]
WORDS = ("the of and to in is that for it as with was on be by this are from at or an "
         "have not but had they which one you were all we when there can been has more "
         "meeting report budget project deadline schedule review update release server "
         "invoice contract client design draft proposal customer support ticket issue "
         "network storage backup migration quarterly planning roadmap feedback agenda "
         "lunch coffee travel conference slides notes minutes action items follow-up "
         "performance benchmark latency throughput database index query cache mailbox "
         "please thanks regards question answer tomorrow today yesterday week month").split()
SUBJ_A = ["Quarterly", "Weekly", "Urgent", "Draft", "Final", "Updated", "Revised", "New",
          "Re-scheduled", "Team", "Project", "Customer", "Monthly", "Annual", "Quick"]
SUBJ_B = ["report", "meeting notes", "budget review", "release plan", "invoice", "proposal",
          "status update", "question", "agenda", "design doc", "feedback", "travel plans",
          "lunch", "ticket", "backup failure", "migration", "benchmark results", "contract"]
UTF8_SUBJ = ["Réunion d'équipe", "Überprüfung des Budgets", "会议纪要", "Отчёт за квартал",
             "Café mañana ☕", "Προσφορά", "تقرير", "Ünlü şarkı"]
MAILERS = ["Thunderbird 115.3", "Apple Mail (2.3731)", "Mutt/2.2.12", "Microsoft Outlook 16.0",
           "Roundcube Webmail/1.6"]
BASE_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)


def person(r):
    f, l = r.choice(FIRST), r.choice(LAST)
    addr = f"{f.lower()}.{l.lower()}".encode("ascii", "ignore").decode().replace("'", "")
    return f"{f} {l}", f"{addr or 'user'}{r.randint(1, 99)}@{r.choice(DOMAINS)}"


def paragraph(r, n):
    w = [r.choice(WORDS) for _ in range(n)]
    w[0] = w[0].capitalize()
    return " ".join(w) + "."


def enc_word(text, b=False):
    """RFC 2047 encoded word for non-ASCII text (B or Q), else the text itself."""
    try:
        text.encode("ascii")
        return text
    except UnicodeEncodeError:
        pass
    raw = text.encode()
    if b:
        return "=?UTF-8?B?" + base64.b64encode(raw).decode() + "?="
    q = "".join(chr(c) if (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122) else
                ("_" if c == 32 else "=%02X" % c) for c in raw)
    return "=?UTF-8?Q?" + q + "?="


def mailbox_header(name, addr):
    if any(ord(c) > 127 for c in name):
        return f"{enc_word(name)} <{addr}>"
    return f'"{name}" <{addr}>' if "'" in name else f"{name} <{addr}>"


def text_part(text, r, subtype="plain"):
    """(headers, body) of one text part: 7bit when ASCII with short lines, else 8bit or
    quoted-printable (as mail clients choose)."""
    raw = text.encode()
    long_lines = any(len(l) > 76 for l in raw.split(b"\n"))
    if not long_lines and raw.isascii():
        cte, body = "7bit", raw
    elif not long_lines and r.random() < 0.5:
        cte, body = "8bit", raw
    else:
        cte, body = "quoted-printable", binascii.b2a_qp(raw)
        if not body.endswith(b"\n"):
            body += b"\n"
    return (f"Content-Type: text/{subtype}; charset=\"utf-8\"\nContent-Transfer-Encoding: {cte}\n").encode(), body


def large_message(size, to, subject):
    """A message of about `size` octets, CRLF line ends: a short text part and a base64
    attachment, as a client APPENDs or sends one (the benches that move large messages)."""
    line = b"TWFpbHJvb20gYmVuY2gsIGEgbGFyZ2UgYXR0YWNobWVudCwgb25lIGxpbmUgb2YgYmFzZTY0LiBBQkNERUZH\r\n"
    return (b"From: a@example.org\r\nTo: " + to.encode() + b"\r\nSubject: " + subject.encode()
            + b"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n"
            b"--b1\r\nContent-Type: text/plain\r\n\r\nThe attachment.\r\n"
            b"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + line * (size // len(line)) + b"--b1--\r\n")


def make_message(i, seed):
    """Message i: (bytes with LF line ends, unix time of its Date, maildir flag letters,
    (has the subject marker, has the body marker))."""
    r = random.Random(seed * 1_000_003 + i)
    fname, faddr = person(r)
    tname, taddr = person(r)
    date = BASE_DATE - timedelta(seconds=r.randint(0, 2 * 365 * 86400))
    h = []
    for hop in range(r.randint(1, 3)):
        t = format_datetime(date + timedelta(seconds=hop * r.randint(1, 30)))
        h.append(f"Received: from mx{r.randint(1, 9)}.{r.choice(DOMAINS)} (mx{r.randint(1, 9)}.{r.choice(DOMAINS)} "
                 f"[192.0.2.{r.randint(1, 254)}])\n\tby mx.example.com with ESMTPS id {r.getrandbits(40):010x}\n"
                 f"\tfor <{taddr}>; {t}")
    h += [f"From: {mailbox_header(fname, faddr)}", f"To: {mailbox_header(tname, taddr)}"]
    if r.random() < 0.2:
        h.append("Cc: " + ",\n ".join(mailbox_header(*person(r)) for _ in range(r.randint(1, 3))))
    if r.random() < 0.08:
        subj = r.choice(UTF8_SUBJ) + f" #{r.randint(1, 999)}"
    else:
        subj = f"{r.choice(SUBJ_A)} {r.choice(SUBJ_B)} {r.randint(1, 9999)}"
    has_subj = r.random() < 0.001
    if has_subj:
        subj += f" {SUBJECT_MARKER}-{i}"
    is_reply = r.random() < 0.12
    if is_reply:
        subj = "Re: " + subj
    h.append("Subject: " + enc_word(subj, b=True))
    h.append("Date: " + format_datetime(date))
    h.append(f"Message-ID: <{i}.{r.getrandbits(48):x}@{faddr.split('@')[1]}>")
    if is_reply:
        ref = f"<{r.randint(0, max(i, 1))}.{r.getrandbits(48):x}@{r.choice(DOMAINS)}>"
        h.append("In-Reply-To: " + ref)
        h.append("References: " + ref)
    if r.random() < 0.3:
        h.append("X-Mailer: " + r.choice(MAILERS))
    h.append("MIME-Version: 1.0")
    paras = [paragraph(r, r.randint(8, 60)) for _ in range(r.randint(1, 6))]
    has_body = r.random() < 0.01
    if has_body:
        paras.insert(r.randint(0, len(paras)), f"We could meet in {BODY_MARKER} next spring.")
    body = ("Hi " + tname.split()[0] + ",\n\n" + "\n\n".join(textwrap.fill(p, 72) for p in paras)
            + f"\n\n-- \n{fname}\n")
    if is_reply:
        body += "\n" + textwrap.fill(paragraph(r, 30), 70, initial_indent="> ", subsequent_indent="> ") + "\n"
    ph, pb = text_part(body, r)
    x = r.random()
    head = ("\n".join(h) + "\n").encode()
    if x < 0.20:
        boundary = f"===============_{r.getrandbits(64):016x}=="
        if x < 0.15:
            html = "<html><body>" + "".join(f"<p>{p}</p>" for p in paras) + "</body></html>\n"
            parts = [(ph, pb), text_part(html, r, "html")]
            ctype = "multipart/alternative"
        else:
            data = r.randbytes(r.randint(200, 3000))
            b64 = base64.encodebytes(data)
            ah = (f"Content-Type: application/octet-stream\nContent-Disposition: attachment; "
                  f"filename=\"file{i}.bin\"\nContent-Transfer-Encoding: base64\n").encode()
            parts = [(ph, pb), (ah, b64)]
            ctype = "multipart/mixed"
        out = head + f"Content-Type: {ctype}; boundary=\"{boundary}\"\n\n".encode()
        for ph2, pb2 in parts:
            out += f"--{boundary}\n".encode() + ph2 + b"\n" + pb2
        out += f"--{boundary}--\n".encode()
    else:
        out = head + ph + b"\n" + pb
    flags = ""
    if r.random() < 0.05: flags += "F"
    if r.random() < 0.03: flags += "R"
    if r.random() < 0.70: flags += "S"
    return out, date.timestamp(), flags, (has_subj, has_body)


def write_chunk(args):
    lo, hi, seed, maildir, uid, gid = args
    cur = os.path.join(maildir, "cur")
    subj = body = 0
    for i in range(lo, hi):
        data, ts, flags, (has_subj, has_body) = make_message(i, seed)
        subj += has_subj
        body += has_body
        # Name order == generation order == UID order in Dovecot; W= is the CRLF size.
        crlf_size = len(data) + data.count(b"\n")
        name = f"{1600000000 + i}.M{i}P0.bench,S={len(data)},W={crlf_size}:2,{flags}"
        p = os.path.join(cur, name)
        with open(p, "wb") as f:
            f.write(data)
        os.utime(p, (ts, ts))
        if uid is not None:
            os.chown(p, uid, gid)
    return hi - lo, subj, body


def write_maildir(maildir, count, seed=1, uid=None, gid=None, procs=2):
    """Writes the messages; returns (count, messages with the subject marker, with the body marker)."""
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
        if uid is not None:
            os.chown(os.path.join(maildir, sub), uid, gid)
    if uid is not None:
        os.chown(maildir, uid, gid)
    step = 1000
    chunks = [(lo, min(lo + step, count), seed, maildir, uid, gid) for lo in range(0, count, step)]
    with Pool(max(1, procs)) as pool:
        res = list(pool.imap_unordered(write_chunk, chunks))
        # Workers leave on their own before the with-block's terminate(), which can otherwise
        # catch one holding the result queue's lock and hang the bench (seen once in idle-memory).
        pool.close()
        pool.join()
    return tuple(sum(x[k] for x in res) for k in range(3))


def maildir_messages(maildir):
    """(path, maildir flag letters, mtime) of every message in cur/, in name (= UID) order."""
    cur = os.path.join(maildir, "cur")
    names = sorted(os.listdir(cur), key=lambda n: int(n.split(".", 1)[0]))
    out = []
    for n in names:
        p = os.path.join(cur, n)
        flags = n.rsplit(":2,", 1)[1] if ":2," in n else ""
        out.append((p, flags, os.stat(p).st_mtime))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chown", help="UID:GID for created files")
    ap.add_argument("--procs", type=int, default=2)
    a = ap.parse_args()
    uid = gid = None
    if a.chown:
        uid, gid = (int(x) for x in a.chown.split(":"))
    t0 = time.time()
    n, subj, body = write_maildir(a.maildir, a.count, a.seed, uid, gid, a.procs)
    print(f"{a.maildir}: {n} messages in {time.time() - t0:.1f}s; subject marker {SUBJECT_MARKER!r} in {subj}, "
          f"body marker {BODY_MARKER!r} in {body}", file=sys.stderr)


if __name__ == "__main__":
    main()
