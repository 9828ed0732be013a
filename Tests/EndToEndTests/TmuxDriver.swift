import Foundation

/// Runs the real bfftop binary inside tmux (which provides the pty CI lacks), types keys and reads
/// the screen. Each driver uses its own tmux server socket, so tests never see each other.
final class TmuxDriver {
    let server: String
    let session = "e2e"

    init(name: String) {
        server = "bfftop-e2e-\(getpid())-\(name)"
    }

    static var tmuxAvailable: Bool { (try? shell("command -v tmux").status) == 0 }

    static var binary: String {
        let testExe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = testExe.deletingLastPathComponent()
        // On Linux the test runner is .build/<triple>/debug/bfftopPackageTests.xctest.
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("bfftop").path
    }

    /// Runs `command` in a job-control shell, as an interactive shell would: each program gets its own
    /// foreground process group, so Ctrl-C reaches the program and not the shell around it.
    func start(_ command: String, width: Int = 100, height: Int = 30) throws {
        let wrapped = "bash -c " + quote("set -m; " + command)
        let r = try shell("tmux -L \(server) new-session -d -s \(session) -x \(width) -y \(height) \(quote(wrapped))")
        guard r.status == 0 else { throw E2EError("tmux new-session failed: \(r.output)") }
    }

    func screen() -> String {
        (try? shell("tmux -L \(server) capture-pane -p -t \(session)").output) ?? ""
    }

    /// The screen and up to `lines` of scrollback above it.
    func history(_ lines: Int = 5000) -> String {
        (try? shell("tmux -L \(server) capture-pane -p -S -\(lines) -t \(session)").output) ?? ""
    }

    /// The screen with its SGR escape sequences (colours and attributes).
    func screenWithEscapes() -> String {
        (try? shell("tmux -L \(server) capture-pane -p -e -t \(session)").output) ?? ""
    }

    func keys(_ k: String...) {
        _ = try? shell("tmux -L \(server) send-keys -t \(session) " + k.map(quote).joined(separator: " "))
    }

    func resize(_ w: Int, _ h: Int) {
        _ = try? shell("tmux -L \(server) resize-window -t \(session) -x \(w) -y \(h)")
    }

    /// Polls the screen until `predicate` holds; returns the last screen either way.
    @discardableResult
    func waitFor(_ timeout: Double = 20, _ predicate: (String) -> Bool) -> (ok: Bool, screen: String) {
        let deadline = Date().addingTimeInterval(timeout)
        var s = screen()
        while Date() < deadline {
            if predicate(s) { return (true, s) }
            usleep(100_000)
            s = screen()
        }
        return (predicate(s), s)
    }

    /// Ends the session. tmux's own SIGHUP may not reach the pane when the test runner ignores SIGHUP
    /// (children inherit that), so the program is also ended by `pattern` (its socket path, usually).
    /// What a test's dashboard can leave behind goes too: its socket when it was killed or crashed,
    /// and the tmux server's socket when the server had already exited.
    func stop(killing pattern: String? = nil) {
        if let pattern { _ = try? shell("pkill -TERM -f -- \(quote("^\(TmuxDriver.binary) .*" + pattern))") }
        _ = try? shell("tmux -L \(server) kill-server")
        let tmuxDir = (ProcessInfo.processInfo.environment["TMUX_TMPDIR"] ?? "/tmp") + "/tmux-\(getuid())"
        unlink(tmuxDir + "/" + server)
        if let pattern, pattern.hasPrefix("/") {
            var st = stat()
            if lstat(pattern, &st) == 0, st.st_mode & S_IFMT == S_IFSOCK { unlink(pattern) }
        }
    }
}

struct E2EError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

@discardableResult
func shell(_ command: String) throws -> (status: Int32, output: String) {
    // Output goes to a file and we wait with waitpid: a daemon the command starts (the tmux server)
    // inherits descriptors, so pipes (and Foundation.Process, which watches one) would never finish.
    let out = NSTemporaryDirectory() + "bfftop-e2e-\(getpid())-\(UUID().uuidString).out"
    defer { unlink(out) }
    // The child starts with nothing of ours but stdin/out/err. SwiftNIO accepts connections without
    // close-on-exec, and this process runs listeners of its own (the swift-metrics tests): a tmux
    // server started here used to inherit such a connection and keep it open unread, so a client
    // of that test wrote its first batch after a restart into a socket nobody would ever read.
    let script = "(\(command)) > \(quote(out)) 2>&1 < /dev/null"
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(script), nil]
    defer { for a in argv { free(a) } }
    // Start the child as a terminal would: no blocked signals (test runner threads block most) and
    // default actions for the ones a dashboard handles.
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var none = sigset_t()
    sigemptyset(&none)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&defaults, sig) }
    posix_spawnattr_setsigmask(&attr, &none)
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    // glibc ≥ 2.34: close every descriptor from 3 up in the child (not in Swift's Glibc module).
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    if let sym = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
        _ = unsafeBitCast(sym, to: AddCloseFrom.self)(&actions, 3)
    }
    guard posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ) == 0 else { throw E2EError("cannot spawn /bin/sh") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    let data = FileManager.default.contents(atPath: out) ?? Data()
    let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (code, String(decoding: data, as: UTF8.self))
}

/// `bfftop report --format csv` output as rows by endpoint name, each a column → value map.
func reportRows(_ csv: String) -> [String: [String: String]] {
    let lines = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    guard let header = lines.first else { return [:] }
    var out: [String: [String: String]] = [:]
    for l in lines.dropFirst() where l.count == header.count {
        out[l[0]] = Dictionary(uniqueKeysWithValues: zip(header, l))
    }
    return out
}

/// `n` distinct TCP ports on 127.0.0.1, free right now: the kernel picks each (a bind to port 0;
/// all held until every one is chosen) and they are released for the test's servers. Ports made
/// from the test process's pid collided: two tests of one run chose the same one, and whichever
/// bound second failed (the OTLP and Hummingbird tests did, under load in CI).
func freeLoopbackPorts(_ n: Int) -> [Int] {
    var fds: [Int32] = []
    defer { for fd in fds { close(fd) } }
    var ports: [Int] = []
    for _ in 0..<n {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { break }
        fds.append(fd)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { break }
        ports.append(Int(UInt16(bigEndian: addr.sin_port)))
    }
    return ports
}

/// One free TCP port on 127.0.0.1 (see `freeLoopbackPorts`).
func freeLoopbackPort() -> Int { freeLoopbackPorts(1).first ?? 0 }
