import MailCore

/// Cuts the client's byte stream into complete commands: a line, and when it ends in a literal
/// announcement (`{n}`, `{n+}`, `~{n}`), that many octets and the rest of the command after
/// them (RFC 9051 §4.3, RFC 7888). Lines end in CRLF; a bare LF is accepted as clients'
/// sloppiness, never a bare CR.
///
/// ```
/// C: A1 LOGIN {5}
/// S: + Ready for literal data
/// C: alice pass
/// ```
public struct IMAPFramer: Sendable {
    public enum Event: Hashable, Sendable {
        /// A whole command, literals inline, ending with its CRLF.
        case command([UInt8])
        /// A synchronizing literal was announced: send `+` so the client sends it.
        case continuationNeeded
        /// A synchronizing literal larger than allowed: refuse the command (`tag NO [TOOBIG]`);
        /// the client will not send it.
        case literalTooLarge(tag: String?, size: UInt64, limit: Int)
        /// A line too long, or a non-synchronizing literal too large: the connection must end.
        case fatal(String)
        /// An APPEND literal larger than `limits.streamAppendAbove` was announced: `command` is
        /// the command up to and including the line that announces it. Its octets follow as
        /// ``literalData(_:)`` events, then the rest of the command as ``command(_:)``. For a
        /// synchronizing literal send `+` first, or refuse and call ``skipLiteral()``.
        case literalBegin(command: [UInt8], size: Int, synchronizing: Bool)
        /// The next octets of the literal announced by ``literalBegin(command:size:synchronizing:)``:
        /// at least 256 KiB, or the rest of the literal.
        case literalData([UInt8])
    }

    public var limits: IMAPLimits
    private var buffer: [UInt8] = []
    /// Where the current command starts, and how far it has been scanned.
    private var scanned = 0
    private var literalRemaining = 0
    /// Octets of the current command outside literals.
    private var lineOctets = 0
    private var lineStart = 0
    /// After a fatal event the stream is beyond repair: nothing more is framed.
    private var failed = false
    /// Octets of a streamed literal not yet handed out.
    private var streamRemaining = 0

    public init(limits: IMAPLimits) {
        self.limits = limits
    }

    /// Whether part of a command has been received and not yet framed.
    public var hasPartialInput: Bool { !buffer.isEmpty || streamRemaining > 0 }

    /// Octets received and not yet handed out.
    public var bufferedCount: Int { buffer.count }

