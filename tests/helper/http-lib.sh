#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A static HTTP server for $TRASH/www on 127.0.0.1, sourced after
# test-lib.sh. Start it at the top level of a test file, not in a case:
# cases run in subshells, and the EXIT trap needs the pid. The port
# arrives through a FIFO, so no waiting is guessed. Paths under /private/
# answer 401 unless the request's Authorization header is what the file
# http-auth (beside www, not served) holds. Files under /etag/ are served
# with an ETag (from their content) and no Last-Modified, and a request
# whose If-None-Match names it gets 304.
#
#   http_start   start it when python3 is installed; sets PORT (0 without)
#   http_stop    stop it (the EXIT trap)

HTTP_PID=""
PORT=0

http_start() {
	test_have_prereq PYTHON3 || return 0
	mkdir -p www && mkfifo port.fifo || return 1
	python3 -c '
import functools, hashlib, http.server

class Handler(http.server.SimpleHTTPRequestHandler):
    def allowed(self):
        if not self.path.startswith("/private/"):
            return True
        try:
            with open("http-auth") as f:
                want = f.read().strip()
        except OSError:
            return False
        if self.headers.get("Authorization") == want:
            return True
        self.send_response(401)
        self.send_header("WWW-Authenticate", "Basic realm=\"test\"")
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def etag_get(self):
        try:
            with open("www" + self.path.split("?")[0], "rb") as f:
                data = f.read()
        except OSError:
            self.send_error(404)
            return
        tag = "\"%s\"" % hashlib.sha256(data).hexdigest()[:16]
        same = self.headers.get("If-None-Match") == tag
        self.send_response(304 if same else 200)
        self.send_header("ETag", tag)
        self.send_header("Content-Length", "0" if same else str(len(data)))
        self.end_headers()
        if not same:
            self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/etag/"):
            self.etag_get()
        elif self.allowed():
            super().do_GET()

    def do_HEAD(self):
        if self.allowed():
            super().do_HEAD()

h = functools.partial(Handler, directory="www")
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
with open("port.fifo", "w") as f:
    f.write("%d\n" % s.server_address[1])
s.serve_forever()
' >http.log 2>&1 &
	HTTP_PID=$!
	# shellcheck disable=SC2034 # PORT is for the test that sources this file
	read -r PORT <port.fifo
}

http_stop() {
	if [ -n "$HTTP_PID" ]; then
		kill "$HTTP_PID" 2>/dev/null
		HTTP_PID=""
	fi
}
