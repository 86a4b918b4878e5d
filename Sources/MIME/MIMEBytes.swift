import Foundation

/// Where a message's bytes are, for the parser: an array in memory, or a stored file read a
/// window at a time (a 50 MB message is parsed without holding 50 MB).
///
/// Positions are offsets from the message's first byte. Implementations answer the two scans
/// the parser does most (finding and counting line feeds) themselves, so a file can use
/// `memchr` over its window instead of one call per byte.
public protocol MIMEBytes {
    /// The message's length in octets.
    var count: Int { get }
    /// The octet at `position` (`0 ..< count`).
    subscript(_ position: Int) -> UInt8 { get }
    /// The first LF in `from ..< to`, if any.
    func firstLF(from: Int, to: Int) -> Int?
    /// The LFs in `range`.
    func countLF(in range: Range<Int>) -> Int
    /// The octets in `range`, copied (header fields and values: small).
    func copyBytes(_ range: Range<Int>) -> [UInt8]
}

extension Array: MIMEBytes where Element == UInt8 {
    @inline(__always) public func firstLF(from: Int, to: Int) -> Int? {
        var i = from
        while i < to {
            if self[i] == ASCII.lf { return i }
            i += 1
        }
        return nil
    }

    public func countLF(in range: Range<Int>) -> Int {
        var n = 0
        for i in range where self[i] == ASCII.lf { n += 1 }
        return n
    }

    public func copyBytes(_ range: Range<Int>) -> [UInt8] { Array(self[range]) }
}

/// A message parsed in place from any ``MIMEBytes``: the MIME tree with its byte ranges, and
/// what IMAP keeps about the message (ENVELOPE, BODYSTRUCTURE, Date, Message-ID). For a
/// message in a file, only the window being read and the header being looked at are in memory.
///
/// It gives the same answers as ``ParsedMessage`` on the same bytes: both run one parser.
public struct MessageOutline<Bytes: MIMEBytes> {
    public let bytes: Bytes
    public let root: MIMEPart

    public init(parsing bytes: Bytes) {
        self.bytes = bytes
        var parser = MIMEParser(bytes)
        root = parser.entity(0..<bytes.count, depth: 0, defaultType: .text)
    }

    /// The part with an RFC 3501 §6.4.5 section number (see ``ParsedMessage/part(at:)``).
    public func part(at path: [Int]) -> MIMEPart? { root.descendant(at: path) }

    /// The IMAP ENVELOPE of the message.
    public func envelope() -> [UInt8] { Envelope.render(bytes, header: root.headerRange) }

    /// BODYSTRUCTURE (`extensible: true`) or BODY (`extensible: false`).
    public func bodyStructure(extensible: Bool) -> [UInt8] {
        var renderer = BodyStructure(bytes: bytes, extensible: extensible)
        renderer.render(root)
        return renderer.out
    }

    /// The Date: field's instant and the zone it was written in (minutes east of UTC).
    public var sentDateAndZone: (date: Date, zoneMinutes: Int)? {
        let fields = MIMEParser.headerFields(bytes, root.headerRange)
        return MIMEParser.firstValue(bytes, fields, "date").flatMap(DateParser.parseWithZone)
    }
}

extension MIMEPart {
    /// The part with an RFC 3501 §6.4.5 section number below this entity, or nil.
    ///
    /// `[]` is the entity itself. In a multipart, `[n]` is the n-th child; in a single-part
    /// entity `[1]` is the entity itself (its body is part 1). After a message/rfc822 part,
    /// further numbers address the encapsulated message's parts the same way.
    public func descendant(at path: [Int]) -> MIMEPart? {
        var container = self
        var rest = path[...]
        while let n = rest.first {
            rest = rest.dropFirst()
            let child: MIMEPart
            if container.isMultipart {
                guard n >= 1 && n <= container.children.count else { return nil }
                child = container.children[n - 1]
            } else {
                guard n == 1 else { return nil }
                child = container
            }
            if rest.isEmpty { return child }
            if child.isMultipart {
                container = child
            } else if let message = child.message {
                container = message
            } else {
                return nil
            }
        }
        return container
    }
}
