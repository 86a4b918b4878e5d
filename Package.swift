// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "mailroom",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mailroom", targets: ["mailroom"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // Addresses, domains (IDN), shared errors: no dependencies.
        .target(
            name: "MailCore",
            swiftSettings: swiftSettings
        ),
        // SQLite's unix VFS with one change: a delivery's WAL frames are written with one call
        // (see WALWrites.c). C, because a VFS is a table of C functions over C structs.
        .target(
            name: "WALWrites",
            linkerSettings: [.linkedLibrary("sqlite3")]
        ),
        // Metadata store (SQLite via GRDB): schema, migrations, directory records, audit.
        .target(
            name: "Storage",
            dependencies: [
                "MailCore",
                "Offload",
                "WALWrites",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // Domains, accounts, aliases, lists: validation, resolution, passwords, admin operations.
        .target(
            name: "Directory",
            dependencies: [
                "MailCore", "Storage", "LoginKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the protocol cores and shells share for logins: SCRAM-SHA-256, login and
        // connection limiters.
        .target(
            name: "LoginKit",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // The one way blocking work (SQLite, files, password hashing) leaves the event loops and
        // the cooperative pool: a bounded thread pool with serial lanes per connection.
        .target(
            name: "Offload",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // SMTP protocol core without I/O: command parser, replies, session state machine.
        .target(
            name: "SMTP",
            dependencies: ["LoginKit", "MailCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // RFC 5322/MIME parsing: part tree, ENVELOPE and BODYSTRUCTURE, encoded words, text for search.
        .target(
            name: "MIME",
            dependencies: ["MailCore"],
            swiftSettings: swiftSettings
        ),
        // Sieve (RFC 5228 and extensions) without I/O: parser, printer, validator, interpreter.
        .target(
            name: "Sieve",
            dependencies: ["MIME", "MailCore"],
            swiftSettings: swiftSettings
        ),
        // ManageSieve (RFC 5804) without I/O: command framing and parsing, responses, limits.
        .target(
            name: "ManageSieve",
            swiftSettings: swiftSettings
        ),
        // IMAP protocol grammar without I/O: command framing and parsing, response strings.
        .target(
            name: "IMAP",
            dependencies: ["MailCore"],
            swiftSettings: swiftSettings
        ),
        // DNS: the message codec (RFC 1035, EDNS0) and the stub resolver (UDP, TCP on
        // truncation, cache) the outbound queue uses.
        .target(
            name: "DNS",
            dependencies: [
                "MailCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // One HTTP/1.1 request at a time over SwiftNIO: the CLI's admin client, rspamd, ACME.
        .target(
            name: "HTTPClientKit",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // ACME (RFC 8555) client: JWS, account, orders, HTTP-01, CSR, certificate download, over
        // HTTPClientKit (or any ACMETransport, for tests).
        .target(
            name: "ACME",
            dependencies: [
                "HTTPClientKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        // Spam and malware: the built-in score (DNS blocklists, FCrDNS, HELO, GTUBE), the per-user
        // junk classifier, rspamd and clamd clients. Decisions are pure functions; lookups go
        // through EmailAuth's AuthDNS.
        .target(
            name: "Filtering",
            dependencies: [
                "EmailAuth", "HTTPClientKit", "MIME",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // SPF, DKIM (signing and verification), DMARC, ARC, Authentication-Results: sans-I/O
        // parsers and evaluators over the AuthDNS protocol, which the DNS stub resolver answers.
        .target(
            name: "EmailAuth",
            dependencies: [
                "DNS", "MailCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The outbound SMTP client's connection (SwiftNIO) around the client state machine in SMTP.
        .target(
            name: "SMTPClient",
            dependencies: [
                "SMTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The outbound queue: runner, routing (MX, routes, relay host), DSNs, DKIM keys, queue admin.
        .target(
            name: "Outbound",
            dependencies: [
                "Offload", "Delivery", "Directory", "Storage", "MailCore", "DNS", "SMTP", "SMTPClient", "EmailAuth",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Peers for interop tests (a private Postfix, NSD+Unbound, free ports, CI rules), shared by test targets.
        .target(
            name: "TestSupport",
            dependencies: [
                "DNS", "EmailAuth", "Storage", "MailCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        // Local delivery: blob store, group commit, mailbox/queue entries, delivery events.
        .target(
            name: "Delivery",
            dependencies: [
                "Offload", "MailCore", "Storage", "Directory", "MIME", "Filtering", "Sieve",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The SMTP listeners (SwiftNIO) around the SMTP core, with the directory's policy.
        .target(
            name: "SMTPServer",
            dependencies: [
                "Offload", "SMTP", "LoginKit", "ServerKit", "Delivery", "Directory", "Storage", "MailCore", "EmailAuth", "DNS", "MIME", "Filtering",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the SMTP and IMAP listeners share: binding, connection limits, shutdown, STARTTLS.
        .target(
            name: "ServerKit",
            dependencies: [
                "LoginKit", "MailCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // A client for other IMAP servers (SwiftNIO), over the response parser in IMAP: what
        // `mailroom migrate imap` reads another server's mail with.
        .target(
            name: "IMAPClient",
            dependencies: [
                "IMAP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // `mailroom migrate imap`: folder mapping, and the jobs that copy accounts' mail from
        // another IMAP server through the same storage path as APPEND, resumably.
        .target(
            name: "IMAPMigration",
            dependencies: [
                "Offload", "IMAP", "IMAPClient", "Delivery", "Directory", "Storage", "MailCore",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // The IMAP listeners (SwiftNIO) and sessions over the mail store.
        .target(
            name: "IMAPServer",
            dependencies: [
                "Offload", "IMAP", "MIME", "LoginKit", "ServerKit", "Delivery", "Directory", "Storage", "MailCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The ManageSieve listeners (SwiftNIO): sessions that put, check and activate the
        // account's Sieve scripts through the same operations as `mailroom sieve`.
        .target(
            name: "ManageSieveServer",
            dependencies: [
                "Offload", "ManageSieve", "Sieve", "LoginKit", "ServerKit", "Delivery", "Directory", "Storage", "MailCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // JSON request/response types of the admin API, shared by the server and the CLI.
        .target(
            name: "AdminModels",
            dependencies: ["MailCore"],
            swiftSettings: swiftSettings
        ),
        // The admin HTTP API (Hummingbird): routes, auth, errors, health, metrics.
        .target(
            name: "AdminAPI",
            dependencies: [
                "Doctor", "Offload",
                "Filtering", "Webhooks", "IMAPMigration",
                "LoginKit", "MailCore", "Storage", "Directory", "AdminModels", "Delivery", "Outbound", "MIME",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        // The DNS records to publish for a domain, and `mailroom doctor`'s checks of them.
        // Webhooks: events from the delivery, login and audit tables, signed and posted with retries.
        .target(
            name: "Webhooks",
            dependencies: [
                "Offload", "MailCore", "Directory", "Storage", "HTTPClientKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Doctor",
            dependencies: [
                "EmailAuth", "Filtering", "MailCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        // The SNI and ALPN of a TLS ClientHello, read from a connection's first bytes (no I/O, no
        // dependencies): how the web listener tells an ACME TLS-ALPN-01 validation from a browser.
        .target(name: "TLSHello", swiftSettings: swiftSettings),
        // The web listener (HTTPS, Hummingbird): MTA-STS policies and mail client autoconfiguration.
        .target(
            name: "Web",
            dependencies: [
                "EmailAuth", "MailCore", "ServerKit", "TLSHello",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Composition root: config, data directory, TLS material, listeners, lifecycle.
        .target(
            name: "MailroomServer",
            dependencies: [
                "Offload", "Filtering", "Doctor", "EmailAuth",
                "MailCore", "Storage", "Directory", "AdminAPI", "SMTP", "SMTPServer", "Delivery", "LoginKit", "IMAPServer", "IMAP",
                "ManageSieveServer", "Webhooks",
                "Outbound", "DNS", "SMTPClient", "MIME", "ACME", "ServerKit", "AdminModels", "Web",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP client the CLI uses to reach the admin API.
        .target(
            name: "AdminClient",
            dependencies: [
                "AdminModels", "HTTPClientKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "mailroom",
            dependencies: [
                "MailroomServer", "AdminClient", "AdminModels", "MailCore", "Directory", "Storage", "Delivery", "MIME",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "bench-directory",
            dependencies: ["MailCore", "Storage", "Directory", "MailroomServer", "AdminClient", "AdminModels"],
            path: "bench/directory/Sources",
            swiftSettings: swiftSettings
        ),
        // Fuzz targets (a corpus replayer in normal builds; libFuzzer with fuzz/run).
        .executableTarget(
            name: "mailroom-fuzz",
            dependencies: ["MailCore", "Directory", "SMTP", "DNS", "IMAP", "MIME", "EmailAuth", "Sieve", "ManageSieve", "TLSHello"],
            path: "fuzz/Sources",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "MailCoreTests", dependencies: ["MailCore"], swiftSettings: swiftSettings),
        .testTarget(name: "OffloadTests", dependencies: ["Offload"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ServerKitTests",
            dependencies: [
                "ServerKit", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "DNSTests", dependencies: ["DNS"], swiftSettings: swiftSettings),
        .testTarget(
            name: "DNSResolverTests",
            dependencies: [
                "DNS", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EmailAuthTests", dependencies: ["EmailAuth", "TestSupport", "DNS", "SMTPServer"],
            exclude: ["Fixtures"],  // the OpenSPF suite (YAML) and its licence, read by SPFTestSuiteTests
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "DoctorTests", dependencies: ["Doctor", "AdminModels", "EmailAuth", "MailCore", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "FilteringTests", dependencies: ["Filtering", "EmailAuth", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SMTPClientTests",
            dependencies: [
                "SMTPClient", "SMTP", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OutboundTests",
            dependencies: [
                "Filtering", "SMTPServer",
                "Outbound", "MailroomServer", "TestSupport", "Delivery", "Directory", "Storage", "LoginKit", "SMTPClient", "SMTP", "MIME",
                "DNS", "MailCore", "AdminModels", "EmailAuth",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ACMETests",
            dependencies: [
                "ACME", "HTTPClientKit", "TestSupport", "MailroomServer", "AdminModels", "Directory",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "MIMETests", dependencies: ["MIME"], swiftSettings: swiftSettings),
        .testTarget(name: "IMAPTests", dependencies: ["IMAP"], swiftSettings: swiftSettings),
        .testTarget(name: "IMAPMigrationTests", dependencies: ["IMAPMigration", "IMAP"], swiftSettings: swiftSettings),
        .testTarget(name: "ManageSieveTests", dependencies: ["ManageSieve"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ManageSieveServerTests",
            dependencies: [
                "ManageSieveServer", "ManageSieve", "LoginKit", "Delivery", "Directory", "Storage", "MailCore", "AdminModels",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SieveTests", dependencies: ["Sieve", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "IMAPServerTests",
            dependencies: [
                "Offload", "IMAPServer", "IMAP", "MIME", "LoginKit", "Delivery", "Directory", "Storage", "MailCore", "AdminModels", "TestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SMTPTests", dependencies: ["SMTP"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SMTPServerTests",
            dependencies: [
                "SMTPServer", "SMTP", "LoginKit", "Delivery", "Directory", "Storage", "MailCore", "AdminModels", "EmailAuth",
                "TestSupport", "Filtering", "Outbound", "DNS",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "MailCore", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "DirectoryTests", dependencies: ["Directory", "Storage", "MailCore", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AdminAPITests",
            dependencies: [
                "AdminAPI", "AdminModels", "Directory", "Storage", "MailCore", "Delivery", "LoginKit", "Webhooks", "IMAPMigration",
                "TestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TLSHelloTests", dependencies: ["TLSHello"], swiftSettings: swiftSettings),
        .testTarget(
            name: "WebTests",
            dependencies: [
                "Web", "EmailAuth", "MailCore", "ACME", "ServerKit", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "MailroomServer", "AdminClient", "AdminModels", "MailCore", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
