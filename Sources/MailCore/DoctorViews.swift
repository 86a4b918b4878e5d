import Foundation

// What `mailroom doctor` and `mailroom dns records` answer: plain values, written once here,
// that the admin API sends as JSON as they are (AdminModels re-exports MailCore) and the CLI
// and the console read.

/// One DNS record to publish for a domain, as a zone file would hold it.
public struct DNSRecordView: Codable, Sendable, Hashable {
    /// The owner name with a trailing dot (`_dmarc.example.org.`), or a placeholder in angle
    /// brackets when it depends on something Mailroom cannot know (`<your outbound address>`).
    public var name: String
    public var type: String
    /// The record data as a zone file writes it (TXT in quoted strings).
    public var value: String
    /// What it is for, in a few words.
    public var purpose: String
    public init(name: String, type: String, value: String, purpose: String) {
        self.name = name
        self.type = type
        self.value = value
        self.purpose = purpose
    }
}

/// One thing `mailroom doctor` checked.
public struct DoctorFinding: Codable, Sendable, Hashable {
    /// The domain it is about, or nil for the server itself.
    public var domain: String?
    /// A short name: `mx`, `spf`, `dkim`, `dmarc`, `ptr`, `certificate`, `listener`, …
    public var check: String
    /// `ok`, `warning` or `error`.
    public var status: String
    public var detail: String
    /// What to do about it (nil when it is fine).
    public var fix: String?
    public init(domain: String?, check: String, status: String, detail: String, fix: String? = nil) {
        self.domain = domain
        self.check = check
        self.status = status
        self.detail = detail
        self.fix = fix
    }
}
