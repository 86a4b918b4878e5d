import Crypto
import Foundation

/// An ARC result word (RFC 8617 §4.4, RFC 8601): the chain as a whole.
public enum ARCResult: String, Hashable, Sendable {
    case none, pass, fail
}

/// What the check of a message's ARC chain found.
public struct ARCVerification: Hashable, Sendable {
    public var result: ARCResult
    /// The highest instance (0 without ARC sets).
    public var instances: Int
    /// The sealers' domains, oldest first.
    public var sealers: [String]
    public var reason: String

    public init(result: ARCResult, instances: Int, sealers: [String], reason: String) {
        self.result = result
        self.instances = instances
        self.sealers = sealers
        self.reason = reason
    }
}

/// Verifies the Authenticated Received Chain of a message (RFC 8617 §5.2): every set complete
/// and numbered 1…N, the newest ARC-Message-Signature valid, every ARC-Seal valid, and the
/// chain-validation statuses consistent (`cv=none` at 1, `pass` after).
public struct ARCVerifier: Sendable {
    let dkim: DKIMVerifier

    public init(dns: any AuthDNS, now: @escaping @Sendable () -> Date = Date.init) {
        self.dkim = DKIMVerifier(dns: dns, now: now)
    }

    static let fieldNames = ["arc-seal", "arc-message-signature", "arc-authentication-results"]

    public func verify(_ message: DKIMMessage) async -> ARCVerification {
        var sets: [Int: (aar: [DKIMHeaderField], ams: [DKIMHeaderField], seal: [DKIMHeaderField])] = [:]
        var outcome = ARCVerification(result: .fail, instances: 0, sealers: [], reason: "")
        for field in message.headerFields {
            guard let name = Self.fieldNames.first(where: field.isNamed) else { continue }
            guard let i = ARCSealer.instance(of: field), (1...50).contains(i) else {
                outcome.reason = "an \(name) field has no valid i= instance"
                return outcome
            }
            var set = sets[i] ?? ([], [], [])
            switch name {
            case "arc-seal": set.seal.append(field)
            case "arc-message-signature": set.ams.append(field)
            default: set.aar.append(field)
            }
            sets[i] = set
        }
        guard let n = sets.keys.max() else {
            return ARCVerification(result: .none, instances: 0, sealers: [], reason: "no ARC sets")
        }
        outcome.instances = n
        for i in 1...n {
            guard let set = sets[i], set.aar.count == 1, set.ams.count == 1, set.seal.count == 1 else {
                outcome.reason = "ARC set \(i) of \(n) is missing or has duplicate fields"
                return outcome
            }
        }
        // Seals: cv= consistent, newest first (RFC 8617 §5.2 steps 3-4).
        var seals: [DKIMTagList] = []
        for i in 1...n {
            let field = sets[i]!.seal[0]
            guard let tags = try? DKIMTagList(String(decoding: field.value, as: UTF8.self)) else {
                outcome.reason = "the ARC-Seal of instance \(i) cannot be read"
                return outcome
            }
            let cv = tags["cv"]?.lowercased()
            if i == n, cv == "fail" {
                outcome.reason = "the newest sealer (i=\(n)) found the chain broken (cv=fail)"
                return outcome
            }
            guard cv == (i == 1 ? "none" : "pass") else {
                outcome.reason = "ARC-Seal i=\(i) has cv=\(cv ?? "?"), expected \(i == 1 ? "none" : "pass")"
                return outcome
            }
            seals.append(tags)
            outcome.sealers.append(tags["d"]?.lowercased() ?? "")
        }
        // The newest message signature.
        let ams = await dkim.verify(sets[n]!.ams[0], in: message, arc: true)
        guard ams.result == .pass else {
            outcome.reason = "the ARC-Message-Signature of i=\(n) (\(ams.domain)): \(ams.reason)"
            return outcome
        }
        // Every seal, over the sets up to its own (RFC 8617 §5.1.1).
        for i in stride(from: n, through: 1, by: -1) {
            let tags = seals[i - 1]
            guard let d = tags["d"]?.lowercased(), let s = tags["s"]?.lowercased(), let a = tags["a"].flatMap({ DKIMSigningAlgorithm(rawValue: $0.lowercased()) }),
                a != .rsaSHA1, let b = tags["b"].flatMap(DKIMTagList.base64)
            else {
                outcome.reason = "the ARC-Seal of i=\(i) lacks a=, b=, d= or s=, or uses rsa-sha1"
                return outcome
            }
            let keyName = "\(s)._domainkey.\(d)"
            guard case .found(let record, let key) = await dkim.key(at: keyName), record.keyType == a.keyType, !record.publicKey.isEmpty else {
                outcome.reason = "no usable key for the ARC-Seal of i=\(i) at \(keyName)"
                return outcome
            }
            let digest = SHA256.hash(data: ARCSealer.sealInput(sets: (1...i).map { (sets[$0]!.aar[0], sets[$0]!.ams[0], sets[$0]!.seal[0]) }, emptyingLast: true))
            guard case .success((true, _)) = DKIMVerifier.check(b, digest: digest, algorithm: a, key: key, keyName: keyName) else {
                outcome.reason = "the ARC-Seal of i=\(i) by \(d) did not verify"
                return outcome
            }
        }
        outcome.result = .pass
        outcome.reason = "\(n) ARC set\(n == 1 ? "" : "s") verified, sealed by \(outcome.sealers.joined(separator: ", "))"
        return outcome
    }
}

