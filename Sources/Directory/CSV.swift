import Foundation

/// RFC 4180 CSV: fields separated by commas, records by CRLF or LF, fields optionally in double
/// quotes with `""` for a quote inside. Each record carries the line it starts on, so errors can
/// name it.
public enum CSV {
    public struct Record: Hashable, Sendable {
        public var line: Int
        public var fields: [String]
    }

    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static let maxRecords = 1_000_000
    public static let maxFieldBytes = 65_536

    public static func parse(_ text: String) throws(ParseError) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var fieldWasQuoted = false
        var chars = Array(text.unicodeScalars)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }  // byte-order mark from spreadsheet exports
        var i = 0
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields = []
            field = ""
            fieldWasQuoted = false
        }
        while i < chars.count {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" {
                        field.unicodeScalars.append("\"")
                        i += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else {
                switch c {
                case ",":
                    fields.append(field)
                    field = ""
                    fieldWasQuoted = false
                case "\r" where i + 1 < chars.count && chars[i + 1] == "\n":
                    break
                case "\n":
                    endRecord()
                    line += 1
                    recordLine = line
                case "\"":
                    guard field.isEmpty && !fieldWasQuoted else {
                        throw ParseError(line: line, message: "a quote inside an unquoted field; quote the whole field and double the quote")
                    }
                    inQuotes = true
                    fieldWasQuoted = true
                default:
                    if fieldWasQuoted {
                        throw ParseError(line: line, message: "text after a closing quote; put the whole field in quotes")
                    }
                    field.unicodeScalars.append(c)
                }
            }
            if field.utf8.count > maxFieldBytes { throw ParseError(line: line, message: "a field longer than \(maxFieldBytes) bytes") }
            i += 1
        }
        if inQuotes { throw ParseError(line: recordLine, message: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRecord() }
        guard records.count <= maxRecords else { throw ParseError(line: line, message: "more than \(maxRecords) records") }
        return records
    }

    /// One record as a line, quoting fields that need it (and fields that start with a formula
    /// character are quoted too, which keeps spreadsheets from running them).
    public static func format(_ fields: [String]) -> String {
        fields.map { f in
            // By scalar, as the parser reads: "\r\n" is one Character, equal to neither "\r" nor
            // "\n", and a quote followed by a combining mark is one Character that is not "\"".
            let needsQuotes = f.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                || f.unicodeScalars.first.map { "=+-@".unicodeScalars.contains($0) } == true
            guard needsQuotes else { return f }
            var quoted = String.UnicodeScalarView()
            quoted.append("\"")
            for s in f.unicodeScalars {
                if s == "\"" { quoted.append("\"") }
                quoted.append(s)
            }
            quoted.append("\"")
            return String(quoted)
        }.joined(separator: ",")
    }
}
