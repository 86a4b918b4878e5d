import Foundation

/// Sizes as administrators write them: `5G`, `500M`, `1.5GB`, `1024`, `unlimited`. Units are
/// binary (1K = 1024 bytes), as mail quotas traditionally are.
public enum ByteSize {
    /// Parses a size; `0`, `none` and `unlimited` mean no limit (0).
    public static func parse(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "unlimited" || t == "none" { return 0 }
        var number = t
        var multiplier: Double = 1
        for (suffixes, m) in [
            (["tib", "tb", "t"], 1024.0 * 1024 * 1024 * 1024), (["gib", "gb", "g"], 1024.0 * 1024 * 1024),
            (["mib", "mb", "m"], 1024.0 * 1024), (["kib", "kb", "k"], 1024.0), (["b"], 1.0),
        ] {
            if let s = suffixes.first(where: { t.hasSuffix($0) }) {
                number = String(t.dropLast(s.count)).trimmingCharacters(in: .whitespaces)
                multiplier = m
                break
            }
        }
        guard let value = Double(number), value >= 0, value.isFinite else { return nil }
        let bytes = value * multiplier
        guard bytes < 9.0e18 else { return nil }
        return Int64(bytes.rounded())
    }

    /// `5368709120` → `5G`; 0 → `unlimited`.
    public static func format(_ bytes: Int64) -> String {
        if bytes == 0 { return "unlimited" }
        let units: [(String, Int64)] = [("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)]
        for (u, size) in units where bytes >= size {
            if bytes % size == 0 { return "\(bytes / size)\(u)" }
            let v = Double(bytes) / Double(size)
            return String(format: "%.1f", v) + u
        }
        return "\(bytes)B"
    }
}
