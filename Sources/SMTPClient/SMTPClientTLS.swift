import NIOSSL
import Synchronization

/// TLS configurations for outbound connections.
public enum SMTPClientTLS {
    /// Verifies the server's certificate: it must chain to the system's trusted CAs, or to the
    /// certificates in `caFile` (PEM) when given, and name the host connected to (its DNS name,
    /// or the IP address for a host given as an address).
    public static func verifying(caFile: String?) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        if let caFile { configuration.trustRoots = .file(caFile) }
        return configuration
    }

    /// The TLS context for a configuration, made once: a verifying one reads the system's CA
    /// bundle, which is too slow to do for every connection. Few configurations are in use
    /// (one per policy and CA file), so a short list is searched.
    static func context(for configuration: TLSConfiguration) throws -> NIOSSLContext {
        if let known = contexts.withLock({ $0.first { $0.0.bestEffortEquals(configuration) }?.1 }) { return known }
        let made = try NIOSSLContext(configuration: configuration)
        contexts.withLock { list in
            if list.count >= 16 { list.removeFirst() }
            list.append((configuration, made))
        }
        return made
    }

    private static let contexts = Mutex<[(TLSConfiguration, NIOSSLContext)]>([])
}
