'use strict';
// Zero-dependency bfftop emitter for Node.js: one JSON event per line over bfftop's Unix socket
// (docs/protocol.md). It never throws into your code and never blocks: events queue in memory
// (bounded; the overflow is counted in `dropped`) while the dashboard is away, and go out when it
// is back.
const net = require('net');

function defaultSocket() {
  if (process.env.BFFTOP_SOCKET) return process.env.BFFTOP_SOCKET;
  if (process.env.XDG_RUNTIME_DIR) return `${process.env.XDG_RUNTIME_DIR}/bfftop.sock`;
  return `/tmp/bfftop-${process.getuid ? process.getuid() : 0}.sock`;
}

class Emitter {
  constructor({ socket = defaultSocket(), service, maxQueue = 10000 } = {}) {
    this.path = socket;
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
    const c = net.createConnection(this.path);
    c.on('connect', () => { this.connecting = false; this.conn = c; this.backoff = 100; this.flush(); });
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

module.exports = { Emitter, bfftopMiddleware, defaultSocket };
