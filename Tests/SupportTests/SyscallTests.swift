#if canImport(Glibc)
import Glibc
#endif
import Support
import Testing

@Suite struct SyscallTests {
    @Test func successReturnsTheResult() throws {
        var calls = 0
        let result = try Syscall.retrying { () -> Int32 in calls += 1; return 7 }
        #expect(result == 7 && calls == 1)
    }

    @Test func eintrIsRetriedUntilTheCallSucceeds() throws {
        var calls = 0
        let result = try Syscall.retrying { () -> Int in
            calls += 1
            if calls < 3 { errno = EINTR; return -1 }
            return 42
        }
        #expect(result == 42 && calls == 3)
    }

    @Test func otherFailuresThrowTheirErrnoAndText() {
        var calls = 0
        #expect(throws: ErrnoError(ENOSPC)) {
            try Syscall.retrying { () -> Int32 in calls += 1; errno = ENOSPC; return -1 }
        }
        #expect(calls == 1)
        #expect(ErrnoError(ENOENT).message == String(cString: strerror(ENOENT)))
        #expect(Syscall.failure(of: { close(-1) }) == ErrnoError(EBADF))
        #expect(Syscall.failure(of: { () -> Int32 in 0 }) == nil)
    }

    @Test func writeAllWritesEverythingAndCounts() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let bytes: [UInt8] = Array(0..<200)
        var counted = 0
        try bytes.withUnsafeBytes { try Syscall.writeAll(fds[1], $0) { counted += $0 } }
        close(fds[1])
        var back = [UInt8](repeating: 0, count: 256)
        let n = read(fds[0], &back, back.count)
        #expect(n == 200 && counted == 200 && Array(back[0..<200]) == bytes)
    }

    @Test func writeAllReportsABrokenPipe() {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        close(fds[0])
        defer { close(fds[1]) }
        signal(SIGPIPE, SIG_IGN)
        #expect(throws: ErrnoError(EPIPE)) {
            try [UInt8](repeating: 1, count: 10).withUnsafeBytes { try Syscall.writeAll(fds[1], $0) }
        }
    }
}
