/// SORT and THREAD (RFC 5256), ESORT's return options (RFC 5267), DISPLAYFROM/DISPLAYTO (RFC 5957).
extension IMAPParser {
    /// sort = ["UID" SP] "SORT" [search-return-opts] SP sort-criteria SP search-criteria   (RFC 5256 §5, RFC 5267 §3)
    /// search-criteria = charset 1*(SP search-key)
    mutating func sortCommand() throws -> SortCommand {
        try sp()
        var returnOptions: [SortReturnOption]?
        if skipKeyword("RETURN") {
            try sp()
            returnOptions = try sortReturnOptions()
            try sp()
        }
        let criteria = try sortCriteria()
        try sp()
        let charset = try astringText().uppercased()
        try sp()
        return SortCommand(criteria: criteria, returnOptions: returnOptions, charset: charset, key: try searchKeys())
    }

    /// search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"   (RFC 4731 §3)
    /// search-return-opt =/ "PARTIAL" SP partial-range; partial-range = nz-number ":" nz-number   (RFC 5267 §4.4)
    mutating func sortReturnOptions() throws -> [SortReturnOption] {
        try expect(0x28, "(")
        var options: [SortReturnOption] = []
        while !skip(0x29) {
            if !options.isEmpty { try sp() }
            let name = try keyword()
            switch name {
            case "MIN": options.append(.min)
            case "MAX": options.append(.max)
            case "ALL": options.append(.all)
            case "COUNT": options.append(.count)
            case "SAVE": options.append(.save)
            case "PARTIAL":
                try sp()
                let a = try nzNumber()
                try expect(0x3A, ":")
                let b = try nzNumber()
                // RFC 5267 §4.4: the range may be given either way round.
                options.append(.partial(min(a, b)...max(a, b)))
            default: throw fail("unknown SORT RETURN option \(name.prefix(40))")
            }
        }
        return options
    }

    /// sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"   (RFC 5256 §5)
    /// sort-criterion = ["REVERSE" SP] sort-key
    /// sort-key = "ARRIVAL" / "CC" / "DATE" / "FROM" / "SIZE" / "SUBJECT" / "TO" / "DISPLAYFROM" / "DISPLAYTO"   (RFC 5957 §4)
    mutating func sortCriteria() throws -> [SortCriterion] {
        try expect(0x28, "(")
        var criteria: [SortCriterion] = []
        repeat {
            let reverse = skipKeyword("REVERSE")
            if reverse { try sp() }
            let name = try keyword()
            guard let key = SortCriterion.Key(rawValue: name) else { throw fail("unknown sort key \(name.prefix(40))") }
            criteria.append(SortCriterion(key, reverse: reverse))
            guard criteria.count <= 20 else { throw fail("too many sort criteria") }
        } while skip(0x20)
        try expect(0x29, ")")
        return criteria
    }

    /// thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria   (RFC 5256 §5)
    /// thread-alg = "ORDEREDSUBJECT" / "REFERENCES" / thread-alg-ext
    mutating func threadCommand() throws -> ThreadCommand {
        try sp()
        let name = try keyword()
        guard let algorithm = ThreadAlgorithm(rawValue: name) else {
            throw fail("unknown THREAD algorithm \(name.prefix(40)) (ORDEREDSUBJECT or REFERENCES)")
        }
        try sp()
        let charset = try astringText().uppercased()
        try sp()
        return ThreadCommand(algorithm: algorithm, charset: charset, key: try searchKeys())
    }
}
