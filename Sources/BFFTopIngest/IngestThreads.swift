import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The event-loop threads that read and decode what emitters send.
///
/// They run at a lower scheduling priority than the engine (and the UI): the engine is the one
/// thread every event goes through, and when decoders on every core outrun it, the events pile up
/// in its mailbox and are aggregated late, by the engine alone, with the other cores idle. Yielding
/// to it keeps the mailbox short: under a flood the backlog stays in the emitters' socket buffers
/// (where stream emitters feel it as back-pressure) and the dashboard keeps drawing. Measured in
/// `bfftop bench --only live`: 1.7 cores kept busy before, 1.9 after (docs/performance.md).
public enum IngestThreads {
    /// How much lower: nice +5 weighs a thread at about a third of a default one under Linux's
    /// scheduler, so the engine gets the larger share of a core whenever both want it.
    public static let niceness: Int32 = 5

    /// A group of `threads` event loops (one per core by default) whose threads yield to the engine.
    public static func makeGroup(threads: Int = Listener.defaultThreads) -> MultiThreadedEventLoopGroup {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        for loop in group.makeIterator() { loop.execute { lowerThisThread() } }
        return group
    }

    /// Lowers the calling thread's priority (Linux: nice values are per thread). Raising it back
    /// needs a privilege, so this is one-way; failure leaves the thread as it was.
    static func lowerThisThread() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
        #endif
    }
}
