import Foundation

/// Date parts of RFC 5260 §4.2 for the date and currentdate tests.
enum SieveDate {
    static let parts = [
        "year", "month", "day", "date", "julian", "hour", "minute", "second", "time", "iso8601", "std11", "zone",
        "weekday",
    ]

    /// The value of `part` for the instant `date` seen in a zone `minutes` east of UTC.
    static func part(_ part: String, _ date: Date, zoneMinutes minutes: Int) -> String? {
        // Years 1 to 9999 (RFC 5260 §4.2 prints four digits); anything else has no parts.
        let t = date.timeIntervalSince1970
        guard t.isFinite, t > -62_135_596_800, t < 253_402_300_800, abs(minutes) < 100 * 60 else { return nil }
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down)) + Int64(minutes) * 60
        let days = Int64((Double(seconds) / 86400).rounded(.down))
        let secondOfDay = Int(seconds - days * 86400)
        let (y, m, d) = civil(days)
        let hour = secondOfDay / 3600, minute = secondOfDay / 60 % 60, second = secondOfDay % 60
        func pad(_ n: Int, _ w: Int) -> String {
            let s = String(abs(n))
            return (n < 0 ? "-" : "") + String(repeating: "0", count: max(0, w - s.count)) + s
        }
        let zone = (minutes < 0 ? "-" : "+") + pad(abs(minutes) / 60, 2) + pad(abs(minutes) % 60, 2)
        switch part {
        case "year": return pad(y, 4)
        case "month": return pad(m, 2)
        case "day": return pad(d, 2)
        case "date": return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
        // Modified Julian Day: days since 1858-11-17 (RFC 5260 §4.2), which is 40587 days before 1970.
        case "julian": return String(days + 40587)
        case "hour": return pad(hour, 2)
        case "minute": return pad(minute, 2)
        case "second": return pad(second, 2)
        case "time": return pad(hour, 2) + ":" + pad(minute, 2) + ":" + pad(second, 2)
        case "iso8601":
            let z = (minutes < 0 ? "-" : "+") + pad(abs(minutes) / 60, 2) + ":" + pad(abs(minutes) % 60, 2)
            return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T" + pad(hour, 2) + ":" + pad(minute, 2) + ":"
                + pad(second, 2) + z
        case "std11":
            let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][Int(((days % 7) + 7) % 7)]
            let mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][m - 1]
            return "\(wd), \(pad(d, 2)) \(mon) \(pad(y, 4)) \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)) \(zone)"
        case "zone": return zone
        // 0 is Sunday; 1970-01-01 was a Thursday.
        case "weekday": return String(((days + 4) % 7 + 7) % 7)
        default: return nil
        }
    }

    /// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
    static func civil(_ z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }
}
