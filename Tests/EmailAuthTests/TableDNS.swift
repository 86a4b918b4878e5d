import EmailAuth

/// An ``AuthDNS`` answering from tables: names not in any table do not exist (NXDOMAIN); names
/// in `failing` give a temporary failure. Keys are lower case without a trailing dot.
struct TableDNS: AuthDNS {
    var txt: [String: [String]] = [:]
    var a: [String: [String]] = [:]
    var aaaa: [String: [String]] = [:]
    var mx: [String: [String]] = [:]
    var ptr: [String: [String]] = [:]
    var failing: Set<String> = []

    private func answer(_ table: [String: [String]], _ name: String) throws(AuthDNSFailure) -> [String] {
        var key = name.lowercased()
        while key.hasSuffix(".") { key.removeLast() }
        if failing.contains(key) { throw .temporary("SERVFAIL for \(key)") }
        if let records = table[key] { return records }
        let exists = [txt, a, aaaa, mx, ptr].contains { $0[key] != nil }
        if exists { return [] }
        throw .notFound(key)
    }

    func txt(_ name: String) async throws(AuthDNSFailure) -> [String] { try answer(txt, name) }
    func addresses(_ name: String, ipv6: Bool) async throws(AuthDNSFailure) -> [String] { try answer(ipv6 ? aaaa : a, name) }
    func mx(_ name: String) async throws(AuthDNSFailure) -> [String] { try answer(mx, name) }
    func ptr(_ ip: String) async throws(AuthDNSFailure) -> [String] { try answer(ptr, ip) }
}
