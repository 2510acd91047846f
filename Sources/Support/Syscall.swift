#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: its `errno` and the system's sentence for it. Callers wrap it in
/// their own error type, so the message a user sees stays the stage's own.
package struct ErrnoError: Error, Sendable, Equatable, CustomStringConvertible {
    package let errno: Int32

    package init(_ errno: Int32) { self.errno = errno }

    /// `strerror` text: "No space left on device".
    package var message: String { String(cString: strerror(errno)) }
    package var description: String { message }
}

/// System calls made safe against signals: a call interrupted before it did anything
/// (EINTR) is simply made again, and a failure comes back with its `errno` captured at once,
/// before any other call can overwrite it.
package enum Syscall {
    /// Runs `call` until it does not fail with EINTR; returns its result (never negative) or
    /// throws the `errno` of its failure. For calls that return -1 and set `errno`.
    @inlinable
    package static func retrying<Result: BinaryInteger>(_ call: () -> Result) throws(ErrnoError) -> Result {
        while true {
            let result = call()
            if result >= 0 { return result }
            let code = errno
            if code != EINTR { throw ErrnoError(code) }
        }
    }

    /// The failure of `call` (retried on EINTR), or nil when it succeeded: for calls whose
    /// result is only success or failure (fsync, rename, close).
    @inlinable
    package static func failure<Result: BinaryInteger>(of call: () -> Result) -> ErrnoError? {
        do {
            _ = try retrying(call)
            return nil
        } catch {
            return error
        }
    }

    /// Writes all of `bytes` to `fd`, across short writes and interruptions. `progress` is
    /// told each accepted count, so a caller's byte counter stays right when a later write fails.
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer,
                                progress: (Int) -> Void = { _ in }) throws(ErrnoError) {
        guard var pointer = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = try retrying { write(fd, pointer, left) }
            pointer += n
            left -= n
            progress(n)
        }
    }
}
