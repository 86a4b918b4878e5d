import MailroomServer
import Testing

/// `[listeners] web` and `[web]` in mailroom.toml.
@Suite struct WebConfigTests {
    @Test func defaultsAndKeys() throws {
        let none = try ServerConfig.parse("", file: "t.toml")
        #expect(none.listeners.web.isEmpty)
        #expect(none.mtaSTSMaxAge == 604800)
        let c = try ServerConfig.parse(
            "[listeners]\nweb = [\"0.0.0.0:443\", \"[::]:443\"]\n[web]\nmta_sts_max_age = \"14d\"\n", file: "t.toml")
        #expect(c.listeners.web.map(\.description) == ["0.0.0.0:443", "[::]:443"])
        #expect(c.mtaSTSMaxAge == 14 * 86400)
        #expect(try ServerConfig.parse("[web]\nmta_sts_max_age = 86400\n", file: "t.toml").mtaSTSMaxAge == 86400)
    }

    @Test(arguments: [
        ("[web]\nmta_sts_max_age = \"1h\"\n", "t.toml:2: web.mta_sts_max_age: must be from \"1d\" to \"365d\""),
        ("[web]\nmta_sts_max_age = \"400d\"\n", "t.toml:2: web.mta_sts_max_age: must be from \"1d\" to \"365d\""),
        ("[web]\nmta_sts_max_age = \"soon\"\n", "t.toml:2: web.mta_sts_max_age: must be a duration"),
        ("[web]\nport = 443\n", "t.toml:2: unknown key \"web.port\""),
        ("[listeners]\nweb = \"0.0.0.0:443\"\n", "t.toml:2: listeners.web: must be a list"),
    ])
    func badValuesNameTheKey(_ text: String, _ message: String) {
        #expect(throws: ConfigError.self) { try ServerConfig.parse(text, file: "t.toml") }
        do {
            _ = try ServerConfig.parse(text, file: "t.toml")
        } catch {
            #expect("\(error)".hasPrefix(message), "\(error)")
        }
    }
}
