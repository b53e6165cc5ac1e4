#!/usr/bin/env python3
"""An HTTPS front for a real docker-registry that changes one thing about
manifest HEAD answers (test tool: registries and proxies that do not send
Docker-Content-Digest, or that lie in it).

    header_proxy.py LISTEN_PORT UPSTREAM_PORT CERT KEY CA MODE LOG

Listens on 127.0.0.1:LISTEN_PORT with TLS (CERT, KEY) and relays GET and
HEAD to https://127.0.0.1:UPSTREAM_PORT (verified against CA), passing on
Accept and Authorization, status, headers and body (HTTP/1.1, connections
kept alive).  MODE:
  nodcd    a HEAD of /v2/.../manifests/... answers without
           Docker-Content-Digest (the GET keeps it)
  liehead  a HEAD of a manifest by a tag ending in ".sig" names another
           digest, sha256 of "lie:" + the true one; a GET of that digest
           answers with the bytes of the tag (which hash to the true one)
Every request is logged to LOG as one line
    CONN METHOD PATH STATUS
where CONN numbers the client connection (1, 2, ...), so a test can tell
which requests shared one.  Loopback only; runs until killed.
"""
import hashlib
import http.client
import http.server
import itertools
import re
import ssl
import sys
import threading

HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}
MANIFEST = re.compile(r"^/v2/(.+)/manifests/([^/?]+)$")


class Handler(http.server.BaseHTTPRequestHandler):
    # Headers and body are separate writes: without this the body waits
    # for the client's delayed ACK (40 ms an answer).
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    counter = itertools.count(1)
    lies = {}  # "sha256:<lie>" -> the tag path it stands for
    lock = threading.Lock()

    def setup(self):
        super().setup()
        self.conn_id = next(Handler.counter)

    def log_message(self, *args):
        pass

    def note(self, status):
        with Handler.lock:
            with open(LOG, "a") as f:
                f.write("%d %s %s %d\n" % (self.conn_id, self.command, self.path, status))

    def relay(self):
        path = self.path
        m = MANIFEST.match(path)
        if MODE == "liehead" and self.command == "GET" and m and m.group(2) in Handler.lies:
            path = Handler.lies[m.group(2)]
        up = http.client.HTTPSConnection("127.0.0.1", UPSTREAM, context=UCTX, timeout=20)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "authorization")}
        up.request(self.command, path, headers=hdrs)
        r = up.getresponse()
        body = r.read()
        up.close()
        out = [(k, v) for k, v in r.getheaders() if k.lower() not in HOP]
        length = r.getheader("Content-Length") if self.command == "HEAD" else str(len(body))
        if self.command == "HEAD" and m and r.status == 200:
            if MODE == "nodcd":
                out = [(k, v) for k, v in out if k.lower() != "docker-content-digest"]
            elif MODE == "liehead" and m.group(2).endswith(".sig"):
                true = r.getheader("Docker-Content-Digest", "")
                lie = "sha256:" + hashlib.sha256(("lie:" + true).encode()).hexdigest()
                with Handler.lock:
                    Handler.lies[lie] = path
                out = [(k, v if k.lower() != "docker-content-digest" else lie) for k, v in out]
        self.send_response(r.status)
        for k, v in out:
            self.send_header(k, v)
        if length is not None:
            self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.note(r.status)

    def do_GET(self):
        self.relay()

    def do_HEAD(self):
        self.relay()


if __name__ == "__main__":
    port, UPSTREAM = int(sys.argv[1]), int(sys.argv[2])
    cert, key, ca, MODE, LOG = sys.argv[3:8]
    UCTX = ssl.create_default_context(cafile=ca)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.daemon_threads = True
    srv.serve_forever()
