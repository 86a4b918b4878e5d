import Foundation
import GRDB

extension SQLiteStore {
    /// Writes a consistent copy of the database to `path` (SQLite's online backup, in one step:
    /// one snapshot, while writers carry on) and returns the hashes of the message files that
    /// copy names (messages stored in the database itself travel inside it).
    public func backup(to path: String) throws -> [String] {
        let copy = try DatabaseQueue(path: path)
        try writer.backup(to: copy)
        let hashes = try copy.read { db in try String.fetchAll(db, sql: "SELECT hash FROM blobs WHERE data IS NULL ORDER BY hash") }
        try copy.close()
        return hashes
    }
}
