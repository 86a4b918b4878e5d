import Foundation
import Sieve
import Testing

/// Every limit ends a script with a `SieveError` of kind `.limit`, quickly.
@Suite("Sieve limits")
struct SieveLimitsTests {
    static func expectLimit(_ message: String, _ body: () throws -> Void) {
        #expect {
            try body()
        } throws: { error in
            guard let e = error as? SieveError, e.kind == .limit else { return false }
            return e.message == message
        }
    }

    @Test func scriptSize() {
        var limits = SieveLimits()
        limits.maxScriptSize = 100
        Self.expectLimit("the script is 101 octets; the limit is 100") {
            _ = try SieveParser.parse(String(repeating: " ", count: 96) + "keep;", limits: limits)
        }
        #expect((try? SieveParser.parse(String(repeating: " ", count: 95) + "keep;", limits: limits)) != nil)
    }

    @Test func nesting() {
        let deepBlocks = String(repeating: "if true { ", count: 40) + String(repeating: "} ", count: 40)
        Self.expectLimit("blocks and tests are nested more than 32 deep") { _ = try SieveParser.parse(deepBlocks) }
        let deepTests = "if " + String(repeating: "not ", count: 40) + "true {}"
        Self.expectLimit("blocks and tests are nested more than 32 deep") { _ = try SieveParser.parse(deepTests) }
        let deepLists =
            "if " + String(repeating: "anyof(", count: 40) + "true" + String(repeating: ")", count: 40) + " {}"
        Self.expectLimit("blocks and tests are nested more than 32 deep") { _ = try SieveParser.parse(deepLists) }
        // A million brackets parse to an error without exhausting the stack.
        let huge = String(repeating: "if anyof(", count: 200_000)
        #expect(throws: SieveError.self) { try SieveParser.parse(huge) }
    }

    @Test func stringsAndLists() {
        var limits = SieveLimits()
        limits.maxStringLength = 10
        Self.expectLimit("the string is longer than 10 octets") {
            _ = try SieveParser.parse("x \"01234567890\";", limits: limits)
        }
        Self.expectLimit("the string is longer than 10 octets") {
            _ = try SieveParser.parse("x text:\n01234\n56789\n.\n;", limits: limits)
        }
        limits.maxListLength = 3
        Self.expectLimit("the string list has more than 3 entries") {
            _ = try SieveParser.parse("x [\"a\",\"b\",\"c\",\"d\"];", limits: limits)
        }
    }

    @Test func steps() throws {
        var limits = SieveLimits()
        limits.maxSteps = 50
        let many = String(repeating: "if header :is \"subject\" \"x\" { keep; }\n", count: 30)
        Self.expectLimit("the script took more than 50 steps and was stopped") {
            _ = try Fixture.run(many, limits: limits)
        }
        // Long key lists count one step per comparison.
        let keys = "[" + (0..<100).map { "\"k\($0)\"" }.joined(separator: ",") + "]"
        Self.expectLimit("the script took more than 50 steps and was stopped") {
            _ = try Fixture.run("if header :is \"subject\" \(keys) { keep; }", limits: limits)
        }
        limits.maxSteps = 100_000
        #expect(try Fixture.run(many, limits: limits).steps == 30 * 3)
    }

    @Test func actionsAndRedirects() {
        let redirects = (1...5).map { "redirect \"r\($0)@example.net\";" }.joined()
        Self.expectLimit("more than 4 redirects in one run") { _ = try Fixture.run(redirects) }
        let files = "require \"fileinto\";" + (1...40).map { "fileinto \"f\($0)\";" }.joined()
        Self.expectLimit("more than 32 actions in one run") { _ = try Fixture.run(files) }
    }

    @Test func variablesAreBounded() throws {
        let r = try Fixture.run(
            """
            require ["variables", "fileinto"];
            set "a" "0123456789012345678901234567890123456789012345678901234567890123";
            set "a" "${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}";
            set "a" "${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}";
            set :length "n" "${a}";
            fileinto "${n}";
            """)
        #expect(Fixture.summary(r) == ["fileinto 4096"])
    }

    @Test func pathologicalMatchesEnd() throws {
        // Exponential for a naive backtracking matcher; a few thousand steps here.
        let message = "Subject: \(String(repeating: "a", count: 2000))\r\n\r\nbody\r\n"
        let stars = String(repeating: "*a", count: 200) + "*b"
        let start = Date()
        #expect(
            Fixture.summary(try Fixture.run("if header :matches \"subject\" \"\(stars)\" { discard; }", message)) == [
                "keep (implicit)"
            ])
        // Quadratic work is cut off by the match budget.
        let long = "Subject: \(String(repeating: "a", count: 20_000))\r\n\r\nbody\r\n"
        let costly = "*" + String(repeating: "a", count: 1000) + "b"
        Self.expectLimit(":matches patterns took too long to try on this message") {
            _ = try Fixture.run("if header :matches \"subject\" \"\(costly)\" { discard; }", long)
        }
        // Contains is linear.
        let r = try Fixture.run(
            "if header :contains \"subject\" \"\(String(repeating: "a", count: 1000))b\" { discard; }", long)
        #expect(Fixture.summary(r) == ["keep (implicit)"])
        #expect(Date().timeIntervalSince(start) < 30)
    }

    @Test func includes() {
        let context = Fixture.context(
            scripts: (0..<40).reduce(into: [:]) { d, i in d["s\(i)"] = "require \"include\"; include \"s\(i + 1)\";" })
        Self.expectLimit("includes are nested more than 10 deep") {
            _ = try Fixture.run("require \"include\"; include \"s0\";", context: context)
        }
    }
}
