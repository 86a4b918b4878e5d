import AdminClient
import AdminModels
import ArgumentParser
import Foundation

struct DNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns", abstract: "The DNS records to publish for a domain.", subcommands: [Records.self])

    struct Records: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the zone-file lines to publish for DOMAIN: MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, SRV, autoconfiguration, PTR.",
            discussion: "Check what is published with `mailroom doctor DOMAIN`.")
        @Argument(help: "A domain of this server.") var domain: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let records = try await client.call(API.getDomainDnsRecords, [domain])
            guard !client.json else { return }
            for r in records {
                print("; \(r.purpose)")
                print("\(r.name) IN \(r.type) \(r.value)")
            }
        }
    }
}

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check what administrators get wrong: DNS records, reverse DNS, certificate, listeners, blocklists.",
        discussion: """
            Looks everything up through the server's own resolver ([dns] servers), as other mail servers will. \
            Exits with status 1 when a check fails (warnings alone exit 0).
            """)
    @Argument(help: "Domains to check (default: every domain).") var domains: [String] = []
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let findings = try await client.call(API.postDoctor, body: DoctorRequest(domains: domains.isEmpty ? nil : domains))
        if !client.json {
            var current: String?? = .none
            for f in findings {
                if current == nil || current! != f.domain {
                    current = .some(f.domain)
                    print(f.domain.map { "\n\($0)" } ?? "this server")
                }
                let mark = f.status == "ok" ? "ok  " : f.status == "warning" ? "warn" : "FAIL"
                print("  \(mark)  \(f.check.padding(toLength: 12, withPad: " ", startingAt: 0)) \(f.detail)")
                if let fix = f.fix, f.status != "ok" { print("        \(String(repeating: " ", count: 12)) → \(fix)") }
            }
            let errors = findings.filter { $0.status == "error" }.count
            let warnings = findings.filter { $0.status == "warning" }.count
            print("\n\(errors) problem\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
        }
        if findings.contains(where: { $0.status == "error" }) { throw ExitCode(1) }
    }
}
