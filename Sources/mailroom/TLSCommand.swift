import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct TLSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls",
        abstract: "The TLS certificate of the mail listeners, and its ACME renewal.",
        subcommands: [Status.self, Renew.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each certificate: names, issuer, expiry, next renewal, last error.",
            discussion: "Server admins only.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let s = try await client.call(API.getTls)
            guard !client.json else { return }
            TLSCommand.print(s)
        }
    }

    struct Renew: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Obtain a new ACME certificate now, whatever the current one's expiry.",
            discussion: """
                Needs [acme] in the config. The new certificate is used by every new TLS connection \
                at once; open connections keep theirs. Server admins only.
                """)
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let s = try await client.call(API.postTlsRenew)
            guard !client.json else { return }
            TLSCommand.print(s)
        }
    }

    static func print(_ s: TLSStatusView) {
        let f = ISO8601DateFormatter()
        for c in s.certificates {
            let days = Int(c.notAfter.timeIntervalSinceNow / 86400)
            Swift.print("certificate   \(c.source) (\(c.listeners.joined(separator: ", ")))")
            Swift.print("names         \(c.names.joined(separator: ", "))")
            if let wanted = c.wantedNames {
                Swift.print("wanted names  \(wanted.joined(separator: ", ")) (a new certificate is being obtained)")
            }
            Swift.print("issuer        \(c.issuer)")
            Swift.print(
                "valid         \(f.string(from: c.notBefore)) to \(f.string(from: c.notAfter)) (\(days) days left)")
            if c.source == "acme" || c.nextRenewal != nil || c.lastError != nil {
                Swift.print(
                    "next renewal  \(c.nextRenewal.map { f.string(from: $0) } ?? "when the current attempt ends")")
                if let r = c.lastRenewal { Swift.print("last renewal  \(f.string(from: r))") }
                Swift.print(
                    "last error    \(c.lastError.map { "\($0) (\(c.lastErrorAt.map { f.string(from: $0) } ?? "-"))" } ?? "none")"
                )
            }
        }
    }
}
