#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A small OCI distribution registry with a Bearer token server, for kiln's
tests. It follows the distribution spec (manifests, blobs, monolithic and
chunked uploads, cross-repository mounts, Range on blob GETs) and the token
flow (WWW-Authenticate: Bearer realm/service/scope; GET /token with optional
Basic auth; POST /token for refresh tokens), and misbehaves on demand.

    fake-registry.py [--port-file F] [--auth none|bearer|basic] [--user U:P]
                     [--anonymous-pull] [--token-field token|access_token]
                     [--refresh-token T] [--log FILE] [--events FIFO]

Everything is kept in memory. Listens on 127.0.0.1 only, on a port of its
own choosing; prints "listening on 127.0.0.1:PORT" once it accepts
connections (and writes PORT to --port-file). Control endpoint
(never authenticated):

    GET /_control/fault?mode=MODE[&count=N]   set a misbehaviour
    GET /_control/fault?mode=none             back to normal

Modes (count = how many times, default: always):
    500            blob and manifest GETs answer 500
    429            blob GETs answer 429 with Retry-After: 1
    bad-json       manifest GETs answer a body that is not JSON
    wrong-digest   blob GETs answer content that does not match the digest
    truncated      blob GETs send half the body, then close the connection
    drop           blob GETs close the connection without an answer
    big-manifest   manifest GETs answer 5 MiB
    digest-lie     manifest GETs carry a wrong Docker-Content-Digest
    stall          blob GETs send half the body, write "stalled PATH" to the
                   --events file (a FIFO the test reads), then wait until
                   the client goes away
    401-loop       every registry request answers 401, whatever the token
    token-500      the token endpoint answers 500
    token-garbage  the token endpoint answers JSON without a token
