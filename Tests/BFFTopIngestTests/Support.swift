import BFFTopEngine
import BFFTopIngest
import BFFTopWire
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Collects delivered batches for assertions.
final class CollectingSink: EventSink {
    private let state = Mutex<(events: [WireEvent], names: BatchNames)>(([], BatchNames()))
    func deliver(_ batch: WireEventBatch) { state.withLock { $0.events += $0.names.events(of: batch) } }
    var events: [WireEvent] { state.withLock { $0.events } }
    /// Connections whose names are still kept (each closed one's last batch forgets them).
    var nameSources: Int { state.withLock { $0.names.sources } }
}

/// A plain POSIX Unix-socket client, independent of NIO, as an emitter would be.
final class RawClient: @unchecked Sendable {  // an fd; each test uses it from one task at a time
    let fd: Int32

    init?(path: String) {
        guard let fd = connectUnixSocket(path) else { return nil }
        self.fd = fd
    }

    func send(_ s: String) { send(Array(s.utf8)) }

    func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            off += n
        }
    }

    func close() { Glibc.close(fd) }
}

func tempSocketPath(_ name: String = "t") -> String {
    "/tmp/bfftop-test-\(getpid())-\(name)-\(UInt32.random(in: 0...UInt32.max)).sock"
}

/// Polls until `condition` holds or `timeout` seconds pass.
func eventually(_ timeout: Double = 10, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return condition()
}

func line(_ endpoint: String, _ i: Int) -> String {
    NativeEncoder.encode(.invocation(Invocation(ts: 1_732_460_000 + Double(i), endpoint: endpoint, durationMs: Double(i % 100)))) + "\n"
}
