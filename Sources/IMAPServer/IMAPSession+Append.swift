import Delivery
import Foundation
import IMAP
import MailCore
import Storage

/// A large APPEND (literal above `IMAPLimits.streamAppendAbove`) under way: its literal goes to
/// a file in the blob store as it arrives, so a 50 MB message costs a connection a few
/// chunks of memory, not 50 MB.
///
///     C: A1 APPEND INBOX {26214400}
///     S: + Ready for literal data          (only after the mailbox, size and quota are checked)
///     C: ...26214400 octets, written to the file chunk by chunk...
///     S: A1 OK [APPENDUID 1 42] APPEND completed   (after fsync, as for any APPEND)
///
/// Used on the connection's lane only; the event loop just holds the reference between calls.
final class LargeAppend: @unchecked Sendable {
    /// The command up to and including the line that announced the literal.
    let command: [UInt8]
    let size: Int
    /// Where the literal goes; nil when it is read and dropped (a refused non-synchronizing
    /// literal, which the client sends anyway, or a command that does not parse).
    let upload: BlobUpload?
    /// Why a non-synchronizing literal was refused: answered once it has been read.
    let refusal: (any Error)?

    init(command: [UInt8], size: Int, upload: BlobUpload?, refusal: (any Error)?) {
        self.command = command
        self.size = size
        self.upload = upload
        self.refusal = refusal
    }
}

extension IMAPSession {
    /// How a large APPEND starts.
    enum AppendStart {
        /// Read the literal (send `+` first if it is synchronizing).
        case accepted(LargeAppend)
        /// A synchronizing literal refused: the client does not send it; send `output`.
        case refused(Next)
    }

    /// The command with its announced literal made empty (`{0}`), followed by `tail`: what the
    /// parser checks, the literal itself being in a file.
    static func withEmptyLiteral(_ command: [UInt8], tail: [UInt8]) -> [UInt8] {
        guard let open = command.lastIndex(of: UInt8(ascii: "{")), let close = command.lastIndex(of: UInt8(ascii: "}")),
            open < close
        else { return command + tail }
        var out = Array(command[..<open])
        out += Array("{0".utf8)
        if command[close - 1] == UInt8(ascii: "+") || command[close - 1] == UInt8(ascii: "-") {
            out.append(command[close - 1])
        }
        out += command[close...]
        return out + tail
    }

    /// The start of a large APPEND: before the client sends the literal, what can be checked is
    /// (logged in, the mailbox exists, the announced size fits the quota), so a refused
    /// synchronizing literal is never sent. Dovecot checks the same before its `+`.
    func beginAppend(_ command: [UInt8], size: Int, synchronizing: Bool, out: ResponseWriter) -> AppendStart {
        var refusal: (any Error)?
        if case .append(let name, _, _, _)? = try? IMAPCommandParser.parse(
            Self.withEmptyLiteral(command, tail: [13, 10]), limits: env.limits
        ).command {
            do {
                let account = try authenticatedAccount()
                let decoded = try mailboxName(name)
                guard try env.store.mailbox(accountID: account.id, name: decoded) != nil else {
                    throw IMAPError.no("TRYCREATE", "Mailbox \(decoded) does not exist; create it first")
                }
                if quota > 0, env.delivery.usage(of: account.id) + Int64(size) > quota { throw MailboxError.overQuota }
                return .accepted(
                    LargeAppend(
                        command: command, size: size, upload: try BlobUpload(store: env.delivery.blobs), refusal: nil))
            } catch {
                refusal = error
            }
        }
        // A command that does not parse is answered when its literal has been read, as any
        // command is (the parse of the whole command says what is wrong).
        guard let refusal, synchronizing else {
            return .accepted(LargeAppend(command: command, size: size, upload: nil, refusal: refusal))
        }
        env.stats.add(MetricCatalog.imapCommands, ["command": "APPEND"])
        let tag =
            (try? IMAPCommandParser.parse(Self.withEmptyLiteral(command, tail: [13, 10]), limits: env.limits).tag)
            ?? "*"
        return .refused(respond(to: refusal, tag: tag, out: out))
    }

    /// The next octets of the literal.
    func appendData(_ bytes: [UInt8], to append: LargeAppend) {
        append.upload?.write(bytes)
    }

    /// The literal has been read and the command ends with `tail`: stores the message (or
    /// answers why not) and removes the file if it was not stored.
    func finishAppend(_ append: LargeAppend, tail: [UInt8], out: ResponseWriter) -> Next {
        defer { append.upload?.abandon() }
        return run(Self.withEmptyLiteral(append.command, tail: tail), out: out) { tagged in
            if let refusal = append.refusal { throw refusal }
            guard case .append(let name, let flags, let date, _) = tagged.command, let upload = append.upload else {
                throw IMAPError.bad("Invalid command")
            }
            let account = try authenticatedAccount()
            let decoded = try mailboxName(name)
            guard let mailbox = try env.store.mailbox(accountID: account.id, name: decoded) else {
                throw IMAPError.no("TRYCREATE", "Mailbox \(decoded) does not exist; create it first")
            }
            let (validity, uid) = try env.delivery.append(
                upload: upload, to: mailbox.id, accountID: account.id, quota: quota,
                flags: flags.filter { $0 != "\\Recent" },
                internalDate: date ?? Date())
            return appended(to: mailbox, account: account, validity: validity, uid: uid, tag: tagged.tag, out: out)
        }
    }

    /// The connection closed in the middle of the literal: nothing is stored, the file goes.
    func abandonAppend(_ append: LargeAppend) {
        append.upload?.abandon()
    }
}
