import Dispatch
import EmailAuth

/// The fuzz targets of the EmailAuth parsers.
///
/// - `dkim-signature`: the input is a header section. Each `DKIM-Signature` value parses or
///   throws; then the whole message (the input, an empty line, a fixed body) is verified against
///   a fixed Ed25519 key, so that signatures whose `bh=` matches the body (the seeds have one)
///   reach the header hash and `b=` removal. One result per signature, `d=` in lower case.
/// - `dkim-key`: a key record parses or throws; what parses has a key type and service types.
/// - `dmarc`: a DMARC record parses or throws (`pct` in 0...100); the input as a domain has an
///   organizational domain that is a suffix of it and its own organizational domain.
/// - `auth-results`: removing our Authentication-Results fields never adds bytes, keeps the
///   body, and a second pass changes nothing.
enum AuthFuzz {
    static let body: [UInt8] = Array("Hello\r\n".utf8)
    /// The key every `dkim-signature` lookup answers with (seed of 32 zero bytes, selector and
    /// domain do not matter).
    static let key = try! DKIMKey(ed25519Seed: [UInt8](repeating: 0, count: 32))

    struct FixedKeyDNS: AuthDNS {
        func txt(_ name: String) async throws(AuthDNSFailure) -> [String] { [AuthFuzz.key.dnsRecord] }
        func addresses(_ name: String, ipv6: Bool) async throws(AuthDNSFailure) -> [String] { [] }
        func mx(_ name: String) async throws(AuthDNSFailure) -> [String] { [] }
        func ptr(_ ip: String) async throws(AuthDNSFailure) -> [String] { [] }
    }

    final class Box<T>: @unchecked Sendable { var value: T?; init() {} }

    /// Runs async code that never suspends on I/O (the fixed DNS answers at once) to its end.
    static func wait<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.value = await body()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    static func run(_ target: String, _ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        switch target {
        case "dkim-signature":
            let message = DKIMMessage(bytes + Array("\r\n\r\n".utf8) + body)
            let fields = message.headerFields.filter { $0.lowercasedName == "dkim-signature" }
            for field in fields {
                guard let signature = try? DKIMSignatureField(String(decoding: field.value, as: UTF8.self)) else {
                    continue
                }
                guard signature.domain == signature.domain.lowercased(), !signature.domain.hasSuffix("."),
                    signature.identity.contains("@"), (signature.bodyLength ?? 0) >= 0,
                    signature.signedHeaders.contains(where: { $0.lowercased() == "from" })
                else { fatalError("dkim-signature: parsed field breaks an invariant: \(text.debugDescription)") }
            }
            if fields.isEmpty { _ = try? DKIMSignatureField(text) }
            // The input as a body: relaxing leaves no tab, no run of spaces, no space or empty
            // line at the end of a line or the body, and relaxing it again changes nothing.
            let relaxed = DKIMCanonical.relaxedBody(bytes)
            let crlf: [UInt8] = [0x0D, 0x0A]
            func at(_ i: Int, _ pattern: [UInt8]) -> Bool { relaxed[i...].starts(with: pattern) }
            let emptyLast = relaxed.suffix(4).elementsEqual(crlf + crlf)
            let ends = relaxed.isEmpty || (relaxed.count > 2 && relaxed.suffix(2).elementsEqual(crlf) && !emptyLast)
            let spaces = relaxed.indices.contains { at($0, [0x20, 0x20]) || at($0, [0x20] + crlf) }
            guard !relaxed.contains(0x09), !spaces, ends, DKIMCanonical.relaxedBody(relaxed) == relaxed
            else { fatalError("dkim-signature: relaxed body breaks an invariant: \(text.debugDescription)") }
            let results = wait { await DKIMVerifier(dns: FixedKeyDNS()).verify(message) }
            guard results.count == fields.count else {
                fatalError(
                    "dkim-signature: \(results.count) results for \(fields.count) signatures: \(text.debugDescription)")
            }
            for r in results where r.domain != r.domain.lowercased() {
                fatalError("dkim-signature: d=\(r.domain) not in lower case: \(text.debugDescription)")
            }
        case "dkim-key":
            if let record = try? DKIMPublicKeyRecord(text) {
                // s= may be empty (then the key serves nothing and is refused), never absent-and-empty.
                let hasS = (try? DKIMTagList(text))?["s"] != nil
                guard !record.serviceTypes.isEmpty || hasS, record.keyType == record.keyType.lowercased() else {
                    fatalError("dkim-key: parsed record breaks an invariant: \(text.debugDescription)")
                }
            }
        case "dmarc":
            if let record = try? DMARCRecord(text) {
                guard (0...100).contains(record.percent) else {
                    fatalError("dmarc: pct=\(record.percent): \(text.debugDescription)")
                }
                guard record.aggregateReportURIs.allSatisfy({ $0.lowercased().hasPrefix("mailto:") }) else {
                    fatalError("dmarc: a non-mailto rua: \(text.debugDescription)")
                }
            }
            let suffixes = PublicSuffixList.embedded
            let organization = suffixes.organizationalDomain(of: text)
            let normalized = text.lowercased().split(separator: ".", omittingEmptySubsequences: true).joined(
                separator: ".")
            guard normalized == organization || normalized.hasSuffix("." + organization) || organization.isEmpty,
                suffixes.organizationalDomain(of: organization) == organization
            else {
                fatalError("dmarc: organizational domain \(organization.debugDescription) of \(text.debugDescription)")
            }
        case "auth-results":
            let once = AuthenticationResults.removingOurs(from: bytes, authservID: "mx.example.org")
            guard once.count <= DKIMMessageLength.crlf(bytes) else {
                fatalError("auth-results: the message grew: \(text.debugDescription)")
            }
            let twice = AuthenticationResults.removingOurs(from: once, authservID: "mx.example.org")
            guard twice == once else {
                fatalError("auth-results: a second pass removed more: \(text.debugDescription)")
            }
            if let end = AuthFuzz.headerEnd(bytes), let endOut = AuthFuzz.headerEnd(once) {
                guard bytes[end...] == once[endOut...] else {
                    fatalError("auth-results: the body changed: \(text.debugDescription)")
                }
            }
        default:
            fatalError("unknown EmailAuth fuzz target \(target)")
        }
    }

    /// The offset of the first empty line (CRLF or LF), or nil.
    static func headerEnd(_ m: [UInt8]) -> Int? {
        var lineStart = 0
        for (i, b) in m.enumerated() where b == 10 {
            let line = m[lineStart..<i]
            if line.isEmpty || line == [13] { return lineStart }
            lineStart = i + 1
        }
        return nil
    }
}

/// Length bounds for `removingOurs`: header lines with a bare LF come back with CRLF, so the
/// output may be longer than the input by one byte per bare LF in the header.
enum DKIMMessageLength {
    static func crlf(_ m: [UInt8]) -> Int {
        let end = AuthFuzz.headerEnd(m) ?? m.count
        var bare = 0
        for i in 0..<end where m[i] == 10 && (i == 0 || m[i - 1] != 13) { bare += 1 }
        return m.count + bare
    }
}
