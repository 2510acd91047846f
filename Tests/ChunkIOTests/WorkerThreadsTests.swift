import ChunkIO
import Foundation
import Testing

/// What the threads under test saw, under a lock.
private final class Record: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(index: Int, name: String?)] = []
    /// Keeps the OS thread's name, the one `top -H` and `perf` show.
    func add(_ index: Int) {
        let name = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
        lock.withLock { entries.append((index, name?.trimmingCharacters(in: .newlines))) }
    }
    var all: [(index: Int, name: String?)] { lock.withLock { entries } }
}

private struct Broke: Error, CustomStringConvertible {
    var description: String { "broke" }
}

@Suite("Worker threads")
struct WorkerThreadsTests {
    @Test("every thread runs once with its index and name, and join waits for all of them")
    func runsAndJoins() {
        let record = Record()
        let threads = WorkerThreads()
        threads.start("test-worker", count: 4) { index in
            usleep(UInt32(4 - index) * 20_000)
            record.add(index)
        }
        threads.join()
        let seen = record.all.sorted { $0.index < $1.index }
        #expect(seen.map(\.index) == [0, 1, 2, 3])
        #expect(seen.map(\.name) == ["test-worker-0", "test-worker-1", "test-worker-2", "test-worker-3"])
    }

    @Test("a name over Linux's 15 bytes is cut, not dropped")
    func longName() throws {
        let name = ThreadResult("a-very-long-thread-name") {
            try String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8).trimmingCharacters(in: .newlines)
        }
        #expect(try name.value() == "a-very-long-thr")
    }

    @Test("join returns at once with no thread started, and may be called again, from several threads")
    func joinIsAState() {
        WorkerThreads().join()
        let gate = DispatchSemaphore(value: 0)
        let threads = WorkerThreads()
        threads.start("test-gated") { _ in gate.wait() }
        #expect(!threads.join(timeout: 0.05), "join returned while the thread was still blocked")
        let joined = DispatchGroup()
        for _ in 0..<3 {
            DispatchQueue.global().async(group: joined) { threads.join() }
        }
        gate.signal()
        #expect(joined.wait(timeout: .now() + 10) == .success)
        #expect(threads.join(timeout: 0))
        threads.join()
    }

    @Test("a thread's result comes back, and so does its error")
    func threadResult() {
        let value = ThreadResult("test-value") { 6 * 7 }
        let failure = ThreadResult<Int>("test-failure") { throw Broke() }
        #expect((try? value.value()) == 42)
        #expect(throws: Broke.self) { try failure.value() }
        #expect(throws: Broke.self) { try failure.value() }
    }
}
