import Foundation

/// Each account's Sieve scripts, and what its scripts remember between deliveries (vacation
/// replies sent, message ids the duplicate test saw; written by the delivery's commit as
/// ``SieveMemory``). ``SQLiteStore`` is one implementation;
/// `Tests/StorageTests/SieveScriptStoreContractTests.swift` holds the contract any other must
/// pass. Changes write their audit entries in the same transaction.
public protocol SieveScriptStore: Sendable {
    /// An account's scripts, by name.
    func sieveScripts(accountID: Int64) throws -> [SieveScriptRecord]
    func sieveScript(accountID: Int64, name: String) throws -> SieveScriptRecord?
    /// The script that runs when mail is delivered to the account, if any (at most one).
    func activeSieveScript(accountID: Int64) throws -> SieveScriptRecord?
    /// Creates or replaces a script (validated by the caller), keeping its active flag, and
    /// makes it the active one when `activate`.
    func putSieveScript(accountID: Int64, name: String, text: String, activate: Bool, at: Date, audit: [AuditEntry])
        throws
    /// Makes `name` the account's active script, or deactivates all with nil. Throws
    /// ``SieveStoreError/noSuchScript(_:)`` for a name the account has no script by.
    func setActiveSieveScript(accountID: Int64, name: String?, audit: [AuditEntry]) throws
    /// Deletes a script; throws ``SieveStoreError/noSuchScript(_:)`` when there is none.
    func deleteSieveScript(accountID: Int64, name: String, audit: [AuditEntry]) throws
    /// Renames a script, keeping its text and active flag. Throws
    /// ``SieveStoreError/noSuchScript(_:)`` when there is none, and
    /// ``SieveStoreError/nameTaken(_:)`` when `newName` is already used.
    func renameSieveScript(accountID: Int64, from old: String, to newName: String, audit: [AuditEntry]) throws
    /// When the account's vacation last answered `sender` under `handle`, if ever.
    func lastVacationReply(accountID: Int64, handle: String, sender: String) throws -> Date?
    /// Whether the duplicate test saw `uniqueID` under `handle` after `since`: counted from its
    /// first sighting, or from its last one with `last` (RFC 7352 §3.3).
    func sieveSeen(accountID: Int64, handle: String, uniqueID: String, since: Date, last: Bool) throws -> Bool
}

extension SQLiteStore: SieveScriptStore {}
