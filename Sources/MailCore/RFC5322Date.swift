import Foundation

/// Dates as mail headers write them (RFC 5322 §3.3), in UTC: `Sun, 29 Nov 2026 19:16:52 +0000`.
public enum RFC5322Date {
    public static func string(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return f.string(from: d)
    }
}
