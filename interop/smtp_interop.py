#!/usr/bin/env python3
"""Interop checks of Mailroom's SMTP listeners with Python's smtplib and raw sockets.

Usage: smtp_interop.py MX_PORT SUBMISSION_PORT SUBMISSIONS_PORT
Expects the directory set up by the calling test: example.org with alice@ (password
alice-password-1), bob@, josé@, and nothing else. Prints one line per check and exits non-zero
on the first failure. Talks only to 127.0.0.1.
"""
import smtplib
import socket
import ssl
import sys
import time

HOST = "127.0.0.1"
MX, SUB, SUBS = (int(p) for p in sys.argv[1:4])
TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE  # the server's certificate is its generated self-signed one


def check(name, cond, detail=""):
    if not cond:
        print(f"FAIL {name} {detail}")
        sys.exit(1)
    print(f"PASS {name}")


def msg(subject, body="hello\r\n", extra=""):
    return (f"From: test@example.com\r\nSubject: {subject}\r\nMessage-ID: <{subject}@interop>\r\n{extra}\r\n{body}").encode()


# --- plain MX delivery, refusals, relay denial ---
s = smtplib.SMTP(HOST, MX, timeout=30)
code, text = s.ehlo("interop.example.net")
for ext in ("pipelining", "size", "8bitmime", "smtputf8", "enhancedstatuscodes", "chunking", "starttls"):
    check(f"mx advertises {ext}", s.has_extn(ext))
check("mx offers no AUTH", not s.has_extn("auth"))
refused = s.sendmail("sender@elsewhere.example", ["alice@example.org"], msg("plain-mx"))
check("plain delivery to alice", refused == {})
try:
    s.sendmail("sender@elsewhere.example", ["nobody@example.org"], msg("unknown"))
    check("unknown user refused", False)
except smtplib.SMTPRecipientsRefused as e:
    code, text = e.recipients["nobody@example.org"]
    check("unknown user refused with 550 5.1.1", code == 550 and text.startswith(b"5.1.1"), text)
try:
    s.sendmail("sender@elsewhere.example", ["victim@relay-target.example"], msg("relay"))
    check("relay refused", False)
except smtplib.SMTPRecipientsRefused as e:
    code, text = e.recipients["victim@relay-target.example"]
    check("relay refused with 554 5.7.1", code == 554 and text.startswith(b"5.7.1"), text)
refused = s.sendmail("sender@elsewhere.example", ["alice@example.org", "ghost@example.org"], msg("partial"))
check("partial recipients: good one delivered, bad one reported", list(refused) == ["ghost@example.org"])
s.starttls(context=TLS)
s.ehlo("interop.example.net")
check("EHLO after STARTTLS no longer offers STARTTLS", not s.has_extn("starttls"))
check("delivery over STARTTLS", s.sendmail("sender@elsewhere.example", ["bob@example.org"], msg("starttls-mx")) == {})
s.quit()

