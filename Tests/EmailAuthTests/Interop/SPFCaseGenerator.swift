import EmailAuth
import Foundation
import TestSupport

/// A seeded random number generator (SeededSPFRandom), so a differential run can be repeated.
struct SeededSPFRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random but seeded SPF worlds for the pyspf differential: one zone for all cases, each case
/// under its own domain `cN.example`, mixing ip4/ip6/a/mx/ptr/include/redirect/exists/all
/// with qualifiers and macros, and on purpose void lookups, include loops, more than ten
/// lookups, timeouts, missing and doubled records and syntax errors.
struct SPFCaseGenerator {
    struct Case: Sendable, CustomStringConvertible {
        var id: Int
        var ip: String
        var mailFrom: String
        var helo: String
        var domain: String
        /// The zone entries under this case's domain (and its PTR), for printing.
        var zone: [(String, [String])]

        /// A record of this case names its own domain in `include:`.
        var includesItself: Bool {
            zone.contains { name, record in
                record.count == 2 && record[0] == "TXT"
                    && record[1].split(separator: " ").contains { term in
                        term.drop { "+-~?".contains($0) }.lowercased() == "include:\(name)"
                    }
            }
        }

        var description: String {
            "case \(id): ip=\(ip) mailfrom=\(mailFrom.isEmpty ? "<>" : mailFrom) helo=\(helo)\n"
                + zone.map { "    \($0.0) \($0.1.joined(separator: " "))" }.joined(separator: "\n")
        }
    }

    /// name → records as `["TXT", text]`, `["A", ip]`, `["AAAA", ip]`, `["MX", "10", name]`,
    /// `["PTR", name]`, `["TIMEOUT"]`.
    private(set) var zone: [String: [[String]]] = [:]
    private(set) var cases: [Case] = []
    private var rng: SeededSPFRandom
    private var current: [(String, [String])] = []
    private var serial = 0

    init(seed: UInt64, count: Int) {
        rng = SeededSPFRandom(seed: seed)
        for id in 0..<count { makeCase(id) }
    }

    var fakeDNS: FakeAuthDNS {
        FakeAuthDNS(
            zone.mapValues { records in
                records.map { r -> FakeAuthDNS.Record in
                    switch r[0] {
                    case "TXT": .txt(r[1])
                    case "A": .a(r[1])
                    case "AAAA": .aaaa(r[1])
                    case "MX": .mx(r[2])
                    case "PTR": .ptr(r[1])
                    default: .timeout
                    }
                }
            })
    }

    // MARK: - Building blocks

