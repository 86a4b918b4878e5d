import EmailAuth
import Foundation
import Testing

/// RFC 8463 Appendix A: a message signed with an Ed25519 and an RSA key (t=1528637909).
/// Both algorithms are deterministic (Ed25519 by design, RSASSA-PKCS1-v1_5 always), so signing the
/// same field text with the same keys must give the RFC's b= byte for byte.
@Suite("RFC 8463 Appendix A")
struct RFC8463Tests {
    static let ed25519Seed = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
    static let ed25519PublicKey = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    static let rsaPrivateKey = """
        -----BEGIN RSA PRIVATE KEY-----
        MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi
        Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM
        KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB
        AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm
        6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe
        zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy
        6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc
        uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy
        WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd
        WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a
        licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst
        o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe
        uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL
        -----END RSA PRIVATE KEY-----
        """
    static let rsaPublicKey = """
        MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi\
        Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZy\
        VYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB
        """
    static let message = """
        From: Joe SixPack <joe@football.example.com>\r
        To: Suzie Q <suzie@shopping.example.net>\r
        Subject: Is dinner ready?\r
        Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r
        Message-ID: <20030712040037.46341.5F8J@football.example.com>\r
        \r
        Hi.\r
        \r
        We lost the game.  Are you hungry yet?\r
        \r
        Joe.\r

        """
    static let signedNames = ["from", "to", "subject", "date", "message-id", "from", "subject", "date"]
    static let bodyHash = "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="

    @Test func bodyHash() {
        #expect(DKIMSigner.bodyHash(of: DKIMMessage(Array(Self.message.utf8))) == Self.bodyHash)
    }

    @Test func ed25519KeyFromSeed() throws {
        let key = try DKIMKey(ed25519Seed: try #require(Data(base64Encoded: Self.ed25519Seed)))
        #expect(key.publicKeyBase64 == Self.ed25519PublicKey)
        #expect(key.dnsRecord == "v=DKIM1; k=ed25519; p=\(Self.ed25519PublicKey)")
        let again = try DKIMKey(algorithm: .ed25519, privateKeyPEM: key.privateKeyPEM)
        #expect(again.publicKeyBase64 == Self.ed25519PublicKey)
    }

    @Test func ed25519Signature() throws {
        let key = try DKIMKey(ed25519Seed: try #require(Data(base64Encoded: Self.ed25519Seed)))
        let field = """
            DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r
             d=football.example.com; i=@football.example.com;\r
             q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r
             subject : date : message-id : from : subject : date;\r
             bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r
             b=
            """
        let b = DKIMSigner.signatureValue(
            unsignedField: field, signedHeaderNames: Self.signedNames,
            message: DKIMMessage(Array(Self.message.utf8)), key: key)
        #if canImport(Darwin)
            // CryptoKit's Ed25519 signatures are randomised; the RFC value is checked on Linux (BoringSSL).
            #expect(b.count == 88)
        #else
            #expect(b == "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==")
        #endif
    }

    @Test func rsaSignature() throws {
        let key = try DKIMKey(algorithm: .rsa2048, privateKeyPEM: Self.rsaPrivateKey)
        #expect(key.keySizeInBits == 1024)
        #expect(key.publicKeyBase64 == Self.rsaPublicKey)
        let field = """
            DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r
             d=football.example.com; i=@football.example.com;\r
             q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r
             date : message-id : from : subject : date;\r
             bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r
             b=
            """
        let b = DKIMSigner.signatureValue(
            unsignedField: field, signedHeaderNames: Self.signedNames,
            message: DKIMMessage(Array(Self.message.utf8)), key: key)
        #expect(
            b == """
                F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGd\
                aSGsgeefOsk2JzdA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=
                """)
    }
}
