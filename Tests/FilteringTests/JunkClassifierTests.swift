import Filtering
import Foundation
import Testing

@Suite("Junk tokenizer")
struct JunkTokenizerTests {
    static func message(_ header: String, _ body: String) -> [UInt8] {
        Array((header.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n" + body).utf8)
    }

    @Test(arguments: [
        // Lower-cased, 3 to 40 characters, split on punctuation.
        ("Hello World, it is me.", ["hello", "world"]),
        ("Buy CHEAP v1agra now!!!", ["buy", "cheap", "v1agra", "now"]),
        ("Only $99.99 today", ["only", "$99", "today"]),
        ("don't stop", ["don't", "stop"]),
        ("ab abc " + String(repeating: "x", count: 41) + " end", ["abc", "end"]),
        ("Grüße aus Köln", ["grüße", "aus", "köln"]),
    ])
    func words(_ text: String, _ expected: [String]) {
        #expect(JunkTokenizer.words(text) == expected)
    }

    @Test func headerSubjectAndBodyTokens() {
        let m = Self.message(
            """
            From: Shop <deals@Shop.Test>
            Reply-To: x@elsewhere.test
            Subject: Cheap pills
            X-Mailer: BulkBlaster 9.1
            List-Unsubscribe: <mailto:u@shop.test>
            Message-ID: <1@mailer.shop.test>
            Content-Type: text/html; charset=utf-8

            """,
            "<p>Visit <a href=\"https://www.pills.test/buy\">our shop</a> now, now, now</p>\r\n")
        let tokens = JunkTokenizer.tokens(m)
        for t in [
            "from-domain:shop.test", "reply-to-domain:elsewhere.test", "header:x-mailer:bulkblaster 9.1",
            "header:list-unsubscribe",
            "message-id-domain:mailer.shop.test", "header:content-type:text/html", "subject:cheap", "subject:pills",
            "url:www.pills.test", "visit", "our", "shop", "now",
        ] {
            #expect(tokens.contains(t), "missing \(t)")
        }
        // Markup gives no words; each token counts once.
        #expect(!tokens.contains("href"))
        #expect(tokens.filter { $0 == "now" }.count == 1)
    }

    @Test func aHugeMessageGivesAtMostTheLimit() {
        let body = (0..<5000).map { "word\($0)" }.joined(separator: " ")
        let tokens = JunkTokenizer.tokens(Self.message("Subject: many\n", body))
        #expect(tokens.count == JunkTokenizer.maximumTokens)
        #expect(tokens.first == "subject:many")
    }
}

@Suite("Junk classifier")
struct JunkClassifierTests {
    static let spamWords = [
        "viagra", "pills", "winner", "lottery", "casino", "bitcoin", "unsubscribe", "cheap", "offer", "prize",
    ]
    static let hamWords = [
        "meeting", "agenda", "report", "project", "lunch", "review", "budget", "schedule", "draft", "team",
    ]
    static let common = ["the", "and", "you", "for", "this", "with"]

    /// A model trained on `n` messages of each kind, each holding five of its class's words
    /// (rotating) and the common ones.
    static func model(trained n: Int) -> JunkModel {
        var model = JunkModel(hamMessages: n, spamMessages: n)
        func learn(_ words: [String], spam: Bool) {
            for w in Set(words) {
                var c = model.tokens[w] ?? JunkTokenCounts(ham: 0, spam: 0)
                if spam { c.spam += 1 } else { c.ham += 1 }
                model.tokens[w] = c
            }
        }
        for i in 0..<n {
            learn((0..<5).map { spamWords[(i + $0) % spamWords.count] } + common, spam: true)
            learn((0..<5).map { hamWords[(i + $0) % hamWords.count] } + common, spam: false)
        }
        return model
    }

    @Test(arguments: [(0, 0), (9, 20), (20, 9)])
    func untrainedGivesNoVerdict(ham: Int, spam: Int) {
        var model = Self.model(trained: 20)
        model.hamMessages = ham
        model.spamMessages = spam
        #expect(JunkClassifier().classify(["viagra", "pills"], model: model) == nil)
    }

    @Test func spammyScoresHighHammyLow() throws {
        let model = Self.model(trained: 12)
        let c = JunkClassifier()
        let spam = try #require(
            c.classify(["cheap", "viagra", "pills", "winner", "the", "and", "unknownword"], model: model))
        let ham = try #require(c.classify(["meeting", "agenda", "budget", "review", "the", "you"], model: model))
        #expect(spam.probability > 0.95)
        #expect(ham.probability < 0.05)
        // The clues are the telling tokens; common words and unknown ones say nothing.
        #expect(Set(spam.clues.map(\.token)) == ["cheap", "viagra", "pills", "winner"])
        #expect(spam.rule?.name == "BAYES_SPAM")
        #expect(ham.rule?.name == "BAYES_HAM")
    }

    @Test func aMessageOfCommonWordsOnlyIsUndecided() throws {
        let v = try #require(
            JunkClassifier().classify(["the", "and", "you", "neverseen"], model: Self.model(trained: 12)))
        #expect(v.probability == 0.5)
        #expect(v.clues.isEmpty)
        #expect(v.rule == nil)
    }

