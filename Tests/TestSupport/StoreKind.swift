import Foundation
import MailCore
import Storage

/// The store implementations that contract tests run against: SQLite in memory (one
/// connection) and on disk (WAL, a writer and a pool of readers). An implementation on another
/// database joins here, and every contract test then runs against it too.
public enum StoreKind: CaseIterable, Sendable {
    case memory, file

    public func make() throws -> SQLiteStore {
        switch self {
        case .memory: return try SQLiteStore.inMemory()
        case .file:
            let folder = Scratch.url("mailroom-store")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            return try SQLiteStore(path: folder.appendingPathComponent("mailroom.sqlite").path)
        }
    }
}

extension StoreKind {
    /// A store of this kind holding example.org and the accounts `addresses` (ids 1, 2, … in
    /// that order), each with the default mailboxes, made as the directory makes them.
    public func make(accounts addresses: [String]) throws -> SQLiteStore {
        let store = try make()
        let now = Date()
        try store.write(
            [.insertDomain(DomainRecord(name: try DomainName("example.org"), createdAt: now))]
                + (try addresses.map { .insertAccount(AccountRecord(address: try EmailAddress($0), createdAt: now)) }),
            audit: [])
        return store
    }

    /// A store of this kind holding ann@example.org (account 1), and the id of her INBOX.
    public func makeWithInbox() throws -> (SQLiteStore, inbox: Int64) {
        let store = try make(accounts: ["ann@example.org"])
        guard let inbox = try store.mailbox(accountID: 1, name: "INBOX") else { throw StoreError.notFound("INBOX") }
        return (store, inbox.id)
    }
}
