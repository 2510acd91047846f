import Fleet
import Foundation
import Testing

@Suite("CronSchedule")
struct CronScheduleTests {
    /// A UTC date from "YYYY-MM-DD HH:MM".
    static func utc(_ text: String) -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.date(from: text) ?? .distantPast
    }

    static func next(_ expression: String, after start: String, count: Int = 1) throws -> [Date] {
        let schedule = try CronSchedule(expression)
        var out: [Date] = []
        var from = utc(start)
        for _ in 0..<count {
            guard let next = schedule.next(after: from) else { break }
            out.append(next)
            from = next
        }
        return out
    }

    @Test("the guide's daily 0 2 * * * fires at 02:00 UTC")
    func daily() throws {
        #expect(try Self.next("0 2 * * *", after: "2024-01-15 01:59", count: 2) == [Self.utc("2024-01-15 02:00"), Self.utc("2024-01-16 02:00")])
        #expect(try Self.next("0 2 * * *", after: "2024-01-15 02:00") == [Self.utc("2024-01-16 02:00")])
        // Across a year end and a leap day.
        #expect(try Self.next("0 2 * * *", after: "2023-12-31 03:00") == [Self.utc("2024-01-01 02:00")])
        #expect(try Self.next("0 2 * * *", after: "2024-02-28 02:30") == [Self.utc("2024-02-29 02:00")])
    }

    @Test("the guide's 0 */6 * * * fires every six hours")
    func everySixHours() throws {
        #expect(try Self.next("0 */6 * * *", after: "2024-01-15 05:10", count: 4) ==
                ["2024-01-15 06:00", "2024-01-15 12:00", "2024-01-15 18:00", "2024-01-16 00:00"].map(Self.utc))
    }

    @Test("the guide's weekly 0 0 * * 0 fires on Sundays at midnight")
    func weekly() throws {
        // 2024-01-15 is a Monday; the following Sundays are the 21st and 28th.
        #expect(try Self.next("0 0 * * 0", after: "2024-01-15 12:00", count: 2) == ["2024-01-21 00:00", "2024-01-28 00:00"].map(Self.utc))
        #expect(try CronSchedule("0 0 * * 7") == CronSchedule("0 0 * * 0"))
        #expect(try CronSchedule("0 0 * * sun") == CronSchedule("0 0 * * 0"))
    }

    @Test("the guide's monthly 0 3 1 * * fires on the 1st at 03:00")
    func monthly() throws {
        #expect(try Self.next("0 3 1 * *", after: "2024-01-15 00:00", count: 3) ==
                ["2024-02-01 03:00", "2024-03-01 03:00", "2024-04-01 03:00"].map(Self.utc))
        #expect(try Self.next("0 3 1 * *", after: "2024-12-01 03:00") == [Self.utc("2025-01-01 03:00")])
    }

    @Test("lists, ranges, steps and names")
    func fieldSyntax() throws {
        #expect(try Self.next("5,35 9-10 * * *", after: "2024-01-15 09:06", count: 4) ==
                ["2024-01-15 09:35", "2024-01-15 10:05", "2024-01-15 10:35", "2024-01-16 09:05"].map(Self.utc))
        #expect(try Self.next("10-30/10 * * * *", after: "2024-01-15 09:00", count: 4) ==
                ["2024-01-15 09:10", "2024-01-15 09:20", "2024-01-15 09:30", "2024-01-15 10:10"].map(Self.utc))
        #expect(try Self.next("50/5 8 * * *", after: "2024-01-15 08:00", count: 3) ==
                ["2024-01-15 08:50", "2024-01-15 08:55", "2024-01-16 08:50"].map(Self.utc))
        #expect(try Self.next("0 12 * jun-aug mon-fri", after: "2024-05-31 00:00") == [Self.utc("2024-06-03 12:00")])
        #expect(try Self.next("* * * * *", after: "2024-01-15 09:00", count: 2) == ["2024-01-15 09:01", "2024-01-15 09:02"].map(Self.utc))
    }

    @Test("day-of-month and day-of-week both restricted: either matches (Vixie cron)")
    func dayOrRule() throws {
        // The 13th, or any Friday: from Mon 2024-09-09, Fri 13th is first, then Fri 20th.
        #expect(try Self.next("0 0 13 * 5", after: "2024-09-09 00:00", count: 3) ==
                ["2024-09-13 00:00", "2024-09-20 00:00", "2024-09-27 00:00"].map(Self.utc))
        #expect(try Self.next("0 0 1 * 1", after: "2024-07-01 00:00", count: 2) == ["2024-07-08 00:00", "2024-07-15 00:00"].map(Self.utc))
        // Only one restricted: the other one is ignored rather than OR'd.
        #expect(try Self.next("0 0 */10 * *", after: "2024-07-01 00:00", count: 2) == ["2024-07-11 00:00", "2024-07-21 00:00"].map(Self.utc))
        #expect(try Self.next("0 0 * * 1", after: "2024-07-01 00:00") == [Self.utc("2024-07-08 00:00")])
    }

    @Test("dates that are rare or never come")
    func rareDates() throws {
        #expect(try Self.next("0 0 29 2 *", after: "2024-03-01 00:00") == [Self.utc("2028-02-29 00:00")])
        #expect(try Self.next("0 0 30 2 *", after: "2024-01-01 00:00") == [])
        #expect(try Self.next("0 0 31 * *", after: "2024-04-01 00:00") == [Self.utc("2024-05-31 00:00")])
    }

    @Test("matches agrees with next")
    func matches() throws {
        let schedule = try CronSchedule("0 */6 * * *")
        #expect(schedule.matches(Self.utc("2024-01-15 06:00")))
        #expect(!schedule.matches(Self.utc("2024-01-15 06:01")))
    }

    @Test("invalid expressions are rejected naming the field", arguments: [
        ("0 2 * *", nil, "expected 5 fields"),
        ("0 2 * * * *", nil, "expected 5 fields"),
        ("60 2 * * *", "minute", "60 is out of range 0-59"),
        ("0 24 * * *", "hour", "24 is out of range 0-23"),
        ("0 2 0 * *", "day-of-month", "0 is out of range 1-31"),
        ("0 2 * 13 *", "month", "13 is out of range 1-12"),
        ("0 2 * * 8", "day-of-week", "8 is out of range 0-7"),
        ("*/0 * * * *", "minute", "step '0' must be a positive number"),
        ("*/61 * * * *", "minute", "step 61 is larger than the field's 60 values"),
        ("0 5-2 * * *", "hour", "runs backwards"),
        ("a 2 * * *", "minute", "'a' is not a number"),
        ("0 2 1,,2 * *", "day-of-month", "empty list element"),
        ("0 2 * * mon/", "day-of-week", "step '' must be a positive number"),
        ("", nil, "expected 5 fields"),
    ] as [(String, String?, String)])
    func invalid(expression: String, field: String?, reason: String) {
        do {
            _ = try CronSchedule(expression)
            Issue.record("\(expression) was accepted")
        } catch {
            #expect(error.fieldName == field)
            #expect(error.description.contains(reason), "\(error.description)")
            if let field { #expect(error.description.contains("\(field) field")) }
        }
    }
}
