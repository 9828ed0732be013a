'use strict';
// Zero-dependency bfftop emitter for Node.js: one JSON event per line over bfftop's Unix socket
// (docs/protocol.md). It never throws into your code and never blocks: events queue in memory
// (bounded; the overflow is counted in `dropped`) while the dashboard is away, and go out when it
// is back.
//
// It sends only to a bfftop of the same user: the default directory must be private and yours and
// the socket file yours (Node cannot ask the kernel who listens, as SO_PEERCRED does; the private
// directory is what keeps others out). Otherwise nothing is sent and `refusal` says why.
const fs = require('fs');
const net = require('net');

function myUid() { return process.geteuid ? process.geteuid() : (process.getuid ? process.getuid() : 0); }

/** { path, privateDir }: the private directory is verified before the default path is used. */
function defaultLocation() {
  if (process.env.BFFTOP_SOCKET) return { path: process.env.BFFTOP_SOCKET, privateDir: null };
  if (process.env.XDG_RUNTIME_DIR) return { path: `${process.env.XDG_RUNTIME_DIR}/bfftop.sock`, privateDir: process.env.XDG_RUNTIME_DIR };
  const dir = `/tmp/bfftop-${myUid()}`;
  return { path: `${dir}/bfftop.sock`, privateDir: dir };
}

function defaultSocket() { return defaultLocation().path; }

/** Throws with a reason unless the directory (if any) and the socket are this user's and private. */
function verifySocket(path, privateDir) {
  const me = myUid();
  if (privateDir) {
    const d = fs.lstatSync(privateDir);
    if (!d.isDirectory()) throw Object.assign(new Error(`refusing ${privateDir}: not a directory`), { untrusted: true });
    if (d.uid !== me) throw Object.assign(new Error(`refusing ${privateDir}: it belongs to uid ${d.uid}, not to you (uid ${me})`), { untrusted: true });
    if (d.mode & 0o077) throw Object.assign(new Error(`refusing ${privateDir}: its mode is ${(d.mode & 0o777).toString(8)}, open to others (want 700)`), { untrusted: true });
  }
  const s = fs.lstatSync(path);
  if (!s.isSocket()) throw Object.assign(new Error(`refusing ${path}: not a socket`), { untrusted: true });
  if (s.uid !== me) throw Object.assign(new Error(`refusing to send to ${path}: the socket belongs to uid ${s.uid}, not to you (uid ${me})`), { untrusted: true });
}

class Emitter {
  constructor({ socket, service, maxQueue = 10000 } = {}) {
    const loc = socket ? { path: socket, privateDir: null } : defaultLocation();
    this.path = loc.path;
    this.privateDir = loc.privateDir;
    /** Why nothing is being sent, when the socket was refused as not this user's (else null). */
    this.refusal = null;
    this.service = service;
    this.maxQueue = maxQueue;
    this.queue = [];
    this.dropped = 0;
    this.sent = 0;
    this.conn = null;
    this.connecting = false;
    this.backoff = 100;
    this.closed = false;
    this.timer = null;
  }

  /** One finished request or function call. Fields as in docs/protocol.md (snake_case). */
  invocation(fields) {
    const e = Object.assign({ v: 1, type: 'invocation', ts: Date.now() / 1000 - (fields.duration_ms || 0) / 1000 }, fields);
    if (this.service && !e.service) e.service = this.service;
    this.send(e);
  }

  send(event) {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueue) { this.dropped++; return; }
    this.queue.push(JSON.stringify(event) + '\n');
    this.flush();
  }

  flush() {
    if (!this.conn) { this.connect(); return; }
    while (this.queue.length) {
      const line = this.queue.shift();
      this.sent++;
      if (!this.conn.write(line)) break; // kernel buffer full: wait for 'drain'
    }
  }

  connect() {
    if (this.connecting || this.closed || this.timer) return;
    this.connecting = true;
    try {
      verifySocket(this.path, this.privateDir);
    } catch (e) {
      if (e.untrusted) this.refusal = e.message;
      this.connecting = false;
      this.timer = setTimeout(() => { this.timer = null; this.connect(); }, this.backoff);
      this.timer.unref();
      this.backoff = Math.min(this.backoff * 2, 5000);
      return;
    }
    const c = net.createConnection(this.path);
    c.on('connect', () => { this.connecting = false; this.conn = c; this.backoff = 100; this.refusal = null; this.flush(); });
    c.on('drain', () => this.flush());
    c.on('error', () => {});
    c.on('close', () => {
      this.connecting = false;
      this.conn = null;
      if (this.closed) return;
      this.timer = setTimeout(() => { this.timer = null; this.connect(); }, this.backoff);
      this.timer.unref();
      this.backoff = Math.min(this.backoff * 2, 5000);
    });
    c.unref();
  }

  /** Sends what is queued, then closes. Resolves when done (or after `timeoutMs`). */
  close(timeoutMs = 2000) {
    return new Promise((resolve) => {
      const deadline = Date.now() + timeoutMs;
      const finish = () => {
        if ((this.queue.length === 0 && this.conn && this.conn.writableLength === 0) || Date.now() > deadline) {
          this.closed = true;
          if (this.conn) this.conn.end(resolve); else resolve();
          return;
        }
        this.flush();
        setTimeout(finish, 10);
      };
      finish();
    });
  }
}

/**
 * Express-style middleware: `app.use(bfftopMiddleware(emitter))`. The endpoint is the route pattern
 * when the router knows it (`GET /api/slots/:id`), else the path.
 */
function bfftopMiddleware(emitter, { service } = {}) {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    const ts = Date.now() / 1000;
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const route = req.route && req.route.path ? (req.baseUrl || '') + req.route.path : (req.path || (req.url || '').split('?')[0]);
      const status = res.statusCode;
      emitter.invocation({
        ts, endpoint: `${req.method} ${route}`, kind: 'route', duration_ms: ms, status,
        outcome: status === 429 ? 'throttle' : status === 504 ? 'timeout' : status >= 500 ? 'error' : 'ok',
        service: service || emitter.service,
      });
    });
    next();
  };
}

module.exports = { Emitter, bfftopMiddleware, defaultSocket, verifySocket };
