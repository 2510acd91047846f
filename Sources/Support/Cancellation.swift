import Synchronization

/// A flag the pipeline's stages poll, set from a signal handler or another thread. It also
/// remembers which signal asked (0 for none), so a command can exit 128 + signal as shells do.
package final class Cancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    private let signalNumber = Atomic<Int32>(0)
    package init() {}
    package var isCancelled: Bool { flag.load(ordering: .acquiring) }
    package func cancel() { flag.store(true, ordering: .releasing) }

    /// Cancels on behalf of a signal; the first signal is the one remembered.
    package func cancel(signal: Int32) {
        _ = signalNumber.compareExchange(expected: 0, desired: signal, ordering: .relaxed)
        cancel()
    }

    /// The signal that cancelled, if a signal did.
    package var signal: Int32? {
        let number = signalNumber.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }

    /// Throws `CancelledError` once cancelled: the one check every stage makes.
    package func check() throws(CancelledError) {
        if isCancelled { throw CancelledError() }
    }
}

package struct CancelledError: Error, CustomStringConvertible, Sendable {
    package init() {}
    package var description: String { "interrupted; nothing was written at the destination" }
}
