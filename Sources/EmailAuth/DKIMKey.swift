import Crypto
import CryptoExtras
import Foundation

/// A DKIM private key with what is published for it in DNS.
///
/// ```swift
/// let key = DKIMKey.generate(.ed25519)
/// print(key.dnsZoneLine(domain: "example.org", selector: "mail2026"))
/// // mail2026._domainkey.example.org. IN TXT ( "v=DKIM1; k=ed25519; p=..." )
/// ```
public struct DKIMKey: Sendable {
    enum Backing: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    public let algorithm: DKIMAlgorithm
    let backing: Backing

    init(backing: Backing) {
        self.backing = backing
        switch backing {
        case .rsa: self.algorithm = .rsa2048
        case .ed25519: self.algorithm = .ed25519
        }
    }

    /// A new random key: RSA 2048 bits, or Ed25519.
    public static func generate(_ algorithm: DKIMAlgorithm) -> DKIMKey {
        switch algorithm {
        case .rsa2048:
            do {
                return DKIMKey(backing: .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048)))
            } catch {
                preconditionFailure("BoringSSL could not generate an RSA-2048 key: \(error)")
            }
        case .ed25519:
            return DKIMKey(backing: .ed25519(Curve25519.Signing.PrivateKey()))
        }
    }

    /// Reads a stored key: PKCS#8 PEM (`BEGIN PRIVATE KEY`) for both kinds, or PKCS#1 PEM
    /// (`BEGIN RSA PRIVATE KEY`, as `opendkim-genkey` writes) for RSA. RSA keys of 1024 bits and
    /// more are accepted so that existing keys keep working; new keys are 2048 bits.
    public init(algorithm: DKIMAlgorithm, privateKeyPEM: String) throws {
        switch algorithm {
        case .rsa2048:
            guard !privateKeyPEM.contains("ENCRYPTED") else {
                throw DKIMError.invalidPrivateKey(algorithm: algorithm, reason: "the key is encrypted")
            }
            let key: _RSA.Signing.PrivateKey
            do {
                key = try _RSA.Signing.PrivateKey(unsafePEMRepresentation: privateKeyPEM)
            } catch {
                // The unsafe initialiser refuses keys below 1024 bits with the same error as
                // garbage; report the size when the PEM is otherwise an RSA key.
                throw DKIMError.invalidPrivateKey(algorithm: algorithm, reason: "\(error)")
            }
            guard key.keySizeInBits >= 1024 else { throw DKIMError.rsaKeyTooSmall(bits: key.keySizeInBits) }
            self.init(backing: .rsa(key))
        case .ed25519:
            do {
                self.init(backing: .ed25519(try Curve25519.Signing.PrivateKey(pemRepresentation: privateKeyPEM)))
            } catch {
                throw DKIMError.invalidPrivateKey(algorithm: algorithm, reason: "\(error)")
            }
        }
    }

    /// An Ed25519 key from its 32-byte seed (the form RFC 8463 §A.2 prints).
    public init(ed25519Seed seed: some DataProtocol) throws {
        do {
            self.init(backing: .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: Array(seed))))
        } catch {
            throw DKIMError.invalidPrivateKey(algorithm: .ed25519, reason: "a seed has 32 bytes")
        }
    }

    /// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), for the key store.
    public var privateKeyPEM: String {
        switch backing {
        case .rsa(let key): key.pkcs8PEMRepresentation
        case .ed25519(let key): key.pemRepresentation
        }
    }

    /// The `p=` value: base64 of the SubjectPublicKeyInfo DER for RSA (RFC 6376 §3.6.1), of the
    /// raw 32-byte public key for Ed25519 (RFC 8463 §4.2).
    public var publicKeyBase64: String {
        switch backing {
        case .rsa(let key): key.publicKey.derRepresentation.base64EncodedString()
        case .ed25519(let key): key.publicKey.rawRepresentation.base64EncodedString()
        }
    }

    /// RSA modulus size in bits, or 256 for Ed25519.
    public var keySizeInBits: Int {
        switch backing {
        case .rsa(let key): key.keySizeInBits
        case .ed25519: 256
        }
    }

    /// The TXT record to publish at `<selector>._domainkey.<domain>`:
    /// `v=DKIM1; k=rsa; p=...` or `v=DKIM1; k=ed25519; p=...`.
    public var dnsRecord: String {
        "v=DKIM1; k=\(algorithm.keyType); p=\(publicKeyBase64)"
    }

    /// The DNS name the record is published at, with a trailing dot.
    public static func dnsName(domain: String, selector: String) -> String {
        var domain = domain.lowercased()
        while domain.hasSuffix(".") { domain.removeLast() }
        return "\(selector.lowercased())._domainkey.\(domain)."
    }

    /// A zone-file line for the record, e.g.
    /// `sel._domainkey.example.org. IN TXT ( "v=DKIM1; k=rsa; p=MIIB..." "...IDAQAB" )`.
    /// A TXT character-string holds at most 255 bytes (RFC 1035 §3.3), so a 2048-bit RSA record
    /// is split into several strings, which verifiers concatenate (RFC 6376 §3.6.2.2).
    public func dnsZoneLine(domain: String, selector: String) -> String {
        let strings = Self.characterStrings(dnsRecord).map { "\"\($0)\"" }.joined(separator: " ")
        return "\(Self.dnsName(domain: domain, selector: selector)) IN TXT ( \(strings) )"
    }

    /// Splits text into zone-file character-strings of at most 255 bytes, escaping `"` and `\`.
    static func characterStrings(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        var currentBytes = 0
        for character in text {
            let byteCount = character.utf8.count
            if currentBytes + byteCount > 255 {
                result.append(current)
                current = ""
                currentBytes = 0
            }
            current += (character == "\"" || character == "\\") ? "\\\(character)" : String(character)
            currentBytes += byteCount
        }
        if !current.isEmpty || result.isEmpty { result.append(current) }
        return result
    }

    /// Signs the data DKIM hashes (RFC 6376 §3.7): RSASSA-PKCS1-v1_5 over SHA-256, or Ed25519
    /// over the SHA-256 digest (RFC 8463 §3, "PureEdDSA" of the hash).
    func sign(_ data: [UInt8]) -> [UInt8] {
        let digest = SHA256.hash(data: data)
        do {
            switch backing {
            case .rsa(let key):
                // Without `padding:` swift-crypto signs with PSS, which DKIM verifiers reject.
                return Array(try key.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation)
            case .ed25519(let key):
                return Array(try key.signature(for: Array(digest)))
            }
        } catch {
            preconditionFailure("signing with a valid \(algorithm.rawValue) key failed: \(error)")
        }
    }
}
