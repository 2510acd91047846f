import Foundation

/// A standard five-field cron expression (minute hour day-of-month month day-of-week), evaluated
/// in UTC. Fields take `*`, numbers, ranges `a-b`, steps `*/n`, `a-b/n` and `a/n`, and
/// comma-separated lists of those; months and weekdays also take three-letter names, and weekday
/// 7 is Sunday like 0. When both day fields are restricted a day matches if either does (the
/// Vixie cron rule); when one is `*` only the other one counts.
package struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    package let expression: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    package var description: String { expression }

    package init(_ expression: String) throws(CronError) {
        let fields = expression.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw CronError(expression: expression, field: nil,
                            reason: "expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)")
        }
        self.expression = fields.joined(separator: " ")
        minutes = try Self.parse(fields[0], .minute, expression)
        hours = try Self.parse(fields[1], .hour, expression)
        daysOfMonth = try Self.parse(fields[2], .dayOfMonth, expression)
        months = try Self.parse(fields[3], .month, expression)
        var weekdays = try Self.parse(fields[4], .dayOfWeek, expression)
        if weekdays.remove(7) != nil { weekdays.insert(0) }
        daysOfWeek = weekdays
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
    }

    /// The first whole minute strictly after `date` that the schedule matches, or nil when there
    /// is none within eight years (`0 0 30 2 *`, February 30th, never happens).
    package func next(after date: Date) -> Date? {
        let startMinute = Int64((date.timeIntervalSince1970 / 60).rounded(.down)) + 1
        var day = Self.floorDiv(startMinute, 1440)
        var minuteOfDay = Int(startMinute - day * 1440)
        let lastDay = day + 366 * 8
        while day <= lastDay {
            let (year, month, dom) = Self.civil(fromDays: day)
            guard months.contains(month) else {
                // First day of the next month.
                let (nextYear, nextMonth) = month == 12 ? (year + 1, 1) : (year, month + 1)
                day = Self.days(year: nextYear, month: nextMonth, day: 1)
                minuteOfDay = 0
                continue
            }
            if matchesDay(dayOfMonth: dom, dayOfWeek: Self.weekday(days: day)) {
                for hour in (minuteOfDay / 60)..<24 where hours.contains(hour) {
                    let firstMinute = hour == minuteOfDay / 60 ? minuteOfDay % 60 : 0
                    if let minute = minutes.filter({ $0 >= firstMinute }).min() {
                        let epochMinutes = day * 1440 + Int64(hour * 60 + minute)
                        return Date(timeIntervalSince1970: Double(epochMinutes) * 60)
                    }
                }
            }
            day += 1
            minuteOfDay = 0
        }
        return nil
    }

    /// Whether the schedule fires at the minute containing `date`.
    package func matches(_ date: Date) -> Bool {
        let minute = Int64((date.timeIntervalSince1970 / 60).rounded(.down))
        let day = Self.floorDiv(minute, 1440)
        let minuteOfDay = Int(minute - day * 1440)
        let (_, month, dom) = Self.civil(fromDays: day)
        return minutes.contains(minuteOfDay % 60) && hours.contains(minuteOfDay / 60) && months.contains(month)
            && matchesDay(dayOfMonth: dom, dayOfWeek: Self.weekday(days: day))
    }

    private func matchesDay(dayOfMonth: Int, dayOfWeek: Int) -> Bool {
        let domOK = daysOfMonth.contains(dayOfMonth), dowOK = daysOfWeek.contains(dayOfWeek)
        if dayOfMonthRestricted && dayOfWeekRestricted { return domOK || dowOK }
        return domOK && dowOK
    }

    package static func == (a: CronSchedule, b: CronSchedule) -> Bool {
        a.minutes == b.minutes && a.hours == b.hours && a.daysOfMonth == b.daysOfMonth && a.months == b.months
            && a.daysOfWeek == b.daysOfWeek && a.dayOfMonthRestricted == b.dayOfMonthRestricted
            && a.dayOfWeekRestricted == b.dayOfWeekRestricted
    }

    // MARK: Parsing

    enum Field: String {
        case minute, hour, dayOfMonth = "day-of-month", month, dayOfWeek = "day-of-week"

        var range: ClosedRange<Int> {
            switch self {
            case .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 0...7
            }
        }

        var names: [String] {
            switch self {
            case .month: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            case .dayOfWeek: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
            default: []
            }
        }
    }

    private static func parse(_ text: String, _ field: Field, _ expression: String) throws(CronError) -> Set<Int> {
        func fail(_ reason: String) -> CronError { CronError(expression: expression, field: field, reason: reason) }
        func number(_ s: Substring) throws(CronError) -> Int {
            if let n = Int(s), s.allSatisfy(\.isASCII) {
                guard field.range.contains(n) else {
                    throw fail("\(n) is out of range \(field.range.lowerBound)-\(field.range.upperBound)")
                }
                return n
            }
            if let index = field.names.firstIndex(of: s.lowercased()) {
                return field == .month ? index + 1 : index
            }
            throw fail("'\(s)' is not a number")
        }
        var values = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw fail("empty list element in '\(text)'") }
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw fail("more than one '/' in '\(item)'") }
            var step = 1
            if parts.count == 2 {
                guard let s = Int(parts[1]), s > 0, parts[1].allSatisfy(\.isASCII) else {
                    throw fail("step '\(parts[1])' must be a positive number")
                }
                // `*/61` in the minute field would silently mean "minute 0 only": a typo, refused.
                guard s <= field.range.count else {
                    throw fail("step \(s) is larger than the field's \(field.range.count) values")
                }
                step = s
            }
            let base = parts[0]
            let low: Int, high: Int
            if base == "*" {
                (low, high) = (field.range.lowerBound, field.range.upperBound == 7 ? 6 : field.range.upperBound)
            } else if let dash = base.firstIndex(of: "-") {
                low = try number(base[..<dash])
                high = try number(base[base.index(after: dash)...])
                guard low <= high else { throw fail("range \(base) runs backwards") }
            } else {
                low = try number(base)
                // `a/n` means from a to the end of the field, as in Vixie cron.
                high = parts.count == 2 ? field.range.upperBound : low
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    // MARK: Calendar arithmetic (proleptic Gregorian, UTC)

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// 0 = Sunday; 1970-01-01 was a Thursday.
    static func weekday(days: Int64) -> Int { Int(((days % 7) + 7 + 4) % 7) }

    /// Days since 1970-01-01 of a civil date.
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = floorDiv(y, 400)
        let yearOfEra = y - era * 400
        let shiftedMonth = Int64((month + 9) % 12)
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of a day number (inverse of `days(year:month:day:)`).
    static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}

/// An invalid cron expression, naming the field at fault.
package struct CronError: Error, CustomStringConvertible, Sendable, Equatable {
    package let expression: String
    package let fieldName: String?
    package let reason: String

    init(expression: String, field: CronSchedule.Field?, reason: String) {
        self.expression = expression
        self.fieldName = field?.rawValue
        self.reason = reason
    }

    package var description: String {
        if let fieldName { return "invalid cron expression '\(expression)': \(fieldName) field: \(reason)" }
        return "invalid cron expression '\(expression)': \(reason)"
    }
}
