"""Zero-dependency bfftop emitter for Python: one JSON event per line over bfftop's Unix socket
(docs/protocol.md), with WSGI and ASGI middleware.

It never raises into your code and never blocks a request: events go to a bounded queue that a
background thread writes out; while the dashboard is away they wait (and the overflow is counted in
`dropped`), and they go out when it is back.

It sends only to a bfftop of the same user: the default directory must be private and yours, the
socket file yours, and the process listening on it yours (SO_PEERCRED). Otherwise nothing is sent and
`refusal` says why (docs/security.md).
"""
import json
import os
import queue
import socket
import stat
import struct
import threading
import time

__all__ = ["Emitter", "BFFTopWSGI", "BFFTopASGI", "default_socket", "UntrustedSocket"]


def _default_location():
    """(socket path, private directory to verify or None)."""
    if os.environ.get("BFFTOP_SOCKET"):
        return os.environ["BFFTOP_SOCKET"], None
    if os.environ.get("XDG_RUNTIME_DIR"):
        d = os.environ["XDG_RUNTIME_DIR"]
        return d + "/bfftop.sock", d
    d = "/tmp/bfftop-%d" % os.geteuid()
    return d + "/bfftop.sock", d


def default_socket():
    return _default_location()[0]


class UntrustedSocket(Exception):
    """The socket, its directory or the process behind it is not this user's."""


def _verify(path, private_dir):
    me = os.geteuid()
    if private_dir is not None:
        st = os.lstat(private_dir)  # FileNotFoundError: no dashboard yet
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
            raise UntrustedSocket("refusing %s: not a directory" % private_dir)
        if st.st_uid != me:
            raise UntrustedSocket("refusing %s: it belongs to uid %d, not to you (uid %d)" % (private_dir, st.st_uid, me))
        if st.st_mode & 0o077:
            raise UntrustedSocket("refusing %s: its mode is %o, open to others (want 700)" % (private_dir, st.st_mode & 0o777))
    st = os.lstat(path)
    if not stat.S_ISSOCK(st.st_mode):
        raise UntrustedSocket("refusing %s: not a socket" % path)
    if st.st_uid != me:
        raise UntrustedSocket("refusing to send to %s: the socket belongs to uid %d, not to you (uid %d)" % (path, st.st_uid, me))


def _connect_trusted(path, private_dir):
    _verify(path, private_dir)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        if hasattr(socket, "SO_PEERCRED"):
            _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
            if uid != os.geteuid():
                raise UntrustedSocket("refusing to send to %s: the process listening on it runs as uid %d, not as you (uid %d)"
                                      % (path, uid, os.geteuid()))
    except BaseException:
        conn.close()
        raise
    return conn


class Emitter:
    def __init__(self, socket_path=None, service=None, max_queue=10000):
        if socket_path:
            self.path, self._private_dir = socket_path, None
        else:
            self.path, self._private_dir = _default_location()
        self.service = service
        self.dropped = 0
        self.sent = 0
        #: Why nothing is being sent, when the socket was refused as not this user's (else None).
        self.refusal = None
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
                    conn = _connect_trusted(self.path, self._private_dir)
                    backoff = 0.1
                    self.refusal = None
                except (OSError, UntrustedSocket) as e:
                    if isinstance(e, UntrustedSocket):
                        self.refusal = str(e)
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
