import Foundation

/// Runs one body on several threads released at the same instant, to force races that timing
/// alone rarely produces (two conditional writes of one key).
package enum ThreadRace {
    /// `body(i)` for i in 0..<count, each on its own thread, all started behind one barrier;
    /// returns the results in order of `i`.
    package static func run<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) -> [Result<T, any Error>] {
        let state = RaceState<T>(count: count)
        for index in 0..<count {
            let thread = Thread {
                state.arriveAndWait()
                let result = Result { try body(index) }
                state.finish(index, result)
            }
            thread.start()
        }
        return state.waitForAll()
    }
}

private final class RaceState<T: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private let count: Int
    private var arrived = 0
    private var results: [Result<T, any Error>?]

    init(count: Int) {
        self.count = count
        results = Array(repeating: nil, count: count)
    }

    func arriveAndWait() {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        if arrived == count { condition.broadcast() }
        while arrived < count { condition.wait() }
    }

    func finish(_ index: Int, _ result: Result<T, any Error>) {
        condition.lock()
        results[index] = result
        condition.broadcast()
        condition.unlock()
    }

    func waitForAll() -> [Result<T, any Error>] {
        condition.lock()
        defer { condition.unlock() }
        while results.contains(where: { $0 == nil }) { condition.wait() }
        return results.compactMap { $0 }
    }
}
