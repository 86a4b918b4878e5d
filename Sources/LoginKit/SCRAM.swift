import Crypto
import Foundation

/// What the server keeps for SCRAM-SHA-256 (RFC 5802, RFC 7677): never the password.
public struct SCRAMCredentials: Sendable, Hashable {
    public var salt: [UInt8]
    public var iterations: Int
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]

    public init(salt: [UInt8], iterations: Int, storedKey: [UInt8], serverKey: [UInt8]) {
        self.salt = salt
        self.iterations = iterations
        self.storedKey = storedKey
        self.serverKey = serverKey
    }
}

/// The server side of one SCRAM-SHA-256 exchange, without channel binding.
///
/// ```
/// C: n,,n=user,r=<cnonce>
/// S: r=<cnonce><snonce>,s=<salt>,i=<iterations>
/// C: c=biws,r=<cnonce><snonce>,p=<proof>
/// S: v=<server signature>
/// ```
public struct SCRAMServer {
    public enum Step {
        case challenge(String)
        case success(user: String, serverFinal: String)
        case failure(user: String?)
    }

    private var user = ""
    private var gs2Header = ""
    private var clientFirstBare = ""
    private var serverFirst = ""
    private var nonce = ""
    private var credentials: SCRAMCredentials?

    /// client-first-message = gs2-header client-first-message-bare
    public init() {}

    public mutating func start(_ message: String, lookup: (String) -> SCRAMCredentials?) -> Step {
        let parts = message.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "n" || parts[0] == "y" else { return .failure(user: nil) }
        // a= (authzid), if given, must be the user itself.
        gs2Header = "\(parts[0]),\(parts[1]),"
        clientFirstBare = String(parts[2])
        let attrs = Self.attributes(clientFirstBare)
        guard let name = attrs["n"], let cnonce = attrs["r"], !cnonce.isEmpty, let decoded = Self.saslName(name) else {
            return .failure(user: nil)
        }
        if !parts[1].isEmpty {
            guard parts[1].hasPrefix("a="), Self.saslName(String(parts[1].dropFirst(2))) == decoded else { return .failure(user: decoded) }
        }
        user = decoded
        var random = [UInt8](repeating: 0, count: 18)
        var rng = SystemRandomNumberGenerator()
        for i in random.indices { random[i] = rng.next() }
        nonce = cnonce + Data(random).base64EncodedString()
        // An unknown user gets a made-up salt (the same each time), so the answer does not
        // tell which users exist; the proof then fails.
        credentials = lookup(decoded)
        let salt = credentials?.salt ?? Array(SHA256.hash(data: Array("mailroom-scram-\(decoded)".utf8)).prefix(16))
        let iterations = credentials?.iterations ?? 4096
        serverFirst = "r=\(nonce),s=\(Data(salt).base64EncodedString()),i=\(iterations)"
        return .challenge(serverFirst)
    }

    /// client-final-message = channel-binding "," nonce ["," extensions] "," proof
    public mutating func finish(_ message: String) -> Step {
        guard let proofRange = message.range(of: ",p=", options: .backwards) else { return .failure(user: user) }
        let withoutProof = String(message[..<proofRange.lowerBound])
        let attrs = Self.attributes(withoutProof)
        guard attrs["c"] == Data(gs2Header.utf8).base64EncodedString(), attrs["r"] == nonce,
            let proof = Data(base64Encoded: String(message[proofRange.upperBound...])), proof.count == 32,
            let creds = credentials
        else { return .failure(user: user) }
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let clientSignature = Array(HMAC<SHA256>.authenticationCode(for: authMessage, using: SymmetricKey(data: creds.storedKey)))
        let clientKey = zip(proof, clientSignature).map { $0 ^ $1 }
        let computed = Array(SHA256.hash(data: clientKey))
        var diff: UInt8 = 0
        for (a, b) in zip(computed, creds.storedKey) { diff |= a ^ b }
        guard diff == 0, computed.count == creds.storedKey.count else { return .failure(user: user) }
        let serverSignature = HMAC<SHA256>.authenticationCode(for: authMessage, using: SymmetricKey(data: creds.serverKey))
        return .success(user: user, serverFinal: "v=" + Data(serverSignature).base64EncodedString())
    }

    static func attributes(_ s: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in s.split(separator: ",") {
            guard let eq = part.firstIndex(of: "="), part.distance(from: part.startIndex, to: eq) == 1 else { continue }
            out[String(part[..<eq])] = String(part[part.index(after: eq)...])
        }
        return out
    }

    /// saslname: "=2C" is ",", "=3D" is "=", any other "=" is an error (RFC 5802 §5.1).
    static func saslName(_ s: String) -> String? {
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "=" {
                let code = s[s.index(after: i)...].prefix(2)
                if code == "2C" { out.append(",") } else if code == "3D" { out.append("=") } else { return nil }
                i = s.index(i, offsetBy: 3)
            } else {
                out.append(s[i])
                i = s.index(after: i)
            }
        }
        return out.isEmpty ? nil : out
    }
}
