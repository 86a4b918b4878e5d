// The SPF record grammar (RFC 7208 §12). Mechanism and modifier names are case-insensitive;
// domain-specs keep their case and stay unexpanded.
extension SPFRecord {
    /// Parses one TXT record's text. Throws for anything outside the grammar of RFC 7208 §12,
    /// and for a repeated `redirect=` or `exp=` (§6).
    public init(parsing text: String) throws(SPFSyntaxError) {
        // record = version terms *SP ; version = "v=spf1" ; terms = *( 1*SP ( directive / modifier ) )
        guard Self.isSPFRecord(text) else { throw .notSPF(text) }
        var terms: [Term] = []
        var seen: Set<String> = []
        for word in text.utf8.dropFirst(6).split(separator: .space) {
            let term = String(decoding: word, as: UTF8.self)
            guard word.allSatisfy({ (0x21...0x7E).contains($0) }) else { throw .invalidCharacter(term: term) }
            let parsed = try Self.parseTerm(term)
            switch parsed {
            case .redirect, .explanation:
                let name = parsed.description.prefix { $0 != "=" }.lowercased()
                guard seen.insert(name).inserted else { throw .duplicateModifier(name) }
            default: break
            }
            terms.append(parsed)
        }
        self.terms = terms
    }

    // directive = [ qualifier ] mechanism
    // modifier  = redirect / explanation / unknown-modifier ; unknown-modifier = name "=" macro-string
    // name      = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
    static func parseTerm(_ term: String) throws(SPFSyntaxError) -> Term {
        let nameEnd = term.firstIndex { !($0.isLetter || $0.isNumber || "-_.".contains($0)) } ?? term.endIndex
        if nameEnd < term.endIndex, term[nameEnd] == "=", let first = term.first, first.isLetter {
            let name = String(term[..<nameEnd])
            let value = String(term[term.index(after: nameEnd)...])
            switch name.lowercased() {
            case "redirect": return .redirect(try domainSpec(value, term: term))
            case "exp": return .explanation(try domainSpec(value, term: term))
            default:
                // Never expanded, so any macro letter is let through (c, r and t too).
                _ = try SPFMacro.tokens(value, explanation: true)
                return .unknownModifier(name: name, value: value)
            }
        }
        var rest = Substring(term)
        var qualifier = Qualifier.pass
        if let first = rest.first, let q = Qualifier(rawValue: String(first)) {
            qualifier = q
            rest = rest.dropFirst()
        }
        return .directive(qualifier, try mechanism(rest, term: term))
    }

    private static func mechanism(_ text: Substring, term: String) throws(SPFSyntaxError) -> Mechanism {
        let nameEnd = text.firstIndex { $0 == ":" || $0 == "/" } ?? text.endIndex
        let name = text[..<nameEnd].lowercased()
        let hasColon = nameEnd < text.endIndex && text[nameEnd] == ":"
        let argument = hasColon ? text[text.index(after: nameEnd)...] : text[nameEnd...]
        switch name {
        case "all":
            guard argument.isEmpty else { throw .invalidArgument(term: term, reason: "all takes no argument") }
            return .all
        case "include", "exists":
            guard hasColon else {
                throw .invalidArgument(term: term, reason: "\(name) needs a domain: \(name):example.org")
            }
            let d = try domainSpec(String(argument), term: term)
            return name == "include" ? .include(d) : .exists(d)
        case "a", "mx":
            // a = "a" [ ":" domain-spec ] [ dual-cidr-length ]
            var rest = argument
            let cidr = try dualCIDR(&rest, term: term)
            guard hasColon || rest.isEmpty else { throw .unknownMechanism(term) }
            let d = hasColon ? try domainSpec(String(rest), term: term) : nil
            return name == "a" ? .a(d, cidr) : .mx(d, cidr)
        case "ptr":
            guard hasColon || argument.isEmpty else {
                throw .invalidArgument(term: term, reason: "ptr takes no prefix length")
            }
            return .ptr(hasColon ? try domainSpec(String(argument), term: term) : nil)
        case "ip4", "ip6":
            // ip4 = "ip4" ":" ip4-network [ ip4-cidr-length ] ; ip6 likewise
            guard hasColon else { throw .invalidAddress(term: term) }
            let v6 = name == "ip6"
            var network = argument
            var prefix = v6 ? 128 : 32
            if let slash = argument.lastIndex(of: "/") {
                network = argument[..<slash]
                prefix = try cidrLength(argument[argument.index(after: slash)...], max: prefix, term: term)
            }
            if v6 {
                guard let bytes = SPFAddress.parseIPv6(String(network)) else { throw .invalidAddress(term: term) }
                return .ip6(SPFAddress(bytes: bytes), prefix: prefix)
            }
            guard let bytes = SPFAddress.parseIPv4(network) else { throw .invalidAddress(term: term) }
            return .ip4(SPFAddress(bytes: bytes), prefix: prefix)
        default:
            throw .unknownMechanism(term)
        }
    }

    // dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]; taken off the end of `text`.
    private static func dualCIDR(_ text: inout Substring, term: String) throws(SPFSyntaxError) -> CIDR {
        var cidr = CIDR()
        func trailingNumber(_ s: Substring) -> Substring.Index? {
            guard let slash = s.lastIndex(of: "/"), s[s.index(after: slash)...].allSatisfy(\.isASCIIDigit) else {
                return nil
            }
            return slash
        }
        guard let slash = trailingNumber(text) else { return cidr }
        let isV6 = slash > text.startIndex && text[text.index(before: slash)] == "/"
        let value = try cidrLength(text[text.index(after: slash)...], max: isV6 ? 128 : 32, term: term)
        if isV6 {
            cidr.ipv6 = value
            text = text[..<text.index(before: slash)]
            guard let slash4 = trailingNumber(text) else { return cidr }
            cidr.ipv4 = try cidrLength(text[text.index(after: slash4)...], max: 32, term: term)
            text = text[..<slash4]
        } else {
            cidr.ipv4 = value
            text = text[..<slash]
        }
        return cidr
    }

    // ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT) ; ip6-cidr-length = "/" ("0" / %x31-39 0*2DIGIT)
    private static func cidrLength(_ digits: Substring, max: Int, term: String) throws(SPFSyntaxError) -> Int {
        guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy(\.isASCIIDigit),
            digits == "0" || digits.first != "0", let n = Int(digits), n <= max
        else { throw .invalidCIDR(term: term) }
        return n
    }

    // domain-spec = macro-string domain-end
    // domain-end  = ( "." toplabel [ "." ] ) / macro-expand
    // toplabel    = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
    static func domainSpec(_ text: String, term: String) throws(SPFSyntaxError) -> String {
        let tokens = try SPFMacro.tokens(text, explanation: false)
        guard let last = tokens.last else { throw .invalidDomainSpec(term: term, reason: "the domain is empty") }
        // A domain-spec ending in %%, %_ or %- ends in a macro-expand too; the tokenizer merged
        // those into the literal, so look at the raw text.
        if case .macro = last { return text }
        if text.hasSuffix("%%") || text.hasSuffix("%_") || text.hasSuffix("%-") {
            var percents = 0
            for c in text.dropLast().reversed() {
                guard c == "%" else { break }
                percents += 1
            }
            if percents % 2 == 1 { return text }
        }
        var literal = Substring(text)
        if literal.hasSuffix(".") { literal = literal.dropLast() }
        guard let dot = literal.lastIndex(of: ".") else {
            throw .invalidDomainSpec(term: term, reason: "\"\(text)\" is not a fully qualified domain (no dot)")
        }
        let top = literal[literal.index(after: dot)...]
        let alnum = top.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        guard !top.isEmpty, alnum, top.first != "-", top.last != "-",
            top.contains(where: { $0.isLetter }) || top.contains("-")
        else {
            throw .invalidDomainSpec(term: term, reason: "\"\(top)\" is not a valid top-level label")
        }
        return text
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
