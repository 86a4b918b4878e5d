"""servers.py -- start and stop the private Dovecot and Mailroom that bench/imap uses (loopback
only, temp directories), and load messages into Mailroom with pipelined APPEND."""
import os, re, shutil, signal, socket, sqlite3, statistics, subprocess, sys, threading, time
from datetime import datetime, timezone

from imapraw import Conn

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USER = "alice@example.com"
PASSWORD = "Correct-Horse-42"
VUSER = "vmail"

cleanups = []
# The data folder of each Mailroom start_mailroom started, by pid: wait_idle also waits for its
# background indexer's backlogs to drain.
data_folders = {}


def cleanup():
    while cleanups:
        f = cleanups.pop()
        try:
            f()
        except Exception as e:  # keep stopping the rest
            print(f"cleanup: {e}", file=sys.stderr)


def on_signal(sig, _frame):
    raise SystemExit(128 + sig)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- Dovecot

def start_dovecot(work, port):
    import pwd
    try:
        pw = pwd.getpwnam(VUSER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--home-dir", "/nonexistent", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", VUSER], check=True)
        pw = pwd.getpwnam(VUSER)
    uid, gid = pw.pw_uid, pw.pw_gid
    base = os.path.join(work, "dovecot")
    for d in ("etc", "run", "state", "log", "home"):
        os.makedirs(os.path.join(base, d), exist_ok=True)
    for d in (base, os.path.join(base, "run"), os.path.join(base, "home")):
        os.chmod(d, 0o755)
    home = os.path.join(base, "home", "alice")
    os.makedirs(home, exist_ok=True)
    os.chown(home, uid, gid)
    conf = os.path.join(base, "etc", "dovecot.conf")
    passwd = os.path.join(base, "etc", "passwd")
    with open(conf, "w") as f:
        f.write(f"""# bench/imap: a private Dovecot, loopback only
instance_name = mailroom-bench-{os.getpid()}
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/log/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 100
mail_location = maildir:~/Maildir
mail_plugins =
mail_max_userip_connections = 10000
passdb {{
  driver = passwd-file
  args = {passwd}
}}
userdb {{
  driver = passwd-file
  args = {passwd}
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service imap {{
  process_limit = 10000
}}
protocol imap {{
  mail_max_userip_connections = 10000
}}
""")
    hashed = subprocess.run(["doveadm", "-c", conf, "pw", "-s", "SHA512-CRYPT", "-p", PASSWORD],
                            check=True, capture_output=True, text=True).stdout.strip()
    with open(passwd, "w") as f:
        f.write(f"{USER}:{hashed}:{uid}:{gid}::{home}::\n")
    os.chmod(passwd, 0o640)
    shutil.chown(passwd, group="dovecot")
    subprocess.run(["dovecot", "-c", conf], check=True)

    def stop():
        pidf = os.path.join(base, "run", "master.pid")
        pid = int(open(pidf).read().strip()) if os.path.exists(pidf) else None
        subprocess.run(["doveadm", "-c", conf, "stop"], capture_output=True)
        for _ in range(100):
            if pid is None or not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    cleanups.append(stop)
    wait_port(port)
    return {"home": home, "maildir": os.path.join(home, "Maildir"), "uid": uid, "gid": gid,
            "conf": conf, "base": base}


def wait_port(port, timeout=30):
    t = time.time()
    while time.time() - t < timeout:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


# ---------------------------------------------------------------- Mailroom

