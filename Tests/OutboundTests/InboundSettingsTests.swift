import Filtering
import Foundation
import SMTPServer
import Testing

@testable import MailroomServer

/// `[inbound]`, `[spam]` and `[antivirus]` in mailroom.toml.
@Suite struct InboundSettingsTests {
    @Test func defaultsCheckEverythingAndScanNothing() throws {
        let c = try ServerConfig.parse("", file: "t.toml")
        #expect(c.inbound.spf && c.inbound.dkim && c.inbound.dmarc && c.inbound.dmarcReject && c.inbound.protectOwnDomains)
        #expect(c.inbound.dnsbl.isEmpty)
        #expect(c.inbound.thresholds == SpamThresholds(junk: 5, quarantine: nil, reject: 12))
        #expect(c.inbound.rspamd == nil && c.inbound.clamd == nil)
    }

    @Test func everyKey() throws {
        let c = try ServerConfig.parse(
            """
            [inbound]
            spf = false
            dmarc_reject = false
            protect_own_domains = false
            dnsbl = ["Zen.Spamhaus.org", "bl.example.net"]

            [spam]
            rspamd_url = "http://127.0.0.1:11333"
            junk_score = 6.5
            quarantine_score = 9
            reject_score = "off"

            [spam.domains."example.org"]
            junk_score = 3

            [antivirus]
            clamd = "unix:/run/clamav/clamd.ctl"
            """, file: "t.toml")
        #expect(!c.inbound.spf && c.inbound.dkim && !c.inbound.dmarcReject && !c.inbound.protectOwnDomains)
        #expect(c.inbound.dnsbl == ["zen.spamhaus.org", "bl.example.net"])
        #expect(c.inbound.rspamd?.port == 11333)
        #expect(c.inbound.thresholds == SpamThresholds(junk: 6.5, quarantine: 9, reject: nil))
        #expect(c.inbound.domainThresholds["example.org"] == SpamThresholds(junk: 3, quarantine: 9, reject: nil))
        #expect(c.inbound.clamd?.address == .unix("/run/clamav/clamd.ctl"))
    }

    @Test(arguments: [
        ("[inbound]\nspam = true", "inbound.spam"),
        ("[inbound]\ndnsbl = [\"not a zone!\"]", "inbound.dnsbl"),
        ("[spam]\nrspamd_url = \"https://x\"", "spam.rspamd_url"),
        ("[spam]\njunk_score = \"high\"", "spam.junk_score"),
        ("[spam.domains.\"example.org\"]\nscore = 1", "spam.domains.example.org.score"),
        ("[antivirus]\nclamd = \"clamd\"", "antivirus.clamd"),
    ])
    func badValuesNameTheirKey(_ text: String, _ key: String) {
        #expect {
            try ServerConfig.parse(text, file: "t.toml")
        } throws: { error in
            "\(error)".contains(key)
        }
    }
}
