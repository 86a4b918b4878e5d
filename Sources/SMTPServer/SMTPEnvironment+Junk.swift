import Delivery
import Directory
import Filtering
import Offload

extension SMTPEnvironment {
    /// Local accounts whose classifiers are asked about one message: a message to a large
    /// list is judged by its first members' classifiers, not by thousands of them.
    static let maximumJunkAccounts = 20

    /// The recipients' junk classifiers for one message, asked lazily (only when the built-in
    /// score is computed) and off the event loops. Every local account a recipient address
    /// reaches (through aliases and lists) is asked; each one's verdict decides whether its own
    /// copy goes to Junk.
    func junkLookup(_ data: [UInt8], recipients: [String]) -> InboundChecks.JunkLookup {
        let delivery = self.delivery, directory = self.directory
        return {
            let snapshot = directory.snapshot
            var accounts: [(id: Int64, address: String)] = []
            var seen: Set<Int64> = []
            for rcpt in recipients {
                for target in snapshot.resolve(rcpt, limits: directory.limits).recipients {
                    guard let id = target.accountID, accounts.count < Self.maximumJunkAccounts, seen.insert(id).inserted
                    else { continue }
                    accounts.append((id, target.address))
                }
            }
            // Most accounts never train theirs: then there is nothing to ask the store.
            guard !accounts.isEmpty, !delivery.knownUntrained(accounts) else { return [] }
            let chosen = accounts
            return (try? await BlockingPool.shared.run { delivery.junkVerdicts(for: data, accounts: chosen) }) ?? []
        }
    }
}
