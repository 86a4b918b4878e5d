import ManageSieve
import Testing

/// The command grammar (RFC 5804 §4): what parses to which command, what is refused with `NO`,
/// and what ends the connection.
struct ManageSieveFramerTests {
    static func frames(_ text: String, limits: ManageSieveLimits = ManageSieveLimits()) throws(ManageSieveFramingError)
        -> [ManageSieveFramer.Frame]
    {
        var framer = ManageSieveFramer(limits: limits)
        framer.append(Array(text.utf8))
        var out: [ManageSieveFramer.Frame] = []
        while let f = try framer.next() { out.append(f) }
        return out
    }

    static func command(_ text: String) throws -> ManageSieveCommand {
        let f = try frames(text)
        guard f.count == 1, case .words(let words) = f[0] else { throw ManageSieveParseError("not one command: \(f)") }
        return try ManageSieveCommand(words: words)
    }

    static let good: [(String, ManageSieveCommand)] = [
        ("CAPABILITY\r\n", .capability),
        ("capability\r\n", .capability),
        ("LOGOUT\r\n", .logout),
        ("StartTls\r\n", .startTLS),
        ("NOOP\r\n", .noop(tag: nil)),
        ("NOOP \"STARTTLS-SYNC-42\"\r\n", .noop(tag: "STARTTLS-SYNC-42")),
        ("AUTHENTICATE \"PLAIN\"\r\n", .authenticate(mechanism: "PLAIN", initial: nil)),
        (
            "AUTHENTICATE \"plain\" \"AGFsaWNlAHNlY3JldA==\"\r\n",
            .authenticate(mechanism: "PLAIN", initial: "AGFsaWNlAHNlY3JldA==")
        ),
        (
            "AUTHENTICATE \"PLAIN\" {20+}\r\nAGFsaWNlAHNlY3JldA==\r\n",
            .authenticate(mechanism: "PLAIN", initial: "AGFsaWNlAHNlY3JldA==")
        ),
        ("HAVESPACE \"rules\" 2048\r\n", .haveSpace(name: "rules", size: 2048)),
        ("PUTSCRIPT \"rules\" {6+}\r\nkeep;\n\r\n", .putScript(name: "rules", script: "keep;\n")),
        // A synchronizing literal is accepted too (no continuation is sent).
        ("PUTSCRIPT \"rules\" {5}\r\nkeep;\r\n", .putScript(name: "rules", script: "keep;")),
        ("PUTSCRIPT {5+}\r\nrules {0+}\r\n\r\n", .putScript(name: "rules", script: "")),
        ("CHECKSCRIPT \"stop;\"\r\n", .checkScript("stop;")),
        ("LISTSCRIPTS\r\n", .listScripts),
        ("SETACTIVE \"\"\r\n", .setActive("")),
        ("SETACTIVE \"r\\\"q\\\\\"\r\n", .setActive("r\"q\\")),
        ("GETSCRIPT \"räume\"\r\n", .getScript("räume")),
        ("DELETESCRIPT \"old\"\r\n", .deleteScript("old")),
        ("RENAMESCRIPT \"a\" \"b\"\r\n", .renameScript(old: "a", new: "b")),
        ("UNAUTHENTICATE\r\n", .unauthenticate),
    ]

    @Test(arguments: good)
    func parses(_ text: String, _ expected: ManageSieveCommand) throws {
        #expect(try Self.command(text) == expected)
    }

    @Test(arguments: good.map(\.1))
    func roundTrips(_ command: ManageSieveCommand) throws {
        #expect(try Self.command(String(decoding: command.bytes, as: UTF8.self)) == command)
    }

    /// Fed one octet at a time, the same commands come out.
    @Test(arguments: good)
    func parsesInPieces(_ text: String, _ expected: ManageSieveCommand) throws {
        var framer = ManageSieveFramer(limits: ManageSieveLimits())
        var out: [ManageSieveFramer.Frame] = []
        for b in text.utf8 {
            framer.append([b])
            while let f = try framer.next() { out.append(f) }
        }
        guard out.count == 1, case .words(let words) = out[0] else { Issue.record("\(out)"); return }
        #expect(try ManageSieveCommand(words: words) == expected)
    }

    /// Complete lines with a wrong command: refused with NO, the connection stays.
    static let refused: [String] = [
        "FROBNICATE\r\n",
        "\"CAPABILITY\"\r\n",
        "\r\n",
        "PUTSCRIPT \"x\"\r\n",
        "PUTSCRIPT x y\r\n",
        "HAVESPACE \"x\" \"12\"\r\n",
        "LOGOUT \"now\"\r\n",
        "RENAMESCRIPT \"a\"\r\n",
        "SETACTIVE 12\r\n",
    ]

    @Test(arguments: refused)
    func refusesBadCommands(_ text: String) throws {
        #expect(throws: ManageSieveParseError.self) { try Self.command(text) }
    }

    /// Broken framing: the connection ends with BYE.
    static let fatal: [String] = [
        "CAPABILITY\n",
        "CAPABILITY\rX",
        "GETSCRIPT \"a\nb\"\r\n",
        "GETSCRIPT \"a\\x\"\r\n",
        "PUTSCRIPT \"a\" {x+}\r\n",
        "PUTSCRIPT \"a\" {5+}\n",
        "PUTSCRIPT \"a\" {99999999999+}\r\n",
        "HAVESPACE \"a\" 99999999999\r\n",
        "NOOP ( )\r\n",
        "A B C D E F G H I J\r\n",
        String(repeating: "A", count: 9000),
        "GETSCRIPT \"" + String(repeating: "a", count: 1100) + "\"\r\n",
    ]

    @Test(arguments: fatal)
    func endsTheConnectionOnBrokenFraming(_ text: String) {
        #expect(throws: ManageSieveFramingError.self) { try Self.frames(text) }
    }

    @Test func incompleteInputWaits() throws {
        #expect(try Self.frames("PUTSCRIPT \"a\" {10+}\r\nkeep").isEmpty)
        #expect(try Self.frames("CAPABILITY").isEmpty)
        #expect(try Self.frames("CAPABILITY\r").isEmpty)
    }

    /// A literal over the size limit is read and dropped, the command refused, the next one served.
    @Test func anOversizedLiteralIsDroppedAndRefused() throws {
        var limits = ManageSieveLimits()
        limits.maxLiteralSize = 10
        let big = String(repeating: "x", count: 50)
        let f = try Self.frames("PUTSCRIPT \"a\" {50+}\r\n\(big)\r\nLISTSCRIPTS\r\n", limits: limits)
        #expect(
            f == [.refused(code: "QUOTA/MAXSIZE", "A string is at most 10 octets"), .words([.atom("LISTSCRIPTS")])])
    }

    @Test func invalidUTF8IsRefused() throws {
        var framer = ManageSieveFramer(limits: ManageSieveLimits())
        framer.append(Array("CHECKSCRIPT {2+}\r\n".utf8) + [0xFF, 0xFE] + Array("\r\n".utf8))
        #expect(try framer.next() == .refused(code: nil, "Strings must be UTF-8"))
    }

    @Test func responsesQuoteOrUseLiterals() {
        #expect(
            ManageSieveResponse.no(code: "ACTIVE", "is \"on\"").bytes == Array("NO (ACTIVE) \"is \\\"on\\\"\"\r\n".utf8)
        )
        #expect(ManageSieveResponse.ok().bytes == Array("OK\r\n".utf8))
        #expect(ManageSieveResponse.data([.string("a\r\nb")]).bytes == Array("{4}\r\na\r\nb\r\n".utf8))
    }
}
