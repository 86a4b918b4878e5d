import Crypto
import Foundation

/// An Apple configuration profile (an unsigned property list) with one `com.apple.mail.managed`
/// payload: the preferred IMAP and submission endpoints, logging in with the whole address; the
/// password is asked for on the device. Identifiers are derived from the host name and the
/// address, so that installing a profile again replaces the earlier one.
enum AppleProfile {
    static let contentType = "application/x-apple-aspen-config"

    static func document(address: String, settings: ClientSettings) -> String {
        let host = settings.hostname.lowercased()
        let reversed = host.split(separator: ".").reversed().joined(separator: ".")
        func server(_ prefix: String, _ e: ClientSettings.Endpoint?) -> String {
            guard let e else { return "" }
            // UseSSL is TLS either way: from the first byte on the implicit-TLS ports, by
            // STARTTLS on the others.
            return """
                      <key>\(prefix)MailServerAuthentication</key>
                      <string>EmailAuthPassword</string>
                      <key>\(prefix)MailServerHostName</key>
                      <string>\(xmlEscaped(host))</string>
                      <key>\(prefix)MailServerPortNumber</key>
                      <integer>\(e.port)</integer>
                      <key>\(prefix)MailServerUseSSL</key>
                      <true/>
                      <key>\(prefix)MailServerUsername</key>
                      <string>\(xmlEscaped(address))</string>

                """
        }
        let a = xmlEscaped(address)
        let head = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <plist version="1.0">
            <dict>
              <key>PayloadContent</key>
              <array>
                <dict>
                  <key>EmailAccountDescription</key>
                  <string>\(a)</string>
                  <key>EmailAccountType</key>
                  <string>EmailTypeIMAP</string>
                  <key>EmailAddress</key>
                  <string>\(a)</string>

            """
        let tail = """
                  <key>OutgoingPasswordSameAsIncomingPassword</key>
                  <true/>
                  <key>PayloadDescription</key>
                  <string>The mail account \(a) on \(xmlEscaped(host))</string>
                  <key>PayloadDisplayName</key>
                  <string>\(a)</string>
                  <key>PayloadIdentifier</key>
                  <string>\(xmlEscaped(reversed)).mailroom.account.\(uuid(host, address, "account"))</string>
                  <key>PayloadType</key>
                  <string>com.apple.mail.managed</string>
                  <key>PayloadUUID</key>
                  <string>\(uuid(host, address, "account"))</string>
                  <key>PayloadVersion</key>
                  <integer>1</integer>
                </dict>
              </array>
              <key>PayloadDisplayName</key>
              <string>Mail: \(a)</string>
              <key>PayloadIdentifier</key>
              <string>\(xmlEscaped(reversed)).mailroom.profile.\(uuid(host, address, "profile"))</string>
              <key>PayloadRemovalDisallowed</key>
              <false/>
              <key>PayloadType</key>
              <string>Configuration</string>
              <key>PayloadUUID</key>
              <string>\(uuid(host, address, "profile"))</string>
              <key>PayloadVersion</key>
              <integer>1</integer>
            </dict>
            </plist>

            """
        return [head, server("Incoming", settings.imap.first), server("Outgoing", settings.submission.first), tail]
            .joined()
    }

    /// A UUID (version 5 layout) from SHA-256 of the parts: the same for the same account.
    static func uuid(_ parts: String...) -> String {
        var b = Array(SHA256.hash(data: Array(parts.joined(separator: "\n").utf8)).prefix(16))
        b[6] = (b[6] & 0x0F) | 0x50
        b[8] = (b[8] & 0x3F) | 0x80
        return UUID(
            uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
        ).uuidString
    }
}
