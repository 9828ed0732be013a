"""Zero-dependency bfftop emitter for Python: one JSON event per line over bfftop's Unix socket
(docs/protocol.md), with WSGI and ASGI middleware.

It never raises into your code and never blocks a request: events go to a bounded queue that a
background thread writes out; while the dashboard is away they wait (and the overflow is counted in
`dropped`), and they go out when it is back.
"""
import json
import os
import queue
import socket
import threading
import time

__all__ = ["Emitter", "BFFTopWSGI", "BFFTopASGI", "default_socket"]


def default_socket():
    if os.environ.get("BFFTOP_SOCKET"):
        return os.environ["BFFTOP_SOCKET"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        return os.environ["XDG_RUNTIME_DIR"] + "/bfftop.sock"
    return "/tmp/bfftop-%d.sock" % os.getuid()


class Emitter:
    def __init__(self, socket_path=None, service=None, max_queue=10000):
        self.path = socket_path or default_socket()
        self.service = service
        self.dropped = 0
        self.sent = 0
        self._q = queue.Queue(max_queue)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="bfftop-emitter", daemon=True)
        self._thread.start()

    def invocation(self, endpoint, duration_ms, kind="route", **fields):
        """One finished request or function call; extra fields as in docs/protocol.md."""
        e = {"v": 1, "type": "invocation", "ts": time.time() - duration_ms / 1000.0, "endpoint": endpoint,
             "kind": kind, "duration_ms": duration_ms}
        if self.service and "service" not in fields:
            e["service"] = self.service
        e.update(fields)
        self.send(e)

    def send(self, event):
        if self._closed:
            return
        try:
            self._q.put_nowait(json.dumps(event, separators=(",", ":")) + "\n")
        except queue.Full:
            self.dropped += 1

    def close(self, timeout=2.0):
        """Sends what is queued (for up to `timeout` seconds), then stops."""
        deadline = time.time() + timeout
        while not self._q.empty() and time.time() < deadline:
            time.sleep(0.01)
        self._closed = True
        self._q.put(None)
        self._thread.join(max(0.0, deadline - time.time()) + 0.5)

    def _run(self):
        conn, backoff, pending = None, 0.1, None
        while True:
            line = pending if pending is not None else self._q.get()
            pending = None
            if line is None:
                break
            while conn is None:
                try:
                    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    conn.connect(self.path)
                    backoff = 0.1
                except OSError:
                    conn = None
                    if self._closed:
                        return
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
            try:
                conn.sendall(line.encode())
                self.sent += 1
            except OSError:
                conn.close()
                conn, pending = None, line
        if conn:
            conn.close()


def _outcome(status):
    return "throttle" if status == 429 else "timeout" if status == 504 else "error" if status >= 500 else "ok"


class BFFTopWSGI:
    """WSGI middleware: `app = BFFTopWSGI(app, Emitter(service="web-bff"))`."""

    def __init__(self, app, emitter, route=None):
        self.app, self.emitter = app, emitter
        self.route = route or (lambda environ: environ.get("PATH_INFO") or "/")

    def __call__(self, environ, start_response):
        start, holder = time.perf_counter(), {}

        def capture(status, headers, exc_info=None):
            holder["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        try:
            for chunk in self.app(environ, capture):
                yield chunk
        finally:
            status = holder.get("status", 500)
            self.emitter.invocation("%s %s" % (environ.get("REQUEST_METHOD", "GET"), self.route(environ)),
                                    (time.perf_counter() - start) * 1000, status=status, outcome=_outcome(status))


class BFFTopASGI:
    """ASGI middleware (HTTP scopes): `app = BFFTopASGI(app, Emitter(service="api"))`."""

    def __init__(self, app, emitter):
        self.app, self.emitter = app, emitter

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http":
            return await self.app(scope, receive, send)
        start, holder = time.perf_counter(), {"status": 500}

        async def capture(message):
            if message.get("type") == "http.response.start":
                holder["status"] = message.get("status", 500)
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or scope.get("path", "/")
            status = holder["status"]
            self.emitter.invocation("%s %s" % (scope.get("method", "GET"), path), (time.perf_counter() - start) * 1000,
                                    status=status, outcome=_outcome(status))
