"""imapraw.py -- a minimal IMAP client for bench/imap: sends a command, reads until its tagged
reply while skipping literals, and does as little parsing as possible so that the client
costs little next to the server (imaplib parses every line in Python).
"""
import base64, hashlib, hmac, os, re, socket, ssl, time

LIT = re.compile(rb"\{(\d+)\+?\}\r\n")


class IMAPError(Exception):
    pass


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unverified_tls():
    """A TLS client context that accepts the server's self-signed certificate (loopback benches)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class Conn:
    def __init__(self, host, port, timeout=600, tls=False):
        """`tls`: implicit TLS (IMAPS), the server's certificate not checked (loopback benches)."""
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            self.sock = unverified_tls().wrap_socket(self.sock)
        self.buf = bytearray()
        self.n = 0
        self.greeting = self._read_line()

    def _fill(self):
        d = self.sock.recv(1 << 20)
        if not d:
            raise IMAPError("connection closed by server")
        self.buf += d

    def _read_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i + 2])
                del self.buf[:i + 2]
                return line
            self._fill()

    def send(self, data):
        self.sock.sendall(data)

    def next_tag(self):
        self.n += 1
        return b"T%d" % self.n

    def read_tagged(self, tag):
        """Everything up to and including the tagged reply line (bytes). Raises on NO/BAD."""
        needle = b"\n" + tag + b" "
        buf = self.buf
        pos = 0
        while True:
            # the next literal, and a tagged line before it (never look inside a literal)
            m = LIT.search(buf, pos)
            limit = m.start() if m else len(buf)
            if pos == 0 and buf.startswith(tag + b" "):
                t = 0
            else:
                t = buf.find(needle, max(pos - 1, 0), limit)
                if t >= 0:
                    t += 1
            if t < 0 and m:
                end = m.end() + int(m.group(1))
                while len(buf) < end:
                    self._fill()
                    buf = self.buf
                pos = end
                continue
            if t >= 0:
                e = buf.find(b"\r\n", t)
                if e >= 0:
                    resp = bytes(buf[:e + 2])
                    del buf[:e + 2]
                    status = resp[t + len(tag) + 1:t + len(tag) + 3]
                    if status != b"OK":
                        raise IMAPError(resp[t:e].decode(errors="replace"))
                    return resp
            else:
                # nothing complete after the last line break; later scans start there
                nl = buf.rfind(b"\n")
                if nl + 1 > pos:
                    pos = nl + 1
            self._fill()
            buf = self.buf

    def cmd(self, command):
        """(seconds, response bytes) for one command (str or bytes, without tag)."""
        if isinstance(command, str):
            command = command.encode()
        tag = self.next_tag()
        t = time.perf_counter()
        self.send(tag + b" " + command + b"\r\n")
        resp = self.read_tagged(tag)
        return time.perf_counter() - t, resp

    def login(self, user, password):
        return self.cmd(f"LOGIN {quote(user)} {quote(password)}")

    def select(self, mailbox="INBOX"):
        el, resp = self.cmd(f"SELECT {quote(mailbox)}")
        m = re.search(rb"\* (\d+) EXISTS", resp)
        return el, int(m.group(1)) if m else None, resp

    def logout(self):
        try:
            self.cmd("LOGOUT")
        except (IMAPError, OSError):
            pass
        self.sock.close()


def search_hits(resp):
    """UIDs or numbers in the '* SEARCH' lines of a response."""
    out = []
    for line in resp.split(b"\r\n"):
        if line.startswith(b"* SEARCH"):
            out += [int(x) for x in line[8:].split()]
    return out


def fetch_uids(resp):
    return [int(x) for x in re.findall(rb"\* \d+ FETCH \(.*?UID (\d+)", resp)]


def count_fetches(resp):
    return len(re.findall(rb"(?:^|\r\n)\* \d+ FETCH ", resp))


# SCRAM-SHA-256 client (RFC 5802/7677). Clients cache SaltedPassword; so do we, which makes a
# login cheap for the client and shows what a login costs the server alone.
_salted_cache = {}


def scram_login(conn, user, password):
    tag = conn.next_tag()
    cnonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n={user.replace('=', '=3D').replace(',', '=2C')},r={cnonce}"
    ir = base64.b64encode(("n,," + first_bare).encode()).decode()
    conn.send(tag + b" AUTHENTICATE SCRAM-SHA-256 " + ir.encode() + b"\r\n")
    line = conn._read_line()
    if not line.startswith(b"+ "):
        raise IMAPError(line.decode(errors="replace"))
    server_first = base64.b64decode(line[2:].strip()).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    salt, iters, nonce = base64.b64decode(attrs["s"]), int(attrs["i"]), attrs["r"]
    key = (password, salt, iters)
    if key not in _salted_cache:
        _salted_cache[key] = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iters)
    salted = _salted_cache[key]
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_wo_proof = f"c=biws,r={nonce}"
    auth_msg = f"{first_bare},{server_first},{final_wo_proof}".encode()
    sig = hmac.new(stored_key, auth_msg, hashlib.sha256).digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, sig))).decode()
    conn.send(base64.b64encode(f"{final_wo_proof},p={proof}".encode()) + b"\r\n")
    line = conn._read_line()
    if line.startswith(b"+ "):
        conn.send(b"\r\n")
        line = conn._read_line()
    while line.startswith(b"* "):
        line = conn._read_line()
    if not line.startswith(tag + b" OK"):
        raise IMAPError(line.decode(errors="replace"))
    return line
