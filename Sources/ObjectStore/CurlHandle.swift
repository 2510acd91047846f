import CCurl
import ChunkIO
import Foundation

package struct HTTPRequest {
    package var method: String
    package var url: String
    package var headers: [(name: String, value: String)]

    package init(method: String, url: String, headers: [(name: String, value: String)]) {
        self.method = method
        self.url = url
        self.headers = headers
    }
}

package struct HTTPResponse {
    package var status: Int
    /// Lower-case names; a repeated header keeps its last value.
    package var headers: [String: String]
    /// Empty when the body was streamed to a sink.
    package var body: [UInt8]
}

// 3 is CURL_GLOBAL_DEFAULT, a macro Swift does not import.
private let curlGlobalInit: Bool = curl_global_init(3) == CURLE_OK

/// One libcurl easy handle. Not thread-safe: one per worker, reused so connections stay open.
package final class CurlHandle {
    private let handle: UnsafeMutableRawPointer
    /// curl keeps this pointer after setopt, so it lives as long as the handle.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    package init() throws {
        guard curlGlobalInit, let handle = curl_easy_init() else {
            throw ObjectStoreError(.localFailure, store: "libcurl", key: nil, cause: "cannot initialise libcurl")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Performs one request. HTTP errors come back as a response; transport failures throw.
    func perform(_ request: HTTPRequest, body: UnsafeRawBufferPointer, stream: BodyStream? = nil,
                 file: (descriptor: Int32, size: Int)? = nil,
                 connectTimeout: TimeInterval, stallTimeout: TimeInterval, store: String, key: String?) throws -> HTTPResponse {
        let transfer = Transfer(body: body, stream: stream)
        transfer.file = file?.descriptor ?? -1
        var list: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(list) }
        // Expect: 100-continue would cost a round trip per part; the server answers errors anyway.
        for (name, value) in request.headers + [("Expect", "")] {
            list = curl_slist_append(list, value.isEmpty ? "\(name):" : "\(name): \(value)")
        }
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        backstream_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        backstream_curl_setopt_str(handle, CURLOPT_URL, request.url)
        backstream_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        backstream_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000))
        backstream_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
        backstream_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, max(1, Int(stallTimeout)))
        backstream_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        backstream_curl_setopt_write(handle, curlWrite)
        backstream_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, context)
        backstream_curl_setopt_header(handle, curlHeader)
        backstream_curl_setopt_ptr(handle, CURLOPT_HEADERDATA, context)
        switch request.method {
        case "GET": backstream_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
        case "HEAD": backstream_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
        default:
            backstream_curl_setopt_str(handle, CURLOPT_CUSTOMREQUEST, request.method)
            if request.method != "DELETE" || body.count > 0 {
                backstream_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
                backstream_curl_setopt_off(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(file?.size ?? body.count))
                backstream_curl_setopt_read(handle, curlRead)
                backstream_curl_setopt_ptr(handle, CURLOPT_READDATA, context)
            }
        }
        let code = withExtendedLifetime(transfer) { curl_easy_perform(handle) }
        if let failure = stream?.failure { throw failure }
        if transfer.fileFailure != 0 {
            throw ObjectStoreError(.localFailure, store: store, key: key, cause: "cannot read the upload: \(String(cString: strerror(transfer.fileFailure)))")
        }
        guard code == CURLE_OK else { throw transportError(code, store: store, key: key) }
        guard transfer.headersComplete else {
            throw ObjectStoreError(.connectionLost, store: store, key: key, cause: "the answer broke off inside its headers")
        }
        var status = 0
        backstream_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: transfer.headers, body: transfer.collected)
    }

    /// One request whose answer is collected in memory (up to 16 MiB), for clients outside
    /// this module (the D1 source). Transport failures throw an `ObjectStoreError`.
    package func performCollecting(_ request: HTTPRequest, body: UnsafeRawBufferPointer, connectTimeout: TimeInterval,
                                   stallTimeout: TimeInterval, service: String) throws -> HTTPResponse {
        try perform(request, body: body, connectTimeout: connectTimeout, stallTimeout: stallTimeout, store: service, key: nil)
    }

    /// Sends `size` bytes of the open file `descriptor` (from its current offset) as the body,
    /// read as curl sends them, so an upload of any size holds no more than curl's buffer.
    package func performUploading(_ request: HTTPRequest, file descriptor: Int32, size: Int, connectTimeout: TimeInterval,
                                  stallTimeout: TimeInterval, service: String) throws -> HTTPResponse {
        try perform(request, body: UnsafeRawBufferPointer(start: nil, count: 0), file: (descriptor, size),
                    connectTimeout: connectTimeout, stallTimeout: stallTimeout, store: service, key: nil)
    }

    private func transportError(_ code: CURLcode, store: String, key: String?) -> ObjectStoreError {
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_PROXY:
            return ObjectStoreError(.unreachable, store: store, key: key, cause: detail)
        case CURLE_OPERATION_TIMEDOUT:
            return ObjectStoreError(.timeout, store: store, key: key, cause: detail)
        default:
            return ObjectStoreError(.connectionLost, store: store, key: key, cause: detail)
        }
    }
}
