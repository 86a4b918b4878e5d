/// SORT (RFC 5256 §3, RFC 5957 DISPLAYFROM/DISPLAYTO) with ESORT return options (RFC 5267).
///
/// ```
/// C: a1 SORT (REVERSE DATE SUBJECT) UTF-8 SINCE 1-Feb-1994
/// S: * SORT 2 84 882
/// S: a1 OK SORT completed
/// C: a2 UID SORT RETURN (MIN COUNT) (DISPLAYFROM) UTF-8 ALL
/// S: * ESEARCH (TAG "a2") UID MIN 17 COUNT 3
/// S: a2 OK SORT completed
/// ```
public struct SortCommand: Hashable, Sendable {
    public var criteria: [SortCriterion]
    /// nil: a plain SORT, answered with `* SORT`; otherwise the ESORT options (empty means ALL).
    public var returnOptions: [SortReturnOption]?
    public var charset: String
    public var key: SearchKey

    public init(
        criteria: [SortCriterion], returnOptions: [SortReturnOption]? = nil, charset: String = "UTF-8", key: SearchKey
    ) {
        self.criteria = criteria
        self.returnOptions = returnOptions
        self.charset = charset
        self.key = key
    }
}

/// One sort criterion: a key, in reverse when `reverse`.
public struct SortCriterion: Hashable, Sendable {
    public enum Key: String, Hashable, Sendable, CaseIterable {
        case arrival = "ARRIVAL", cc = "CC", date = "DATE", from = "FROM", size = "SIZE", subject = "SUBJECT", to = "TO"
        case displayFrom = "DISPLAYFROM", displayTo = "DISPLAYTO"
    }
    public var key: Key
    public var reverse: Bool

    public init(_ key: Key, reverse: Bool = false) {
        self.key = key
        self.reverse = reverse
    }
}

/// What ESORT returns (RFC 5267 §3, §4.4): positions in sort order, not numeric order.
public enum SortReturnOption: Hashable, Sendable {
    case min, max, all, count
    /// RFC 5182 SEARCHRES: keep the matching messages for `$`.
    case save
    /// The results at 1-based positions `lowerBound...upperBound` of the sorted list.
    case partial(ClosedRange<UInt32>)
}

/// THREAD (RFC 5256 §3).
///
/// ```
/// C: a1 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000
/// S: * THREAD (166)(167)(168)(169 172)(170)(171)(173)(174 (175)(176)(178)(181)(180))(179)
/// S: a1 OK THREAD completed
/// ```
public struct ThreadCommand: Hashable, Sendable {
    public var algorithm: ThreadAlgorithm
    public var charset: String
    public var key: SearchKey

    public init(algorithm: ThreadAlgorithm, charset: String = "UTF-8", key: SearchKey) {
        self.algorithm = algorithm
        self.charset = charset
        self.key = key
    }
}

public enum ThreadAlgorithm: String, Hashable, Sendable, CaseIterable {
    case orderedSubject = "ORDEREDSUBJECT", references = "REFERENCES"
}
