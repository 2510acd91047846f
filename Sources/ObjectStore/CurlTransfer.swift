import CCurl
import ChunkIO
import Foundation

/// State one transfer shares with curl's C callbacks, passed as an opaque pointer.
final class Transfer {
    let body: UnsafeRawBufferPointer
    var offset = 0
    var status = 0
    var headers: [String: String] = [:]
    var collected: [UInt8] = []
    let stream: BodyStream?
    /// A file the body is read from instead of `body` (an upload too large to hold in memory).
    var file: Int32 = -1
    var fileFailure: Int32 = 0
    /// The blank line that ends a header block arrived. libcurl reports success for an answer
    /// cut off inside its headers, which would otherwise read as an empty 200.
    var headersComplete = false

    init(body: UnsafeRawBufferPointer, stream: BodyStream?) {
        self.body = body
        self.stream = stream
    }

    var isSuccess: Bool { (200..<300).contains(status) }
}

func curlRead(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                      _ context: UnsafeMutableRawPointer?) -> Int {
    guard let buffer, let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    if transfer.file >= 0 {
        let n = read(transfer.file, buffer, size * count)
        guard n >= 0 else {
            transfer.fileFailure = errno
            return Int(CURL_READFUNC_ABORT)
        }
        return n
    }
    let n = min(size * count, transfer.body.count - transfer.offset)
    if n > 0, let base = transfer.body.baseAddress {
        UnsafeMutableRawPointer(buffer).copyMemory(from: base + transfer.offset, byteCount: n)
        transfer.offset += n
    }
    return n
}

func curlWrite(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                       _ context: UnsafeMutableRawPointer?) -> Int {
    guard let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
    // Error bodies are always collected: they carry the S3 error code.
    if let stream = transfer.stream, transfer.isSuccess {
        do {
            try stream.accept(status: transfer.status, headers: transfer.headers)
            try stream.append(bytes)
        } catch {
            stream.failure = error
            return 0
        }
    } else if transfer.collected.count < 16 * 1024 * 1024 {
        if transfer.collected.isEmpty, let length = transfer.headers["content-length"].flatMap(Int.init), length > 0 {
            // One allocation of the announced size, not a doubling series up to twice it.
            transfer.collected.reserveCapacity(min(length, 16 * 1024 * 1024 + 1))
        }
        transfer.collected.append(contentsOf: bytes)
    }
    return size * count
}

func curlHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                        _ context: UnsafeMutableRawPointer?) -> Int {
    guard let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
    if line == "\r\n" || line == "\n" {
        transfer.headersComplete = true
    } else if line.hasPrefix("HTTP/") {
        // A new status line (after 100 Continue, say) starts a fresh header block.
        let fields = line.split(separator: " ")
        transfer.status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
        transfer.headers = [:]
        transfer.headersComplete = false
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        transfer.headers[name] = value
    }
    return size * count
}
