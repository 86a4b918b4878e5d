import Foundation
import Sieve
import Testing

/// Scripts from the RFCs (and small variations on them) run on `Fixture.message`: each row is
/// a script and the actions it must produce.
@Suite("Sieve interpreter")
struct SieveInterpreterTests {
    @Test(
        arguments: [
            // RFC 5228 §2.10.2: no action → implicit keep; any of keep/fileinto/redirect/discard cancels it.
            ("", ["keep (implicit)"]),
            ("keep;", ["keep"]),
            ("discard;", ["discard"]),
            ("# a comment\n/* another */ keep;", ["keep"]),
            ("require \"fileinto\"; fileinto \"Work\";", ["fileinto Work"]),
            ("redirect \"wile@example.net\";", ["redirect wile@example.net"]),
            ("keep; stop; discard;", ["keep"]),
            ("keep; keep;", ["keep"]),  // §2.10.3: the same action once
            ("require \"fileinto\"; fileinto \"INBOX\"; keep;", ["keep"]),
            ("redirect \"a@example.net\"; redirect \"a@EXAMPLE.net\";", ["redirect a@example.net"]),
            // RFC 5228 §9, the example script, on the coyote's message.
            (
                """
                require "fileinto";
                if header :is "Sender" "owner-ietf-mtgs@ietf.org" {
                    fileinto "meetings";
                } elsif header :contains "from" "coyote" {
                    redirect "acm@example.com";
                } else {
                    keep;
                }
                """, ["fileinto meetings"]
            ),
            (
                """
                if anyof (not exists ["From", "Date"], header :contains "from" "idiot@example.com") {
                    discard;
                } elsif size :over 100K {
                    discard;
                } elsif header :contains "subject" "present" {
                    redirect "acm@example.com";
                }
                """, ["redirect acm@example.com"]
            ),
            ("if allof (true, false) { discard; }", ["keep (implicit)"]),
            ("if anyof (false, true) { discard; }", ["discard"]),
            ("if not false { discard; }", ["discard"]),
            ("if size :over 500 { discard; }", ["discard"]),
            ("if size :under 500 { discard; }", ["keep (implicit)"]),
            ("if exists \"X-None\" { discard; }", ["keep (implicit)"]),
            // Header: RFC 2047 words decoded; default comparator is case-insensitive.
            ("if header :is \"cc\" \"André <andre@example.net>\" { discard; }", ["discard"]),
            ("if header :contains \"SUBJECT\" \"PRESENT\" { discard; }", ["discard"]),
            ("if header :contains :comparator \"i;octet\" \"subject\" \"PRESENT\" { discard; }", ["keep (implicit)"]),
            ("if header :matches \"subject\" \"*present*\" { discard; }", ["discard"]),
            ("if header :matches \"subject\" \"[?cme-list]*\" { discard; }", ["discard"]),
            ("if header :matches \"subject\" \"\\\\[acme-list]*\" { discard; }", ["discard"]),  // "\[" is a plain "["
            ("if header :matches \"subject\" \"\\\\*acme*\" { discard; }", ["keep (implicit)"]),  // "\*" is a plain "*"
            // Address (RFC 5228 §5.1) and subaddress (RFC 5233).
            ("if address :domain \"from\" \"DESERT.example.org\" { discard; }", ["discard"]),
            ("if address :localpart \"from\" \"coyote\" { discard; }", ["discard"]),
            ("if address :all :is \"to\" \"ken+sieve@example.org\" { discard; }", ["discard"]),
            ("if address :is \"from\" \"Wile E. Coyote\" { discard; }", ["keep (implicit)"]),
            ("require \"subaddress\"; if address :user \"to\" \"ken\" { discard; }", ["discard"]),
            ("require \"subaddress\"; if address :detail \"to\" \"sieve\" { discard; }", ["discard"]),
            ("require \"subaddress\"; if address :detail :matches \"from\" \"*\" { discard; }", ["keep (implicit)"]),
            // Envelope (RFC 5228 §5.4).
            ("require \"envelope\"; if envelope :domain \"from\" \"desert.example.org\" { discard; }", ["discard"]),
            ("require \"envelope\"; if envelope :localpart \"to\" \"roadrunner\" { discard; }", ["discard"]),
            // Relational (RFC 5231) and i;ascii-numeric.
            (
                "require [\"relational\", \"comparator-i;ascii-numeric\"]; if header :value \"ge\" :comparator \"i;ascii-numeric\" \"x-spam-score\" \"10\" { discard; }",
                ["discard"]
            ),
            (
                "require [\"relational\", \"comparator-i;ascii-numeric\"]; if header :value \"lt\" :comparator \"i;ascii-numeric\" \"x-priority\" \"2\" { discard; }",
                ["keep (implicit)"]
            ),
            (
                "require [\"relational\", \"comparator-i;ascii-numeric\"]; if address :count \"eq\" :comparator \"i;ascii-numeric\" [\"to\", \"cc\"] \"3\" { discard; }",
                ["discard"]
            ),
            // RFC 4790 §9.2.1: i;ascii-casemap orders after mapping to upper case, so "[" (0x5B)
            // sorts after "A" (Pigeonhole maps to lower case and says otherwise).
            ("require \"relational\"; if header :value \"gt\" \"subject\" \"[A\" { discard; }", ["discard"]),
            ("require \"relational\"; if header :value \"lt\" \"subject\" \"[acme-list] J\" { discard; }", ["discard"]),
            // Copy (RFC 3894).
            ("require [\"fileinto\", \"copy\"]; fileinto :copy \"Work\";", ["fileinto Work copy", "keep (implicit)"]),
            ("require [\"fileinto\", \"copy\"]; fileinto :copy \"inbox\";", ["fileinto inbox copy"]),
            (
                "require \"copy\"; redirect :copy \"b@example.net\";",
                ["redirect b@example.net copy", "keep (implicit)"]
            ),
            // Reject (RFC 5429).
            ("require \"reject\"; reject \"I don't want it\";", ["reject I don't want it"]),
            ("require \"ereject\"; ereject \"No\";", ["ereject No"]),
            ("require \"reject\"; discard; reject \"No\";", ["discard", "reject No"]),
            // Variables (RFC 5229).
            (
                "require [\"variables\", \"fileinto\"]; if header :matches \"Subject\" \"[*] *\" { fileinto \"lists.${1}\"; }",
                ["fileinto lists.acme-list"]
            ),
            (
                "require [\"variables\", \"fileinto\"]; if header :matches \"from\" \"*<*@*>\" { fileinto \"${3}/${2}\"; }",
                ["fileinto desert.example.org/coyote"]
            ),
            (
                "require \"variables\"; set :upper \"x\" \"abc\"; if string :is \"${x}\" \"ABC\" { discard; }",
                ["discard"]
            ),
            (
                "require \"variables\"; set :length \"n\" \"héllo\"; if string :is \"${n}\" \"5\" { discard; }",
                ["discard"]
            ),
            (
                "require \"variables\"; set :upperfirst :lower \"x\" \"JOHN\"; if string :is :comparator \"i;octet\" \"${x}\" \"John\" { discard; }",
                ["discard"]
            ),
            (
                "require [\"variables\", \"fileinto\"]; set :quotewildcard \"q\" \"a*b\"; fileinto \"${q}\";",
                ["fileinto a\\*b"]
            ),
            (
                "require [\"variables\", \"fileinto\"]; set \"a\" \"x\"; fileinto \"${a}${unset}${A}-${\";",
                ["fileinto xx-${"]
            ),
            // Encoded characters (RFC 5228 §2.4.2.4).
            (
                "require [\"encoded-character\", \"fileinto\"]; fileinto \"${hex:41 42}${unicode:263a}\";",
                ["fileinto AB☺"]
            ),
            ("require \"fileinto\"; fileinto \"${hex:41}\";", ["fileinto ${hex:41}"]),
            // Imap4flags (RFC 5232).
            ("require \"imap4flags\"; addflag \"\\\\Seen\"; keep;", ["keep [\\Seen]"]),
            (
                "require \"imap4flags\"; setflag \"\\\\Flagged A\"; addflag \"b a\"; removeflag \"A\";",
                ["keep [\\Flagged b] (implicit)"]
            ),
            (
                "require [\"imap4flags\", \"fileinto\"]; setflag \"x\"; fileinto :flags \"\\\\Deleted\" \"Work\"; fileinto \"Old\";",
                ["fileinto Work [\\Deleted]", "fileinto Old [x]"]
            ),
            ("require \"imap4flags\"; addflag \"\\\\Seen\"; if hasflag :is \"\\\\seen\" { discard; }", ["discard"]),
            (
                "require [\"imap4flags\", \"variables\"]; addflag \"v\" \"a b\"; if hasflag \"v\" \"b\" { discard; }",
                ["discard"]
            ),
            // Body (RFC 5173).
            ("require \"body\"; if body :contains \"anvil\" { discard; }", ["discard"]),
            ("require \"body\"; if body :raw :contains \"whole anvil\" { discard; }", ["discard"]),
            ("require \"body\"; if body :content \"image\" :contains \"anvil\" { discard; }", ["keep (implicit)"]),
            // Vacation (RFC 5230, RFC 6131).
            (
                "require \"vacation\"; vacation :days 3 :subject \"Away\" \"I'm out\";",
                ["vacation 259200s to coyote@desert.example.org subject=Away: I'm out", "keep (implicit)"]
            ),
            (
                "require \"vacation\"; vacation :days 0 \"x\";",
                ["vacation 86400s to coyote@desert.example.org: x", "keep (implicit)"]
            ),
            (
                "require \"vacation-seconds\"; vacation :seconds 60 :mime \"x\";",
                ["vacation 60s to coyote@desert.example.org mime: x", "keep (implicit)"]
            ),
            // Date and index (RFC 5260); the message's Date is 1997-04-01 09:06:31 -0800.
            ("require \"date\"; if date :is \"date\" \"date\" \"1997-04-01\" { discard; }", ["discard"]),
            ("require \"date\"; if date :originalzone :is \"date\" \"hour\" \"09\" { discard; }", ["discard"]),
            ("require \"date\"; if date :zone \"+0000\" :is \"date\" \"time\" \"17:06:31\" { discard; }", ["discard"]),
            ("require \"date\"; if date :is \"date\" \"hour\" \"18\" { discard; }", ["discard"]),  // the run's zone is +0100
            ("require \"date\"; if date :is \"date\" \"weekday\" \"2\" { discard; }", ["discard"]),
            ("require \"date\"; if date :is \"date\" \"julian\" \"50539\" { discard; }", ["discard"]),
            (
                "require \"date\"; if currentdate :zone \"+0000\" :is \"iso8601\" \"2026-12-03T13:00:00+00:00\" { discard; }",
                ["discard"]
            ),
            (
                "require [\"date\", \"relational\"]; if currentdate :value \"ge\" \"date\" \"2026-01-01\" { discard; }",
                ["discard"]
            ),
            ("require \"date\"; if date :is \"x-none\" \"year\" \"1997\" { discard; }", ["keep (implicit)"]),
            ("require \"date\"; if date :zone \"+0000\" \"received\" \"time\" \"17:06:40\" { discard; }", ["discard"]),
            (
                "require [\"date\", \"index\"]; if date :index 2 :zone \"+0000\" \"received\" \"time\" \"17:06:40\" { discard; }",
                ["keep (implicit)"]
            ),
            (
                "require [\"date\", \"index\"]; if header :index 1 :last :contains \"received\" \"acme\" { discard; }",
                ["discard"]
            ),
            ("require \"index\"; if header :index 2 \"to\" \"x\" { discard; }", ["keep (implicit)"]),
            // Mailbox (RFC 5490): the fixture's mailboxes are INBOX and Work.
            (
                "require [\"mailbox\", \"fileinto\"]; if mailboxexists \"Work\" { fileinto :create \"Work\"; }",
                ["fileinto Work create"]
            ),
            ("require \"mailbox\"; if mailboxexists [\"Work\", \"Nope\"] { discard; }", ["keep (implicit)"]),
            // Editheader (RFC 5293): later tests see the edits.
            (
                "require \"editheader\"; addheader \"X-Seen\" \"yes\"; if header :is \"x-seen\" \"yes\" { discard; }",
                ["discard"]
            ),
            (
                "require \"editheader\"; deleteheader \"subject\"; if exists \"subject\" { discard; }",
                ["keep (implicit)"]
            ),
            ("require \"editheader\"; deleteheader \"received\"; if exists \"received\" { discard; }", ["discard"]),  // protected
            // Duplicate (RFC 7352): the default context has seen nothing.
            ("require \"duplicate\"; if duplicate { discard; }", ["keep (implicit)"]),
            // Include (RFC 6609).
            ("require \"include\"; include :optional \"missing\";", ["keep (implicit)"]),
        ] as [(String, [String])])
    func rfcExamples(_ script: String, _ expected: [String]) throws {
        #expect(Fixture.summary(try Fixture.run(script)) == expected, "\(script)")
    }

