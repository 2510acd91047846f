import Foundation
import TestSupport

/// A real HTTP peer for the server's outgoing requests (python3's http.server): GET serves the
/// files of `dir`, POST stores its body in `bodyFile` (the alert webhook's receiver).
struct LocalHTTPServer: Sendable {
    let base: String
    let bodyFile: String
    let pid: Int32

    static func start(in dir: TemporaryDirectory, port: Int = 0) async throws -> LocalHTTPServer {
        let script = dir.file("peer.py"), bodyFile = dir.file("peer-body.json"), portFile = dir.file("peer-port")
        try """
            import http.server, os, sys
            root, body_file, port_file, port = sys.argv[1:4] + [int(sys.argv[4])]
            class H(http.server.SimpleHTTPRequestHandler):
                def __init__(self, *a, **k): super().__init__(*a, directory=root, **k)
                def do_POST(self):
                    body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                    open(body_file + '.tmp', 'wb').write(body)
                    os.replace(body_file + '.tmp', body_file)
                    self.send_response(204); self.end_headers()
                def log_message(self, *a): pass
            s = http.server.HTTPServer(('127.0.0.1', port), H)
            open(port_file + '.tmp', 'w').write(str(s.server_address[1]))
            os.replace(port_file + '.tmp', port_file)
            s.serve_forever()
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, dir.path, bodyFile, portFile, String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if let port = try? String(contentsOfFile: portFile, encoding: .utf8), !port.isEmpty {
                return LocalHTTPServer(base: "http://127.0.0.1:\(port)", bodyFile: bodyFile, pid: process.processIdentifier)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.terminate()
        throw TestDatabaseError(description: "python3 http.server did not start")
    }

    /// SIGKILL, not SIGTERM: SIGTERM left peers running after every run (a child inherits
    /// ignored signals, and signal handling set up by the server tests may ignore SIGTERM).
    func stop() { kill(pid, SIGKILL) }
}
