import Foundation

@testable import Storage

/// Messages for the contract tests, stored as the delivery stores them.
enum Mail {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// Message `n`'s bytes: its subject is `s<n>`, its body `word<n>`.
    static func bytes(_ n: Int) -> [UInt8] {
        Array("Subject: s\(n)\r\nMessage-ID: <m\(n)@example.org>\r\n\r\nword\(n)\r\n".utf8)
    }

    /// Message `n` for the accounts `local` and the remote addresses `remote`, its bytes inline
    /// unless `file`; with `indexed`, its words go into the search index with it, else into the
    /// backlog; without `withMeta`, its IMAP metadata is left to the indexer too (as delivery
    /// leaves it).
    static func commit(
        _ n: Int, to local: [Int64], remote: [String] = [], file: Bool = false, indexed: Bool = true, withMeta: Bool = true,
        at: Date = t0
    ) -> MessageCommit {
        let data = bytes(n)
        return MessageCommit(
            queueID: "Q\(n)", messageID: "m\(n)@example.org", sender: "x@example.net", blobHash: "hash-\(n)",
            blobSize: data.count, inlineData: file ? nil : data, meta: withMeta ? meta(n, indexed: indexed) : nil,
            receivedAt: at,
            local: local.map { .init(accountID: $0, headerPrefix: []) },
            remote: remote.map { .init(recipient: $0, headerPrefix: []) },
            held: [], events: [])
    }

    static func meta(_ n: Int, indexed: Bool) -> BlobMeta {
        BlobMeta(
            envelope: Array("(NIL \"s\(n)\" NIL NIL NIL NIL NIL NIL NIL NIL)".utf8), bodyStructure: [], bodySimple: [],
            sentDate: nil, text: indexed ? text(n) : nil)
    }

    /// The number of the message whose blob hash is `hash`.
    static func number(_ hash: String) -> Int { Int(hash.dropFirst("hash-".count)) ?? 0 }

    static func text(_ n: Int) -> SearchText {
        SearchText(subject: "s\(n)", from: "x@example.net", to: "", cc: "", bcc: "", headers: "", body: "word\(n)")
    }
}
