import Directory
import Foundation
import MIME
import MailCore
import Storage

/// `mailroom mailbox import|export`: mbox files and Maildirs on the server's machine, read and
/// written by the server itself (as backups are), so nothing large crosses the admin API.
/// Server admins only: the path is the server's, not the caller's.
extension LocalDelivery {
    public func importMailbox(
        _ address: String, path: String, folder: String?, mboxVariant: Mbox.Variant, maxMessageSize: Int,
        actor: AdminActor
    ) throws -> MailboxTransferView {
        let account = try transferAccount(
            address, path: path, actor: actor, what: "import mail from the server's files")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw AdminError.notFound("no_such_path", "\(path) does not exist on the server's machine")
        }
        var sources: [(folder: String, messages: [FileMessage])] = []
        let format: String
        if isDirectory.boolValue {
            format = "maildir"
            guard Self.isMaildir(path) else {
                throw AdminError.invalid(
                    "not_maildir", "\(path) is a folder without cur/ or new/: give a Maildir or an mbox file")
            }
            sources.append((folder ?? "INBOX", try Self.maildirMessages(path)))
            let subfolders = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            for dir in subfolders.sorted() {
                guard let name = Maildir.folderName(directory: dir), Self.isMaildir("\(path)/\(dir)") else { continue }
                sources.append((name, try Self.maildirMessages("\(path)/\(dir)")))
            }
        } else {
            format = "mbox"
            let bytes: [UInt8]
            do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                throw AdminError.invalid("unreadable", "cannot read \(path): \(error.localizedDescription)")
            }
            let messages: [MboxMessage]
            do { messages = try Mbox.parse(bytes, variant: mboxVariant) } catch {
                throw AdminError.invalid("not_mbox", "\(path): \(error)")
            }
            sources.append(
                (
                    folder ?? "INBOX",
                    messages.enumerated().map { i, m in
                        FileMessage(item: "message \(i + 1)", data: { m.data }, flags: m.flags, date: m.date)
                    }
                ))
        }

        var folders: [MailboxTransferView.Folder] = []
        var refused: [MailboxTransferView.Refused] = []
        for source in sources {
            let mailbox = try ensureMailbox(source.folder, accountID: account.id)
            var imported = 0
            for m in source.messages {
                func refuse(_ reason: String) {
                    refused.append(.init(folder: source.folder, item: m.item, reason: reason))
                }
                do {
                    let data = try m.data()
                    guard data.count <= maxMessageSize else {
                        refuse("\(data.count) bytes, larger than the limit of \(maxMessageSize) (max_append_size)")
                        continue
                    }
                    guard !data.isEmpty else {
                        refuse("empty message")
                        continue
                    }
                    // The quota as the administrator set it now: it may change during a long import.
                    let quota = directory.snapshot.account(account.address)?.quotaBytes ?? account.quotaBytes
                    _ = try append(
                        data, to: mailbox.id, accountID: account.id, quota: quota, flags: m.flags,
                        internalDate: m.date ?? Self.field("date", of: data).flatMap(DateParser.parse) ?? Date())
                    imported += 1
                } catch MailboxError.overQuota {
                    refuse("over the account's quota")
                } catch {
                    refuse("\(error)")
                }
            }
            folders.append(.init(name: source.folder, messages: imported))
        }
        return MailboxTransferView(format: format, folders: folders, refused: refused)
    }

    public func exportMailbox(_ address: String, path: String, format: String, folder: String?, actor: AdminActor)
        throws -> MailboxTransferView
    {
        let account = try transferAccount(address, path: path, actor: actor, what: "export mail to the server's files")
        guard ["mbox", "maildir"].contains(format) else {
            throw AdminError.invalid("invalid_format", "the export format is mbox or maildir, not \(format)")
        }
        let all = try store.mailboxes(accountID: account.id)
        let chosen: [MailboxRecord]
        if format == "mbox" || folder != nil {
            let name = folder ?? "INBOX"
            guard let m = all.first(where: { $0.name == name }) else {
                throw AdminError.notFound("no_such_folder", "\(account.address) has no folder \(name)")
            }
            chosen = [m]
        } else {
            chosen = all
        }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw AdminError.conflict("path_exists", "\(path) exists already: give a new path, nothing is overwritten")
        }
        var folders: [MailboxTransferView.Folder] = []
        switch format {
        case "mbox":
            let messages = try chosen[0].messages(self)
            let mbox = try messages.map { d in
                let data = try readBlob(d.blobHash)
                return MboxMessage(sender: Self.sender(of: data), date: d.internalDate, flags: d.flags, data: data)
            }
            try Self.write(Mbox.write(mbox), to: path)
            folders.append(.init(name: chosen[0].name, messages: mbox.count))
        case "maildir":
            for mailbox in chosen {
                // The folder asked for (or INBOX) is the Maildir itself; others are Maildir++ subfolders.
                let dir =
                    mailbox.name == (folder ?? "INBOX") ? path : "\(path)/\(Maildir.directory(folder: mailbox.name))"
                for sub in ["cur", "new", "tmp"] {
                    try FileManager.default.createDirectory(
                        atPath: "\(dir)/\(sub)", withIntermediateDirectories: true,
                        attributes: [.posixPermissions: 0o700])
                }
                if dir != path { try Self.write([], to: "\(dir)/maildirfolder") }
                var keywords: [String] = []
                let messages = try mailbox.messages(self)
                for d in messages {
                    let data = try readBlob(d.blobHash)
                    let name =
                        "\(Int(d.internalDate.timeIntervalSince1970)).M\(d.uid)V\(mailbox.uidValidity).mailroom,S=\(data.count)"
                        + Maildir.suffix(d.flags, keywords: &keywords)
                    let file = "\(dir)/cur/\(name)"
                    try Self.write(data, to: file)
                    // Dovecot reads a Maildir message's INTERNALDATE from its mtime.
                    try FileManager.default.setAttributes([.modificationDate: d.internalDate], ofItemAtPath: file)
                }
                if !keywords.isEmpty {
                    try Self.write(Array(Maildir.formatKeywords(keywords).utf8), to: "\(dir)/dovecot-keywords")
                }
                folders.append(.init(name: mailbox.name, messages: messages.count))
            }
        default:
            preconditionFailure("export format \(format) passed the check above")
        }
        return MailboxTransferView(format: format, folders: folders, refused: [])
    }

    private func transferAccount(_ address: String, path: String, actor: AdminActor, what: String) throws
        -> AccountRecord
    {
        try directory.requireServerAdmin(actor, what)
        guard path.hasPrefix("/") else {
            throw AdminError.invalid("invalid_path", "give the path as an absolute path on the server's machine")
        }
        guard let parsed = try? EmailAddress(address), let account = directory.snapshot.account(parsed) else {
            throw AdminError.notFound(
                "no_such_account", "\(address) is not an account here — see `mailroom account list`")
        }
        return account
    }

    /// The account's folder `name`, made if it does not exist.
    public func ensureMailbox(_ name: String, accountID: Int64) throws -> MailboxRecord {
        if let m = try store.mailbox(accountID: accountID, name: name) { return m }
        guard !name.isEmpty, !name.hasPrefix("/"), !name.hasSuffix("/"), !name.contains("//") else {
            throw AdminError.invalid("invalid_folder", "\(name.debugDescription) is not a folder name")
        }
        try store.createMailbox(accountID: accountID, name: name, specialUse: nil)
        guard let m = try store.mailbox(accountID: accountID, name: name) else {
            preconditionFailure("created mailbox \(name) is missing")
        }
        return m
    }

    static func isMaildir(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return ["cur", "new"].contains {
            FileManager.default.fileExists(atPath: "\(path)/\($0)", isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }

    /// The messages of one Maildir folder, oldest first; files are read one at a time as they
    /// are imported.
    static func maildirMessages(_ dir: String) throws -> [FileMessage] {
        let keywords =
            ((try? String(contentsOfFile: "\(dir)/dovecot-keywords", encoding: .utf8)).map(Maildir.parseKeywords)) ?? []
        var found: [FileMessage] = []
        for sub in ["new", "cur"] {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/\(sub)")) ?? []
            for name in files where !name.hasPrefix(".") {
                let file = "\(dir)/\(sub)/\(name)"
                let mtime = (try? FileManager.default.attributesOfItem(atPath: file))?[.modificationDate] as? Date
                // Messages in new/ have not been seen by a client: no flags yet.
                let flags = sub == "cur" ? Maildir.flags(fileName: name, keywords: keywords) : []
                found.append(
                    FileMessage(
                        item: "\(sub)/\(name)", data: { crlf(Array(try Data(contentsOf: URL(fileURLWithPath: file)))) },
                        flags: flags, date: mtime))
            }
        }
        return found.sorted { ($0.date ?? .distantPast, $0.item) < ($1.date ?? .distantPast, $1.item) }
    }

    /// Maildir files usually end lines with LF alone; IMAP needs CRLF. CRLF is left as it is.
    static func crlf(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + data.count / 32)
        for (i, b) in data.enumerated() {
            if b == 10 && (i == 0 || data[i - 1] != 13) { out.append(13) }
            out.append(b)
        }
        return out
    }

    /// The first `name:` field of a message's header, unfolded no further than its first line.
    static func field(_ name: String, of data: [UInt8]) -> String? {
        let header = String(decoding: data.prefix(64 * 1024), as: UTF8.self)
        for line in header.split(separator: "\r\n", omittingEmptySubsequences: false) {
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == name else { continue }
            return String(line[line.index(after: colon)...])
        }
        return nil
    }

    /// The address for an mbox `From ` line: Return-Path's, else From:'s.
    static func sender(of data: [UInt8]) -> String {
        for value in [field("return-path", of: data), field("from", of: data)].compactMap({ $0 }) {
            let text =
                value.firstIndex(of: "<").flatMap { lt in
                    value[lt...].dropFirst().split(separator: ">").first.map(String.init)
                }
                ?? value.split(separator: " ").first { $0.contains("@") }.map(String.init)
            if let text, !text.isEmpty, !text.contains(where: \.isWhitespace) { return text }
        }
        return Mbox.defaultSender
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        guard
            FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600])
        else {
            throw AdminError.invalid("unwritable", "cannot write \(path) on the server's machine")
        }
    }
}

/// A message of an mbox file or Maildir, named for the report, its bytes read when imported.
struct FileMessage {
    var item: String
    var data: () throws -> [UInt8]
    var flags: [String]
    var date: Date?
}

extension MailboxRecord {
    /// Every message, by UID, with flags, internal date and blob.
    fileprivate func messages(_ delivery: LocalDelivery) throws -> [MessageDetail] {
        try delivery.store.messageDetails(mailboxID: id, uids: 1, Int64.max, parts: .basics, include: { _ in true })
    }
}
