// Fuzz targets for Mailroom's parsers: addresses, domain names (IDN/Punycode), CSV, SMTP, DNS, IMAP
// commands, MIME messages, SPF records, DKIM signatures and key records, DMARC records,
// Authentication-Results fields, Sieve scripts, mbox files and TLS ClientHellos.
//
// Built normally, this is a replayer: `mailroom-fuzz TARGET FILE…` runs files (a corpus, or a
// crash a fuzzer found) through one target. Built with `fuzz/run` (libFuzzer, -DFUZZING), the
// target named by MAILROOM_FUZZ_TARGET is fuzzed. Each target checks invariants, not just
// "does not crash": whatever parses must print and parse back to the same value.
import DNS
import Directory
import EmailAuth
import Foundation
import IMAP
import ManageSieve
import MIME
import MailCore
import SMTP

enum FuzzTargets {
    static let names = ["address", "domain", "punycode", "csv", "smtp-command", "smtp-session", "dns", "imap-command", "mime", "smtp-reply", "spf", "dkim-signature", "dkim-key", "dmarc", "auth-results", "sieve", "mbox", "managesieve-command", "tls-hello", "imap-response"]

    static func run(_ target: String, _ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        switch target {
        case "address":
            if let a = try? EmailAddress(text) {
                guard let again = try? EmailAddress(a.description), again == a, again.description == a.description else {
                    fatalError("address round trip failed: \(text.debugDescription) → \(a.description.debugDescription)")
                }
                _ = a.subaddress()
                _ = a.displayForm
            }
        case "domain":
            if let d = try? DomainName(text) {
                guard (try? DomainName(d.ascii)) == d, (try? DomainName(d.unicode)) == d else {
                    fatalError("domain round trip failed: \(text.debugDescription) → \(d.ascii)")
                }
            }
        case "punycode":
            if let decoded = Punycode.decode(text), let encoded = Punycode.encode(decoded) {
                guard Punycode.decode(encoded) == decoded else { fatalError("punycode round trip failed: \(text.debugDescription)") }
            }
            _ = Punycode.encode(text)
        case "csv":
            if let records = try? CSV.parse(text) {
                let again = records.map { CSV.format($0.fields) }.joined(separator: "\n")
                guard let reparsed = try? CSV.parse(again), reparsed.map(\.fields) == records.map(\.fields)
                        || records.contains(where: { $0.fields == [""] })
                else { fatalError("csv round trip failed: \(text.debugDescription)") }
            }
        case "dns":
            // Whatever parses encodes and parses back to the same message.
            if let m = try? DNSMessage(parsing: bytes) {
                guard let again = try? DNSMessage(parsing: try m.encoded()), again == m else {
                    fatalError("dns round trip failed: \(bytes)")
                }
            }
        case "smtp-command":
            if case .mail(let m?, _) = try? SMTPCommandParser.parse(bytes) {
                // A parsed path prints back to one that parses to the same mailbox.
                guard case .mail(let again?, _) = try? SMTPCommandParser.parse(Array("MAIL FROM:<\(m.description)>".utf8)), again == m else {
                    fatalError("path round trip failed: \(text.debugDescription)")
                }
            } else {
                _ = try? SMTPCommandParser.parse(bytes)
            }
        case "mbox":
            // Whatever parses (either variant), written back as mboxrd, parses to the same messages.
            for variant in Mbox.Variant.allCases {
                if let messages = try? Mbox.parse(bytes, variant: variant) {
                    guard let again = try? Mbox.parse(Mbox.write(messages)), again == messages else {
                        fatalError("mbox round trip failed (\(variant)): \(text.debugDescription)")
                    }
                }
            }
        case "mime":
            // Any bytes parse; ENVELOPE and BODYSTRUCTURE come out as balanced IMAP data; every
            // range in the part tree lies inside the input; section lookup and search decoding
            // do not crash.  (Needs `import MIME` at the top of Fuzz.swift.)
            let m = ParsedMessage(parsing: bytes)
            func balanced(_ b: [UInt8]) -> Bool {
                var depth = 0
                var i = 0
                while i < b.count {
                    switch b[i] {
                    case 40: depth += 1  // (
                    case 41:  // )
                        depth -= 1
                        if depth < 0 { return false }
                    case 34:  // quoted string: no CR, LF, NUL or 8-bit inside, must close
                        i += 1
                        while i < b.count && b[i] != 34 {
                            if b[i] == 92 { i += 1 }
                            if i < b.count && (b[i] == 13 || b[i] == 10 || b[i] == 0 || b[i] > 127) { return false }
                            i += 1
                        }
                        if i >= b.count { return false }
                    case 123:  // literal {n}CRLF<n bytes>
                        var n = 0
                        i += 1
                        while i < b.count && b[i] >= 48 && b[i] <= 57 && n < 1 << 40 {
                            n = n * 10 + Int(b[i] - 48)
                            i += 1
                        }
                        guard i + 2 < b.count, b[i] == 125, b[i + 1] == 13, b[i + 2] == 10 else { return false }
                        i += 2 + n
                        if i >= b.count { return false }
                    default: break
                    }
                    i += 1
                }
                return depth == 0
            }
            func inside(_ p: MIMEPart, _ depth: Int) -> Bool {
                guard depth <= MIME.Limits.maxDepth + 2,
                    p.headerRange.lowerBound >= 0, p.headerRange.upperBound <= p.bodyRange.lowerBound,
                    p.bodyRange.upperBound <= bytes.count,
                    p.children.count <= MIME.Limits.maxParts
                else { return false }
                if p.type == "multipart" && p.children.isEmpty { return false }  // IMAP needs ≥1 body
                if let inner = p.message, !inside(inner, depth + 1) { return false }
                return p.children.allSatisfy { inside($0, depth + 1) }
            }
            guard inside(m.root, 0) else { fatalError("mime: range outside the input: \(bytes)") }
            for rendered in [m.envelope(), m.bodyStructure(extensible: true), m.bodyStructure(extensible: false)] {
                guard balanced(rendered) else {
                    fatalError("mime: unbalanced output \(String(decoding: rendered, as: UTF8.self).debugDescription) for \(bytes)")
                }
            }
            // SORT and THREAD read every envelope we render back; their header helpers never crash.
            guard let fields = EnvelopeFields(imap: m.envelope()) else {
                fatalError("mime: envelope does not read back: \(String(decoding: m.envelope(), as: UTF8.self).debugDescription)")
            }
            _ = BaseSubject(String(decoding: fields.subject ?? [], as: UTF8.self))
            _ = fields.from?.displayName
            _ = MessageIDs.threadReferences(message: bytes)
            _ = m.part(at: [1, 1, 1])
            _ = m.part(at: [2, 1])
            _ = m.searchFields()
            if let sent = m.sentDateAndZone, abs(sent.zoneMinutes) >= 100 * 60 {  // RFC 5322: -9959 to +9959
                fatalError("mime: a Date: zone of \(sent.zoneMinutes) minutes for \(bytes)")
            }
            _ = m.messageID
        case "imap-command":
            // Whatever parses encodes and parses back to the same command; framing never
            // loses or invents bytes.
            if let c = try? IMAPCommandParser.parse(bytes) {
                guard let again = try? IMAPCommandParser.parse(c.encoded()), again == c else {
                    fatalError("imap round trip failed: \(text.debugDescription) → \(String(decoding: c.encoded(), as: UTF8.self).debugDescription)")
                }
            }
            var framer = IMAPFramer(limits: IMAPLimits())
            framer.append(bytes)
            var framed = 0
            while let e = framer.next(), framed < 10_000 {
                framed += 1
                if case .command(let c) = e { _ = try? IMAPCommandParser.parse(c) }
            }
        case "imap-response":
            // A server's bytes framed as they arrive (whole, or in two reads split where the
            // data says), each response parsed; the framing does not depend on the split, and
            // whatever parses encodes and parses back to the same response.
            func responses(_ chunks: [ArraySlice<UInt8>]) -> [String] {
                var limits = IMAPLimits()
                limits.maxLiteralSize = 4096
                var framer = IMAPFramer(limits: limits)
                var out: [String] = []
                for chunk in chunks {
                    framer.append(chunk)
                    while let e = framer.next(), out.count < 10_000 {
                        guard case .command(let frame) = e else {
                            out.append("\(e)")
                            continue
                        }
                        guard let r = try? IMAPResponseParser.parse(frame) else {
                            out.append("unparsed")
                            continue
                        }
                        guard let again = try? IMAPResponseParser.parse(r.encoded()), again == r else {
                            fatalError("imap response round trip failed: \(String(decoding: frame, as: UTF8.self).debugDescription) → \(String(decoding: r.encoded(), as: UTF8.self).debugDescription)")
                        }
                        out.append("\(r)")
                    }
                }
                return out
            }
            let whole = responses([bytes[...]])
            if bytes.count > 1 {
                let cut = Int(bytes[0]) % bytes.count
                guard responses([bytes[..<cut], bytes[cut...]]) == whole else {
                    fatalError("imap response framing depends on the reads: \(text.debugDescription) cut at \(cut)")
                }
            }
        case "managesieve-command":
            // Framing does not depend on how the bytes arrive (all at once or split where the
            // data says); whatever parses encodes and parses back to the same command.
            var limits = ManageSieveLimits()
            limits.maxLiteralSize = 4096
            limits.maxLineLength = 1024
            func frames(_ chunks: [ArraySlice<UInt8>]) -> [String] {
                var framer = ManageSieveFramer(limits: limits)
                var out: [String] = []
                for chunk in chunks {
                    framer.append(chunk)
                    do {
                        while let f = try framer.next(), out.count < 10_000 { out.append("\(f)") }
                    } catch {
                        out.append("fatal")
                        return out
                    }
                }
                return out
            }
            let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % bytes.count
            let whole = frames([bytes[...]])
            guard frames([bytes[..<cut], bytes[cut...]]) == whole else {
                fatalError("managesieve framing depends on the split at \(cut): \(text.debugDescription)")
            }
            var framer = ManageSieveFramer(limits: limits)
            framer.append(bytes)
            var framed = 0
            while framed < 10_000, let f = try? framer.next() {
                framed += 1
                guard case .words(let words) = f, let c = try? ManageSieveCommand(words: words) else { continue }
                var again = ManageSieveFramer(limits: ManageSieveLimits())
                again.append(c.bytes)
                guard case .words(let w2)?? = try? again.next(), (try? ManageSieveCommand(words: w2)) == c else {
                    fatalError("managesieve round trip failed: \(text.debugDescription) → \(c)")
                }
            }
        case "smtp-session":
            // Arbitrary bytes into a session (split in two reads at a data-chosen point); the
            // machine must answer, never crash, and never deliver a message with a bare LF.
            var session = SMTPSession(
                config: SMTPSessionConfig(hostname: "fuzz.example", mode: .submission, tlsAvailable: true, implicitTLS: false, plaintextAuthAllowed: true, limits: SMTPLimits()),
                policy: AcceptAll())
            _ = session.start()
            let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
            var pending = session.receive(bytes[..<cut]) + session.receive(bytes[cut...])
            var steps = 0
            while !pending.isEmpty && steps < 10_000 {
                steps += 1
                switch pending.removeFirst() {
                case .startTLS: pending += session.tlsStarted()
                case .authenticate(let user, _): pending += session.authenticationFinished(.success(user))
                case .deliver(_, let data):
                    var i = 0
                    while let lf = data[i...].firstIndex(of: 10) {
                        guard lf > 0, data[lf - 1] == 13 else { fatalError("delivered a bare LF: \(text.debugDescription)") }
                        i = lf + 1
                    }
                    pending += session.deliveryFinished(SMTPReply(250, "2.0.0", "ok"))
                default: break
                }
            }
        case "smtp-reply":
            // Server replies as the outbound client reads them: whatever parses prints and
            // parses back to the same reply (after one normalising pass), and the parser's
            // buffer stays bounded however the bytes arrive.
            for enhanced in [false, true] {
                var parser = SMTPReplyParser(enhancedStatusCodes: enhanced)
                var replies: [SMTPReply] = []
                for chunk in bytes.chunks(of: max(1, Int(bytes.first ?? 7) % 64)) {
                    parser.append(chunk)
                    while let r = try? parser.next() { replies.append(r) }
                    guard parser.bufferedCount <= parser.limits.replyLineOctets * 2 + 64 else {
                        fatalError("reply parser buffer grew to \(parser.bufferedCount): \(text.debugDescription)")
                    }
                }
                func reparse(_ r: SMTPReply) -> SMTPReply? {
                    var p = SMTPReplyParser(enhancedStatusCodes: enhanced)
                    p.append(r.encoded(enhancedCodes: enhanced))
                    return try? p.next()
                }
                for r in replies {
                    guard let once = reparse(r), let twice = reparse(once), once == twice else {
                        fatalError("reply round trip failed: \(r.description.debugDescription)")
                    }
                }
            }
        case "spf":
            // An SPF record: whatever parses prints and parses back to the same record, every
            // modifier value expands, and every domain-spec expands (fixed inputs) to a name of
            // at most 253 characters. The input as explanation text expands or throws, never traps.
            let record = try? SPFRecord(parsing: text.hasPrefix("v=spf1") ? text : "v=spf1 " + text)
            if let record {
                guard let again = try? SPFRecord(parsing: record.description), again == record else {
                    fatalError("spf round trip failed: \(text.debugDescription) → \(record.description.debugDescription)")
                }
                for context in SPFFuzz.contexts {
                    for case .unknownModifier(let name, let value) in record.terms {
                        guard (try? SPFMacro.expand(value, context, explanation: true)) != nil else {
                            fatalError("spf: parsed modifier \(name)=\(value.debugDescription) does not expand")
                        }
                    }
                    for spec in SPFFuzz.domainSpecs(record) {
                        guard let name = try? SPFMacro.expand(spec, context) else {
                            fatalError("spf: parsed domain-spec \(spec.debugDescription) does not expand")
                        }
                        guard name.utf8.count <= 253 || !name.contains(".") else {
                            fatalError("spf: \(spec.debugDescription) expanded to \(name.utf8.count) characters")
                        }
                    }
                }
            }
            _ = try? SPFMacro.expand(text, SPFFuzz.contexts[0], explanation: true)
        case "dkim-signature", "dkim-key", "dmarc", "auth-results":
            AuthFuzz.run(target, bytes)
        case "sieve":
            SieveFuzz.run(bytes)
        case "tls-hello":
            TLSHelloFuzz.run(bytes)
        default:
            fatalError("unknown fuzz target \(target); targets: \(names.joined(separator: ", "))")
        }
    }
}

