import Testing

@testable import MailCore

@Suite struct PunycodeTests {
    /// RFC 3492 §7.1 sample strings (a selection) and common IDNs.
    static let vectors: [(String, String)] = [
        ("bücher", "bcher-kva"),
        ("münchen", "mnchen-3ya"),
        ("他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"),
        ("ليهمابتكلموشعربي؟", "egbpdaj6bu4bxfgehfvwxn"),
        ("почемужеонинеговорятпорусски", "b1abfaaepdrnnbgefbadotcwatmq2g4l"),
        ("3年b組金八先生", "3b-ww4c5e180e575a65lsy2b"),
        ("パフィーdeルンバ", "de-jg4avhby1noc0d"),
        ("例え", "r8jz45g"),
        ("ü", "tda"),
        ("abc", "abc-"),
    ]

    @Test(arguments: vectors)
    func encodeDecode(unicode: String, encoded: String) {
        #expect(Punycode.encode(unicode) == encoded)
        #expect(Punycode.decode(encoded) == unicode)
    }

    @Test(arguments: ["99999999999999999999", "a-b-c-!", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz9", "-", "\u{00e9}"])
    func malformedDecodeFailsCleanly(input: String) {
        // Either nil or some string: never a crash or a hang.
        _ = Punycode.decode(input)
    }
}