/// Adds an ARC set to a message we pass on (RFC 8617 §5.1): our Authentication-Results as
/// ARC-Authentication-Results, an ARC-Message-Signature over the message, and an ARC-Seal over
/// every set, signed with the domain's DKIM key.
public struct ARCSealer: Sendable {
    public let domain: String
    public let selector: String
    public let key: DKIMKey

    public init(domain: String, selector: String, key: DKIMKey) {
        self.domain = domain.lowercased()
        self.selector = selector.lowercased()
        self.key = key
    }

    /// The three fields (AS, AMS, AAR, in that order, each ending in CRLF) to put on top of
    /// `message`. `results` is the payload of our Authentication-Results (`mx.example.org;
    /// spf=pass …`); `chain` what ``ARCVerifier`` found on arrival.
    public func seal(_ message: [UInt8], results: String, chain: ARCVerification, at time: Date = Date()) -> String {
        let parsed = DKIMMessage(message)
        let i = chain.instances + 1
        let cv: String = chain.instances == 0 ? "none" : (chain.result == .pass ? "pass" : "fail")
        let timestamp = Int64(max(0, time.timeIntervalSince1970))
        let aar = "ARC-Authentication-Results: i=\(i); \(results)\r\n"

        // The message signature: as our DKIM signature, without DKIM-Signature's v=, with i=.
        let signer = DKIMSigner(domain: domain, selector: selector, key: key)
        let names = signer.signedHeaderNames(for: parsed)
        var ams = Folder(start: "ARC-Message-Signature:", width: 76)
        ams.add("i=\(i);")
        ams.add("a=\(key.algorithm.signatureAlgorithm);")
        ams.add("c=relaxed/relaxed;")
        ams.add("d=\(domain);")
        ams.add("s=\(selector);")
        ams.add("t=\(timestamp);")
        for (n, name) in names.enumerated() { ams.add((n == 0 ? "h=" : "") + name + (n == names.count - 1 ? ";" : ":"), glued: n > 0) }
        ams.add("bh=\(DKIMSigner.bodyHash(of: parsed));")
        ams.add("b=")
        var data: [UInt8] = []
        for field in parsed.fields(forSignedHeaders: names) {
            if let c = DKIMCanonical.relaxedHeader(field) { data += c }
        }
        var own = DKIMCanonical.relaxedHeader(DKIMHeaderField(raw: Array(ams.text.utf8))) ?? []
        if own.suffix(2) == [.cr, .lf] { own.removeLast(2) }
        data += own
        ams.addBreakable(Data(key.sign(data)).base64EncodedString())
        let amsText = ams.text + "\r\n"

        // The seal, over every set up to ours (a broken chain is sealed over our set alone,
        // RFC 8617 §5.1.2: cv=fail ends the chain).
        var seal = Folder(start: "ARC-Seal:", width: 76)
        seal.add("i=\(i);")
        seal.add("a=\(key.algorithm.signatureAlgorithm);")
        seal.add("t=\(timestamp);")
        seal.add("cv=\(cv);")
        seal.add("d=\(domain);")
        seal.add("s=\(selector);")
        seal.add("b=")
        var sets: [(DKIMHeaderField, DKIMHeaderField, DKIMHeaderField)] = []
        if cv != "fail" {
            for n in 1..<i {
                func one(_ name: String) -> DKIMHeaderField? {
                    parsed.headerFields.first { $0.lowercasedName == name && Self.instance(of: $0) == n }
                }
                if let a = one("arc-authentication-results"), let m = one("arc-message-signature"), let s = one("arc-seal") { sets.append((a, m, s)) }
            }
        }
        sets.append((DKIMHeaderField(raw: Array(aar.utf8)), DKIMHeaderField(raw: Array(amsText.utf8)), DKIMHeaderField(raw: Array(seal.text.utf8))))
        seal.addBreakable(Data(key.sign(Self.sealInput(sets: sets, emptyingLast: false))).base64EncodedString())
        return seal.text + "\r\n" + amsText + aar
    }

    /// What an ARC-Seal signs (RFC 8617 §5.1.1): each set's AAR, AMS and AS in instance order,
    /// relaxed-canonicalized; the last AS with an empty b= and without its CRLF.
    static func sealInput(sets: [(DKIMHeaderField, DKIMHeaderField, DKIMHeaderField)], emptyingLast: Bool) -> [UInt8] {
        var data: [UInt8] = []
        for (n, set) in sets.enumerated() {
            data += DKIMCanonical.relaxedHeader(set.0) ?? []
            data += DKIMCanonical.relaxedHeader(set.1) ?? []
            if n == sets.count - 1 {
                let last = emptyingLast ? DKIMHeaderField(raw: DKIMVerifier.emptyingB(set.2.raw)) : set.2
                var c = DKIMCanonical.relaxedHeader(last) ?? []
                if c.suffix(2) == [.cr, .lf] { c.removeLast(2) }
                data += c
            } else {
                data += DKIMCanonical.relaxedHeader(set.2) ?? []
            }
        }
        return data
    }

    /// The `i=` of an ARC field: a tag of ARC-Seal and ARC-Message-Signature, the first item of
    /// ARC-Authentication-Results (whose rest is not a tag list).
    static func instance(of field: DKIMHeaderField) -> Int? {
        let value = String(decoding: field.value, as: UTF8.self)
        if field.lowercasedName != "arc-authentication-results" {
            return (try? DKIMTagList(value))?["i"].flatMap { Int($0) }
        }
        guard let first = value.split(separator: ";", maxSplits: 1).first else { return nil }
        let parts = first.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, DKIMTagList.trimFWS(parts[0]) == "i" else { return nil }
        return Int(DKIMTagList.trimFWS(parts[1]))
    }
}
