import Foundation
import MIME

/// Real-world-shaped messages shared by the tests (and written to fuzz/corpus/mime).
enum Fixtures {
    /// `text` with every LF turned into CRLF, as bytes.
    static func crlf(_ text: String) -> [UInt8] {
        Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
    }

    /// RFC 3501 §8's example message header (ENVELOPE of FETCH 12).
    static let rfc3501 = crlf(
        """
        Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)
        From: Terry Gray <gray@cac.washington.edu>
        Subject: IMAP4rev1 WG mtg summary and minutes
        To: imap@cac.washington.edu
        cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>
        Message-Id: <B27397-0100000@cac.washington.edu>
        MIME-Version: 1.0
        Content-Type: TEXT/PLAIN; CHARSET=US-ASCII

        Hello.

        """)

    static let simple = crlf(
        """
        From: Alice <alice@example.org>
        To: bob@example.net
        Subject: Lunch
        Date: Tue, 1 Apr 2025 12:00:00 +0200
        Message-ID: <lunch.1@example.org>

        Noon?
        Alice

        """)

    /// multipart/related ⊃ multipart/mixed ⊃ multipart/alternative, with attachments.
    static let nested = crlf(
        """
        From: "Doe, Jane" <jane@example.com>
        To: team@example.com
        Subject: Report
        MIME-Version: 1.0
        Content-Type: multipart/related; boundary="rel"; type="multipart/mixed"

        preamble
        --rel
        Content-Type: multipart/mixed; boundary=mix

        --mix
        Content-Type: multipart/alternative; boundary="alt"

        --alt
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: quoted-printable

        Caf=C3=A9 report
        --alt
        Content-Type: text/html; charset=utf-8

        <p>Café report</p>
        --alt--
        --mix
        Content-Type: application/pdf; name="report.pdf"
        Content-Disposition: attachment; filename="report.pdf"
        Content-Transfer-Encoding: base64

        JVBERi0xLjQK
        --mix--
        --rel
        Content-Type: image/png
        Content-ID: <logo@example.com>
        Content-Transfer-Encoding: base64
        Content-Disposition: inline

        iVBORw0KGgo=
        --rel--
        epilogue

        """)

    /// A forwarded message as a message/rfc822 attachment.
    static let forwarded = crlf(
        """
        From: bob@example.net
        To: alice@example.org
        Subject: Fwd: Lunch
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="b1"

        --b1
        Content-Type: text/plain

        See below.
        --b1
        Content-Type: message/rfc822
        Content-Description: forwarded

        From: Alice <alice@example.org>
        To: bob@example.net
        Subject: Lunch
        Date: Tue, 1 Apr 2025 12:00:00 +0200

        Noon?
        --b1--

        """)

    /// A forwarded multipart message: "2.1" and "2.2" are the inner parts.
    static let forwardedMultipart = crlf(
        """
        Subject: Fwd
        Content-Type: multipart/mixed; boundary=outer

        --outer
        Content-Type: text/plain

        fyi
        --outer
        Content-Type: message/rfc822

        Subject: inner
        From: carol@example.com
        Content-Type: multipart/alternative; boundary=inner

        --inner
        Content-Type: text/plain

        plain
        --inner
        Content-Type: text/html

        <b>html</b>
        --inner--
        --outer--

        """)

    static let encodedSubjects = crlf(
        """
        From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>
        To: =?UTF-8?B?0JjQstCw0L0=?= <ivan@example.ru>
        Subject: =?UTF-8?B?SGVsbG8g?= =?UTF-8?B?V29ybGQg4pyT?=
        Content-Type: text/plain; charset=iso-8859-1
        Content-Transfer-Encoding: quoted-printable

        Gr=FC=DFe aus K=F6ln

        """)

    static let rfc2231 = crlf(
        """
        Subject: file
        Content-Type: multipart/mixed; boundary=x

        --x
        Content-Type: application/octet-stream;
         name*0*=UTF-8''%E6%97%A5%E6%9C%AC;
         name*1*=%E8%AA%9E.txt
        Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf

        data
        --x--

        """)

    static let groups = crlf(
        """
        From: "Smith, John \\"JJ\\"" <john@example.com>
        To: A Group: alice@example.org, "Bob B." <bob@example.net>;, undisclosed-recipients:;
        Cc: <@relay.example:carol@example.com>, dave
        Subject: groups

        x
        """)

    static let bareLF = Array(
        """
        From: a@example.org
        Subject: bare
        Content-Type: multipart/mixed; boundary=z

        --z
        Content-Type: text/plain

        one
        --z
        Content-Type: text/plain

        two
        three
        --z--

        """.utf8)

    static let missingFinalBoundary = crlf(
        """
        Subject: cut
        Content-Type: multipart/mixed; boundary=q

        --q
        Content-Type: text/plain

        first
        --q
        Content-Type: text/plain

        second and last
        """)

    static let noBlankLine = crlf(
        """
        Subject: only headers
        From: x@example.org
        """)

    static let digest = crlf(
        """
        Subject: digest
        Content-Type: multipart/digest; boundary=d

        --d

        Subject: one

        first
        --d

        Subject: two

        second
        --d--

        """)

    static let all: [(String, [UInt8])] = [
        ("rfc3501", rfc3501), ("simple", simple), ("nested", nested), ("forwarded", forwarded),
        ("forwarded-multipart", forwardedMultipart), ("encoded-subjects", encodedSubjects), ("rfc2231", rfc2231),
        ("groups", groups), ("bare-lf", bareLF), ("missing-final-boundary", missingFinalBoundary),
        ("no-blank-line", noBlankLine), ("digest", digest),
    ]

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
