import BFFTopEngine
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a listener does when the process runs out of file descriptors (EMFILE/ENFILE).
///
/// NIO retries a failed `accept` at once, and a listening socket with connections waiting stays
/// readable, so an exhausted process spun its event loops at 100 % until connections closed. The
/// remedy servers such as nginx and libuv use: keep one spare descriptor; when accepting fails for
/// lack of descriptors, free the spare so the next `accept` succeeds, close that connection at once
/// (its client sees it end), count it, and take the spare again. The waiting queue drains, the
/// socket stops being readable, and the loop sleeps; connections are accepted normally again as
/// soon as descriptors are free. One reserve serves every listener of the process: a descriptor
/// freed for one listener may be taken by another's `accept`, which must then shed in its place.
public final class DescriptorReserve: Sendable {
    public static let shared = DescriptorReserve()

    private let spare = Mutex<Int32>(-1)
    /// Connections to close on arrival (one per freed spare).
    private let toShed = Atomic<Int>(0)
    private let shedCount = Atomic<Int>(0)

    init() {
        Self.raiseSoftLimit()
        take()
    }

    /// Connections closed on arrival for lack of descriptors.
    public var shed: Int { shedCount.load(ordering: .relaxed) }

    /// The soft limit up to the hard one (as Go does at start): a dashboard with many emitters
    /// should not hit the 1,024 default first.
    static func raiseSoftLimit() {
        var r = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0, r.rlim_cur < r.rlim_max else { return }
        r.rlim_cur = r.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
    }

    private func take() {
        spare.withLock { fd in
            if fd < 0 { fd = open("/dev/null", O_RDONLY | O_CLOEXEC) }
        }
    }

    /// An accept failed: free the spare so the next one succeeds, and mark that connection to be shed.
    func exhausted() {
        let freed = spare.withLock { fd -> Bool in
            if fd < 0 { fd = open("/dev/null", O_RDONLY | O_CLOEXEC) }  // taken back if a shed one closed
            guard fd >= 0 else { return false }
            close(fd)
            fd = -1
            return true
        }
        if freed {
            toShed.add(1, ordering: .relaxed)
        } else {
            // Something else took the freed descriptor: nothing can be accepted until one closes.
            // Retrying at most a thousand times a second costs next to nothing.
            usleep(1000)
        }
    }

    /// A new connection: true when it must be closed at once (the spare is taken back once it is).
    func shouldShed(_ channel: any Channel) -> Bool {
        while true {
            let n = toShed.load(ordering: .relaxed)
            guard n > 0 else { return false }
            if toShed.compareExchange(expected: n, desired: n - 1, ordering: .relaxed).exchanged { break }
        }
        shedCount.add(1, ordering: .relaxed)
        channel.closeFuture.whenComplete { _ in self.take() }
        return true
    }

    /// The server channel's handler: turns descriptor exhaustion into `exhausted()`.
    final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = any Channel
        let reserve: DescriptorReserve

        init(_ reserve: DescriptorReserve) { self.reserve = reserve }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if let e = error as? IOError, e.errnoCode == EMFILE || e.errnoCode == ENFILE {
                reserve.exhausted()
                return
            }
            context.fireErrorCaught(error)
        }
    }
}