/// Fixed inputs for the `spf` target's macro expansion: an IPv4 and an IPv6 client, a sender
/// with a long local-part and one with delimiters in it.
enum SPFFuzz {
    static let contexts = [
        SPFMacro.Context(
            sender: "strong-bad@email.example.com", domain: "email.example.com", ip: SPFAddress("192.0.2.3")!,
            helo: "mx.example.org", validatedName: "mx.example.org"),
        SPFMacro.Context(
            sender: String(repeating: "a.b-c+d=", count: 40) + "@" + String(repeating: "sub.", count: 60) + "example.com",
            domain: String(repeating: "x.", count: 100) + "example.com", ip: SPFAddress("2001:db8::cb01")!,
            helo: "[192.0.2.1]"),
    ]

    static func domainSpecs(_ record: SPFRecord) -> [String] {
        record.terms.compactMap { term -> String? in
            switch term {
            case .directive(_, .include(let d)), .directive(_, .exists(let d)), .redirect(let d), .explanation(let d): d
            case .directive(_, .a(let d?, _)), .directive(_, .mx(let d?, _)), .directive(_, .ptr(let d?)): d
            default: nil
            }
        }
    }
}

/// Accepts every recipient and sender, so the fuzzer reaches DATA and BDAT.
struct AcceptAll: SMTPPolicy {
    func checkRecipient(
        _ r: SMTPMailbox?, sender: SMTPMailbox?, authenticatedUser: String?, mode: SMTPSessionConfig.Mode, trustedClient: Bool
    ) -> RecipientCheck {
        .accept(SMTPRecipient(address: r?.description ?? "postmaster@fuzz.example", isLocal: true))
    }
    func checkSender(_ sender: SMTPMailbox?, authenticatedUser: String) -> SMTPReply? { nil }
}

#if FUZZING
let fuzzTarget = ProcessInfo.processInfo.environment["MAILROOM_FUZZ_TARGET"] ?? "address"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.run(fuzzTarget, Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#else
@main
struct Replayer {
    static func main() throws {
        let args = CommandLine.arguments.dropFirst()
        if args.first == "--list" {  // one target a line: what .ci/run replays
            print(FuzzTargets.names.joined(separator: "\n"))
            return
        }
        guard let target = args.first, FuzzTargets.names.contains(target) else {
            print("usage: mailroom-fuzz \(FuzzTargets.names.joined(separator: "|")) FILE…, or --list")
            exit(2)
        }
        var count = 0
        for path in args.dropFirst() {
            let url = URL(fileURLWithPath: path)
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
            let files = isDir.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { url.appendingPathComponent($0) } : [url]
            for f in files {
                FuzzTargets.run(target, Array(try Data(contentsOf: f)))
                count += 1
            }
        }
        print("\(target): \(count) inputs, no failures")
    }
}
#endif

extension Array {
    /// Consecutive slices of at most `n` elements.
    func chunks(of n: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: n).map { self[$0..<Swift.min($0 + n, count)] }
    }
}
