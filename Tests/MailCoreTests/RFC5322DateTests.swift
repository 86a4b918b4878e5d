import Foundation
import Testing

@testable import MailCore

/// The header date written by arithmetic agrees with Foundation's calendar.
@Suite struct RFC5322DateTests {
    static func byFormatter(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return f.string(from: d)
    }

    @Test(arguments: [
        (0.0, "Thu, 01 Jan 1970 00:00:00 +0000"), (-1, "Wed, 31 Dec 1969 23:59:59 +0000"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 +0000"), (1_795_979_812.9, "Sun, 29 Nov 2026 19:16:52 +0000"),
        (4_107_542_399, "Sun, 28 Feb 2100 23:59:59 +0000"), (-2_208_988_800, "Mon, 01 Jan 1900 00:00:00 +0000"),
    ])
    func knownMoments(seconds: Double, expected: String) {
        #expect(RFC5322Date.string(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func agreesWithTheCalendarFrom1900To2200() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let d = Date(timeIntervalSince1970: Double(Int64.random(in: -2_208_988_800...7_258_118_400, using: &generator)))
            #expect(RFC5322Date.string(d) == Self.byFormatter(d), "\(d.timeIntervalSince1970)")
        }
    }
}