    @Test func duplicateAsksTheCaller() throws {
        let seen = Fixture.context(seen: ["|<1997040109@desert.example.org>", "h|x-1"])
        #expect(
            Fixture.summary(try Fixture.run("require \"duplicate\"; if duplicate { discard; }", context: seen)) == [
                "discard"
            ])
        #expect(
            Fixture.summary(
                try Fixture.run(
                    "require \"duplicate\"; if duplicate :handle \"h\" :uniqueid \"x-1\" { discard; }", context: seen))
                == ["discard"])
        #expect(
            Fixture.summary(
                try Fixture.run("require \"duplicate\"; if duplicate :handle \"other\" { discard; }", context: seen))
                == ["keep (implicit)"])
    }

    @Test func includeRunsTheCallersScripts() throws {
        let context = Fixture.context(scripts: [
            "spam":
                "require [\"fileinto\", \"include\", \"variables\"]; global \"box\"; if header :contains \"subject\" \"present\" { fileinto \"${box}\"; return; } discard;",
            "global/admin": "require \"fileinto\"; fileinto \"Admin\"; stop;",
            "loop": "require \"include\"; include \"loop\";",
            "bad": "frobnicate;",
        ])
        let main =
            "require [\"include\", \"variables\"]; global \"box\"; set \"box\" \"Spam\"; include \"spam\"; include :once \"spam\"; keep;"
        #expect(Fixture.summary(try Fixture.run(main, context: context)) == ["fileinto Spam", "keep"])
        #expect(
            Fixture.summary(try Fixture.run("require \"include\"; include :global \"admin\"; keep;", context: context))
                == ["fileinto Admin"])
        #expect(throws: SieveError.self) { try Fixture.run("require \"include\"; include \"loop\";", context: context) }
        #expect(throws: SieveError.self) {
            try Fixture.run("require \"include\"; include \"missing\";", context: context)
        }
        #expect(throws: SieveError.self) { try Fixture.run("require \"include\"; include \"bad\";", context: context) }
    }

    @Test func includesAreListed() throws {
        let program = try SieveProgram(
            "require \"include\";\ninclude :global \"admin\";\nif true { include :optional :once \"spam\"; } else { include \"x\"; }"
        )
        #expect(
            program.includes == [
                SieveInclude(name: "admin", global: true, optional: false, location: SieveLocation(line: 2, column: 1)),
                SieveInclude(name: "spam", global: false, optional: true, location: SieveLocation(line: 3, column: 11)),
                SieveInclude(name: "x", global: false, optional: false, location: SieveLocation(line: 3, column: 52)),
            ])
    }

    @Test func headerEditsAreReported() throws {
        let r = try Fixture.run(
            "require \"editheader\"; addheader \"X-A\" \"1\"; addheader :last \"X-B\" \"2\"; deleteheader :matches \"to\" \"*ken*\"; deleteheader \"x-a\";"
        )
        #expect(
            r.headerEdits == [
                .add(name: "X-A", value: "1", last: false), .add(name: "X-B", value: "2", last: true),
                .delete(name: "to", occurrence: 1), .delete(name: "x-a", occurrence: 1),
            ])
    }

    /// Groups, entries without a domain and quoted local parts (RFC 5228 §2.7.4).
    @Test func awkwardAddresses() throws {
        let m =
            "From: \"Smith, J\" <\"john smith\"@example.org>\r\nTo: undisclosed-recipients:;\r\nCc: team: ann@example.org;, nobody\r\nBcc: nobody\r\n\r\nx\r\n"
        for (script, expected) in [
            ("if address :localpart \"from\" \"john smith\" { discard; }", ["discard"]),
            ("if address :all \"from\" \"\\\"john smith\\\"@example.org\" { discard; }", ["discard"]),
            ("if address :matches \"to\" \"*\" { discard; }", ["keep (implicit)"]),
            (
                "require [\"relational\", \"comparator-i;ascii-numeric\"]; if address :count \"eq\" :comparator \"i;ascii-numeric\" \"cc\" \"1\" { discard; }",
                ["discard"]
            ),
            ("if address :all \"bcc\" \"nobody\" { discard; }", ["discard"]),
            ("if address :localpart \"bcc\" \"nobody\" { discard; }", ["keep (implicit)"]),
        ] {
            #expect(Fixture.summary(try Fixture.run(script, m)) == expected, "\(script)")
        }
    }

    @Test func bodyOfAnHTMLOnlyMessage() throws {
        let html = "From: a@example.org\r\nContent-Type: text/html\r\n\r\n<p>Fish &amp; <b>chips</b></p>\r\n"
        #expect(
            Fixture.summary(
                try Fixture.run("require \"body\"; if body :text :contains \"fish & chips\" { discard; }", html)) == [
                    "discard"
                ])
        #expect(
            Fixture.summary(try Fixture.run("require \"body\"; if body :text :contains \"<b>\" { discard; }", html))
                == ["keep (implicit)"])
    }

    @Test func bodyOfAMultipartMessage() throws {
        let m = Fixture.multipart
        for (script, expected) in [
            ("require \"body\"; if body :text :contains \"résumé\" { discard; }", ["discard"]),
            ("require \"body\"; if body :text :contains \"report\" { discard; }", ["keep (implicit)"]),  // HTML beside plain text
            ("require \"body\"; if body :content \"multipart\" :contains \"b1\" { discard; }", ["keep (implicit)"]),
            (
                "require \"body\"; if body :content \"text/html\" :contains \"<b>quarterly</b>\" { discard; }",
                ["discard"]
            ),
            ("require \"body\"; if body :content \"text/plain\" :contains \"<b>\" { discard; }", ["keep (implicit)"]),
            ("require \"body\"; if body :content \"application\" :contains \"%PDF\" { discard; }", ["discard"]),
            ("if header :is \"subject\" \"Report été\" { discard; }", ["discard"]),
            ("require [\"date\"]; if date :originalzone \"date\" \"date\" \"2026-12-02\" { discard; }", ["discard"]),
            ("require [\"date\"]; if date :zone \"+0000\" \"date\" \"date\" \"2026-12-03\" { discard; }", ["discard"]),
        ] {
            #expect(Fixture.summary(try Fixture.run(script, m)) == expected, "\(script)")
        }
    }

    @Test(arguments: [
        // RFC 5429 §2.1: reject goes with no action that delivers or replies; one reject only.
        ("require \"reject\"; keep; reject \"no\";", "reject conflicts with keep earlier in the run"),
        (
            "require [\"reject\", \"fileinto\"]; reject \"no\"; fileinto \"A\";",
            "fileinto \"A\" conflicts with the reject earlier in the run"
        ),
        ("require \"reject\"; reject \"a\"; reject \"b\";", "a second reject/ereject is not allowed"),
        ("require \"vacation\"; vacation \"a\"; vacation \"b\";", "only one vacation action may run"),
        (
            "require \"variables\"; set \"a\" \"not an address\"; redirect \"${a}\";",
            "redirect needs an address like user@example.org, not \"not an address\""
        ),
    ])
    func runtimeErrors(_ script: String, _ message: String) {
        #expect {
            try Fixture.run(script)
        } throws: { error in
            guard let e = error as? SieveError else { return false }
            return e.kind == .runtime && e.message == message
        }
    }

    /// RFC 5230 §4.5–§4.6: the vacation action says when a reply must not go out.
    @Test func vacationRefusals() throws {
        func refusal(
            _ message: String = Fixture.message, context: SieveContext = Fixture.context(), addresses: String = ""
        ) throws -> String? {
            let r = try Fixture.run("require \"vacation\"; vacation \(addresses) \"away\";", message, context: context)
            guard case .vacation(let v) = r.actions.first else { return "no vacation action" }
            return v.refusal
        }
        #expect(try refusal() == nil)
        #expect(try refusal(context: Fixture.context(from: "")) == "the sender is empty (a bounce)")
        #expect(
            try refusal(context: Fixture.context(from: "owner-list@example.org"))
                == "the sender owner-list@example.org is a mail system or list address")
        #expect(
            try refusal(context: Fixture.context(from: "Roadrunner@acme.example.com"))
                == "the sender Roadrunner@acme.example.com is the account itself")
        #expect(
            try refusal("Auto-Submitted: auto-replied\r\n" + Fixture.message)
                == "the message is automatic (Auto-Submitted: auto-replied)")
        #expect(try refusal("Precedence: bulk\r\n" + Fixture.message) == "the message is bulk mail (Precedence: bulk)")
        #expect(
            try refusal("List-Id: <x.example.org>\r\n" + Fixture.message) == "the message comes from a mailing list")
        let elsewhere = Fixture.context(to: "wile@acme.example.com")
        #expect(
            try refusal(context: elsewhere)
                == "the message is not addressed to the account (none of its addresses is in To, Cc or Bcc)")
        #expect(try refusal(context: elsewhere, addresses: ":addresses [\"andre@example.net\"]") == nil)
    }

    @Test func nullSenderAndEnvelopeParts() throws {
        let bounce = Fixture.context(from: "", to: "ken+sieve@example.org")
        for (script, expected) in [
            // RFC 5228 §5.4: the null reverse-path is "" whatever the address part.
            ("require \"envelope\"; if envelope :all :is \"from\" \"\" { discard; }", ["discard"]),
            ("require \"envelope\"; if envelope :domain :is \"from\" \"\" { discard; }", ["discard"]),
            ("require [\"envelope\", \"subaddress\"]; if envelope :detail \"to\" \"sieve\" { discard; }", ["discard"]),
            (
                "require [\"envelope\", \"variables\", \"fileinto\"]; if envelope :matches \"to\" \"*+*@*\" { fileinto \"${2}\"; }",
                ["fileinto sieve"]
            ),
            ("require \"envelope\"; if envelope :is \"auth\" \"\" { discard; }", ["keep (implicit)"]),
        ] {
            #expect(Fixture.summary(try Fixture.run(script, context: bounce)) == expected, "\(script)")
        }
    }

    /// RFC 5229 §3 and §4 examples, and RFC 5232 §3's flag examples.
    @Test(
        arguments: [
            (
                """
                require ["variables", "fileinto"];
                set "honorific" "Mr";
                set "first_name" "Wile";
                set "last_name" "Coyote";
                set "vacation" text:
                Dear ${HONORIFIC} ${last_name},
                I'm out, please leave a message after the meep.
                .
                ;
                if string :is "${vacation}" "Dear Mr Coyote,\nI'm out, please leave a message after the meep.\n" { discard; }
                """, ["discard"]
            ),
            (
                "require \"variables\"; set \"a\" \"juMBlEd lETteRS\"; set :lower \"b\" \"${a}\"; set :upperfirst \"c\" \"${b}\"; if string :is :comparator \"i;octet\" \"${c}\" \"Jumbled letters\" { discard; }",
                ["discard"]
            ),
            ("require \"variables\"; set :length \"a\" \"\"; if string :is \"${a}\" \"0\" { discard; }", ["discard"]),
            ("require \"variables\"; if string :is \"${hex:41}\" \"${hex:41}\" { discard; }", ["discard"]),
            (
                "require [\"variables\", \"relational\"]; if string :count \"eq\" [\"a\", \"\", \"b\"] \"2\" { discard; }",
                ["discard"]
            ),
            (
                """
                require ["imap4flags", "fileinto"];
                if header :contains "from" "coyote" {
                    setflag "\\\\Deleted";
                    fileinto "Junk";
                }
                """, ["fileinto Junk [\\Deleted]"]
            ),
            (
                "require [\"imap4flags\", \"relational\", \"comparator-i;ascii-numeric\"]; setflag [\"a b\", \"c\"]; if hasflag :count \"eq\" :comparator \"i;ascii-numeric\" \"3\" { discard; }",
                ["discard"]
            ),
            (
                "require \"date\"; if date :originalzone \"date\" \"std11\" \"Tue, 01 Apr 1997 09:06:31 -0800\" { discard; }",
                ["discard"]
            ),
            ("require \"date\"; if date :zone \"+0530\" \"date\" \"zone\" \"+0530\" { discard; }", ["discard"]),
            (
                "require [\"index\"]; if address :index 2 :domain \"to\" \"example.org\" { discard; }",
                ["keep (implicit)"]
            ),
        ] as [(String, [String])])
    func variableAndFlagExamples(_ script: String, _ expected: [String]) throws {
        #expect(Fixture.summary(try Fixture.run(script)) == expected, "\(script)")
    }

    @Test func matchVariablesComeFromTheLastSuccessfulMatch() throws {
        let script = """
            require ["variables", "fileinto"];
            if header :matches "subject" "*present*" {}
            if header :matches "subject" "nothing*" {}
            if header :contains "subject" "have" {}
            fileinto "${1}|${2}|${0}";
            """
        #expect(
            Fixture.summary(try Fixture.run(script)) == [
                "fileinto [acme-list] I have a | for you|[acme-list] I have a present for you"
            ])
    }
}
