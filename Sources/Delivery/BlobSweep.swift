import Directory
import Foundation
import MailCore
import Storage
import Synchronization

extension LocalDelivery {
    /// How long a blob file must have gone unwritten and unreused before a sweep may remove it.
    /// A delivery that reuses a file commits well within this (see ``BlobStore/put(_:)``).
    public static let blobSweepGrace: TimeInterval = 600

    /// One sweep at a time, whether the timer or an administrator started it.
    static let sweeping = Mutex(())

    /// A sweep started by an administrator (server admins only).
    public func sweepBlobs(actor: AdminActor) throws -> BlobSweepReport {
        try directory.requireServerAdmin(actor, "sweep the message store")
        return try sweepBlobs()
    }

    /// What the message store holds (server admins only).
    public func storageUsage(actor: AdminActor) throws -> StorageUsage {
        try directory.requireServerAdmin(actor, "see the message store's size")
        return try store.storageUsage()
    }

    /// Frees the bytes of messages that nothing refers to any more: expunged everywhere, their
    /// mailbox or account deleted, delivered off the queue, or released from moderation. Inline
    /// bytes go at once; files go once untouched for `grace` seconds, as do files no record
    /// names (left by interrupted deliveries). Search-index rows of the freed messages stay
    /// (the index cannot drop a row without its text) and match nothing until ``compact(progress:)``.
    public func sweepBlobs(grace: TimeInterval = blobSweepGrace, now: Date = Date()) throws -> BlobSweepReport {
        try Self.sweeping.withLock { _ in
            var report = BlobSweepReport()
            (report.unreferenced, report.inlineBytesFreed) = try store.markUnreferencedBlobs()
            let cutoff = now.addingTimeInterval(-grace)
            var finished: [String] = []
            for hash in try store.blobsAwaitingRemoval() {
                switch try blobs.remove(hash, unlessTouchedSince: cutoff) {
                case .removed(let bytes):
                    finished.append(hash)
                    report.filesRemoved += 1
                    report.fileBytesFreed += bytes
                case .absent:
                    finished.append(hash)
                case .recent:
                    report.filesKept += 1
                }
                if finished.count >= 1_000 {
                    try store.blobsRemoved(finished)
                    finished.removeAll()
                }
            }
            try store.blobsRemoved(finished)
            try sweepStrayFiles(before: cutoff, into: &report)
            return report
        }
    }

    /// Removes files that no record names (see ``BlobSweepReport/strayFilesRemoved``), one
    /// directory at a time. The same grace applies: a delivery that has written its file and
    /// not yet committed is never touched.
    private func sweepStrayFiles(before cutoff: Date, into report: inout BlobSweepReport) throws {
        for n in 0..<256 {
            let (files, temporary) = blobs.files(in: String(format: "%02x", n))
            let removals =
                try temporary.map { try blobs.removeTemporary($0, unlessTouchedSince: cutoff) }
                + store.blobsWithoutRecord(files).map { try blobs.remove($0, unlessTouchedSince: cutoff) }
            for case .removed(let bytes) in removals {
                report.strayFilesRemoved += 1
                report.strayBytesFreed += bytes
            }
        }
    }
}
