import Crypto
import CryptoExtras
import Foundation

/// A DKIM result word of RFC 8601 §2.7.1.
public enum DKIMResult: String, Hashable, Sendable {
    case none, pass, fail, policy, neutral, temperror, permerror
}

/// What the check of one `DKIM-Signature` found.
public struct DKIMVerification: Hashable, Sendable {
    public var result: DKIMResult
    /// `d=` (empty when the field did not parse far enough).
    public var domain: String
    public var selector: String
    /// `i=`, or `@d`.
    public var identity: String
    public var algorithm: String
    /// The first characters of `b=` (RFC 6008 `header.b`), to tell several signatures apart.
    public var headerB: String
    /// Why, in words an administrator reads: "signature verified (rsa-sha256, 2048-bit key)".
    public var reason: String
    /// The key record is in test mode (`t=y`).
    public var testing = false

    public init(
        result: DKIMResult, domain: String, selector: String, identity: String, algorithm: String, headerB: String, reason: String,
        testing: Bool = false
    ) {
        self.result = result
        self.domain = domain
        self.selector = selector
        self.identity = identity
        self.algorithm = algorithm
        self.headerB = headerB
        self.reason = reason
        self.testing = testing
    }
}

/// Verifies the DKIM signatures of a message (RFC 6376 §6, RFC 8463, RFC 8301): RSA keys of
/// 1024 to 4096 bits with SHA-256, Ed25519; both canonicalizations; `l=`; `x=`.
///
/// A signature with `l=` that leaves body bytes unsigned is reported as `policy`, never `pass`:
/// whatever follows the signed part could be anything, so it must not make DMARC pass.
public struct DKIMVerifier: Sendable {
    /// At most this many signatures are checked (each costs a DNS lookup and a public-key operation).
    public var maxSignatures = 5
    public let dns: any AuthDNS
    let now: @Sendable () -> Date

    public init(dns: any AuthDNS, now: @escaping @Sendable () -> Date = Date.init) {
        self.dns = dns
        self.now = now
    }

    /// One result per `DKIM-Signature` field, top to bottom; empty when there is none.
    public func verify(_ message: [UInt8]) async -> [DKIMVerification] {
        await verify(DKIMMessage(message))
    }

    public func verify(_ message: DKIMMessage) async -> [DKIMVerification] {
        let fields = message.headerFields.filter { $0.isNamed("dkim-signature") }
        var results: [DKIMVerification] = []
        for field in fields.prefix(maxSignatures) {
            results.append(await verify(field, in: message))
        }
        for _ in fields.dropFirst(maxSignatures) {
            results.append(DKIMVerification(
                result: .neutral, domain: "", selector: "", identity: "", algorithm: "", headerB: "",
                reason: "not checked: more than \(maxSignatures) signatures"))
        }
        return results
    }

