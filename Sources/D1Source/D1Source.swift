import Foundation
import SQLiteAccess
import SQLiteDump
import Support

/// A Cloudflare D1 database as a `RowSource`, read over the HTTP API.
///
/// D1 runs one request as one transaction and nothing longer, so the source brackets the read
/// with Time Travel bookmarks: equal bookmarks mean no write committed in between and the dump
/// is one state. A moved bookmark fails the read with `DumpError.sourceChanged` (the jobs read
/// again) unless `allowChanges`, which the header and the metadata then record.
package final class D1Source: RowSource {
    package struct Options: Sendable {
        package var allowChanges = false
        /// Rows per page to start with; halved when an answer is too large, grown when small.
        package var pageRows = 1000
        package var maxPageRows = 20_000
        /// Aim for answers about this size: big enough to amortise a round trip, small enough
        /// that a decoded page stays a few MiB.
        package var targetAnswerBytes = 2 << 20
        /// Tables per batch when counting rows and fetching first pages.
        package var tablesPerBatch = 20
        /// Rows of each table fetched with the counts: a small database is read in that batch.
        package var firstPageRows = 100
        /// ...and at most about this many bytes of them (by the values' lengths, counted in
        /// SQL), so a batch of tables with wide rows stays a small answer.
        package var firstPageBytes = 96 << 10
        /// Decoded first pages kept waiting for their table at most; past it a table's first
        /// page is fetched again when its turn comes, so many tables do not cost memory.
        package var prefetchBytes = 8 << 20
        package var retry = D1Client.Retry()
        package init() {}
    }

    package let location: D1Location
    package let databaseID: String
    package let startBookmark: String
    package private(set) var endBookmark: String?
    private let client: D1Client
    private let options: Options
    private var engine = "unknown"
    private var firstPages: [String: D1Page] = [:]
    private var prefetched = 0
    private var pageRows: Int

    /// Resolves the database and takes the bookmark the read starts from.
    package init(location: D1Location, options: Options = Options()) throws {
        self.location = location
        self.options = options
        pageRows = max(1, options.pageRows)
        let client = try D1Client(location: location)
        client.retry = options.retry
        let id = try client.resolveDatabaseID()
        startBookmark = try client.bookmark(database: id)
        databaseID = id
        self.client = client
    }

    /// Requests sent so far, retries included.
    package var requestCount: Int { client.requestCount }
    package var retryCount: Int { client.retryCount }

    package var name: String { location.description }
    package var engineVersion: String { engine }

    package var headerNotes: [(key: String, value: String)] {
        var notes = [(key: "d1-bookmark", value: startBookmark)]
        if options.allowChanges {
            notes.append((key: "d1-consistency", value: "allow-changes: tables read in separate requests may come from different states"))
        }
        return notes
    }

    package var finalNotes: [String: String] {
        var notes = ["d1-bookmark": startBookmark]
        if let endBookmark, endBookmark != startBookmark {
            notes["d1-bookmark-end"] = endBookmark
            notes["d1-consistent"] = "false"
        } else if endBookmark != nil {
            notes["d1-consistent"] = "true"
        }
        return notes
    }

    package func schema(for dialect: Dialect) throws -> SchemaPlan {
        let answer = try client.raw(database: databaseID, [
            "SELECT hex(type), hex(name), hex(tbl_name), hex(coalesce(sql,'')) FROM sqlite_schema ORDER BY rowid",
            "SELECT sqlite_version()",
        ])
        if let version = answer[1].first?.first as? String { engine = version }
        let objects = try answer[0].map { row -> D1SchemaObject in
            let fields = row.compactMap { ($0 as? String).map(Self.unhex) }
            guard fields.count == 4 else {
                throw D1Error(.badAnswer, "D1 answered sqlite_schema in an unexpected shape")
            }
            return D1SchemaObject(type: fields[0], name: fields[1], table: fields[2], sql: fields[3])
        }
        var plan = try D1SchemaObject.plan(objects, dialect: dialect)
        try countAndPrefetch(&plan, hasSequence: objects.contains { $0.name == "sqlite_sequence" })
        return plan
    }

    /// Row counts and first pages, many tables per request; a database whose tables all fit
    /// in their first pages is then read in one batch, one transaction.
    private func countAndPrefetch(_ plan: inout SchemaPlan, hasSequence: Bool) throws {
        let data = plan.tables.indices.filter { plan.tables[$0].hasData }
        var start = 0
        while start < data.count {
            let group = Array(data[start..<min(data.count, start + max(1, options.tablesPerBatch))])
            var statements: [String] = []
            for index in group {
                let table = plan.tables[index]
                statements.append("SELECT count(*) FROM main.\(SQLIdentifier.quote(table.name))")
                statements.append(firstPageQuery(table))
            }
            let answers: [[[Any]]]
            do {
                answers = try client.raw(database: databaseID, statements)
            } catch let error as D1Error where error.code == .tooLarge || error.code == .apiError && group.count > 1 {
                // Wide rows: count without prefetching, and the pages come one by one.
                let counts = try client.raw(database: databaseID, group.map { "SELECT count(*) FROM main.\(SQLIdentifier.quote(plan.tables[$0].name))" })
                for (offset, index) in group.enumerated() { plan.tables[index].rowCount = Self.integer(counts[offset]) }
                start += group.count
                continue
            }
            for (offset, index) in group.enumerated() {
                let table = plan.tables[index]
                let count = Self.integer(answers[offset * 2])
                plan.tables[index].rowCount = count
                // Fewer rows than the table has and the limit allows: cut by the byte bound, so
                // the page is not the last (its limit is its own row count).
                let rows = answers[offset * 2 + 1]
                let cut = Int64(rows.count) < min(count, Int64(options.firstPageRows))
                let page = try D1Page(rows: rows, width: width(table), limit: cut ? rows.count : options.firstPageRows)
                let cost = page.arenaBytes + page.rowCount * page.width * MemoryLayout<D1Encoding.Cell>.stride
                if prefetched + cost <= options.prefetchBytes {
                    firstPages[table.name] = page
                    prefetched += cost
                }
            }
            start += group.count
        }
        if hasSequence {
            plan.hasSequence = Self.integer(try client.raw(database: databaseID, ["SELECT count(*) FROM sqlite_sequence"])[0]) > 0
        }
    }

    private static func integer(_ rows: [[Any]]) -> Int64 {
        (rows.first?.first as? NSNumber)?.int64Value ?? 0
    }

    static func unhex(_ hex: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for char in hex.utf8 {
            let value = char <= UInt8(ascii: "9") ? char &- UInt8(ascii: "0") : (char | 0x20) &- UInt8(ascii: "a") &+ 10
            if let h = high {
                bytes.append(h << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Key columns a page continues after: the rowid, or a WITHOUT ROWID table's primary key.
    private func keyColumns(_ table: TableSpec) -> [String] {
        if table.withoutRowid { return table.primaryKey.map(SQLIdentifier.quote) }
        return table.rowidName.map { [$0] } ?? []
    }

    private func valueColumns(_ table: TableSpec) -> [String] {
        var selected = table.columns.map(SQLIdentifier.quote)
        if table.selectsRowid, let rowid = table.rowidName { selected.insert(rowid, at: 0) }
        return selected
    }

    private func width(_ table: TableSpec) -> Int { keyColumns(table).count + valueColumns(table).count }

    /// The first page of a rowid table, cut where the running total of its values' lengths
    /// passes `firstPageBytes` (always at least one row); WITHOUT ROWID tables (whose keys may
    /// compare under a collation) take `firstPageRows` rows.
    private func firstPageQuery(_ table: TableSpec) -> String {
        let keys = keyColumns(table)
        let plain = pageQuery(table, after: nil, limit: options.firstPageRows)
        guard keys.count == 1, !table.withoutRowid, let order = plain.range(of: " ORDER BY ", options: .backwards) else { return plain }
        let key = keys[0]
        let name = "main.\(SQLIdentifier.quote(table.name))"
        let size = valueColumns(table).map { "coalesce(length(CAST(\($0) AS BLOB)),0)" }.joined(separator: "+")
        let sized = "SELECT \(key) AS k, \(size.isEmpty ? "0" : size) AS z FROM \(name) ORDER BY \(key) LIMIT \(options.firstPageRows)"
        let last = "SELECT max(k) FROM (SELECT k, sum(z) OVER (ORDER BY k) AS s FROM (\(sized))) WHERE s <= \(options.firstPageBytes)"
        return String(plain[..<order.lowerBound]) + " WHERE \(key) <= coalesce((\(last)), (SELECT min(\(key)) FROM \(name)))"
            + String(plain[order.lowerBound...])
    }

    /// A page in key order after `after` (literals of the last key read). A table with no
    /// usable key (every rowid alias shadowed by a column) is read whole, with no limit.
    private func pageQuery(_ table: TableSpec, after: [String]?, limit: Int) -> String {
        let keys = keyColumns(table)
        let values = valueColumns(table)
        let list = (keys + values).map(D1Encoding.expression).joined(separator: ",")
        var sql = "SELECT \(list.isEmpty ? "'n'" : list) FROM main.\(SQLIdentifier.quote(table.name))"
        guard !keys.isEmpty else { return sql }
        if let after {
            sql += keys.count == 1 ? " WHERE \(keys[0]) > \(after[0])"
                : " WHERE (\(keys.joined(separator: ","))) > (\(after.joined(separator: ",")))"
        }
        return sql + " ORDER BY \(keys.joined(separator: ",")) LIMIT \(limit)"
    }

    package func rows(of table: TableSpec) throws -> D1Rows {
        let keys = keyColumns(table).count
        let first = firstPages.removeValue(forKey: table.name)
        if keys == 0 {
            let page = try first ?? D1Page(rows: try client.raw(database: databaseID, [pageQuery(table, after: nil, limit: 0)])[0],
                                           width: width(table), limit: nil)
            return D1Rows(first: page, keyCount: 0, columnCount: valueColumns(table).count, fetch: nil)
        }
        // Each table starts again from `pageRows`, fewer when its first page shows wide rows: a
        // narrow table before it may have grown the page to thousands of rows, which would make
        // a wide table's answer huge. Pages grow from there as the answers allow.
        if let first, first.rowCount > 0 {
            let rowBytes = max(1, (first.arenaBytes + first.rowCount * first.width * 8) / first.rowCount)
            pageRows = max(1, min(options.pageRows, options.targetAnswerBytes / rowBytes))
        } else {
            pageRows = max(1, options.pageRows)
        }
        return D1Rows(first: first, keyCount: keys, columnCount: valueColumns(table).count) { [unowned self] after in
            try self.fetchPage(table, after: after)
        }
    }

    /// One page, its size adapted to the answers: halved when too large, grown when small.
    private func fetchPage(_ table: TableSpec, after: [String]?) throws -> D1Page {
        while true {
            let limit = pageRows
            let rows: [[Any]]
            do {
                rows = try client.raw(database: databaseID, [pageQuery(table, after: after, limit: limit)])[0]
            } catch let error as D1Error where (error.code == .tooLarge || error.message.contains("TOOBIG")) && limit > 1 {
                pageRows = max(1, limit / 2)
                continue
            }
            let page = try D1Page(rows: rows, width: width(table), limit: limit)
            let bytes = page.arenaBytes + page.rowCount * page.width * 8
            if bytes > options.targetAnswerBytes {
                pageRows = max(1, limit / 2)
            } else if bytes < options.targetAnswerBytes / 4 && page.rowCount == limit {
                pageRows = min(options.maxPageRows, limit * 2)
            }
            return page
        }
    }

    package func rows(of table: InternalTable) throws -> D1Rows {
        let sql: String
        switch table {
        case .sequence: sql = "SELECT \(D1Encoding.expression("name")),\(D1Encoding.expression("seq")) FROM sqlite_sequence"
        case .statistics:
            sql = "SELECT \(["tbl", "idx", "stat"].map(D1Encoding.expression).joined(separator: ",")) FROM sqlite_stat1"
        }
        let width = table == .sequence ? 2 : 3
        let page = try D1Page(rows: try client.raw(database: databaseID, [sql])[0], width: width, limit: nil)
        return D1Rows(first: page, keyCount: 0, columnCount: width, fetch: nil)
    }

    /// Not a check D1 can run cheaply over HTTP; this is where the end bookmark is compared.
    package func sourceChecks(cancellation: Cancellation?) throws -> SourceChecks? {
        let end = try client.bookmark(database: databaseID)
        endBookmark = end
        if end != startBookmark && !options.allowChanges {
            throw DumpError(.sourceChanged, "D1 database \(location.database) changed while it was read (bookmark \(startBookmark) became \(end)), so the rows are not one state; run again when writes pause, or pass --allow-changes to accept a dump that is not one snapshot")
        }
        return nil
    }

    package func stop() {}
}
