import ChunkIO
import Foundation
import Testing

struct BlockingQueueTests {
    @Test func deliversInOrderThenNilAfterClose() throws {
        let queue = BlockingQueue<Int>(capacity: 3)
        let received = Outcome()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var values: [Int] = []
            while let value = try? queue.take() { values.append(value) }
            received.set(values.map(String.init).joined(separator: ","))
            done.signal()
        }
        // More elements than the capacity: put waits for the consumer.
        for value in 1...10 { try queue.put(value) }
        queue.close()
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(received.value == (1...10).map(String.init).joined(separator: ","))
    }

    @Test func drainHandsBackWhatAFailedQueueStillHolds() throws {
        let queue = BlockingQueue<Int>(capacity: 4)
        for value in 1...3 { try queue.put(value) }
        _ = try queue.take()
        queue.fail(TestError("stage failed"))
        #expect(queue.drain() == [2, 3])
        #expect(queue.drain().isEmpty)
    }

    @Test func failureReachesBothEnds() throws {
        let queue = BlockingQueue<Int>(capacity: 1)
        try queue.put(1)
        queue.fail(TestError("downstream failed"))
        #expect(throws: TestError.self) { try queue.put(2) }
        #expect(throws: TestError.self) { _ = try queue.take() }
    }
}
