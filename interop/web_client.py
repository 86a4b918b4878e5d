"""HTTPS requests to Mailroom's web listener, as a sender fetching an MTA-STS policy or a mail
client asking for its settings would make them, and the answers read with Python's own XML and
property-list parsers.

usage: web_client.py PORT CAFILE SERVERNAME < requests.json
  requests.json: [{"method": "GET", "path": "/...", "host": "mta-sts.example.org", "body": "..."}]
prints a JSON list, one object per request: status, content_type, headers, body, its sha256, and "parsed"
(what the XML or plist says) for a 200 answer with client settings.
"""
import hashlib
import http.client
import json
import plistlib
import socket
import ssl
import sys
import xml.etree.ElementTree as ET


def local(tag):
    return tag.split("}", 1)[-1]


def namespace(tag):
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def servers(root, tag):
    out = []
    for e in root.iter():
        if local(e.tag) == tag:
            entry = {"type": e.get("type")}
            for c in e:
                entry[local(c.tag)] = c.text
            out.append(entry)
    return out


def parse(path, content_type, body):
    if "config-v1.1.xml" in path:
        root = ET.fromstring(body)
        provider = next(e for e in root if local(e.tag) == "emailProvider")
        return {
            "root": local(root.tag), "version": root.get("version"), "id": provider.get("id"),
            "domain": [e.text for e in provider if local(e.tag) == "domain"],
            "incoming": servers(root, "incomingServer"), "outgoing": servers(root, "outgoingServer"),
        }
    if "utodiscover" in path:
        root = ET.fromstring(body)
        response = next(e for e in root if local(e.tag) == "Response")
        protocols = []
        for e in root.iter():
            if local(e.tag) == "Protocol":
                protocols.append({local(c.tag): c.text for c in e})
        account = next(e for e in response if local(e.tag) == "Account")
        return {
            "root": local(root.tag), "root_ns": namespace(root.tag), "response_ns": namespace(response.tag),
            "account": {local(c.tag): c.text for c in account if local(c.tag) != "Protocol"}, "protocols": protocols,
        }
    if "aspen-config" in content_type:
        return plistlib.loads(body)
    return None


def main():
    port, cafile, servername = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    context = ssl.create_default_context(cafile=cafile)
    results = []
    for r in json.load(sys.stdin):
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30)
        conn.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30), server_hostname=servername)
        body = r.get("body", "").encode()
        conn.putrequest(r["method"], r["path"], skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", r["host"])
        conn.putheader("Connection", "close")
        if r["method"] == "POST":
            conn.putheader("Content-Type", "text/xml")
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if r["method"] == "POST" else None)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        content_type = resp.getheader("Content-Type", "")
        parsed = parse(r["path"], content_type, data) if resp.status == 200 else None
        results.append({
            "status": resp.status, "content_type": content_type,
            "headers": {k.lower(): v for k, v in resp.getheaders()},
            "body": data.decode("utf-8", "replace"), "sha256": hashlib.sha256(data).hexdigest(), "parsed": parsed,
        })
    print(json.dumps(results))


main()
