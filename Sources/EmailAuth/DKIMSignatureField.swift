import Foundation

/// The signing algorithms a `DKIM-Signature` may name (`a=`).
public enum DKIMSigningAlgorithm: String, Hashable, Sendable {
    case rsaSHA256 = "rsa-sha256"
    /// Still seen; never accepted (RFC 8301 §3.1).
    case rsaSHA1 = "rsa-sha1"
    case ed25519SHA256 = "ed25519-sha256"

    var keyType: String { self == .ed25519SHA256 ? "ed25519" : "rsa" }
}

/// `simple` or `relaxed` (RFC 6376 §3.4).
public enum DKIMCanonicalization: String, Hashable, Sendable {
    case simple, relaxed
}

/// A parsed `DKIM-Signature` field (RFC 6376 §3.5), checked as §6.1.1 asks before any key is
/// fetched.
public struct DKIMSignatureField: Sendable {
    public var algorithm: DKIMSigningAlgorithm
    public var signature: [UInt8]
    public var bodyHash: [UInt8]
    public var headerCanonicalization: DKIMCanonicalization
    public var bodyCanonicalization: DKIMCanonicalization
    /// `d=`, lower case.
    public var domain: String
    /// `h=`, in order, as written.
    public var signedHeaders: [String]
    /// `i=`; `@d` when absent.
    public var identity: String
    /// `l=`: only this many bytes of the canonical body are signed.
    public var bodyLength: Int?
    /// `s=`, lower case.
    public var selector: String
    public var timestamp: Int64?
    public var expiration: Int64?
    /// The first 8 characters of the `b=` value (`header.b` in Authentication-Results, RFC 6008
    /// §4: enough to tell two signatures apart), without its folding white space.
    public var signaturePrefix: String

    /// `i=` of an ARC-Message-Signature: its ARC instance (RFC 8617 §4.1.2).
    public var arcInstance: Int?

    /// Parses the value of the field (the text after `DKIM-Signature:`), or of an
    /// `ARC-Message-Signature` (`arc`: no `v=`, and `i=` is the instance number).
    public init(_ value: String, arc: Bool = false) throws(DKIMVerifyError) {
        let tags = try DKIMTagList(value)
        func required(_ name: String) throws(DKIMVerifyError) -> String {
            guard let v = tags[name] else { throw .syntax("the signature has no \(name)= tag") }
            return v
        }
        if arc {
            guard let i = Int(try required("i")), (1...50).contains(i) else { throw .syntax("i=\(tags["i"] ?? "") is not an ARC instance 1 to 50") }
            self.arcInstance = i
        } else {
            guard try required("v") == "1" else { throw .syntax("v=\(tags["v"] ?? "") is not DKIM version 1") }
        }
        let a = try required("a").lowercased()
        guard let algorithm = DKIMSigningAlgorithm(rawValue: a) else { throw .unsupported("the algorithm a=\(a)") }
        self.algorithm = algorithm
        let b = try required("b")
        self.signaturePrefix = String(decoding: b.utf8.lazy.filter { !DKIMTagList.isFWS($0) }.prefix(8), as: UTF8.self)
        guard let signature = DKIMTagList.base64(b), !signature.isEmpty else { throw .syntax("b= is not base64") }
        self.signature = signature
        guard let bodyHash = DKIMTagList.base64(try required("bh")) else { throw .syntax("bh= is not base64") }
        self.bodyHash = bodyHash
        let c = (tags["c"] ?? "simple/simple").lowercased()
        let slash = c.utf8.firstIndex(of: UInt8(ascii: "/"))
        guard let header = DKIMCanonicalization(rawValue: String(c[..<(slash ?? c.endIndex)])),
            let body = DKIMCanonicalization(rawValue: slash.map { String(c[c.utf8.index(after: $0)...]) } ?? "simple")
        else { throw .syntax("c=\(tags["c"] ?? "") is not a canonicalization") }
        self.headerCanonicalization = header
        self.bodyCanonicalization = body
        var d = try required("d").lowercased()
        while d.hasSuffix(".") { d.removeLast() }
        guard DKIMSigner.isValidDNSName(d) else { throw .syntax("d=\(d) is not a domain") }
        self.domain = d
        let s = try required("s").lowercased()
        guard DKIMSigner.isValidDNSName(s) else { throw .syntax("s=\(s) is not a selector") }
        self.selector = s
        self.signedHeaders = DKIMTagList.withoutFWS(try required("h")).utf8.split(separator: .colon).map { String(decoding: $0, as: UTF8.self) }
        guard signedHeaders.contains(where: { $0.utf8.count == 4 && $0.lowercased() == "from" }) else {
            throw .syntax("h= does not sign From (RFC 6376 §5.4)")
        }
        self.identity = arc ? "@\(d)" : tags["i"] ?? "@\(d)"
        if let at = identity.utf8.lastIndex(of: UInt8(ascii: "@")) {
            let idDomain = String(decoding: identity.utf8[identity.utf8.index(after: at)...], as: UTF8.self).lowercased()
            guard idDomain == d || idDomain.hasSuffix("." + d) else {
                throw .syntax("i=\(identity) is not in d=\(d) or a subdomain of it")
            }
        } else {
            throw .syntax("i=\(identity) has no @")
        }
        if let l = tags["l"] {
            guard let n = Int(l), n >= 0, l.count <= 76 else { throw .syntax("l=\(l) is not a length") }
            self.bodyLength = n
        }
        if let q = tags["q"] {
            let methods = q.lowercased().utf8.split(separator: .colon)
            guard methods.contains(where: { $0.starts(with: "dns/txt".utf8) }) else {
                throw .unsupported("the query method q=\(q)")
            }
        }
        if let t = tags["t"] {
            guard let n = Int64(t), n >= 0 else { throw .syntax("t=\(t) is not a time") }
            self.timestamp = n
        }
        if let x = tags["x"] {
            guard let n = Int64(x), n >= 0 else { throw .syntax("x=\(x) is not a time") }
            self.expiration = n
            if let t = timestamp, n < t { throw .syntax("x= is before t=") }
        }
    }

