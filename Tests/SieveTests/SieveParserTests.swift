import Sieve
import Testing

@Suite("Sieve parser")
struct SieveParserTests {
    static func loc(_ line: Int, _ column: Int) -> SieveLocation { SieveLocation(line: line, column: column) }

    @Test func astOfAnIfChain() throws {
        let script = try SieveParser.parse(
            """
            require ["fileinto"]; # comment
            if anyof (header :is "a" "b", not true) {
                fileinto "x";
            } else { discard; }
            """)
        let at = Self.loc(0, 0)
        let test = SieveTest(
            identifier: "anyof",
            tests: .list([
                SieveTest(
                    identifier: "header",
                    arguments: [
                        .init(.tag("is"), location: at), .init(.string("a"), location: at),
                        .init(.string("b"), location: at),
                    ], location: at),
                SieveTest(identifier: "not", tests: .single(SieveTest(identifier: "true", location: at)), location: at),
            ]), location: at)
        #expect(
            script.commands == [
                SieveCommand(
                    identifier: "require", arguments: [.init(.stringList(["fileinto"]), location: at)], location: at),
                SieveCommand(
                    identifier: "if", tests: .single(test),
                    block: [
                        SieveCommand(
                            identifier: "fileinto", arguments: [.init(.string("x"), location: at)], location: at)
                    ], location: at),
                SieveCommand(
                    identifier: "else", block: [SieveCommand(identifier: "discard", location: at)], location: at),
            ])
        #expect(script.commands[1].location == Self.loc(2, 1))
        #expect(script.commands[2].block?[0].location == Self.loc(4, 10))
    }

    @Test(arguments: [
        // Numbers and quantifiers (RFC 5228 §2.4.1).
        ("size :over 10K;", SieveArgument.Value.number(10 * 1024)),
        ("size :over 2m;", .number(2 << 20)),
        ("size :over 1G;", .number(1 << 30)),
        // Quoted strings: \" and \\ escaped, any other backslash dropped (§2.4.2).
        (#"x "a\"b\\c\d";"#, .string(#"a"b\cd"#)),
        ("x \"two\r\nlines\";", .string("two\r\nlines")),
        // Multi-line strings: dot-stuffing undone, comment after text: allowed (§2.4.2).
        ("x text:\r\nline 1\r\n..dot\r\n.\r\n;", .string("line 1\r\n.dot\r\n")),
        ("x text: # note\n.\n;", .string("")),
        ("x text:\nunix\n.\n;", .string("unix\n")),
        ("x [\"a\", text:\nb\n.\n, \"c\"];", .stringList(["a", "b\n", "c"])),
        ("x :Tag_1;", .tag("Tag_1")),
    ])
    func tokens(_ text: String, _ value: SieveArgument.Value) throws {
        let script = try SieveParser.parse(text)
        #expect(script.commands.first?.arguments.last?.value == value)
    }

    /// Printed scripts parse back to the same syntax tree.
    @Test(arguments: [
        "",
        "keep;",
        "require [\"fileinto\", \"copy\"];\nfileinto :copy \"a\\\"b\\\\c\";",
        "if anyof (true, not false, allof (exists \"x\", size :under 1M)) { keep; } elsif header :is [\"a\", \"b\"] \"c\" { } else { discard; stop; }",
        "if (true) { keep; }",
        "x text:\r\n.leading\r\n..double\r\nplain\r\n.\r\n;",
        "vacation :days 7 :subject \"x\" :addresses [\"a@b.c\"] text:\nI'm away.\n.\n;",
        "a b c d e;",
        "if true { if true { if true { keep; } } }",
        "set \"${hex:41}\" \"${unicode: 263a}\";",
        "x \"tab\there\" \"unicode ☺ \\u\";",
        "x 0 00 99999999 1k;",
    ])
    func roundTrip(_ text: String) throws {
        let script = try SieveParser.parse(text)
        let printed = script.description
        let again = try SieveParser.parse(printed)
        #expect(again == script, "\(printed)")
        #expect(again.description == printed)
    }

    /// Malformed scripts: each error names what is wrong, and where.
    @Test(arguments: [
        ("keep", 1, 5, "command \"keep\" is not ended: expected \";\" or \"{\" at the end of the script"),
        ("keep;\n\"abc\";", 2, 1, "expected a command (an identifier such as keep or if), found a string"),
        ("keep;\nfileinto \"abc;", 2, 10, "the string that starts here is not terminated: a closing \" is missing"),
        (
            "x text:\nabc\n", 1, 3,
            "the multi-line string that starts here is not terminated: a line with a single \".\" is missing"
        ),
        ("x text: abc\n.\n;", 1, 3, "after text: only a comment may follow on the same line"),
        ("keep; /* never closed", 1, 7, "the comment that starts here is not closed with */"),
        ("if true { keep;", 1, 16, "the block is not closed: a \"}\" is missing at the end of the script"),
        ("keep; }", 1, 7, "\"}\" without a block to close"),
        ("x [\"a\" \"b\"];", 1, 8, "expected \",\" or \"]\" in the string list, found a string"),
        ("x [];", 1, 4, "expected a string in the string list, found \"]\""),
        ("if anyof (true; false) {}", 1, 15, "expected \",\" or \")\" in the test list, found \";\""),
        ("x 12X;", 1, 5, "a number may only be followed by K, M or G, found \"X\""),
        ("x 99999999999999999999;", 1, 3, "the number is too large (at most 9223372036854775807)"),
        ("x 9999999999G;", 1, 3, "the number is too large (at most 9223372036854775807)"),
        ("x : ;", 1, 3, "a tag needs a name after \":\""),
        ("x \u{1};", 1, 3, "command \"x\" is not ended: expected \";\" or \"{\", found the octet 0x01"),
    ])
    func syntaxErrors(_ text: String, _ line: Int, _ column: Int, _ message: String) {
        #expect(throws: SieveError(.syntax, Self.loc(line, column), message)) { try SieveParser.parse(text) }
    }

    /// Scripts that parse but do not validate.
    @Test(arguments: [
        (
            "filein \"x\";", 1, 1,
            "unknown command \"filein\"; is it misspelt, or an extension Mailroom does not support?"
        ),
        (
            "fileinto \"x\";", 1, 1,
            "fileinto needs the extension \"fileinto\": add require \"fileinto\"; at the top of the script"
        ),
        ("if foo { keep; }", 1, 4, "unknown test \"foo\"; is it misspelt, or an extension Mailroom does not support?"),
        (
            "require \"regex\";", 1, 9,
            "the extension \"regex\" is not supported (supported: fileinto, reject, ereject, envelope, encoded-character, copy, variables, imap4flags, relational, subaddress, body, vacation, vacation-seconds, date, index, mailbox, editheader, duplicate, include, comparator-i;octet, comparator-i;ascii-casemap, comparator-i;ascii-numeric)"
        ),
        ("keep;\nrequire \"fileinto\";", 2, 1, "require must come before any other command, at the top of the script"),
        (
            "require \"fileinto\";\nfileinto 3;", 2, 10,
            "fileinto expects a string (the mailbox name) here, found the number 3"
        ),
        (
            "require \"fileinto\"; fileinto \"a\" \"b\";", 1, 34,
            "fileinto has too many arguments: a string is not expected here"
        ),
        ("keep :copy;", 1, 6, "keep has no tag :copy"),
        ("require \"copy\"; redirect :copy :copy \"a@b.c\";", 1, 32, "redirect: the tag :copy is given twice"),
        (
            "if header :is :contains \"a\" \"b\" {}", 1, 15,
            "only one match type (:is, :contains, :matches, :value, :count) may be given"
        ),
        (
            "if header :count \"gt\" \"a\" \"b\" {}", 1, 11,
            ":count needs the extension \"relational\": add require \"relational\"; at the top of the script"
        ),
        (
            "if header :comparator \"i;ascii-numeric\" \"a\" \"b\" {}", 1, 11,
            "the comparator i;ascii-numeric needs the extension \"comparator-i;ascii-numeric\": add require \"comparator-i;ascii-numeric\"; at the top of the script"
        ),
        (
            "require \"comparator-i;ascii-numeric\"; if header :contains :comparator \"i;ascii-numeric\" \"a\" \"b\" {}",
            1, 49, "the comparator i;ascii-numeric cannot be used with :contains or :matches"
        ),
        (
            "if header :comparator \"i;klingon\" \"a\" \"b\" {}", 1, 11,
            "the comparator \"i;klingon\" is not supported (i;octet, i;ascii-casemap, i;ascii-numeric)"
        ),
        (
            "if address :user \"to\" \"a\" {}", 1, 12,
            ":user needs the extension \"subaddress\": add require \"subaddress\"; at the top of the script"
        ),
        ("if size 3 {}", 1, 4, "size needs :over or :under: size :over 100K"),
        (
            "if address \"subject\" \"x\" {}", 1, 12,
            "the address test reads address fields (From, To, Cc, …), not \"subject\"; use header for other fields"
        ),
        ("if true;", 1, 1, "if needs a block { … }"),
        ("if (true) {}", 1, 1, "if takes one test, not a test list in parentheses; use anyof(…) or allof(…)"),
        ("if anyof true {}", 1, 4, "anyof takes a test list in parentheses: anyof (test, test, …)"),
        ("else { keep; }", 1, 1, "else must follow an if or elsif block"),
        ("keep { }", 1, 1, "command \"keep\" takes no block; end it with \";\""),
        ("redirect \"nobody\";", 1, 10, "redirect needs an address like user@example.org, not \"nobody\""),
        (
            "require \"variables\"; set \"1a\" \"x\";", 1, 26,
            "\"1a\" is not a variable name one can set (letters, digits and _; not starting with a digit)"
        ),
        ("require \"variables\"; set :lower :upper \"a\" \"x\";", 1, 33, ":upper and :lower cannot be used together"),
        (
            "require \"date\"; if date \"date\" \"century\" \"x\" {}", 1, 32,
            "\"century\" is not a date part (year, month, day, date, julian, hour, minute, second, time, iso8601, std11, zone, weekday)"
        ),
        (
            "require \"date\"; if currentdate :zone \"CET\" \"year\" \"x\" {}", 1, 32,
            "\"CET\" is not a zone like +0100 or -0530"
        ),
        ("require \"index\"; if header :last \"a\" \"b\" {}", 1, 28, ":last needs :index: :index 1 :last"),
        (
            "require \"vacation\"; vacation :seconds 5 \"x\";", 1, 30,
            ":seconds needs the extension \"vacation-seconds\": add require \"vacation-seconds\"; at the top of the script"
        ),
        ("require \"editheader\"; addheader \"Bad Name\" \"x\";", 1, 33, "\"Bad Name\" is not a header field name"),
    ])
    func validationErrors(_ text: String, _ line: Int, _ column: Int, _ message: String) {
        #expect(throws: SieveError(.validation, Self.loc(line, column), message)) { try SieveProgram(text) }
    }
}

/// Every script the Pigeonhole comparison uses, printed and parsed again: the same tree, and
/// the same actions on every message.
@Suite("Sieve printer")
struct SievePrinterTests {
    @Test(arguments: SievePigeonholeTests.scripts.filter { (try? SieveParser.parse($0)) != nil })
    func printedScriptsRunTheSame(_ text: String) throws {
        let script = try SieveParser.parse(text)
        let printed = try SieveParser.parse(script.description)
        #expect(printed == script)
        for m in SievePigeonholeTests.messages {
            let context = SieveContext(envelopeFrom: m.from, envelopeTo: m.to)
            let bytes = Array(m.text.utf8)
            func outcome(_ s: SieveScript) -> String {
                do {
                    return "\(try SieveInterpreter.run(try SieveProgram(s), message: bytes, context: context))"
                } catch {
                    return "error \(error.kind)"
                }
            }
            #expect(outcome(printed) == outcome(script), "\(m.name)")
        }
    }
}
