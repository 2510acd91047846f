import SQLiteDump

/// One answered page of encoded rows, decoded: a cell per value and one arena for the bytes of
/// every text and BLOB, so a page costs two allocations whatever its size.
final class D1Page {
    let width: Int
    let rowCount: Int
    /// The number of rows the request asked for; fewer means the table ended.
    let limit: Int?
    private let cells: [D1Encoding.Cell]
    let arena: UnsafeMutableRawBufferPointer

    /// `rows` are the `/raw` rows, every value a string the encoding wrote.
    init(rows: [[Any]], width: Int, limit: Int?) throws {
        self.width = width
        self.limit = limit
        rowCount = rows.count
        var strings: [String] = []
        strings.reserveCapacity(rows.count * width)
        var bytes = 0
        for row in rows {
            guard row.count == width else { throw D1Error(.badAnswer, "D1 answered a row of \(row.count) values, expected \(width)") }
            for value in row {
                guard let text = value as? String else { throw D1Error(.badAnswer, "D1 answered a value that is not the encoded text") }
                bytes += D1Encoding.byteLength(text)
                strings.append(text)
            }
        }
        // Decoded into locals: a failure frees the arena before the page exists.
        let arena = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes), alignment: 1)
        var cells: [D1Encoding.Cell] = []
        cells.reserveCapacity(strings.count)
        var offset = 0
        do {
            for text in strings {
                let cell = try D1Encoding.decode(text, arena: arena, offset: offset)
                offset += cell.count
                cells.append(cell)
            }
        } catch {
            arena.deallocate()
            throw error
        }
        self.arena = arena
        self.cells = cells
    }

    deinit { arena.deallocate() }

    var isLast: Bool { limit.map { rowCount < $0 } ?? true }
    var arenaBytes: Int { arena.count }

    @inline(__always) func cell(_ row: Int, _ column: Int) -> D1Encoding.Cell { cells[row * width + column] }

    func bytes(_ cell: D1Encoding.Cell) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: arena[cell.offset..<(cell.offset + cell.count)])
    }
}

/// A table's rows as a `RowCursor`, page after page: each row starts with `keyCount` key
/// values (where the next page continues) that the writer does not see.
package final class D1Rows: RowCursor {
    /// Fetches the page after the given key literals (nil: the first page).
    typealias Fetch = ([String]?) throws -> D1Page

    private var page: D1Page?
    private var row = -1
    private let keyCount: Int
    private let fetch: Fetch?
    package let columnCount: Int32

    init(first: D1Page?, keyCount: Int, columnCount: Int, fetch: Fetch?) {
        page = first
        self.keyCount = keyCount
        self.columnCount = Int32(columnCount)
        self.fetch = fetch
    }

    package func next() throws -> Bool {
        if let page, row + 1 < page.rowCount {
            row += 1
            return true
        }
        guard let fetch else { return false }
        let after: [String]?
        if let page {
            if page.isLast { return false }
            after = (0..<keyCount).map { D1Encoding.literal(page.cell(row, $0), arena: UnsafeRawBufferPointer(page.arena)) }
        } else {
            after = nil
        }
        // The old page is released before the next one is decoded.
        page = nil
        let next = try fetch(after)
        page = next
        row = 0
        return next.rowCount > 0
    }

    @inline(__always) private func cell(_ column: Int32) -> D1Encoding.Cell {
        page.map { $0.cell(row, keyCount + Int(column)) } ?? D1Encoding.Cell(type: .null)
    }

    package func type(_ column: Int32) -> SQLValueType { cell(column).type }
    package func int64(_ column: Int32) -> Int64 { cell(column).bits }
    package func double(_ column: Int32) -> Double { Double(bitPattern: UInt64(bitPattern: cell(column).bits)) }
    package func text(_ column: Int32) -> UnsafeRawBufferPointer { bytes(column) }
    package func blob(_ column: Int32) -> UnsafeRawBufferPointer { bytes(column) }
    package func byteCount(_ column: Int32) -> Int { cell(column).count }

    private func bytes(_ column: Int32) -> UnsafeRawBufferPointer {
        guard let page else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return page.bytes(page.cell(row, keyCount + Int(column)))
    }
}
