import Foundation
import Sieve

/// Shared inputs of the Sieve tests: messages, a fixed clock, and a compact form of results.
enum Fixture {
    /// RFC 5228 §9's message, with a few more fields the tests look at.
    static let message = """
        Return-Path: <coyote@desert.example.org>
        Received: from desert.example.org by acme.example.com; Tue, 1 Apr 1997 17:06:40 +0000
        Date: Tue, 1 Apr 1997 09:06:31 -0800
        From: "Wile E. Coyote" <coyote@desert.example.org>
        Sender: owner-ietf-mtgs@ietf.org
        To: roadrunner@acme.example.com, Ken <ken+sieve@example.org>
        Cc: =?ISO-8859-1?Q?Andr=E9?= <andre@example.net>
        Subject: [acme-list] I have a present for you
        Message-ID: <1997040109@desert.example.org>
        X-Priority: 2
        X-Spam-Score: 12
        Content-Type: text/plain; charset=us-ascii

        Look, I'm sorry about the whole anvil thing, and I really
        didn't mean to try and drop it on you from the top of the
        cliff.  I want to try to make it up to you.

        """.replacingOccurrences(of: "\n", with: "\r\n")

    static let multipart = """
        From: Alice <alice@example.org>
        To: Bob <bob@example.com>
        Subject: =?UTF-8?B?UmVwb3J0IMOpdMOp?=
        Date: Wed, 2 Dec 2026 23:30:00 -0500
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="b1"

        --b1
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: quoted-printable

        The quarterly r=C3=A9sum=C3=A9 is attached.
        --b1
        Content-Type: text/html; charset=utf-8

        <p>The <b>quarterly</b> report</p>
        --b1
        Content-Type: application/pdf
        Content-Transfer-Encoding: base64

        JVBERi0xLjQK
        --b1--

        """.replacingOccurrences(of: "\n", with: "\r\n")

    /// 2026-12-03 13:00:00 UTC, a Thursday.
    static let now = Date(timeIntervalSince1970: 1_796_302_800)

    static func context(
        from: String = "coyote@desert.example.org", to: String = "roadrunner@acme.example.com",
        mailboxes: Set<String> = ["INBOX", "Work"], seen: Set<String> = [], scripts: [String: String] = [:]
    ) -> SieveContext {
        SieveContext(
            envelopeFrom: from, envelopeTo: to, accountAddresses: [to], now: now, timeZoneMinutes: 60,
            mailboxExists: { mailboxes.contains($0) }, isDuplicate: { seen.contains($0.handle + "|" + $0.uniqueID) },
            includeScript: { name, global in scripts[(global ? "global/" : "") + name] })
    }

    static func run(
        _ script: String, _ message: String = message, context: SieveContext = context(),
        limits: SieveLimits = SieveLimits()
    ) throws -> SieveResult {
        let program = try SieveProgram(script, limits: limits)
        return try SieveInterpreter.run(program, message: Array(message.utf8), context: context, limits: limits)
    }

    /// The actions in a short form: `keep`, `keep [\Seen]`, `fileinto Work copy`, …, the
    /// implicit keep marked.
    static func summary(_ r: SieveResult) -> [String] {
        r.actions.enumerated().map { i, a in
            var s = summary(a)
            if r.implicitKeep && i == r.actions.count - 1 { s += " (implicit)" }
            return s
        }
    }

    static func summary(_ a: SieveAction) -> String {
        func flags(_ f: [String]) -> String { f.isEmpty ? "" : " [" + f.joined(separator: " ") + "]" }
        switch a {
        case .keep(let f): return "keep" + flags(f)
        case .fileinto(let m, let f, let copy, let create):
            return "fileinto \(m)" + flags(f) + (copy ? " copy" : "") + (create ? " create" : "")
        case .redirect(let t, let copy): return "redirect \(t)" + (copy ? " copy" : "")
        case .reject(let reason, let extended): return (extended ? "ereject " : "reject ") + reason
        case .discard: return "discard"
        case .vacation(let v):
            var s = "vacation \(v.seconds)s to \(v.recipient)"
            if let subject = v.subject { s += " subject=\(subject)" }
            if let from = v.from { s += " from=\(from)" }
            if v.mime { s += " mime" }
            return s + ": " + v.reason
        }
    }
}
