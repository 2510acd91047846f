import Foundation

/// The two date formats S3 speaks, parsed by hand: Foundation's formatters are not Sendable and
/// differ between platforms. Anything but a well-formed date in years 1–9999 is nil: the
/// numbers come from the network and never reach a fixed-width conversion that could trap.
package enum HTTPDate {
    /// `2026-11-25T02:49:06.000Z` (listings); fractional seconds and a `Z` or `+00:00` suffix.
    package static func parseISO8601(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19, bytes.count <= 40 else { return nil }
        func number(_ start: Int, _ count: Int) -> Int? { digits(bytes[start..<start + count]) }
        func byte(_ index: Int, is char: Character) -> Bool { bytes[index] == char.asciiValue }
        guard byte(4, is: "-"), byte(7, is: "-"), byte(10, is: "T") || byte(10, is: "t") || byte(10, is: " "),
              byte(13, is: ":"), byte(16, is: ":"),
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2)
        else { return nil }
        var rest = bytes[19...]
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst()
            let fraction = rest.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard !fraction.isEmpty else { return nil }
            rest = rest.dropFirst(fraction.count)
        }
        let suffix = String(decoding: rest, as: UTF8.self)
        guard ["Z", "z", "+00:00", "+0000", "-00:00"].contains(suffix) else { return nil }
        return make(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// `Wed, 25 Nov 2026 02:49:06 GMT` (Last-Modified, Date).
    package static func parseRFC1123(_ text: String) -> Date? {
        guard text.utf8.count <= 64 else { return nil }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "," })
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard fields.count == 8, fields[7] == "GMT" || fields[7] == "UTC",
              let day = digits(fields[1].utf8, maxCount: 2), let monthIndex = months.firstIndex(of: String(fields[2])),
              let year = digits(fields[3].utf8, maxCount: 4), fields[3].utf8.count == 4,
              let hour = digits(fields[4].utf8, maxCount: 2), let minute = digits(fields[5].utf8, maxCount: 2),
              let second = digits(fields[6].utf8, maxCount: 2)
        else { return nil }
        return make(year: year, month: monthIndex + 1, day: day, hour: hour, minute: minute, second: second)
    }

    /// The decimal value of 1 to `maxCount` ASCII digits, else nil.
    private static func digits<Bytes: Collection>(_ bytes: Bytes, maxCount: Int = 4) -> Int? where Bytes.Element == UInt8 {
        guard !bytes.isEmpty, bytes.count <= maxCount else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func make(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Date? {
        guard (1...9999).contains(year), (1...12).contains(month), (0...23).contains(hour),
              (0...59).contains(minute), (0...60).contains(second) else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...lengths[month - 1]).contains(day) else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3_600 + minute * 60 + second))
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