    @Test func robinsonsProbabilityPullsRareTokensTowardsTheMiddle() throws {
        let c = JunkClassifier()
        let model = JunkModel(
            hamMessages: 10, spamMessages: 10,
            tokens: ["once": .init(ham: 0, spam: 1), "often": .init(ham: 0, spam: 10), "even": .init(ham: 5, spam: 5)])
        // p = 1 for both; f = (0.45·0.5 + n·1) / (0.45 + n).
        #expect(abs(try #require(c.probability(of: "once", in: model)) - (0.225 + 1) / 1.45) < 1e-9)
        #expect(abs(try #require(c.probability(of: "often", in: model)) - (0.225 + 10) / 10.45) < 1e-9)
        #expect(try #require(c.probability(of: "even", in: model)) == 0.5)
        #expect(c.probability(of: "never", in: model) == nil)
    }

    @Test(arguments: [
        // P(χ²₂ ≥ x) = e^(−x/2); P(χ²₄ ≥ x) = e^(−x/2)(1 + x/2).
        (2.0, 2, 0.36787944117144233),
        (4.0, 4, 0.40600584970983811),
        (0.0, 10, 1.0),
    ])
    func chiSquareSurvival(_ x: Double, _ v: Int, _ expected: Double) {
        #expect(abs(JunkClassifier.chiSquareSurvival(x, degreesOfFreedom: v) - expected) < 1e-12)
    }

    @Test func fisherCombiningIsSymmetric() {
        let c = JunkClassifier()
        let p = c.combine([0.9, 0.8, 0.95])
        let q = c.combine([0.1, 0.2, 0.05])
        #expect(abs(p + q - 1) < 1e-12)
        #expect(c.combine([]) == 0.5)
        // Hundreds of extreme clues neither underflow nor leave [0, 1].
        #expect(c.combine(Array(repeating: 0.999, count: 500)) > 0.99)
        #expect(c.combine(Array(repeating: 0.001, count: 500)) < 0.01)
    }

    @Test(arguments: [(0.95, "BAYES_SPAM", 5.0), (0.75, "BAYES_PROBABLE_SPAM", 2.5), (0.05, "BAYES_HAM", -2.0)])
    func rules(_ p: Double, _ name: String, _ points: Double) {
        let v = JunkVerdict(probability: p, clues: [.init(token: "x", probability: p)])
        #expect(v.rule?.name == name)
        #expect(v.rule?.points == points)
        var s = SpamScore()
        s.add(v, of: "bob@example.org")
        #expect(s.hits.first?.why.contains("bob@example.org's junk classifier: probability") == true)
    }

    @Test func theMiddleAddsNoRule() {
        #expect(JunkVerdict(probability: 0.5, clues: []).rule == nil)
        #expect(JunkVerdict(probability: 0.3, clues: []).rule == nil)
    }
}