"""

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME_RE = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.blobs = {}          # digest -> bytes
        self.repo_blobs = {}     # repo -> set(digest)
        self.manifests = {}      # (repo, digest) -> (content_type, bytes)
        self.tags = {}           # (repo, tag) -> digest
        self.uploads = {}        # uuid -> (repo, bytearray)
        self.tokens = {}         # token -> set of (repo, action)
        self.fault = "none"
        self.fault_left = -1     # -1: unlimited
        self.log = open(args.log, "a", buffering=1) if args.log else None

    def take_fault(self, *modes):
        """True when the current fault is one of modes (and uses one count)."""
        with self.lock:
            if self.fault not in modes or self.fault_left == 0:
                return False
            if self.fault_left > 0:
                self.fault_left -= 1
            return True


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-registry/1"

    def log_message(self, fmt, *args):  # quiet on stderr
        pass

    @property
    def st(self):
        return self.server.state

    # ---- plumbing -------------------------------------------------------

    def record(self, status):
        if self.st.log:
            self.st.log.write("%s %s %d\n" % (self.command, self.path, status))

    def reply(self, status, body=b"", headers=None, ctype=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.record(status)

    def error(self, status, code, message, headers=None):
        body = json.dumps({"errors": [{"code": code, "message": message}]})
        self.reply(status, body, headers, "application/json")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def host(self):
        return "127.0.0.1:%d" % self.server.server_address[1]

    # ---- authentication -------------------------------------------------

    def challenge(self, scope):
        a = self.st.args
        if a.auth == "basic":
            return {"WWW-Authenticate": 'Basic realm="fake-registry"'}
        v = 'Bearer realm="http://%s/token",service="fake-registry"' % self.host()
        if scope:
            v += ',scope="%s"' % scope
        return {"WWW-Authenticate": v}

    def basic_ok(self):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Basic ") or not self.st.args.user:
            return None
        try:
            got = base64.b64decode(h[6:]).decode()
        except Exception:
            return False
        return got == self.st.args.user

    def authorized(self, repo, action):
        a = self.st.args
        if a.auth == "none":
            return True
        if self.st.take_fault("401-loop"):
            return False
        if a.auth == "basic":
            return self.basic_ok() is True
        h = self.headers.get("Authorization", "")
        if not h.startswith("Bearer "):
            return False
        grants = self.st.tokens.get(h[7:])
        if grants is None:
            return False
        return repo is None or (repo, action) in grants

    def need_auth(self, repo, action):
        """Send the 401 and return True when the request may not proceed."""
        if self.authorized(repo, action):
            return False
        scope = "repository:%s:%s" % (repo, action) if repo else ""
        self.error(401, "UNAUTHORIZED", "authentication required", self.challenge(scope))
        return True

    def token(self, form=None):
        st = self.st
        a = st.args
        if st.take_fault("token-500"):
            return self.error(500, "UNKNOWN", "token server broken")
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        if form is not None:
            q = urllib.parse.parse_qs(form.decode())
            if q.get("grant_type") != ["refresh_token"] or \
                    q.get("refresh_token") != [a.refresh_token or "\0"]:
                return self.error(401, "UNAUTHORIZED", "bad refresh token")
            identified = True
        else:
            b = self.basic_ok()
            if b is False:
                return self.error(401, "UNAUTHORIZED", "bad credentials")
            identified = b is True
        grants = set()
        for scope in q.get("scope", []):
            parts = scope.split(":")
            if len(parts) != 3 or parts[0] != "repository":
                continue
            for action in parts[2].split(","):
                if identified or (a.anonymous_pull and action == "pull"):
                    grants.add((parts[1], action))
        if not identified and not a.anonymous_pull and a.user:
            return self.error(401, "UNAUTHORIZED", "credentials required")
        if st.take_fault("token-garbage"):
            return self.reply(200, '{"nothing": "here"}', ctype="application/json")
        t = secrets.token_hex(16)
        with st.lock:
            st.tokens[t] = grants
        self.reply(200, json.dumps({a.token_field: t, "expires_in": 300}),
                   ctype="application/json")

    # ---- dispatch ---------------------------------------------------------

    def route(self):
        u = urllib.parse.urlparse(self.path)
        path, q = u.path, urllib.parse.parse_qs(u.query)
        if path == "/_control/fault":
            with self.st.lock:
                self.st.fault = q.get("mode", ["none"])[0]
                self.st.fault_left = int(q.get("count", ["-1"])[0])
            return self.reply(200, "ok\n")
        if path == "/token":
            if self.command == "POST":
                return self.token(self.read_body())
            return self.token()
        if path == "/v2/" or path == "/v2":
            if self.need_auth(None, None):
                return
            return self.reply(200, "{}", ctype="application/json")
        m = re.fullmatch(r"/v2/(%s)/(manifests|blobs)/(.+)" % NAME_RE, path)
        if m and m.group(2) == "blobs" and m.group(3).startswith("uploads"):
            rest = m.group(3)[len("uploads"):].lstrip("/")
            return self.upload(m.group(1), rest, q)
        if m and m.group(2) == "manifests":
            return self.manifest(m.group(1), m.group(3))
        if m and m.group(2) == "blobs":
            return self.blob(m.group(1), m.group(3))
        self.error(404, "NOT_FOUND", "no such endpoint")

    def do_GET(self):
        self.route()

    def do_HEAD(self):
        self.route()

    def do_PUT(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_PATCH(self):
        self.route()

    # ---- manifests ----------------------------------------------------------

    def manifest(self, repo, ref):
        st = self.st
        if self.command in ("GET", "HEAD"):
            if self.need_auth(repo, "pull"):
                return
            if st.take_fault("500"):
                return self.error(500, "UNKNOWN", "try again")
            with st.lock:
                d = ref if ref.startswith("sha256:") else st.tags.get((repo, ref))
                found = st.manifests.get((repo, d)) if d else None
            if not found:
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            ctype, body = found
            headers = {"Docker-Content-Digest": d}
            if st.take_fault("bad-json"):
                body = b'{"schemaVersion": 2, "layers": [ oops'
                headers = {}
            elif st.take_fault("big-manifest"):
                body = b" " * (5 << 20)
                headers = {}
            elif st.take_fault("digest-lie"):
                headers["Docker-Content-Digest"] = "sha256:" + "0" * 64
            return self.reply(200, body, headers, ctype)
        if self.command == "PUT":
            if self.need_auth(repo, "push"):
                return
            body = self.read_body()
            d = digest_of(body)
            ctype = self.headers.get("Content-Type", "")
            try:
                doc = json.loads(body)
            except ValueError:
                return self.error(400, "MANIFEST_INVALID", "not JSON")
            with st.lock:
                refs = []
                if "manifests" in doc:
                    refs = [(x["digest"], True) for x in doc["manifests"]]
                else:
                    refs = [(doc["config"]["digest"], False)] + \
                        [(x["digest"], False) for x in doc.get("layers", [])]
                for r, is_manifest in refs:
                    ok = (repo, r) in st.manifests if is_manifest else \
                        r in st.repo_blobs.get(repo, set())
                    if not ok:
                        return self.error(400, "MANIFEST_BLOB_UNKNOWN", "unknown " + r)
                st.manifests[(repo, d)] = (ctype, body)
                if not ref.startswith("sha256:"):
                    st.tags[(repo, ref)] = d
                elif ref != d:
                    return self.error(400, "DIGEST_INVALID", "digest mismatch")
            return self.reply(201, b"", {"Location": "/v2/%s/manifests/%s" % (repo, d),
                                         "Docker-Content-Digest": d})
        self.error(405, "UNSUPPORTED", "method not allowed")

    # ---- blobs ------------------------------------------------------------

    def blob(self, repo, d):
        st = self.st
        if self.command not in ("GET", "HEAD"):
            return self.error(405, "UNSUPPORTED", "method not allowed")
        if self.need_auth(repo, "pull"):
            return
        with st.lock:
            data = st.blobs.get(d) if d in st.repo_blobs.get(repo, set()) else None
        if data is None:
            return self.error(404, "BLOB_UNKNOWN", "blob unknown")
        if self.command == "GET":
            if st.take_fault("500"):
                return self.error(500, "UNKNOWN", "try again")
            if st.take_fault("429"):
                return self.error(429, "TOOMANYREQUESTS", "slow down", {"Retry-After": "1"})
            if st.take_fault("drop"):
                self.close_connection = True
                self.record(0)
                return
            if st.take_fault("wrong-digest"):
                data = bytes([data[0] ^ 0xff]) + data[1:] if data else b"x"
        start = 0
        rng = self.headers.get("Range")
        status, headers = 200, {"Docker-Content-Digest": d, "Accept-Ranges": "bytes"}
        if rng and self.command == "GET":
            m = re.fullmatch(r"bytes=(\d+)-", rng)
            if m and int(m.group(1)) < len(data):
                start = int(m.group(1))
                status = 206
                headers["Content-Range"] = "bytes %d-%d/%d" % (start, len(data) - 1, len(data))
        body = data[start:]
        if self.command == "GET" and st.take_fault("stall"):
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            if st.args.events:
                with open(st.args.events, "w") as ev:
                    ev.write("stalled %s\n" % self.path)
            self.connection.settimeout(60)
            try:
                while self.connection.recv(4096):
                    pass
            except OSError:
                pass
            self.close_connection = True
            self.record(-status)
            return
        if self.command == "GET" and st.take_fault("truncated"):
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.record(-status)
            return
        self.reply(status, body, headers, "application/octet-stream")

    def upload(self, repo, uuid, q):
        st = self.st
        if self.need_auth(repo, "push"):
            self.read_body()
            return
        if self.command == "POST" and not uuid:
            body = self.read_body()
            mount, src = q.get("mount", [None])[0], q.get("from", [None])[0]
            if mount and src:
                if self.authorized(src, "pull"):
                    with st.lock:
                        if mount in st.repo_blobs.get(src, set()):
                            st.repo_blobs.setdefault(repo, set()).add(mount)
                            return self.reply(201, b"", {
                                "Location": "/v2/%s/blobs/%s" % (repo, mount),
                                "Docker-Content-Digest": mount})
            u = secrets.token_hex(8)
            with st.lock:
                st.uploads[u] = (repo, bytearray(body))
            return self.reply(202, b"", {"Location": "/v2/%s/blobs/uploads/%s" % (repo, u),
                                         "Range": "0-0", "Docker-Upload-UUID": u})
        with st.lock:
            up = st.uploads.get(uuid)
        if not up or up[0] != repo:
            self.read_body()
            return self.error(404, "BLOB_UPLOAD_UNKNOWN", "upload unknown")
        buf = up[1]
        if self.command == "PATCH":
            body = self.read_body()
            cr = self.headers.get("Content-Range")
            if cr:
                m = re.fullmatch(r"(\d+)-(\d+)", cr)
                if not m or int(m.group(1)) != len(buf) or \
                        int(m.group(2)) - int(m.group(1)) + 1 != len(body):
                    return self.error(416, "BLOB_UPLOAD_INVALID", "bad Content-Range " + cr)
            buf.extend(body)
            return self.reply(202, b"", {"Location": "/v2/%s/blobs/uploads/%s" % (repo, uuid),
                                         "Range": "0-%d" % (len(buf) - 1)})
        if self.command == "PUT":
            buf.extend(self.read_body())
            d = q.get("digest", [None])[0]
            if not d or digest_of(bytes(buf)) != d:
                return self.error(400, "DIGEST_INVALID", "digest mismatch")
            with st.lock:
                st.blobs[d] = bytes(buf)
                st.repo_blobs.setdefault(repo, set()).add(d)
                del st.uploads[uuid]
            return self.reply(201, b"", {"Location": "/v2/%s/blobs/%s" % (repo, d),
                                         "Docker-Content-Digest": d})
        self.error(405, "UNSUPPORTED", "method not allowed")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file")
    p.add_argument("--auth", choices=["none", "bearer", "basic"], default="bearer")
    p.add_argument("--user", help="USER:PASSWORD the token server or Basic auth accepts")
    p.add_argument("--anonymous-pull", action="store_true")
    p.add_argument("--token-field", choices=["token", "access_token"], default="token")
    p.add_argument("--refresh-token")
    p.add_argument("--log")
    p.add_argument("--events", help="FIFO that gets a line per stalled transfer")
    args = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(args)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, args.port_file)
    print("listening on 127.0.0.1:%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
