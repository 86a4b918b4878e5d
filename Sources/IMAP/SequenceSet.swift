/// A set of message sequence numbers or UIDs (RFC 9051 §9 `sequence-set`), as the client wrote
/// it: `*` is the largest number in use, `$` the result SEARCHRES saved (RFC 5182).
///
/// ```
/// C: A1 FETCH 1:3,7,10:* FLAGS
/// ```
public enum SequenceSet: Hashable, Sendable {
    case ranges([SequenceRange])
    case lastResult

    /// Every number of the set, where `*` stands for `largest`, among the numbers `existing`
    /// (sorted ascending). Ranges are inclusive and may be written backwards (`5:2`).
    public func resolve(largest: UInt32) -> [ClosedRange<UInt32>] {
        guard case .ranges(let ranges) = self else { return [] }
        return ranges.map { r in
            let a = r.first.value(largest), b = r.last.value(largest)
            return min(a, b)...max(a, b)
        }
    }

    /// Whether `n` is in the set, where `*` stands for `largest`.
    public func contains(_ n: UInt32, largest: UInt32) -> Bool {
        resolve(largest: largest).contains { $0.contains(n) }
    }
}

public struct SequenceRange: Hashable, Sendable {
    public var first: SequenceNumber
    public var last: SequenceNumber

    public init(_ first: SequenceNumber, _ last: SequenceNumber) {
        self.first = first
        self.last = last
    }
}

public enum SequenceNumber: Hashable, Sendable {
    case number(UInt32)
    case star

    func value(_ largest: UInt32) -> UInt32 {
        switch self {
        case .number(let n): return n
        case .star: return largest
        }
    }
}

extension SequenceSet: CustomStringConvertible {
    /// The set as IMAP writes it.
    public var description: String {
        switch self {
        case .lastResult: return "$"
        case .ranges(let ranges):
            return ranges.map { r in
                r.first == r.last ? r.first.description : "\(r.first):\(r.last)"
            }.joined(separator: ",")
        }
    }

    /// The compact form of a list of numbers: `1:3,5,8:9`. Only ascending runs become ranges,
    /// so a list in another order (ESORT's) keeps it.
    public static func compact(_ numbers: [UInt32]) -> String {
        var out: [String] = []
        var i = 0
        while i < numbers.count {
            var j = i
            while j + 1 < numbers.count, numbers[j + 1] == numbers[j] + 1 { j += 1 }
            out.append(i == j ? "\(numbers[i])" : "\(numbers[i]):\(numbers[j])")
            i = j + 1
        }
        return out.joined(separator: ",")
    }
}

extension SequenceNumber: CustomStringConvertible {
    public var description: String {
        switch self {
        case .number(let n): return String(n)
        case .star: return "*"
        }
    }
}
