import Support
/// A failure of one named stage of a pipeline ("uploading", "compressing", "reading the
/// database"), so the message says where it broke.
package struct StageError: Error, CustomStringConvertible, Sendable {
    package let stage: String
    package let underlying: any Error

    package init(stage: String, underlying: any Error) {
        self.stage = stage
        self.underlying = underlying
    }

    /// `error` named for `stage`, unless a stage already named it or it is a cancellation (which
    /// is not the failure of any stage).
    package static func named(_ stage: String, _ error: any Error) -> any Error {
        if error is StageError || error is CancelledError { return error }
        return StageError(stage: stage, underlying: error)
    }

    package var description: String { "\(stage): \(underlying)" }
}

/// Names the errors of the stage behind it and is where that stage sees a cancellation: before
/// each chunk and before the output is sealed, so an interrupted run aborts instead of
/// completing the object.
package final class StageSink: ChunkSink {
    private let downstream: ChunkSink
    private let stage: String
    private let cancellation: Cancellation?

    package init(_ stage: String, downstream: ChunkSink, cancellation: Cancellation? = nil) {
        self.stage = stage
        self.downstream = downstream
        self.cancellation = cancellation
    }

    package func write(_ chunk: Chunk) throws {
        do {
            if cancellation?.isCancelled == true {
                chunk.recycle()
                throw CancelledError()
            }
            try downstream.write(chunk)
        } catch {
            throw StageError.named(stage, error)
        }
    }

    package func finish() throws {
        do {
            try cancellation?.check()
            try downstream.finish()
        } catch {
            throw StageError.named(stage, error)
        }
    }

    package func abort(_ error: Error) { downstream.abort(error) }
}