    private mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    private mutating func pick<T>(_ items: [T]) -> T { items.randomElement(using: &rng)! }
    private mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }

    private mutating func add(_ name: String, _ record: [String]) {
        zone[name, default: []].append(record)
        current.append((name, record))
    }

    private mutating func fresh(_ prefix: String, _ domain: String) -> String {
        serial += 1
        return "\(prefix)\(serial).\(domain)"
    }

    private mutating func v4() -> String { "\(pick(["192.0.2", "198.51.100"])).\(int(1...12))" }
    private mutating func v6() -> String { "2001:db8:\(pick(["0", "1"]))::\(String(int(1...12), radix: 16))" }

    /// An address near the client's (same /24 or /64) some of the time, the client's itself or
    /// an unrelated one otherwise.
    private mutating func address(for client: String, ipv6: Bool) -> String {
        if chance(0.4), client.contains(":") == ipv6 { return client }
        return ipv6 ? v6() : v4()
    }

    private mutating func qualifier() -> String {
        chance(0.7) ? "" : pick(["+", "-", "~", "?"])
    }

    /// A host with A and/or AAAA records, some matching the client.
    private mutating func host(_ domain: String, client: String) -> String {
        let name = fresh("h", domain)
        for _ in 0..<int(1...2) { add(name, ["A", address(for: client, ipv6: false)]) }
        if chance(0.5) { add(name, ["AAAA", address(for: client, ipv6: true)]) }
        return name
    }

    /// One mechanism for `domain`'s record; `depth` bounds include/redirect nesting.
    private mutating func mechanism(_ domain: String, client: String, depth: Int, ptrOK: Bool) -> String {
        let v6 = client.contains(":")
        switch int(0...15) {
        case 0, 1:
            let ip = chance(0.5) && !v6 ? client : v4()
            return "ip4:\(ip)\(pick(["", "/32", "/24", "/16", "/8", "/0"]))"
        case 2, 3:
            let ip = chance(0.5) && v6 ? client : self.v6()
            return "ip6:\(ip)\(pick(["", "/128", "/64", "/48", "/0"]))"
        case 4:
            if zone[domain]?.contains(where: { $0[0] == "A" }) != true {
                add(domain, ["A", address(for: client, ipv6: false)])
                add(domain, ["AAAA", address(for: client, ipv6: true)])
            }
            return "a\(pick(["", "/24", "//64", "/24//64"]))"
        case 5, 6:
            return "a:\(host(domain, client: client))\(pick(["", "", "/24", "//64"]))"
        case 7:
            // A void lookup: the name does not exist, or exists without the type asked.
            if chance(0.5) { return "a:\(fresh("missing", domain))" }
            let name = fresh("txtonly", domain)
            add(name, ["TXT", "not an address"])
            return "a:\(name)"
        case 8, 9:
            let target = chance(0.3) ? domain : fresh("m", domain)
            if zone[target]?.contains(where: { $0[0] == "MX" }) != true {
                for i in 0..<int(0...3) { add(target, ["MX", "\(10 * i)", host(domain, client: client)]) }
                if zone[target] == nil { add(target, ["TXT", "no MX here"]) }
            }
            return target == domain ? "mx\(pick(["", "/24"]))" : "mx:\(target)\(pick(["", "", "/24", "//64"]))"
        case 10, 11:
            let roll = int(0...9)
            if roll == 0 { return "include:\(domain)" }  // a loop
            if roll == 1 { return "include:\(fresh("nothing", domain))" }  // no record: permerror
            if roll == 2 {
                let name = fresh("slow", domain)
                add(name, ["TIMEOUT"])
                return "include:\(name)"
            }
            guard depth < 2 else { return "include:\(fresh("nothing", domain))" }
            let name = fresh("inc", domain)
            add(name, ["TXT", record(name, client: client, depth: depth + 1, ptrOK: ptrOK)])
            return "include:\(name)"
        case 12, 13:
            // exists with macros: %{ir} (v4 only), %{l}, %{d}, %{o}, %{h}, %{v}.
            let (spec, name) = pick([
                ("%{l}.users.%{d}", "LOCAL.users.\(domain)"),
                (
                    "%{ir}.%{v}.rbl.%{d}",
                    v6 ? "" : client.split(separator: ".").reversed().joined(separator: ".") + ".in-addr.rbl.\(domain)"
                ),
                ("%{h}.helo.%{o}", "mail.\(domain).helo.\(domain)"),
                ("%{d2}", domain.split(separator: ".").suffix(2).joined(separator: ".")),
                ("%{l-}.parts.%{d}", "LOCAL.parts.\(domain)"),
            ])
            if !name.isEmpty, chance(0.6) {
                add(name, ["A", "127.0.0.2"])
            }
            return "exists:\(spec)"
        case 14:
            guard ptrOK else { return "ip4:\(v4())" }
            let reverse = client.split(separator: ".").reversed().joined(separator: ".") + ".in-addr.arpa"
            if zone[reverse] == nil {
                let name = chance(0.7) ? "mail.\(domain)" : fresh("other", "example")
                add(reverse, ["PTR", name])
                if zone[name]?.contains(where: { $0[0] == "A" }) != true {
                    add(name, ["A", chance(0.8) ? client : v4()])
                }
            }
            return chance(0.5) ? "ptr" : "ptr:\(domain)"
        default:
            return "exists:\(fresh("none", domain))"  // void
        }
    }

    /// A record for `domain`: some mechanisms, then `all`, a redirect, or nothing.
    private mutating func record(_ domain: String, client: String, depth: Int, ptrOK: Bool) -> String {
        var terms = ["v=spf1"]
        for _ in 0..<int(0...(depth == 0 ? 6 : 3)) {
            terms.append(qualifier() + mechanism(domain, client: client, depth: depth, ptrOK: ptrOK))
        }
        if chance(0.15) { terms.append(pick(["exp=explain.\(domain)", "foo=bar", "x-custom=%{d}"])) }
        switch int(0...9) {
        case 0...5: terms.append(qualifier() + "all")
        case 6, 7:
            if depth < 2 {
                let target = fresh("r", domain)
                if chance(0.8) { add(target, ["TXT", record(target, client: client, depth: depth + 1, ptrOK: ptrOK)]) }
                terms.append("redirect=\(target)")
            }
        default: break
        }
        return terms.joined(separator: " ")
    }

    private mutating func makeCase(_ id: Int) {
        current = []
        let domain = "c\(id).example"
        let ptrOK = id % 5 == 0
        let client =
            ptrOK ? "10.0.\(id % 256).\(id / 256 + 1)" : chance(0.7) ? v4() : v6()
        var mailFrom = "\(pick(["LOCAL", "local", "strong-bad", "a.b-c"]))@\(domain)"
        if chance(0.05) { mailFrom = "" }
        let helo = "mail.\(domain)"

        switch int(0...19) {
        case 0:
            break  // no SPF record: none
        case 1:
            add(domain, ["TXT", "v=spf1 -all"])
            add(domain, ["TXT", "v=spf1 +all"])  // two records: permerror
        case 2:
            // More than ten DNS-querying terms.
            var terms = ["v=spf1"]
            for _ in 0..<int(9...13) { terms.append("a:\(host(domain, client: "192.0.2.250"))") }
            terms.append(pick(["-all", "ip4:\(client) -all", "ip6:\(client) -all"]))
            add(domain, ["TXT", terms.joined(separator: " ")])
        case 3:
            // Void lookups: two are allowed, the third is permerror.
            var terms = ["v=spf1"]
            for _ in 0..<int(1...4) { terms.append("a:\(fresh("gone", domain))") }
            terms.append(pick(["~all", "ip4:\(client) -all"]))
            add(domain, ["TXT", terms.joined(separator: " ")])
        case 4:
            // Syntax errors.
            let bad = pick([
                "ip4:300.1.1.1", "ip4:192.0.2.0/33", "ip6:2001:db8::/129", "foo", "a:", "mx:%{z}.example",
                "include", "exists:%{i}", "redirect=a redirect=b", "a:example.123", "ip4:192.0.2.1/024",
            ])
            add(domain, ["TXT", "v=spf1 \(bad) -all"])
        case 5:
            // An include loop through a second domain.
            let other = fresh("loop", domain)
            add(domain, ["TXT", "v=spf1 include:\(other) -all"])
            add(
                other,
                [
                    "TXT",
                    "v=spf1 \(chance(0.5) ? "include" : "redirect=")\(chance(0.5) ? ":" : "")\(domain)"
                        .replacingOccurrences(of: "redirect=:", with: "redirect="),
                ])
        default:
            add(domain, ["TXT", record(domain, client: client, depth: 0, ptrOK: ptrOK)])
            if chance(0.1) { add(domain, ["TXT", "some other TXT record"]) }
        }
        cases.append(Case(id: id, ip: client, mailFrom: mailFrom, helo: helo, domain: domain, zone: current))
    }
}
