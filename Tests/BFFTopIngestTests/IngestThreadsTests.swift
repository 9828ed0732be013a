import BFFTopIngest
import NIOCore
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct IngestThreadsTests {
    /// Every event loop of the group runs below the engine's priority, and the thread that made the
    /// group (the engine's and UI's side) keeps its own.
    @Test func eventLoopsYieldToTheEngine() async throws {
        #if os(Linux)
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        errno = 0
        let before = getpriority(which, 0)
        let group = IngestThreads.makeGroup(threads: 3)
        var seen: [Int32] = []
        for loop in group.makeIterator() {
            seen.append(try await loop.submit { getpriority(which, 0) }.get())
        }
        try await group.shutdownGracefully()
        #expect(seen == [Int32](repeating: before + IngestThreads.niceness, count: 3) || seen.allSatisfy { $0 == 19 })
        #expect(getpriority(which, 0) == before)
        #endif
    }
}
