/// At most `limit` backups at once across the whole process, granted in the order they were
/// asked for (due order: the scheduler asks as runs fall due), so a long queue never lets a
/// database that fell due later overtake one that has waited.
actor WorkBudget {
    private(set) var limit: Int
    private(set) var inUse = 0
    private var waiters: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextID = 0

    init(limit: Int) { self.limit = max(1, limit) }

    /// Waits for a slot; false when the task was cancelled while waiting (no slot taken).
    func acquire() async -> Bool {
        if inUse < limit && waiters.isEmpty {
            inUse += 1
            return true
        }
        let id = nextID
        nextID += 1
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(returning: false)
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    func release() {
        inUse -= 1
        grant()
    }

    /// A reload may change the limit; running backups keep their slots.
    func setLimit(_ newLimit: Int) {
        limit = max(1, newLimit)
        grant()
    }

    var waiting: Int { waiters.count }

    private func grant() {
        while inUse < limit, !waiters.isEmpty {
            inUse += 1
            waiters.removeFirst().continuation.resume(returning: true)
        }
    }

    private func cancelWaiter(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(returning: false)
    }
}
