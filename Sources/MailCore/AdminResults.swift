import Foundation

// What the delivery side's admin operations return (moderation, quarantine, backups, mailbox
// import and export): plain values, written once here, that the admin API sends as JSON as
// they are (AdminModels re-exports MailCore) and the CLI and the console read.

/// A list message held for a moderator.
public struct HeldView: Codable, Sendable, Hashable {
    public var id: Int64
    public var list: String
    public var sender: String
    public var subject: String
    public var size: Int
    public var queueId: String
    public var heldAt: Date
    public init(id: Int64, list: String, sender: String, subject: String, size: Int, queueId: String, heldAt: Date) {
        self.id = id
        self.list = list
        self.sender = sender
        self.subject = subject
        self.size = size
        self.queueId = queueId
        self.heldAt = heldAt
    }
}

/// What a moderator's decision did (`action` is "approved" or "rejected").
public struct ModerationResult: Codable, Sendable, Hashable {
    public var id: Int64
    public var action: String
    /// Final recipients the message went to (0 when rejected).
    public var recipients: Int
    public init(id: Int64, action: String, recipients: Int) {
        self.id = id
        self.action = action
        self.recipients = recipients
    }
}

/// A message held in quarantine by the inbound checks.
public struct QuarantineView: Codable, Sendable, Hashable {
    public var id: Int64
    public var queueId: String
    public var messageId: String?
    public var sender: String
    public var recipients: [String]
    public var subject: String
    public var size: Int
    /// Why it was held ("score 11.5").
    public var reason: String
    /// What the checks found (SPF, DKIM, DMARC, the score and its rules).
    public var checks: String?
    public var clientIp: String?
    public var heldAt: Date
    public init(
        id: Int64, queueId: String, messageId: String?, sender: String, recipients: [String], subject: String,
        size: Int, reason: String,
        checks: String?, clientIp: String?, heldAt: Date
    ) {
        self.id = id
        self.queueId = queueId
        self.messageId = messageId
        self.sender = sender
        self.recipients = recipients
        self.subject = subject
        self.size = size
        self.reason = reason
        self.checks = checks
        self.clientIp = clientIp
        self.heldAt = heldAt
    }
}

/// A quarantined message with its full text.
public struct QuarantineMessageView: Codable, Sendable, Hashable {
    public var entry: QuarantineView
    public var message: String
    public init(entry: QuarantineView, message: String) {
        self.entry = entry
        self.message = message
    }
}

/// What happened to a quarantined message: the same answer as for a held list message
/// (`action` is "released" or "deleted").
public typealias QuarantineResult = ModerationResult

/// One backup in a backup folder (`mailroom backup create|list`).
public struct BackupView: Codable, Sendable, Hashable {
    /// The backup's folder name in the backup folder (its UTC time, `20261203T145500Z`).
    public var name: String
    public var createdAt: Date
    public var databaseBytes: Int
    /// Message files it names; how many were copied now, and how many an earlier backup in the
    /// same folder held already.
    public var files: Int
    public var filesCopied: Int
    public var filesReused: Int

    public init(name: String, createdAt: Date, databaseBytes: Int, files: Int, filesCopied: Int, filesReused: Int) {
        self.name = name
        self.createdAt = createdAt
        self.databaseBytes = databaseBytes
        self.files = files
        self.filesCopied = filesCopied
        self.filesReused = filesReused
    }
}

/// What an import or export did, folder by folder.
public struct MailboxTransferView: Codable, Sendable, Hashable {
    public struct Folder: Codable, Sendable, Hashable {
        public var name: String
        public var messages: Int
        public init(name: String, messages: Int) {
            self.name = name
            self.messages = messages
        }
    }
    /// A message that was not imported, and why; the others were.
    public struct Refused: Codable, Sendable, Hashable {
        public var folder: String
        /// The file (Maildir) or the message's number in the file, from 1 (mbox).
        public var item: String
        public var reason: String
        public init(folder: String, item: String, reason: String) {
            self.folder = folder
            self.item = item
            self.reason = reason
        }
    }
    public var format: String
    public var folders: [Folder]
    public var refused: [Refused]
    public init(format: String, folders: [Folder], refused: [Refused]) {
        self.format = format
        self.folders = folders
        self.refused = refused
    }
}
