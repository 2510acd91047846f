import Support
/// A failure of one named stage of a pipeline ("uploading", "compressing", "reading the
/// database"), so the message says where it broke.
public struct StageError: Error, CustomStringConvertible, Sendable {
    public let stage: String
    public let underlying: any Error

    public init(stage: String, underlying: any Error) {
        self.stage = stage
        self.underlying = underlying
    }

    /// `error` named for `stage`, unless a stage already named it or it is a cancellation (which
    /// is not the failure of any stage).
    public static func named(_ stage: String, _ error: any Error) -> any Error {
        if error is StageError || error is CancelledError { return error }
        return StageError(stage: stage, underlying: error)
    }

    public var description: String { "\(stage): \(underlying)" }
}

/// Names the errors of the stage behind it and is where that stage sees a cancellation: before
/// each chunk and before the output is sealed, so an interrupted run aborts instead of
/// completing the object.
public final class StageSink: ChunkSink {
    private let downstream: ChunkSink
    private let stage: String
    private let cancellation: Cancellation?

    public init(_ stage: String, downstream: ChunkSink, cancellation: Cancellation? = nil) {
        self.stage = stage
        self.downstream = downstream
        self.cancellation = cancellation
    }

    public func write(_ chunk: Chunk) throws {
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

    public func finish() throws {
        do {
            try cancellation?.check()
            try downstream.finish()
        } catch {
            throw StageError.named(stage, error)
        }
    }

    public func abort(_ error: Error) { downstream.abort(error) }
}