    /// Checks one signature field: a `DKIM-Signature`, or with `arc` an `ARC-Message-Signature`
    /// (the same hashing, RFC 8617 §4.1.2).
    func verify(_ field: DKIMHeaderField, in message: DKIMMessage, arc: Bool = false) async -> DKIMVerification {
        let value = String(decoding: field.value, as: UTF8.self)
        var outcome = DKIMVerification(
            result: .permerror, domain: "", selector: "", identity: "", algorithm: "", headerB: "", reason: "")
        let signature: DKIMSignatureField
        do {
            signature = try DKIMSignatureField(value, arc: arc)
        } catch {
            // Tell the administrator whose signature it was, when that much can be read.
            let tags = try? DKIMTagList(value)
            outcome.domain = tags?["d"]?.lowercased() ?? ""
            outcome.selector = tags?["s"]?.lowercased() ?? ""
            outcome.reason = "the signature cannot be read: \(error)"
            return outcome
        }
        outcome.domain = signature.domain
        outcome.selector = signature.selector
        outcome.identity = signature.identity
        outcome.algorithm = signature.algorithm.rawValue
        outcome.headerB = signature.signaturePrefix

        if signature.algorithm == .rsaSHA1 {
            outcome.reason = "rsa-sha1 signatures are not accepted (RFC 8301)"
            return outcome
        }
        if let expiry = signature.expiration, Int64(now().timeIntervalSince1970) > expiry {
            outcome.reason = "the signature expired at \(Date(timeIntervalSince1970: TimeInterval(expiry)))"
            return outcome
        }

        let record: DKIMPublicKeyRecord
        let publicKey: DKIMPublicKey?
        switch await key(at: signature.keyName) {
        case .failed(let result, let why):
            outcome.result = result
            outcome.reason = why
            return outcome
        case .found(let r, let k):
            (record, publicKey) = (r, k)
        }
        outcome.testing = record.testing
        if let why = Self.refusal(of: record, for: signature) {
            outcome.reason = why
            return outcome
        }

        // Body hash (RFC 6376 §3.7): canonical body, cut at l=.
        var body = signature.bodyCanonicalization == .relaxed
            ? DKIMCanonical.relaxedBody(message.body) : DKIMCanonical.simpleBody(message.body)
        var unsigned = 0
        if let length = signature.bodyLength {
            guard length <= body.count else {
                outcome.result = .fail
                outcome.reason = "l=\(length) is longer than the body (\(body.count) bytes): the body was cut"
                return outcome
            }
            unsigned = body.count - length
            body.removeLast(unsigned)
        }
        guard SHA256.hash(data: body).elementsEqual(signature.bodyHash) else {
            outcome.result = .fail
            outcome.reason = "the body hash did not verify: the body was changed after signing"
            return outcome
        }

        // Header hash: the h= fields, then this field with an empty b= and without its CRLF.
        var hasher = SHA256()
        for signed in message.fields(forSignedHeaders: signature.signedHeaders) {
            hasher.update(data: canonical(signed, signature.headerCanonicalization))
        }
        let own = canonical(DKIMHeaderField(raw: Self.emptyingB(field.raw)), signature.headerCanonicalization)
        let endsInCRLF = own.count >= 2 && own[own.count - 2] == .cr && own[own.count - 1] == .lf
        hasher.update(data: endsInCRLF ? own[..<(own.count - 2)] : own[...])
        let digest = hasher.finalize()

        let verified: Bool
        let keyText: String
        switch Self.check(signature.signature, digest: digest, algorithm: signature.algorithm, key: publicKey, keyName: signature.keyName) {
        case .failure(let refusal):
            outcome.reason = refusal.why
            return outcome
        case .success(let checked):
            (verified, keyText) = checked
        }
        guard verified else {
            outcome.result = .fail
            outcome.reason = "the signature did not verify: a signed header field was changed, or the key does not match"
            return outcome
        }
        if unsigned > 0 {
            outcome.result = .policy
            outcome.reason = "signature verified, but \(unsigned) bytes of the body after l=\(signature.bodyLength ?? 0) are not signed"
            return outcome
        }
        outcome.result = .pass
        outcome.reason = "signature verified (\(signature.algorithm.rawValue), \(keyText)\(record.testing ? ", key in test mode" : ""))"
        return outcome
    }

    /// Key records already read, by their text.
    static let keys = ParsedRecords<Result<(DKIMPublicKeyRecord, DKIMPublicKey?), DKIMVerifyError>>()

    enum KeyLookup {
        /// The record, and its key ready to check signatures (nil when `p=` is not a key of
        /// the record's `k=` type).
        case found(DKIMPublicKeyRecord, DKIMPublicKey?)
        case failed(DKIMResult, String)
    }

    /// The key record at `name` (`selector._domainkey.domain`): the first TXT record that
    /// parses; a missing or unreadable key is `permerror`, a DNS failure `temperror`.
    func key(at name: String) async -> KeyLookup {
        let texts: [String]
        do {
            texts = try await dns.txt(name)
        } catch {
            switch error {
            case .notFound: return .failed(.permerror, "no key published at \(name)")
            case .temporary(let why): return .failed(.temperror, "the key at \(name) could not be looked up: \(why)")
            }
        }
        guard !texts.isEmpty else { return .failed(.permerror, "no key published at \(name)") }
        var lastError: DKIMVerifyError?
        for text in texts {
            let parsed = Self.keys.value(for: text) { text in
                Result { () throws(DKIMVerifyError) in
                    let record = try DKIMPublicKeyRecord(text)
                    return (record, DKIMPublicKey(record))
                }
            }
            switch parsed {
            case .success(let (record, key)): return .found(record, key)
            case .failure(let error): lastError = error
            }
        }
        return .failed(.permerror, "the key record at \(name) cannot be read: \(lastError.map { "\($0)" } ?? "")")
    }

    struct KeyRefusal: Error {
        var why: String
    }