    /// The synchronizing literal just announced by `literalBegin` was refused: the client does
    /// not send it, and the next octets start a new command.
    public mutating func skipLiteral() {
        streamRemaining = 0
        lineOctets = 0
    }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
    }

    /// The next event, or nil when more input is needed.
    public mutating func next() -> Event? {
        guard !failed else { return nil }
        let event = frame()
        if case .fatal? = event {
            failed = true
            buffer = []
        }
        return event
    }

    private mutating func frame() -> Event? {
        while true {
            if streamRemaining > 0 {
                // Pieces of at least streamPiece octets (or the rest): each piece is a trip to
                // the thread that writes it to disk, and a read brings 16 KiB at most.
                guard !buffer.isEmpty, buffer.count >= min(streamRemaining, Self.streamPiece) else { return nil }
                let n = min(buffer.count, streamRemaining)
                let piece: [UInt8]
                if n == buffer.count {
                    piece = buffer
                    buffer = []
                } else {
                    piece = Array(buffer[..<n])
                    removeFirst(n)
                }
                streamRemaining -= n
                scanned = 0
                lineStart = 0
                return .literalData(piece)
            }
            if literalRemaining > 0 {
                let available = buffer.count - scanned
                guard available >= literalRemaining else {
                    return nil
                }
                scanned += literalRemaining
                literalRemaining = 0
                lineStart = scanned
            }
            guard let lf = buffer[scanned...].firstIndex(of: 0x0A) else {
                if lineOctets + (buffer.count - lineStart) > limits.maxLineLength {
                    return .fatal("Line too long (the limit is \(limits.maxLineLength) octets)")
                }
                scanned = buffer.count
                return nil
            }
            lineOctets += lf + 1 - lineStart
            if lineOctets > limits.maxLineLength {
                return .fatal("Line too long (the limit is \(limits.maxLineLength) octets)")
            }
            if let (size, synchronizing) = literalAnnouncement(endingAt: lf) {
                let limit = isAppend ? limits.maxAppendSize : limits.maxLiteralSize
                if size > UInt64(limit) {
                    if !synchronizing { return .fatal("Literal too large (the limit is \(limit) octets)") }
                    let tag = self.tag
                    drop(upTo: lf + 1)
                    return .literalTooLarge(tag: tag, size: size, limit: limit)
                }
                if isAppend && size > UInt64(limits.streamAppendAbove) {
                    // Handed out as it arrives, never held whole; the octets of the command
                    // outside literals still count against the line limit.
                    let command = Array(buffer[..<(lf + 1)])
                    let octets = lineOctets
                    drop(upTo: lf + 1)
                    lineOctets = octets
                    streamRemaining = Int(size)
                    return .literalBegin(command: command, size: Int(size), synchronizing: synchronizing)
                }
                scanned = lf + 1
                literalRemaining = Int(size)
                if synchronizing { return .continuationNeeded }
                continue
            }
            let command = Array(buffer[..<(lf + 1)])
            drop(upTo: lf + 1)
            return .command(command)
        }
    }

    private mutating func drop(upTo end: Int) {
        removeFirst(end)
        scanned = 0
        lineStart = 0
        lineOctets = 0
    }

    /// The least a ``Event/literalData(_:)`` carries, unless it ends the literal.
    static let streamPiece = 256 * 1024

    /// What the buffer keeps when it has been emptied: enough for the commands of a connection
    /// at rest. An upload grows it; most connections then idle for hours, and would each keep
    /// the largest upload's memory.
    static let keptCapacity = 4096

    private mutating func removeFirst(_ n: Int) {
        if n == buffer.count && buffer.capacity > Self.keptCapacity {
            buffer = []
        } else {
            buffer.removeFirst(n)
        }
    }

    /// Memory the buffer holds, for tests.
    var bufferCapacity: Int { buffer.capacity }

    /// `{n}` / `{n+}` / `{n-}` right before the line end.
    private func literalAnnouncement(endingAt lf: Int) -> (UInt64, Bool)? {
        var e = lf
        if e > lineStart, buffer[e - 1] == 0x0D { e -= 1 }
        guard e > lineStart, buffer[e - 1] == 0x7D else { return nil }
        var j = e - 2
        var synchronizing = true
        if j >= lineStart, buffer[j] == 0x2B || buffer[j] == 0x2D {
            synchronizing = false
            j -= 1
        }
        var size: UInt64 = 0
        var multiplier: UInt64 = 1
        var digits = 0
        while j >= lineStart, buffer[j] >= 0x30, buffer[j] <= 0x39 {
            guard digits < 19 else { return (UInt64.max, synchronizing) }
            size += UInt64(buffer[j] - 0x30) * multiplier
            multiplier *= 10
            digits += 1
            j -= 1
        }
        guard digits > 0, j >= lineStart, buffer[j] == 0x7B else { return nil }
        return (size, synchronizing)
    }

    /// The first line of the command being framed (where its tag and name are), without the
    /// commands pipelined after it.
    private var firstLine: ArraySlice<UInt8> { buffer[..<(buffer.firstIndex(of: 0x0A) ?? buffer.count)] }

    /// The tag of the command being framed.
    private var tag: String? {
        guard let sp = firstLine.firstIndex(of: 0x20), sp > 0, sp <= 64 else { return nil }
        return String(decoding: buffer[..<sp], as: UTF8.self)
    }

    /// Whether the command being framed is APPEND (whose literal may be a whole message).
    private var isAppend: Bool {
        guard let sp = firstLine.firstIndex(of: 0x20) else { return false }
        return buffer[(sp + 1)...].hasASCIIPrefix(lowercased: "append ")
    }
}