def mailroom_binary(a):
    if a.mailroom:
        return os.path.abspath(a.mailroom)
    log("building Mailroom: swift build -c release --product mailroom")
    subprocess.run(["swift", "build", "-c", "release", "--product", "mailroom"], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(REPO, ".build", "release", "mailroom")


def start_mailroom(work, binary, extra_conf="", imaps=False):
    data = os.path.join(work, "mailroom-data")
    conf = os.path.join(work, "mailroom.toml")
    with open(conf, "w") as f:
        f.write(f"""hostname = "mx.test"
data_dir = "{data}"
[listeners]
admin = ["127.0.0.1:0"]
smtp = ["127.0.0.1:0"]
submission = []
submissions = []
imap = ["127.0.0.1:0"]
imaps = [{'"127.0.0.1:0"' if imaps else ''}]
managesieve = []
[imap]
max_connections = 20000
max_connections_per_ip = 20000
max_connections_per_user = 10000
{extra_conf}""")
    logf = open(os.path.join(work, "mailroom.log"), "w+")
    p = subprocess.Popen([binary, "serve", "--config", conf], stdout=logf, stderr=subprocess.STDOUT,
                         start_new_session=True)
    data_folders[p.pid] = data

    def stop():
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    cleanups.append(stop)
    ports = {}
    for _ in range(600):
        logf.seek(0)
        text = logf.read()
        for name, key in (("IMAP", "imap"), ("SMTP (MX)", "smtp"), ("IMAPS (TLS)", "imaps")):
            m = re.search(r"^\s+" + re.escape(name) + r"\s+127\.0\.0\.1:(\d+)", text, re.M)
            if m:
                ports[key] = int(m.group(1))
        if "imap" in ports and "smtp" in ports and (not imaps or "imaps" in ports) and "admin API" in text:
            break
        if p.poll() is not None:
            raise SystemExit("mailroom serve exited:\n" + text)
        time.sleep(0.1)
    else:
        raise SystemExit("mailroom did not start; log in " + logf.name)
    for args in (["domain", "add", USER.split("@")[1]], ["account", "add", USER, "--password", PASSWORD]):
        subprocess.run([binary] + args + ["--config", conf], check=True, stdout=subprocess.DEVNULL)
    return {"proc": p, "pid": p.pid, "conf": conf, "data": data, **ports}


MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
FLAGS = {"F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "D": "\\Draft", "T": "\\Deleted"}


def imap_date(ts):
    d = datetime.fromtimestamp(ts, timezone.utc)
    return f'"{d.day:02d}-{MONTHS[d.month - 1]}-{d.year} {d.hour:02d}:{d.minute:02d}:{d.second:02d} +0000"'


def append_all(port, items, connections=8, window=64):
    """APPENDs every (path, flags, mtime) with LITERAL+, `window` in flight on each connection."""
    errors = []
    share = [items[k::connections] for k in range(connections)]

    def worker(part):
        try:
            c = Conn("127.0.0.1", port)
            c.login(USER, PASSWORD)
            for lo in range(0, len(part), window):
                batch = part[lo:lo + window]
                out = bytearray()
                tags = []
                for path, fl, mtime in batch:
                    with open(path, "rb") as f:
                        msg = f.read().replace(b"\n", b"\r\n")
                    tag = c.next_tag()
                    tags.append(tag)
                    flags = " ".join(FLAGS[x] for x in fl if x in FLAGS)
                    out += (tag + f" APPEND INBOX ({flags}) {imap_date(mtime)} {{{len(msg)}+}}\r\n".encode()
                            + msg + b"\r\n")
                c.send(bytes(out))
                for tag in tags:
                    c.read_tagged(tag)
            c.logout()
        except Exception as e:
            errors.append(repr(e))
    # Interleaved shares keep Mailroom's UID order close to Dovecot's (generation order).
    threads = [threading.Thread(target=worker, args=(s,)) for s in share]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit("APPEND to Mailroom failed: " + "; ".join(errors[:3]))


def status_kb(pid, field):
    """A memory line of /proc/PID/status in KiB: VmRSS (now), VmHWM (peak)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def vmrss_kb(pid):
    return status_kb(pid, "VmRSS")


def peak_rss_kb(pid):
    return status_kb(pid, "VmHWM")


CLOCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time of a process and its threads so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK


def write_calls(pid):
    """The write, pwrite and writev calls a process and its threads made so far (syscw)."""
    with open(f"/proc/{pid}/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("syscw:"))


def thread_cpu_seconds(pid, name_prefix=""):
    """The process's CPU time so far in seconds, from its threads' nanosecond counters (/proc's
    clock ticks, 10 ms, are too coarse for work that takes a tenth of a second of CPU); with
    `name_prefix`, only its threads whose names start so (a Mailroom's event loops: "NIO-")."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            if name_prefix:
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    if not f.read().startswith(name_prefix):
                        continue
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended as we looked
    return total / 1e9


def backlog(data):
    """Messages a Mailroom's background indexer has still to index or to key for SORT and THREAD."""
    try:
        db = sqlite3.connect(f"file:{os.path.join(data, 'mailroom.db')}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return 0
    try:
        total = 0
        for table in ("index_backlog", "sort_keys_backlog", "thread_keys_backlog"):
            try:
                total += db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            except sqlite3.Error:
                pass  # a schema without it
        return total
    finally:
        db.close()


def stored_and_stopped(work, binary, items):
    """A Mailroom (``start_mailroom`` in `work`) that stored `items` through IMAP APPEND, was let
    finish its background work, and was stopped: its data folder and config stay for a copy or a
    later start. Returns what ``start_mailroom`` returned."""
    m = start_mailroom(work, binary)
    stop = cleanups.pop()
    try:
        append_all(m["imap"], items)
        wait_idle(m["pid"], 900)
    finally:
        stop()
    return m


def wait_idle(pid, limit=120):
    """Waits (at most `limit` seconds) until the process used under 2% of a core for half a second
    and, for a Mailroom, its indexer has nothing waiting: a quiet half second alone can fall before
    the indexer starts on what a load left."""
    end = time.perf_counter() + limit
    data = data_folders.get(pid)
    while time.perf_counter() < end:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        if cpu_seconds(pid) - before < 0.01 and (data is None or backlog(data) == 0):
            return


def start_postfix(work, port, maildir_root, milter=None):
    """A private Postfix on loopback delivering to Maildir; `milter` (inet:127.0.0.1:PORT) filters what it accepts."""
    pf = os.path.join(work, "postfix")
    for d in ("etc", "spool", "data", "log"):
        os.makedirs(os.path.join(pf, d), exist_ok=True)
    for d in (work, pf, os.path.join(pf, "etc"), os.path.join(pf, "spool")):
        os.chmod(d, 0o755)
    shutil.chown(os.path.join(pf, "data"), "postfix", "postfix")
    uid, gid = int(subprocess.check_output(["id", "-u", "vmail"])), int(subprocess.check_output(["id", "-g", "vmail"]))
    domain, local = USER.split("@")[1], USER.split("@")[0]
    with open(os.path.join(pf, "etc", "vmailbox"), "w") as f:
        f.write(f"{USER} {domain}/{local}/\n")
    with open(os.path.join(pf, "etc", "main.cf"), "w") as f:
        f.write(f"""compatibility_level = 3.6
queue_directory = {pf}/spool
data_directory = {pf}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = {pf}/log/maillog
maillog_file_prefixes = {pf}/log
myhostname = pf.test.example
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
default_transport = error:bench never relays
relay_transport = error:bench never relays
smtpd_relay_restrictions = reject_unauth_destination
virtual_mailbox_domains = {domain}
virtual_mailbox_base = {maildir_root}
virtual_mailbox_maps = texthash:{pf}/etc/vmailbox
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 100
message_size_limit = 52428800
virtual_mailbox_limit = 0
""" + (f"smtpd_milters = {milter}\nmilter_default_action = tempfail\nmilter_protocol = 6\n" if milter else ""))
    with open(os.path.join(pf, "etc", "master.cf"), "w") as f:
        f.write(f"""127.0.0.1:{port} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
proxymap unix - - n - - proxymap
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
""")
    # Postfix writes its errors to a terminal; script(1) gives it one.
    subprocess.run(["script", "-qec", f"postfix -c {pf}/etc start", "/dev/null"], check=True, stdout=subprocess.DEVNULL)
    cleanups.append(lambda: subprocess.run(["script", "-qec", f"postfix -c {pf}/etc stop", "/dev/null"], stdout=subprocess.DEVNULL))
    wait_port(port)
    return pf


def queued(pf):
    return sum(len(files) for q in ("incoming", "active", "deferred", "maildrop") for _, _, files in os.walk(os.path.join(pf, "spool", q)))


def smtp_source(port, sessions, count, message, sender="bench@elsewhere.example"):
    # What the last server wrote without syncing (Postfix's Maildir files above all) would
    # otherwise be flushed during this run, and this server's fdatasyncs would wait behind it:
    # a run that followed Postfix's paid for Postfix's writes.
    os.sync()
    t = time.perf_counter()
    subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(count), "-F", message, "-f", sender,
                    "-t", USER, f"127.0.0.1:{port}"], check=True)
    return time.perf_counter() - t


def free_udp_tcp_port():
    """A loopback port free for both TCP and UDP (a DNS server listens on both)."""
    while True:
        port = free_port()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()


def start_root_dns(work, records):
    """A loopback NSD that is authoritative for the root zone and holds only `records` (zone-file
    lines relative to "."): every other name gets a quick NXDOMAIN, as a nonexistent domain would
    from a working resolver. Without it, a machine without Internet leaves each lookup Mailroom's
    inbound checks make (SPF, DMARC, reverse DNS) waiting for a timeout, and the bench measures
    that. Returns the port, for `[dns] servers`."""
    d = os.path.join(work, "root-dns")
    os.makedirs(d, exist_ok=True)
    port = free_udp_tcp_port()
    with open(os.path.join(d, "root.zone"), "w") as f:
        f.write("$ORIGIN .\n$TTL 3600\n. IN SOA ns.root. hostmaster.root. ( 1 3600 600 86400 60 )\n"
                ". IN NS ns.root.\nns.root. IN A 127.0.0.1\n" + "".join(r + "\n" for r in records))
    with open(os.path.join(d, "nsd.conf"), "w") as f:
        f.write(f"""server:
    ip-address: 127.0.0.1@{port}
    port: {port}
    zonesdir: "{d}"
    database: ""
    pidfile: "{d}/nsd.pid"
    logfile: "{d}/nsd.log"
    username: ""
    xfrdfile: "{d}/xfrd.state"
    zonelistfile: "{d}/zone.list"
zone:
    name: "."
    zonefile: "root.zone"
""")
    p = subprocess.Popen(["nsd", "-d", "-c", os.path.join(d, "nsd.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cleanups.append(p.terminate)
    wait_port(port)
    return port


def prefill_corpus(corpus, count):
    """The generated Maildir at `corpus` with `count` messages, made again when it has another number."""
    import genmail
    if not os.path.isdir(os.path.join(corpus, "cur")) or len(os.listdir(os.path.join(corpus, "cur"))) != count:
        shutil.rmtree(corpus, ignore_errors=True)
        log(f"generating {count} messages into {corpus}")
        genmail.write_maildir(corpus, count)
    return genmail.maildir_messages(corpus)


def closest_message(items, size):
    """The path of the corpus message (among its first 2,000) whose size is closest to `size`."""
    return min(items[:2000], key=lambda it: abs(os.path.getsize(it[0]) - size))[0]


def start_sender_dns(work, sender):
    """A loopback DNS server for mail from `sender` on 127.0.0.1: its domain's SPF passes, and
    127.0.0.1's reverse name (mail.DOMAIN) resolves back to it. Returns the port."""
    domain = sender.split("@")[1]
    return start_root_dns(work, [f'{domain}. IN TXT "v=spf1 ip4:127.0.0.0/8 -all"', f'mail.{domain}. IN A 127.0.0.1',
                                 f'1.0.0.127.in-addr.arpa. IN PTR mail.{domain}.'])


def postfix_maildir(work):
    """USER's Maildir under ``start_postfix_prefilled``'s Postfix in `work`."""
    return os.path.join(work, "vmail", USER.split("@")[1], USER.split("@")[0])


def start_postfix_prefilled(work, items, milter=None):
    """A private Postfix (``start_postfix``, with `milter` if given) whose Maildir for USER already
    holds `items`, as hard links (copies on another file system). Returns (port, its folder)."""
    subprocess.run("id vmail >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin vmail",
                   shell=True, check=True)
    vmail = os.path.join(work, "vmail")
    box = postfix_maildir(work)
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(box, sub), exist_ok=True)
    for path, _, _ in items:
        target = os.path.join(box, "cur", os.path.basename(path))
        try:
            os.link(path, target)
        except OSError:  # another file system (bench/accept-bound's tmpfs)
            shutil.copyfile(path, target)
    subprocess.run(["chown", "-R", "vmail:vmail", vmail], check=True)
    port = free_port()
    return port, start_postfix(work, port, vmail, milter=milter)


def spread(values, unit="x", scale=1, digits=2):
    """The values' lowest, quartiles and highest (each times `scale`, then `unit`): how far one
    invocation's median can be trusted."""
    v = [x * scale for x in values]
    f = lambda x: f"{x:.{digits}f}{unit}"  # noqa: E731
    if len(v) < 4:
        return f"runs {f(min(v))} to {f(max(v))}"
    q1, _, q3 = statistics.quantiles(v, n=4)
    return f"runs {f(min(v))}, quartiles {f(q1)} to {f(q3)}, {f(max(v))}"