    /// Checks `signature` over `digest` with the public key: whether it verified, and the key
    /// in words ("2048-bit key"); a key that cannot be used is a ``KeyRefusal``.
    static func check(
        _ signature: [UInt8], digest: SHA256Digest, algorithm: DKIMSigningAlgorithm, key: DKIMPublicKey?, keyName: String
    ) -> Result<(Bool, String), KeyRefusal> {
        switch (algorithm, key) {
        case (.ed25519SHA256, .ed25519(let key)):
            return .success((key.isValidSignature(signature, for: Array(digest)), "Ed25519 key"))
        case (.ed25519SHA256, _):
            return .failure(KeyRefusal(why: "the key at \(keyName) is not an Ed25519 public key"))
        case (.rsaSHA256, .rsa(let key)), (.rsaSHA1, .rsa(let key)):
            guard key.keySizeInBits <= 8192 else {
                return .failure(KeyRefusal(why: "the RSA key at \(keyName) has \(key.keySizeInBits) bits, more than this server checks"))
            }
            let ok = key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: .insecurePKCS1v1_5)
            return .success((ok, "\(key.keySizeInBits)-bit key"))
        case (.rsaSHA256, _), (.rsaSHA1, _):
            return .failure(KeyRefusal(why: "the key at \(keyName) is not an RSA public key of at least 1024 bits (RFC 8301)"))
        }
    }

    /// Why a key record cannot verify this signature (RFC 6376 §6.1.2), or nil.
    static func refusal(of record: DKIMPublicKeyRecord, for signature: DKIMSignatureField) -> String? {
        if record.publicKey.isEmpty { return "the key at \(signature.keyName) was revoked (empty p=)" }
        if record.keyType != signature.algorithm.keyType {
            return "the key at \(signature.keyName) is k=\(record.keyType), the signature is a=\(signature.algorithm.rawValue)"
        }
        if let hashes = record.hashAlgorithms, !hashes.contains("sha256") {
            return "the key at \(signature.keyName) does not allow sha256 (h=\(hashes.joined(separator: ":")))"
        }
        if !record.serviceTypes.contains("*"), !record.serviceTypes.contains("email") {
            return "the key at \(signature.keyName) is not for email (s=\(record.serviceTypes.joined(separator: ":")))"
        }
        if record.strict {
            let idDomain = signature.identity.split(separator: "@").last.map { $0.lowercased() } ?? ""
            if idDomain != signature.domain {
                return "the key at \(signature.keyName) is strict (t=s) and i=\(signature.identity) is in a subdomain"
            }
        }
        return nil
    }

    func canonical(_ field: DKIMHeaderField, _ c: DKIMCanonicalization) -> [UInt8] {
        c == .relaxed ? (DKIMCanonical.relaxedHeader(field) ?? []) : DKIMCanonical.simpleHeader(field)
    }

    /// The field with the value of its `b=` tag removed, everything else byte for byte (RFC 6376
    /// §3.7: the value, with the white space around it, is treated as empty).
    static func emptyingB(_ raw: [UInt8]) -> [UInt8] {
        guard let colon = raw.firstIndex(of: .colon) else { return raw }
        var end = raw.count
        if end >= 2, raw[end - 2] == .cr, raw[end - 1] == .lf { end -= 2 }
        var start = colon + 1
        while start <= end {
            let semicolon = raw[start..<end].firstIndex(of: 0x3B) ?? end
            if let equals = raw[start..<semicolon].firstIndex(of: 0x3D) {
                // The tag name is "b" when that is all it holds besides folding white space.
                let name = raw[start..<equals].lazy.filter { !($0.isWSP || $0 == .cr || $0 == .lf) }
                if name.first == 0x62, name.dropFirst().isEmpty {
                    var out: [UInt8] = []
                    out.reserveCapacity(equals + 1 + raw.count - semicolon)
                    out += raw[...equals]
                    out += raw[semicolon...]
                    return out
                }
            }
            start = semicolon + 1
        }
        return raw
    }
}

/// A DKIM public key ready to check signatures.
enum DKIMPublicKey: Sendable {
    case rsa(_RSA.Signing.PublicKey)
    case ed25519(Curve25519.Signing.PublicKey)

    /// The key of `record` for its `k=` type; nil when `p=` is not such a key (or is empty), or
    /// is an RSA key under 1024 bits (RFC 8301 §3.2; swift-crypto refuses those already).
    init?(_ record: DKIMPublicKeyRecord) {
        switch record.keyType {
        case "rsa":
            guard let key = try? _RSA.Signing.PublicKey(unsafeDERRepresentation: record.publicKey), key.keySizeInBits >= 1024 else {
                return nil
            }
            self = .rsa(key)
        case "ed25519":
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: record.publicKey) else { return nil }
            self = .ed25519(key)
        default:
            return nil
        }
    }
}
