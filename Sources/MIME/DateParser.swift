import Foundation

/// Parses Date: header values (RFC 5322 §3.3) including the obsolete forms of §4.3.
///
///     date-time   = [ day-of-week "," ] date time [CFWS]
///     date        = day month year
///     time        = time-of-day zone
///     time-of-day = hour ":" minute [ ":" second ]
///     zone        = (FWS ( "+" / "-" ) 4DIGIT) / obs-zone
///     obs-zone    = "UT" / "GMT" / "EST" / "EDT" / "CST" / "CDT" / "MST" / "MDT" / "PST" / "PDT" / military
///
/// Tolerated: 2- and 3-digit years (§4.3: below 50 is 20xx, otherwise add 1900), a missing
/// weekday, seconds or zone (taken as +0000), comments, and "month day" order.
///
///     DateParser.parse("Mon, 7 Feb 1994 21:52:25 -0800")   // 1994-02-08 05:52:25 UTC
public enum DateParser {
    private enum Token: Equatable {
        case number(Int, digits: Int)
        case word(String)
        case punct(UInt8)
    }

    public static func parse(_ value: String) -> Date? {
        parse(Array(value.utf8))
    }

    public static func parse(_ value: [UInt8]) -> Date? {
        parseWithZone(value)?.date
    }

    /// The instant, and the zone it was written in (minutes east of UTC): SEARCH SENTON and
    /// its kin compare the date as the sender wrote it, not the UTC day (RFC 3501 §6.4.4).
    public static func parseWithZone(_ value: [UInt8]) -> (date: Date, zoneMinutes: Int)? {
        let t = tokenize(value)
        var i = 0
        func next() -> Token? { i < t.count ? t[i] : nil }
        if case .word(let w)? = next(), month(w) == nil {
            i += 1  // day-of-week (any word that is not a month)
        }
        if next() == .punct(ASCII.comma) { i += 1 }
        var day = 0
        var mon = 0
        if case .number(let d, _)? = next() {
            i += 1
            guard case .word(let m)? = next(), let mm = month(m) else { return nil }
            (day, mon) = (d, mm)
            i += 1
        } else if case .word(let m)? = next(), let mm = month(m) {
            i += 1
            guard case .number(let d, _)? = next() else { return nil }
            (day, mon) = (d, mm)
            i += 1
        } else {
            return nil
        }
        if next() == .punct(ASCII.comma) { i += 1 }
        guard case .number(var year, let yearDigits)? = next() else { return nil }
        i += 1
        if yearDigits <= 2 { year += year < 50 ? 2000 : 1900 } else if yearDigits == 3 { year += 1900 }
        guard case .number(let hour, _)? = next() else { return nil }
        i += 1
        guard next() == .punct(ASCII.colon) else { return nil }
        i += 1
        guard case .number(let minute, _)? = next() else { return nil }
        i += 1
        var second = 0
        if next() == .punct(ASCII.colon) {
            i += 1
            guard case .number(let s, _)? = next() else { return nil }
            second = s
            i += 1
        }
        var offset = 0  // minutes east of UTC
        switch next() {
        case .punct(let sign)? where sign == 43 || sign == ASCII.dash:
            i += 1
            if case .number(let z, let digits)? = next(), digits == 4, z % 100 < 60 {
                offset = (z / 100 * 60 + z % 100) * (sign == ASCII.dash ? -1 : 1)
            }
        case .word(let zone)?:
            offset = namedZones[zone] ?? 0  // military and unknown zones: RFC 5322 §4.3 says +0000
        default:
            break
        }
        guard (1...31).contains(day), (1900...9999).contains(year), (0...23).contains(hour), (0...59).contains(minute),
            (0...60).contains(second)
        else { return nil }
        let days = daysFromCivil(year: year, month: mon, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset * 60
        return (Date(timeIntervalSince1970: TimeInterval(seconds)), offset)
    }

    private static let namedZones: [String: Int] = [
        "ut": 0, "utc": 0, "gmt": 0, "z": 0,
        "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360, "pst": -480, "pdt": -420,
    ]

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// 1…12 for a month name or its first three letters.
    private static func month(_ w: String) -> Int? {
        guard w.count >= 3 else { return nil }
        return months.firstIndex(of: String(w.prefix(3))).map { $0 + 1 }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Numbers (at most 9 digits kept, so no overflow), lowercased words, and punctuation;
    /// whitespace and comments are dropped. At most 32 tokens: a date needs about 12.
    private static func tokenize(_ v: [UInt8]) -> [Token] {
        var tokens: [Token] = []
        var c = FieldCursor(v)
        while tokens.count < 32 {
            c.skipCFWS()
            guard let b = c.current else { break }
            if b >= 48 && b <= 57 {
                var n = 0
                var digits = 0
                while let d = c.current, d >= 48 && d <= 57 {
                    if digits < 9 { n = n * 10 + Int(d - 48) }
                    digits += 1
                    c.pos += 1
                }
                tokens.append(.number(n, digits: digits))
            } else if (b | 32) >= 97 && (b | 32) <= 122 {
                let start = c.pos
                while let d = c.current, (d | 32) >= 97 && (d | 32) <= 122 { c.pos += 1 }
                tokens.append(.word(ASCII.string(v[start..<c.pos]).lowercased()))
            } else {
                tokens.append(.punct(b))
                c.pos += 1
            }
        }
        return tokens
    }
}
