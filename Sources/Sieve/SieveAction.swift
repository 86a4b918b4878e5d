import Foundation

/// What the delivery path gives a run besides the message: the SMTP envelope, the account's
/// addresses, a clock and the closures behind mailboxexists, duplicate and include.
public struct SieveContext: Sendable {
    /// MAIL FROM without angle brackets ("" for the null reverse-path).
    public var envelopeFrom: String
    /// The RCPT TO address this delivery is for.
    public var envelopeTo: String
    /// The authenticated submitter, if any (envelope "auth").
    public var envelopeAuth: String?
    /// The account's own addresses (its address and aliases): vacation answers only mail
    /// addressed to one of them, and never one of them.
    public var accountAddresses: [String]
    public var now: Date
    /// The zone dates are shown in unless a script names one (minutes east of UTC).
    public var timeZoneMinutes: Int
    /// Whether a mailbox exists (RFC 5490 mailboxexists).
    public var mailboxExists: @Sendable (String) -> Bool
    /// Whether a message with this id was seen under this handle within the period
    /// (RFC 7352). Recording it once delivered is the caller's job.
    public var isDuplicate: @Sendable (SieveDuplicateCheck) -> Bool
    /// The text of a script to include (RFC 6609), or nil when there is none by that name.
    public var includeScript: @Sendable (_ name: String, _ global: Bool) -> String?

    public init(
        envelopeFrom: String, envelopeTo: String, envelopeAuth: String? = nil, accountAddresses: [String] = [],
        now: Date = Date(), timeZoneMinutes: Int = 0,
        mailboxExists: @escaping @Sendable (String) -> Bool = { $0.uppercased() == "INBOX" },
        isDuplicate: @escaping @Sendable (SieveDuplicateCheck) -> Bool = { _ in false },
        includeScript: @escaping @Sendable (String, Bool) -> String? = { _, _ in nil }
    ) {
        self.envelopeFrom = envelopeFrom
        self.envelopeTo = envelopeTo
        self.envelopeAuth = envelopeAuth
        self.accountAddresses = accountAddresses
        self.now = now
        self.timeZoneMinutes = timeZoneMinutes
        self.mailboxExists = mailboxExists
        self.isDuplicate = isDuplicate
        self.includeScript = includeScript
    }
}

/// One duplicate test's question (RFC 7352 §3).
public struct SieveDuplicateCheck: Hashable, Sendable {
    /// The `:handle`, "" when none was given.
    public var handle: String
    /// The Message-ID (or the `:header`'s value, or the `:uniqueid`).
    public var uniqueID: String
    /// How long an id is remembered (`:seconds`, default 7 days).
    public var seconds: Int64
    /// `:last`: the period counts from the last time it was seen, not the first.
    public var last: Bool
}

/// What a run asks the delivery path to do.
public enum SieveAction: Hashable, Sendable {
    /// Store in INBOX (explicit `keep`, or the implicit keep), with IMAP flags.
    case keep(flags: [String])
    case fileinto(mailbox: String, flags: [String], copy: Bool, create: Bool)
    case redirect(address: String, copy: Bool)
    /// Refuse the message: `ereject` asks for an SMTP-level refusal when still possible.
    case reject(reason: String, extended: Bool)
    case discard
    /// An auto-reply; whether to send it (rate, list mail, own addresses) is decided by the caller.
    case vacation(SieveVacation)
}

/// The parameters of a vacation action (RFC 5230 §4, RFC 6131).
public struct SieveVacation: Hashable, Sendable {
    public var reason: String
    public var subject: String?
    public var from: String?
    /// `:addresses`: more of the user's addresses.
    public var addresses: [String]
    /// `:mime`: the reason is a MIME entity, headers included.
    public var mime: Bool
    /// Replies under the same handle count as one for the period.
    public var handle: String
    /// Do not reply to the same sender under this handle again within this many seconds.
    public var seconds: Int64
    /// Who would get the reply: the envelope sender.
    public var recipient: String
    /// Why RFC 5230 §4.5–§4.6 says not to reply to this message (a bounce, list or automatic
    /// mail, the account's own address, or mail not addressed to the account), or nil. The
    /// once-per-period check on `handle` and the sender is left to the caller, which keeps
    /// that history.
    public var refusal: String?
}

/// A header change made by addheader or deleteheader (RFC 5293), in the order made.
public enum SieveHeaderEdit: Hashable, Sendable {
    /// A field added at the top of the header, or at the bottom with `last`. The value is one
    /// line as the script gave it; folding and RFC 2047 encoding are the caller's (RFC 5293 §4).
    case add(name: String, value: String, last: Bool)
    /// The `occurrence`-th field (1-based, from the top) named `name` at that moment, removed.
    case delete(name: String, occurrence: Int)
}

/// The outcome of a run that completed.
public struct SieveResult: Hashable, Sendable {
    /// In the order performed; the implicit keep, if any, last.
    public var actions: [SieveAction]
    /// Whether the last action is the implicit keep (RFC 5228 §2.10.2).
    public var implicitKeep: Bool
    public var headerEdits: [SieveHeaderEdit]
    /// Steps the run took (out of `SieveLimits.maxSteps`).
    public var steps: Int
}