    /// The DNS name of the key record: `s._domainkey.d`.
    public var keyName: String { "\(selector)._domainkey.\(domain)" }
}

/// A DKIM public key record (RFC 6376 §3.6.1, RFC 8463 §4).
public struct DKIMPublicKeyRecord: Sendable {
    public var keyType: String
    /// The decoded `p=`; empty when the key was revoked.
    public var publicKey: [UInt8]
    /// `h=`: acceptable hash algorithms, nil for any.
    public var hashAlgorithms: [String]?
    /// `t=y`: the domain is testing DKIM.
    public var testing: Bool
    /// `t=s`: `i=` must be in exactly `d=`, not a subdomain.
    public var strict: Bool
    public var serviceTypes: [String]

    public init(_ text: String) throws(DKIMVerifyError) {
        let tags = try DKIMTagList(text)
        if let v = tags["v"] {
            guard v == "DKIM1", tags.tags.first?.name == "v" else { throw .syntax("v=\(v) in the key record is not DKIM1 first") }
        }
        self.keyType = (tags["k"] ?? "rsa").lowercased()
        guard let p = tags["p"] else { throw .syntax("the key record has no p=") }
        guard let key = DKIMTagList.base64(p) else { throw .syntax("p= is not base64") }
        self.publicKey = key
        self.hashAlgorithms = tags["h"].map { DKIMTagList.withoutFWS($0).lowercased().split(separator: ":").map(String.init) }
        let flags = (tags["t"] ?? "").lowercased().split(separator: ":").map { DKIMTagList.trimFWS($0) }
        self.testing = flags.contains("y")
        self.strict = flags.contains("s")
        self.serviceTypes = (tags["s"] ?? "*").lowercased().split(separator: ":").map { String(DKIMTagList.trimFWS($0)) }
    }
}

/// Why a signature could not be checked.
public enum DKIMVerifyError: Error, Hashable, Sendable, CustomStringConvertible {
    case syntax(String)
    case unsupported(String)

    public var description: String {
        switch self {
        case .syntax(let why): why
        case .unsupported(let what): "\(what) is not supported"
        }
    }
}
