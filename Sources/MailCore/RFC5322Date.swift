import Foundation

/// Dates as mail headers write them (RFC 5322 §3.3), in UTC: `Sun, 29 Nov 2026 19:16:52 +0000`.
/// Written by arithmetic: every delivery stamps one into its Received: field, and a
/// DateFormatter (ICU underneath) cost about 7% of the server's CPU per accepted message.
public enum RFC5322Date {
    static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1 January 1970 was a Thursday
    public static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func string(_ d: Date) -> String {
        let c = UTCTime(d)
        return "\(weekdays[c.weekday]), \(c.two(c.day)) \(months[c.month - 1]) \(c.year) \(c.two(c.hour)):\(c.two(c.minute)):\(c.two(c.second)) +0000"
    }
}

/// A moment's calendar fields in UTC (proleptic Gregorian), whole seconds.
public struct UTCTime: Hashable, Sendable {
    public var year, month, day, hour, minute, second: Int
    /// Days since a Thursday, modulo 7 (0 = Thursday).
    var weekday: Int

    public init(_ date: Date) {
        let t = Int(date.timeIntervalSince1970.rounded(.down))
        let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let rest = t - days * 86_400
        (hour, minute, second) = (rest / 3600, rest % 3600 / 60, rest % 60)
        weekday = ((days % 7) + 7) % 7
        // Days to civil date (H. Hinnant's algorithm): eras of 400 years from 0000-03-01.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Two digits, zero first.
    public func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
