import NIOSSL

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
}
