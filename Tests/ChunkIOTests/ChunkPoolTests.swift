import ChunkIO
import Foundation
import Testing

struct ChunkPoolTests {
    @Test func takeBlocksUntilAChunkIsRecycled() throws {
        let pool = ChunkPool(size: 2, chunkCapacity: 16)
        let first = try pool.take()
        _ = try pool.take()
        let taken = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? pool.take()
            taken.signal()
        }
        // The pool is empty: the third take waits (this is the pipeline's back-pressure).
        #expect(taken.wait(timeout: .now() + 0.2) == .timedOut)
        [UInt8(1)].withUnsafeBytes { _ = first.append($0) }
        first.recycle()
        #expect(taken.wait(timeout: .now() + 5) == .success)
    }

    @Test func recycledChunksComeBackEmpty() throws {
        let pool = ChunkPool(size: 1, chunkCapacity: 8)
        let chunk = try pool.take()
        [UInt8](repeating: 7, count: 20).withUnsafeBytes { #expect(chunk.append($0) == 8) }
        #expect(chunk.isFull)
        chunk.checksum = 42
        chunk.recycle()
        let again = try pool.take()
        #expect(again === chunk && again.count == 0 && again.checksum == 0 && again.remaining == 8)
    }

    @Test func failureWakesWaitersWithTheError() throws {
        let pool = ChunkPool(size: 1, chunkCapacity: 8)
        _ = try pool.take()
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do { _ = try pool.take() } catch { outcome.set("\(error)") }
            done.signal()
        }
        Thread.sleep(forTimeInterval: 0.05)
        pool.fail(TestError("consumer died"))
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(outcome.value == "consumer died")
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A value written by one thread and read by the test after it has joined.
final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    func set(_ value: String) { lock.withLock { stored = value } }
    var value: String? { lock.withLock { stored } }
}
