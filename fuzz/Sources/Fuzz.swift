// Fuzz targets for Mailroom's parsers: email addresses, domain names (IDN/Punycode) and CSV.
//
// Built normally, this is a replayer: `mailroom-fuzz TARGET FILE…` runs files (a corpus, or a
// crash a fuzzer found) through one target. Built with `fuzz/run` (libFuzzer, -DFUZZING), the
// target named by MAILROOM_FUZZ_TARGET is fuzzed. Each target checks invariants, not just
// "does not crash": whatever parses must print and parse back to the same value.
import DNS
import Directory
import Foundation
import MailCore
import SMTP

enum FuzzTargets {
    static let names = ["address", "domain", "punycode", "csv", "smtp-command", "smtp-session", "dns"]

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
        default:
            fatalError("unknown fuzz target \(target); targets: \(names.joined(separator: ", "))")
        }
    }
}

/// Accepts every recipient and sender, so the fuzzer reaches DATA and BDAT.
struct AcceptAll: SMTPPolicy {
    func checkRecipient(_ r: SMTPMailbox?, sender: SMTPMailbox?, authenticatedUser: String?, mode: SMTPSessionConfig.Mode) -> RecipientCheck {
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
        guard let target = args.first, FuzzTargets.names.contains(target) else {
            print("usage: mailroom-fuzz \(FuzzTargets.names.joined(separator: "|")) FILE…")
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
