import MailroomServer
import Testing

@Suite struct ACMEConfigTests {
    @Test func defaults() throws {
        let c = try ServerConfig.parse(
            "hostname = \"mail.example.org\"\n[listeners]\nacme_http = [\"0.0.0.0:80\"]\n[acme]\n", file: "t.toml")
        let acme = try #require(c.acme)
        #expect(acme.directoryURL == ACMESettings.letsEncrypt)
        #expect(acme.names(hostname: c.hostname) == ["mail.example.org"])
        // With a web listener: mta-sts. and autoconfig. of each domain it serves, once each.
        #expect(
            acme.names(hostname: "Mail.example.org", webDomains: ["example.org", "xn--bcher-kva.example", "example.org"]) == [
                "mail.example.org", "mta-sts.example.org", "autoconfig.example.org", "mta-sts.xn--bcher-kva.example",
                "autoconfig.xn--bcher-kva.example",
            ])
        var given = acme
        given.names = ["mail.example.org"]
        #expect(given.names(hostname: "mail.example.org", webDomains: ["example.org"]) == ["mail.example.org"])
        #expect(c.listeners.acmeHTTP.map(\.description) == ["0.0.0.0:80"])
        try c.validate()
        #expect(try ServerConfig.parse("", file: "t.toml").acme == nil)
        #expect(try ServerConfig.parse("", file: "t.toml").listeners.acmeHTTP.isEmpty)
    }

    @Test func everyKey() throws {
        let c = try ServerConfig.parse(
            """
            [acme]
            directory_url = "https://127.0.0.1:14000/dir"
            email = "postmaster@example.org"
            ca_file = "/etc/hostname"
            names = ["Mail.example.org", "mta-sts.example.org"]
            """, file: "t.toml")
        #expect(c.acme?.directoryURL == "https://127.0.0.1:14000/dir")
        #expect(c.acme?.email == "postmaster@example.org")
        #expect(c.acme?.caFile == "/etc/hostname")
        #expect(c.acme?.names == ["mail.example.org", "mta-sts.example.org"])
    }

    @Test(arguments: [
        ("[acme]\ndirectory_url = \"ftp://x\"", "t.toml:2: acme.directory_url: must be the CA's directory URL"),
        ("[acme]\nemail = \"nobody\"", "t.toml:2: acme.email: \"nobody\" is not an address"),
        ("[acme]\nca_file = \"/nonexistent.pem\"", "t.toml:2: acme.ca_file: cannot read /nonexistent.pem"),
        ("[acme]\nnames = []", "t.toml:2: acme.names: must name at least one host"),
        ("[acme]\nnames = [\"*.example.org\"]", "t.toml:2: acme.names: \"*.example.org\" is not a host name"),
        ("[acme]\nrenew = 1", "t.toml:2: unknown key \"acme.renew\""),
        ("[listeners]\nacme_http = [\"80\"]", "t.toml:2: listeners.acme_http: \"80\" is not \"host:port\""),
    ])
    func badValuesNameTheKey(_ text: String, _ message: String) {
        #expect {
            _ = try ServerConfig.parse(text, file: "t.toml")
        } throws: { "\($0)".hasPrefix(message) }
    }

    @Test func acmeNeedsTheHTTPListenerAndNoCertFile() throws {
        let noListener = try ServerConfig.parse("[acme]\n", file: "t.toml")
        #expect { try noListener.validate() } throws: { "\($0)".contains("listeners.acme_http") }
        let both = try ServerConfig.parse(
            "[listeners]\nacme_http = [\"127.0.0.1:80\"]\n[tls]\ncert_file = \"a\"\nkey_file = \"b\"\n[acme]\n",
            file: "t.toml")
        #expect { try both.validate() } throws: { "\($0)".contains("tls.cert_file") }
    }

    /// `challenge`: http-01 by default (needs acme_http), tls-alpn-01 needs the web listener;
    /// `serve --check-config` says which and where the CA connects.
    @Test func challengeChoosesTheListener() throws {
        let http = try ServerConfig.parse(
            "[listeners]\nacme_http = [\"127.0.0.1:80\"]\n[acme]\n", file: "t.toml")
        #expect(http.acme?.challenge == .http01)
        #expect(try ConfigCheck.run(http).contains { $0.hasPrefix("ACME challenge   http-01") })

        let alpn = try ServerConfig.parse(
            "[listeners]\nweb = [\"0.0.0.0:443\"]\n[acme]\nchallenge = \"tls-alpn-01\"\n", file: "t.toml")
        #expect(alpn.acme?.challenge == .tlsALPN01)
        try alpn.validate()
        let lines = try ConfigCheck.run(alpn)
        #expect(lines.contains("ACME challenge   tls-alpn-01, answered on web 0.0.0.0:443"), "\(lines)")

        let elsewhere = try ServerConfig.parse(
            "[listeners]\nweb = [\"127.0.0.1:8443\"]\n[acme]\nchallenge = \"TLS-ALPN-01\"\n", file: "t.toml")
        #expect(try ConfigCheck.run(elsewhere).contains { $0.contains("forward 443 to it") })
        let adminThere = try ServerConfig.parse(
            "[listeners]\nweb = [\"127.0.0.1:8443\"]\nadmin = [\"127.0.0.1:443\"]\n[acme]\nchallenge = \"tls-alpn-01\"\n",
            file: "t.toml")
        #expect(try ConfigCheck.run(adminThere).contains { $0.contains("listeners.admin is on 443") })

        let noWeb = try ServerConfig.parse(
            "[listeners]\nacme_http = [\"127.0.0.1:80\"]\n[acme]\nchallenge = \"tls-alpn-01\"\n", file: "t.toml")
        #expect { try noWeb.validate() } throws: { "\($0)".contains("needs listeners.web") }
        #expect { _ = try ConfigCheck.run(noWeb) } throws: { "\($0)".contains("needs listeners.web") }

        #expect {
            _ = try ServerConfig.parse("[acme]\nchallenge = \"dns-01\"", file: "t.toml")
        } throws: {
            "\($0)".hasPrefix("t.toml:2: acme.challenge: \"dns-01\" is not a challenge Mailroom answers")
        }
    }

    @Test func backoffDoublesUpToTheCap() {
        let a = ACMESettings()
        #expect([1, 2, 3, 10].map { a.backoff(failures: $0) } == [300, 600, 1200, 6 * 3600])
    }
}
