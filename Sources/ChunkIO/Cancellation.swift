import Synchronization

/// A flag the row loop polls, set from a signal handler or another thread.
public final class Cancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
    public func cancel() { flag.store(true, ordering: .relaxed) }
}

public struct CancelledError: Error, CustomStringConvertible, Sendable {
    public init() {}
    public var description: String { "interrupted; nothing was written at the destination" }
}
