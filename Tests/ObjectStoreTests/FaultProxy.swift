import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback HTTP proxy in front of moto that can answer a request itself or drop it.
/// One request per connection (it answers `Connection: close`), which keeps it small.
final class FaultProxy: @unchecked Sendable {
    enum Action {
        case forward, respond(status: Int, body: String), drop
        /// Forward, but pass on only the first `bytes` of the answer and then close.
        case truncate(bytes: Int)
    }
    struct Seen {
        let method: String
        let target: String
        /// Lower-case names.
        let headers: [String: String]
        let bodyCRC32: UInt32
    }

    private let upstreamPort: UInt16
    private let decide: @Sendable (_ method: String, _ target: String, _ index: Int) -> Action
    private let listener: Int32
    let port: UInt16
    private let lock = NSLock()
    private var seen: [Seen] = []
    private var stopped = false

    init(upstream endpoint: String, decide: @escaping @Sendable (_ method: String, _ target: String, _ index: Int) -> Action) throws {
        guard let port = URL(string: endpoint)?.port else { throw ProxyError("no port in \(endpoint)") }
        upstreamPort = UInt16(port)
        self.decide = decide
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 64) == 0 else { throw ProxyError("cannot listen on loopback") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        self.port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var endpoint: String { "http://127.0.0.1:\(port)" }
    var requests: [Seen] { lock.withLock { seen } }

    func stop() {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            if lock.withLock({ stopped }) { close(client); return }
            let thread = Thread { [self] in handle(client) }
            thread.start()
        }
    }

    private func handle(_ client: Int32) {
        defer { close(client) }
        guard let (head, body) = Self.readRequest(client) else { return }
        let requestLine = head.prefix { $0 != "\r\n" }
        let fields = requestLine.split(separator: " ")
        guard fields.count >= 2 else { return }
        let method = String(fields[0]), target = String(fields[1])
        var headers: [String: String] = [:]
        for line in head.components(separatedBy: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let seenRequest = Seen(method: method, target: target, headers: headers, bodyCRC32: crc32(body))
        let index: Int = lock.withLock {
            seen.append(seenRequest)
            return seen.count - 1
        }
        let action = decide(method, target, index)
        switch action {
        case .drop:
            return
        case let .respond(status, text):
            let response = "HTTP/1.1 \(status) Injected\r\nContent-Type: application/xml\r\n"
                + "Content-Length: \(text.utf8.count)\r\nConnection: close\r\n\r\n\(text)"
            Self.sendAll(client, Array(response.utf8))
        case .forward, .truncate:
            // Keep every header (the signature covers them) but ask moto to close after answering.
            let lines = head.components(separatedBy: "\r\n").filter { !$0.lowercased().hasPrefix("connection:") }
            let forwarded = Array((lines.joined(separator: "\r\n") + "\r\nConnection: close\r\n\r\n").utf8) + body
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(upstream) }
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { return }
            Self.sendAll(upstream, forwarded)
            var budget = Int.max
            if case let .truncate(bytes) = action { budget = bytes }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while budget > 0 {
                let n = recv(upstream, &buffer, min(buffer.count, budget), 0)
                if n <= 0 { break }
                Self.sendAll(client, Array(buffer[0..<n]))
                budget -= n
            }
        }
    }

    /// The header block as text and the body (by Content-Length).
    private static func readRequest(_ fd: Int32) -> (String, [UInt8])? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        var expected = 0
        while true {
            if headEnd == nil, let range = data.firstRange(of: separator) {
                headEnd = range.lowerBound
                let head = String(decoding: data[..<range.lowerBound], as: UTF8.self)
                for line in head.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    expected = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let end = headEnd, data.count - end - 4 >= expected {
                return (String(decoding: data[..<end], as: UTF8.self), Array(data[(end + 4)...]))
            }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return nil }
            data += buffer[0..<n]
        }
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

struct ProxyError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
