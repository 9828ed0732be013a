import Foundation
import Testing

/// The zero-dependency emitters in clients/ (Node.js and Python), each behind its middleware in a
/// real HTTP server, sending to a real dashboard; the recording is read back by `bfftop report`.
@Suite struct ClientsEndToEndTests {
    let bin = TmuxDriver.binary
    static let clients = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("clients").path

    static let node = #"""
    const http = require('http');
    const { Emitter, bfftopMiddleware } = require(process.argv[2] + '/node/bfftop.js');
    const emitter = new Emitter({ socket: process.argv[3], service: 'node-bff' });
    const mw = bfftopMiddleware(emitter);
    const server = http.createServer((req, res) => {
      req.path = req.url.split('?')[0];
      mw(req, res, () => { res.statusCode = req.path === '/node/fail' ? 503 : 200; res.end('ok'); });
    });
    server.listen(0, '127.0.0.1', async () => {
      const port = server.address().port;
      const get = (p) => new Promise((ok) => http.get({ port, path: p, agent: false }, (r) => { r.resume(); r.on('end', ok); }));
      for (let i = 0; i < 30; i++) await get(i % 3 === 0 ? '/node/fail' : '/node/ok');
      await emitter.close();
      server.close();
      console.log('node sent', emitter.sent, 'dropped', emitter.dropped);
    });
    """#

    static let python = #"""
    import asyncio, sys, threading, urllib.request
    from wsgiref.simple_server import make_server, WSGIRequestHandler
    sys.path.insert(0, sys.argv[1] + "/python")
    from bfftop import Emitter, BFFTopWSGI, BFFTopASGI
    emitter = Emitter(socket_path=sys.argv[2], service="py-bff")
    def app(environ, start_response):
        bad = environ["PATH_INFO"] == "/py/fail"
        start_response("500 Internal Server Error" if bad else "200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    class Quiet(WSGIRequestHandler):
        def log_message(self, *a): pass
    srv = make_server("127.0.0.1", 0, BFFTopWSGI(app, emitter), handler_class=Quiet)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    for i in range(25):
        try: urllib.request.urlopen("http://127.0.0.1:%d%s" % (srv.server_port, "/py/fail" if i % 5 == 0 else "/py/ok")).read()
        except Exception: pass
    async def asgi_app(scope, receive, send):
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"x"})
    async def drive():
        mw = BFFTopASGI(asgi_app, emitter)
        async def receive(): return {"type": "http.request"}
        async def send(m): pass
        for _ in range(7): await mw({"type": "http", "method": "POST", "path": "/asgi/orders"}, receive, send)
    asyncio.run(drive())
    emitter.close()
    srv.shutdown()
    print("python sent", emitter.sent, "dropped", emitter.dropped)
    """#

    @Test func nodeAndPythonEmittersBehindTheirMiddleware() throws {
        let id = "\(getpid())"
        let sock = "/tmp/bfftop-e2e-\(id)-cl.sock", rec = "/tmp/bfftop-e2e-\(id)-cl.ndjson"
        let nodeJS = "/tmp/bfftop-e2e-\(id)-cl.js", py = "/tmp/bfftop-e2e-\(id)-cl.py"
        defer { for f in [rec, nodeJS, py] { unlink(f) } }
        try Self.node.write(toFile: nodeJS, atomically: true, encoding: .utf8)
        try Self.python.write(toFile: py, atomically: true, encoding: .utf8)
        let tmux = TmuxDriver(name: "clients")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --record \(rec) --refresh 0.2; sleep 10", width: 120, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let n = try shell("node \(nodeJS) \(Self.clients) \(sock)")
        #expect(n.output.contains("node sent 30 dropped 0"), "\(n.output)")
        let p = try shell("python3 \(py) \(Self.clients) \(sock)")
        #expect(p.output.contains("python sent 32 dropped 0"), "\(p.output)")
        let shown = tmux.waitFor { $0.contains("GET /node/ok") && $0.contains("POST /asgi/orders") }
        #expect(shown.ok, "\(shown.screen)")
        tmux.keys("q")
        usleep(600_000)
        let r = try shell("\(bin) report \(rec) --format csv 2>/dev/null")
        let rows = reportRows(r.output)
        #expect(!rows.isEmpty, "no report: \(r.output)")
        func row(_ name: String) -> [String: String] { rows[name] ?? [:] }
        #expect(row("GET /node/ok")["count"] == "20")
        #expect(row("GET /node/fail")["count"] == "10" && row("GET /node/fail")["errors"] == "10")
        #expect(row("GET /py/ok")["count"] == "20")
        #expect(row("GET /py/fail")["errors"] == "5")
        #expect(row("POST /asgi/orders")["count"] == "7")
    }
}
