import Foundation

/// Named threads that each run one closure, and the one way the stages start and wait for
/// their threads. Blocking work (libdeflate, curl, SQLite) runs here rather than on Swift's
/// cooperative pool, which it would starve.
///
/// Their end is a state, not a one-shot signal: `join` may be called from any thread, any
/// number of times (finish and abort both wait, in either order), and returns at once when no
/// thread was started or all of them returned.
package final class WorkerThreads: @unchecked Sendable {
    private let condition = NSCondition()
    private var running = 0

    /// Made before its threads start, so a stage can hold it as a constant and start the
    /// threads once the stage is fully set up (or later, when it first has work).
    package init() {}

    /// Starts `count` threads named `name` (`name-0`, `name-1`… when there are several), each
    /// running `body` with its index. Linux refuses a thread name over 15 bytes, so a longer one
    /// is cut to its first 15.
    package func start(_ name: String, count: Int = 1, _ body: @escaping @Sendable (_ index: Int) -> Void) {
        condition.withLock { running += count }
        for index in 0..<count {
            let threadName = String(decoding: (count == 1 ? name : "\(name)-\(index)").utf8.prefix(15), as: UTF8.self)
            let thread = Thread { [self] in
                Self.nameCurrentThread(threadName)
                body(index)
                condition.withLock {
                    running -= 1
                    condition.broadcast()
                }
            }
            thread.start()
        }
    }

    /// Names the OS thread, which `top -H` and perf show. Foundation's `Thread.name` reaches it
    /// only when set on the running thread after `start` recorded it, a race on Linux.
    private static func nameCurrentThread(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        _ = name.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    /// Waits until every thread returned.
    package func join() {
        condition.withLock { while running > 0 { condition.wait() } }
    }

    /// Waits at most `seconds`; true when every thread returned, so a caller can poll for a
    /// cancellation between waits.
    package func join(timeout seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        return condition.withLock {
            while running > 0 {
                if !condition.wait(until: deadline) { return running == 0 }
            }
            return true
        }
    }
}

/// A value computed on its own thread while the caller does something else: `value()` waits
/// for it and returns or throws what the closure did.
package final class ThreadResult<Value: Sendable>: Sendable {
    private final class Slot: @unchecked Sendable {
        let lock = NSLock()
        var result: Result<Value, any Error>?
    }

    private let slot = Slot()
    private let thread = WorkerThreads()

    package init(_ name: String, _ body: @escaping @Sendable () throws -> Value) {
        thread.start(name) { [slot] _ in
            let result = Result { try body() }
            slot.lock.withLock { slot.result = result }
        }
    }

    /// See `WorkerThreads.join(timeout:)`.
    package func join(timeout seconds: Double) -> Bool { thread.join(timeout: seconds) }

    package func value() throws -> Value {
        thread.join()
        guard let result = slot.lock.withLock({ slot.result }) else {
            preconditionFailure("a joined thread always stored its result")
        }
        return try result.get()
    }
}
