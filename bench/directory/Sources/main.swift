// bench/directory: resolution speed and account-list paging on a large directory.
//
// Builds a directory of 100,000 accounts, 20,000 aliases and 5,000 lists (1,000 of them in
// chains nested 5 deep) in a temporary data folder, then measures
//   - start-up load of the in-memory snapshot,
//   - time to resolve an address (median and p99, by kind), from the snapshot,
//   - `account list --limit 100` pages through the real admin API over loopback HTTP.
// Run with `bench/directory/run` (release build). Prints numbers; asserts nothing.
import AdminClient
import AdminModels
import Directory
import Foundation
import Logging
import MailCore
import MailroomServer
import Storage

let accounts = Int(ProcessInfo.processInfo.environment["ACCOUNTS"] ?? "") ?? 100_000
let aliases = accounts / 5
let lists = max(accounts / 20, 1100)
let domains = 10

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func micro(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
}

let root = FileManager.default.temporaryDirectory.appendingPathComponent("mailroom-bench-\(UUID().uuidString)")
defer { try? FileManager.default.removeItem(at: root) }
let dataDir = DataDirectory(path: root.path)
try dataDir.create()

print("building a directory of \(accounts) accounts, \(aliases) aliases, \(lists) lists in \(domains) domains …")
let clock = ContinuousClock()
let buildStart = clock.now
do {
    let store = try SQLiteStore(path: dataDir.databasePath)
    let now = Date()
    let hash = try PasswordHash.make(password: "benchmark-password", iterations: 4096).description
    let domainNames = (0..<domains).map { try! DomainName("d\($0).example") }
    try store.write(domainNames.map { .insertDomain(DomainRecord(name: $0, createdAt: now)) }, audit: [])
    func acct(_ i: Int) -> String { "user\(i)@d\(i % domains).example" }
    for chunk in stride(from: 0, to: accounts, by: 10_000) {
        try store.write(
            (chunk..<min(accounts, chunk + 10_000)).map {
                .insertAccount(AccountRecord(address: try! EmailAddress(acct($0)), name: "User \($0)", passwordHash: hash, createdAt: now))
            }, audit: [])
    }
    try store.write(
        (0..<aliases).map { i in
            .insertAlias(AliasRecord(address: try! EmailAddress("alias\(i)@d\(i % domains).example"), targets: [acct(i * 5 % accounts)], createdAt: now))
        }, audit: [])
    try store.write(
        (0..<lists).map { i in
            var members = (0..<20).map { acct((i * 20 + $0) % accounts) }
            // Lists 0..<1000 form 200 chains of five: list k contains list k+1.
            if i < 1000 && i % 5 != 4 { members.append("list\(i + 1)@d\((i + 1) % domains).example") }
            return .insertList(ListRecord(address: try! EmailAddress("list\(i)@d\(i % domains).example"), members: members, createdAt: now))
        }.reversed(), audit: [])
}
print(String(format: "  built in %.1f s", Double((clock.now - buildStart).components.seconds)))

var config = ServerConfig()
config.dataDir = dataDir.path
config.listeners.admin = [ListenAddress(host: "127.0.0.1", port: 0)]
config.listeners.smtp = []
config.listeners.submission = []
config.listeners.submissions = []
let loadStart = clock.now
let server = try Mailroom(config: config)
let loadTime = clock.now - loadStart
print(String(format: "start-up (open store, load snapshot of %d entries): %.0f ms", server.directory.snapshot.entries.count, micro(loadTime) / 1000))

// Resolution
var rng = SystemRandomNumberGenerator()
let kinds: [(String, () -> String)] = [
    ("account", { let i = Int.random(in: 0..<accounts, using: &rng); return "user\(i)@d\(i % domains).example" }),
    ("account, other case", { let i = Int.random(in: 0..<accounts, using: &rng); return "USER\(i)@D\(i % domains).EXAMPLE" }),
    ("subaddress", { let i = Int.random(in: 0..<accounts, using: &rng); return "user\(i)+tag@d\(i % domains).example" }),
    ("alias", { let i = Int.random(in: 0..<aliases, using: &rng); return "alias\(i)@d\(i % domains).example" }),
    ("list (20 members)", { let i = Int.random(in: 1000..<lists, using: &rng); return "list\(i)@d\(i % domains).example" }),
    ("list nested 5 deep (100)", { let i = Int.random(in: 0..<200, using: &rng) * 5; return "list\(i)@d\(i % domains).example" }),
    ("unknown", { "nobody\(Int.random(in: 0..<1_000_000, using: &rng))@d1.example" }),
    ("external", { "someone@elsewhere\(Int.random(in: 0..<100, using: &rng)).com" }),
]
let snapshot = server.directory.snapshot
print("\nresolve (from the in-memory snapshot), µs:")
print("  kind                        median      p99")
var all: [Double] = []
for (name, make) in kinds {
    let inputs = (0..<20_000).map { _ in make() }
    var times: [Double] = []
    times.reserveCapacity(inputs.count)
    var delivered = 0
    for input in inputs {
        let t0 = clock.now
        let r = snapshot.resolve(input)
        times.append(micro(clock.now - t0))
        delivered += r.recipients.count
    }
    times.sort()
    all += times
    print("  \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(format: "%8.2f %8.2f", percentile(times, 0.5), percentile(times, 0.99)))   (\(delivered / inputs.count) recipients each)")
}
all.sort()
print(String(format: "  all                        %8.2f %8.2f   (target: median ≤ 20 µs)", percentile(all, 0.5), percentile(all, 0.99)))

// Account list pages through the admin API
let url = AsyncStream<String>.makeStream()
let logger = Logger(label: "bench")
let serving = Task { try await server.run(logger: logger) { name, u in if name == "admin API" { url.continuation.yield(u) } } }
guard let base = await url.stream.first(where: { _ in true }) else { fatalError("server did not start") }
let token = try String(contentsOfFile: dataDir.tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
let client = try AdminClient(url: base, token: token)
print("\naccount list --limit 100 through the admin API (HTTP on loopback), ms:")
print("  page                        median      p99")
let lastPage = accounts / 100, lastDomainPage = accounts / domains / 100
let pages: [(String, Int, String?)] = [
    ("1 (all domains)", 1, nil), ("\(lastPage / 2) (all domains)", lastPage / 2, nil), ("\(lastPage) (all domains)", lastPage, nil),
    ("1 (one domain)", 1, "d3.example"), ("\(lastDomainPage) (one domain)", lastDomainPage, "d3.example"),
]
for (label, page, domain) in pages {
    var times: [Double] = []
    for _ in 0..<50 {
        let t0 = clock.now
        let p = try await client.call(.GET, "/api/v1/accounts?limit=100&page=\(page)" + (domain.map { "&domain=\($0)" } ?? ""), as: Page<AccountView>.self)
        times.append(micro(clock.now - t0) / 1000)
        precondition(p.items.count == 100)
    }
    times.sort()
    print("  \(label.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(format: "%8.2f %8.2f", percentile(times, 0.5), percentile(times, 0.99)))")
}
serving.cancel()
_ = await serving.result
