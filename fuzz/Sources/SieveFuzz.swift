import Foundation
import Sieve

/// The `sieve` fuzz target: whatever parses prints and parses back to an equal script (and the
/// same text again); whatever validates runs on a fixed message within the step budget and
/// ends with at least one action (the implicit keep, when nothing cancelled it). The script is
/// also its own include "self", so include loops and depth limits get exercised.
enum SieveFuzz {
    static let message = Array(
        """
        Return-Path: <alice@example.org>
        Received: from mx.example.org by mail.example.com; Wed, 2 Dec 2026 10:00:00 +0000
        Date: Wed, 2 Dec 2026 09:59:58 +0100
        From: =?UTF-8?Q?Al=C3=AFce?= <alice+fuzz@example.org>
        To: Bob <bob@example.com>, carol@example.net
        Subject: [list] Lunch on Friday?
        Message-ID: <lunch-1@example.org>
        X-Spam-Score: 3
        MIME-Version: 1.0
        Content-Type: multipart/alternative; boundary="b"

        --b
        Content-Type: text/plain; charset=utf-8

        Shall we meet at noon?
        --b
        Content-Type: text/html

        <p>Shall we meet at <b>noon</b>?</p>
        --b--

        """.replacingOccurrences(of: "\n", with: "\r\n").utf8)

    static func run(_ bytes: [UInt8]) {
        let limits = SieveLimits()
        guard let script = try? SieveParser.parse(bytes, limits: limits) else { return }
        let printed = script.description
        guard let again = try? SieveParser.parse(printed, limits: limits), again == script, again.description == printed
        else {
            fatalError(
                "sieve round trip failed: \(String(decoding: bytes, as: UTF8.self).debugDescription) → \(printed.debugDescription)"
            )
        }
        guard let program = try? SieveProgram(script, limits: limits) else { return }
        let text = String(decoding: bytes, as: UTF8.self)
        let context = SieveContext(
            envelopeFrom: "alice+fuzz@example.org", envelopeTo: "bob@example.com",
            accountAddresses: ["bob@example.com"],
            now: Date(timeIntervalSince1970: 1_796_302_800), timeZoneMinutes: 60,
            mailboxExists: { $0 == "INBOX" || $0 == "Work" }, isDuplicate: { $0.uniqueID.hasPrefix("lunch") },
            includeScript: { name, _ in name == "self" ? text : name == "keep" ? "keep;" : nil })
        do {
            let r = try SieveInterpreter.run(program, message: message, context: context, limits: limits)
            guard r.steps <= limits.maxSteps, !r.actions.isEmpty, r.actions.count <= limits.maxActions,
                r.actions.filter({ if case .redirect = $0 { true } else { false } }).count <= limits.maxRedirects
            else {
                fatalError(
                    "sieve run broke a limit (\(r.steps) steps, \(r.actions.count) actions): \(text.debugDescription)")
            }
        } catch {
            guard !error.message.isEmpty else {
                fatalError("sieve: an error without a message: \(text.debugDescription)")
            }
        }
    }
}