# --- SMTPUTF8 and 8BITMIME ---
s = smtplib.SMTP(HOST, MX, timeout=30)
s.ehlo("interop.example.net")
body = "Grüße aus Köln — ünïcödé\r\n"
raw = f"From: søren@elsewhere.example\r\nSubject: utf8\r\nMessage-ID: <utf8@interop>\r\n\r\n{body}".encode("utf-8")
refused = s.sendmail("søren@elsewhere.example", ["josé@example.org"], raw, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
check("SMTPUTF8 delivery to josé@", refused == {})
code, text = s.docmd("MAIL FROM:<søren@elsewhere.example>")
check("UTF-8 sender without SMTPUTF8 refused 553 5.6.7", code == 553 and text.startswith(b"5.6.7"), text)
s.rset()
s.quit()

# --- submission with STARTTLS + AUTH PLAIN; sender rules ---
s = smtplib.SMTP(HOST, SUB, timeout=30)
s.ehlo("client")
s.starttls(context=TLS)
s.ehlo("client")
check("submission offers AUTH PLAIN LOGIN after TLS", s.has_extn("auth") and "PLAIN" in s.esmtp_features["auth"])
try:
    s.login("alice@example.org", "wrong-password")
    check("wrong password refused", False)
except smtplib.SMTPAuthenticationError as e:
    check("wrong password refused with 535", e.smtp_code == 535)
s.login("alice@example.org", "alice-password-1")
check("submission to local and remote", s.sendmail("alice@example.org", ["bob@example.org", "friend@partner.example"], msg("submission")) == {})
try:
    s.sendmail("bob@example.org", ["alice@example.org"], msg("spoof"))
    check("sending as someone else refused", False)
except smtplib.SMTPSenderRefused as e:
    check("sending as someone else refused with 553 5.7.1", e.smtp_code == 553 and e.smtp_error.startswith(b"5.7.1"), e.smtp_error)
s.quit()

# --- submission without AUTH ---
s = smtplib.SMTP(HOST, SUB, timeout=30)
s.ehlo("client")
code, text = s.docmd("MAIL FROM:<alice@example.org>")
check("submission without AUTH refused 530", code == 530, text)
s.quit()

# --- implicit TLS (465) with AUTH LOGIN ---
s = smtplib.SMTP_SSL(HOST, SUBS, context=TLS, timeout=30)
s.ehlo("client")
s.user, s.password = "alice@example.org", "alice-password-1"
code, text = s.auth("LOGIN", s.auth_login)
check("AUTH LOGIN over implicit TLS", code == 235, text)
check("delivery over implicit TLS", s.sendmail("alice@example.org", ["bob@example.org"], msg("implicit-tls")) == {})
s.quit()

# --- loopback exception: AUTH PLAIN in clear on a loopback connection ---
s = smtplib.SMTP(HOST, SUB, timeout=30)
s.ehlo("client")
s.login("alice@example.org", "alice-password-1")
check("AUTH in clear allowed on loopback", True)
s.quit()


# --- raw sockets: pipelining, BDAT, smuggling, STARTTLS injection ---
def read_replies(sock, n, timeout=10):
    sock.settimeout(timeout)
    buf = b""
    replies = []
    while len(replies) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            if len(line) >= 4 and line[3:4] == b" ":
                replies.append(int(line[:3]))
    return replies


sock = socket.create_connection((HOST, MX), timeout=10)
check("banner 220", read_replies(sock, 1) == [220])
sock.sendall(b"EHLO pipe\r\nMAIL FROM:<p@elsewhere.example>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<nobody@example.org>\r\nDATA\r\n")
check("pipelined replies in order", read_replies(sock, 5) == [250, 250, 250, 550, 354])
sock.sendall(b"Subject: pipelined\r\nMessage-ID: <pipelined@interop>\r\n\r\nbody\r\n.\r\n")
check("pipelined message accepted", read_replies(sock, 1) == [250])

sock.sendall(b"MAIL FROM:<b@elsewhere.example>\r\nRCPT TO:<alice@example.org>\r\n")
check("BDAT transaction opened", read_replies(sock, 2) == [250, 250])
part1 = b"Subject: chunked\r\nMessage-ID: <chunked@interop>\r\n"
part2 = b"\r\nchunked body\r\n"
sock.sendall(b"BDAT %d\r\n" % len(part1) + part1 + b"BDAT %d LAST\r\n" % len(part2) + part2)
check("BDAT chunks accepted", read_replies(sock, 2) == [250, 250])

sock.sendall(b"MAIL FROM:<s@elsewhere.example>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n")
check("smuggling transaction opened", read_replies(sock, 3) == [250, 250, 354])
sock.sendall(b"Subject: smuggle\r\n\r\nfirst\r\n.\nMAIL FROM:<evil@elsewhere.example>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n")
sock.settimeout(10)
reply = sock.recv(4096)
check("smuggled end-of-data refused with 554 5.6.0", reply.startswith(b"554 5.6.0"), reply)
sock.sendall(b"QUIT\r\n")
sock.close()

sock = socket.create_connection((HOST, MX), timeout=10)
read_replies(sock, 1)
sock.sendall(b"EHLO inject\r\n")
read_replies(sock, 1)
sock.sendall(b"STARTTLS\r\nRSET\r\nMAIL FROM:<injected@elsewhere.example>\r\n")
check("STARTTLS accepted", read_replies(sock, 1) == [220])
tls = TLS.wrap_socket(sock, server_hostname="localhost")
tls.sendall(b"NOOP\r\n")
tls.settimeout(10)
data = tls.recv(4096)
check("commands injected before TLS are discarded", data.startswith(b"250 2.0.0 OK") and b"\r\n" == data[-2:] and data.count(b"\r\n") == 1, data)
tls.sendall(b"MAIL FROM:<x@elsewhere.example>\r\n")
data = tls.recv(4096)
check("EHLO state is forgotten after TLS", data.startswith(b"503"), data)
tls.close()

print("all SMTP interop checks passed")
