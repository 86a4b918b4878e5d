import Foundation

/// Modified UTF-7 for mailbox names (RFC 3501 §5.1.3), for clients that did not ENABLE
/// UTF8=ACCEPT: "&" starts base64 of UTF-16 (with "," for "/"), "-" ends it, "&-" is "&".
public enum ModifiedUTF7 {
    public static func encode(_ s: String) -> String {
        var out = ""
        var pending: [UInt16] = []
        func flush() {
            guard !pending.isEmpty else { return }
            var bytes: [UInt8] = []
            for u in pending { bytes += [UInt8(u >> 8), UInt8(u & 0xFF)] }
            let b64 = Data(bytes).base64EncodedString().replacingOccurrences(of: "/", with: ",").replacingOccurrences(of: "=", with: "")
            out += "&" + b64 + "-"
            pending = []
        }
        for scalar in s.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value <= 0x7E {
                flush()
                out += scalar == "&" ? "&-" : String(scalar)
            } else {
                pending += Array(String(scalar).utf16)
            }
        }
        flush()
        return out
    }

    /// nil when the name is not valid modified UTF-7.
    public static func decode(_ s: String) -> String? {
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            guard let v = c.asciiValue, v >= 0x20, v <= 0x7E else { return nil }
            if c != "&" {
                out.append(c)
                i = s.index(after: i)
                continue
            }
            guard let end = s[i...].firstIndex(of: "-") else { return nil }
            let chunk = s[s.index(after: i)..<end]
            i = s.index(after: end)
            if chunk.isEmpty {
                out.append("&")
                continue
            }
            var b64 = chunk.replacingOccurrences(of: ",", with: "/")
            while b64.count % 4 != 0 { b64 += "=" }
            guard let data = Data(base64Encoded: b64), data.count % 2 == 0, !data.isEmpty else { return nil }
            var units: [UInt16] = []
            var k = data.startIndex
            while k < data.endIndex {
                units.append(UInt16(data[k]) << 8 | UInt16(data[k + 1]))
                k += 2
            }
            guard let decoded = String(utf16CodeUnits: units, count: units.count) as String?,
                decoded.utf16.count == units.count, !decoded.unicodeScalars.contains(where: { $0.value >= 0x20 && $0.value <= 0x7E })
            else { return nil }
            out += decoded
        }
        return out
    }
}
