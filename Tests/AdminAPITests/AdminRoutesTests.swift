import AdminModels
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@testable import AdminAPI
@testable import Delivery
@testable import Directory
@testable import MailCore
@testable import Storage
import Webhooks

/// One route of the API with a request that would succeed for a server admin, and what a domain
/// admin of another domain gets.
struct Route: Sendable, CustomTestStringConvertible {
    var method: HTTPRequest.Method
    var path: String
    var body: String?
    /// Status for a domain admin of other.org (lists are filtered rather than refused).
    var otherDomainStatus: Int
    var testDescription: String { "\(method) \(path)" }
}

struct Harness {
    let store: SQLiteStore
    let dir: DirectoryService
    let app: Application<RouterResponder<AdminContext>>
    let serverToken: String
    let otherDomainToken: String
    let revokedToken: String
    let delivery: LocalDelivery

    init(console: ConsoleSettings = ConsoleSettings(failureDelay: .milliseconds(1))) throws {
        store = try SQLiteStore.inMemory()
        dir = try DirectoryService(store: store, passwordIterations: 4096)
        let admin = AdminActor(name: "setup", role: .serverAdmin)
        _ = try dir.addDomain("example.org", actor: admin)
        _ = try dir.addDomain("other.org", actor: admin)
        _ = try dir.addAccount("alice@example.org", password: "alice-password-1", actor: admin)
        _ = try dir.addAccount("bob@other.org", actor: admin)
        _ = try dir.addAlias("postmaster@example.org", targets: ["alice@example.org", "x@ext.com"], actor: admin)
        _ = try dir.createList("eng@example.org", members: ["alice@example.org"], actor: admin)
        serverToken = try dir.createToken(name: "ops", role: "server-admin", actor: admin).secret
        otherDomainToken = try dir.createToken(name: "other", role: "domain-admin", domains: ["other.org"], actor: admin).secret
        let revoked = try dir.createToken(name: "old", role: "server-admin", actor: admin)
        try dir.revokeToken(revoked.token.id, actor: admin)
        revokedToken = revoked.secret
        // One message held for a moderated list of example.org (id 1).
        _ = try dir.createList("mod@example.org", members: ["alice@example.org"], actor: admin)
        _ = try dir.updateList("mod@example.org", postingPolicy: "moderated", moderators: ["alice@example.org"], actor: admin)
        let blobs = BlobStore(root: Scratch.url("mailroom-api").path)
        let hash = try blobs.put(Array("Subject: held\r\n\r\nx\r\n".utf8))
        try store.commit([
            MessageCommit(
                queueID: "Q1", messageID: nil, sender: "x@elsewhere.com", blobHash: hash, blobSize: 20, receivedAt: Date(), local: [],
                remote: [], held: [.init(listAddress: "mod@example.org", headerPrefix: [], subject: "held")], events: [])
        ])
        delivery = LocalDelivery(store: store, directory: dir, blobs: blobs)
        app = Application(
            router: buildAdminRouter(directory: dir, metrics: AdminMetrics(), delivery: delivery, console: console, webhooks: Webhooks(store: store, directory: dir)))
    }

    func request(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, token: String?, body: String? = nil
    ) async throws -> (Int, String) {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) {
            (Int($0.status.code), String(buffer: $0.body))
        }
    }
}

@Suite struct AdminRoutesTests {
    static let routes: [Route] = [
        Route(method: .get, path: "/api/v1/domains", otherDomainStatus: 200),
        Route(method: .post, path: "/api/v1/domains", body: #"{"name":"new.org"}"#, otherDomainStatus: 403),
        Route(method: .get, path: "/api/v1/domains/example.org", otherDomainStatus: 403),
        Route(method: .patch, path: "/api/v1/domains/example.org", body: #"{"catch_all":"alice@example.org"}"#, otherDomainStatus: 403),
        Route(method: .get, path: "/api/v1/accounts?domain=example.org", otherDomainStatus: 403),
        Route(method: .post, path: "/api/v1/accounts", body: #"{"address":"x@example.org"}"#, otherDomainStatus: 403),
        Route(method: .post, path: "/api/v1/accounts/import", body: "address\ny@example.org\n", otherDomainStatus: 422),
        Route(method: .post, path: "/api/v1/import/dovecot-passwd", body: #"{"text":"z:{PLAIN}zz-secret\n","domain":"example.org"}"#, otherDomainStatus: 422),
        Route(method: .post, path: "/api/v1/import/postfix-virtual", body: #"{"text":"info@example.org alice@example.org\n"}"#, otherDomainStatus: 422),
        Route(method: .get, path: "/api/v1/accounts/export?domain=example.org", otherDomainStatus: 403),
        Route(method: .get, path: "/api/v1/accounts/alice%40example.org", otherDomainStatus: 403),
        Route(method: .patch, path: "/api/v1/accounts/alice%40example.org", body: #"{"name":"A"}"#, otherDomainStatus: 403),
        Route(method: .post, path: "/api/v1/accounts/alice%40example.org/password", body: #"{"generate":true}"#, otherDomainStatus: 403),
        Route(method: .get, path: "/api/v1/aliases?domain=example.org", otherDomainStatus: 403),
        Route(method: .post, path: "/api/v1/aliases", body: #"{"address":"a@example.org","targets":["alice@example.org"]}"#, otherDomainStatus: 403),
        Route(method: .get, path: "/api/v1/aliases/postmaster@example.org", otherDomainStatus: 403),
        Route(method: .post, path: "/api/v1/aliases/postmaster@example.org/targets/remove", body: #"{"targets":["x@ext.com"]}"#, otherDomainStatus: 403),
        Route(method: .get, path: "/api/v1/lists?domain=example.org", otherDomainStatus: 403),
        Route(method: .post, path: "/api/v1/lists", body: #"{"address":"l@example.org"}"#, otherDomainStatus: 403),
        Route(method: .get, path: "/api/v1/lists/eng@example.org", otherDomainStatus: 403),
        Route(method: .patch, path: "/api/v1/lists/eng@example.org", body: #"{"subject_prefix":"[eng]"}"#, otherDomainStatus: 403),
        Route(method: .post, path: "/api/v1/lists/eng@example.org/members", body: #"{"members":["z@ext.com"]}"#, otherDomainStatus: 403),
        Route(method: .post, path: "/api/v1/lists/eng@example.org/members/remove", body: #"{"members":["alice@example.org"]}"#, otherDomainStatus: 403),
        Route(method: .get, path: "/api/v1/lists/eng@example.org/expand", otherDomainStatus: 403),
        Route(method: .get, path: "/api/v1/resolve/alice@example.org", otherDomainStatus: 403),
        Route(method: .get, path: "/api/v1/tokens", otherDomainStatus: 403),
        Route(method: .post, path: "/api/v1/tokens", body: #"{"name":"n","role":"server-admin"}"#, otherDomainStatus: 403),
        Route(method: .delete, path: "/api/v1/tokens/1", otherDomainStatus: 403),
        Route(method: .get, path: "/api/v1/audit", otherDomainStatus: 200),
        Route(method: .get, path: "/api/v1/webhooks", otherDomainStatus: 403),
        Route(method: .post, path: "/api/v1/webhooks", body: #"{"url":"http://127.0.0.1:9/h","events":["delivered"]}"#, otherDomainStatus: 403),
        Route(method: .get, path: "/api/v1/accounts/alice%40example.org/role", otherDomainStatus: 403),
        Route(method: .put, path: "/api/v1/accounts/alice%40example.org/role", body: #"{"role":"user"}"#, otherDomainStatus: 403),
        Route(method: .get, path: "/api/v1/moderation", otherDomainStatus: 200),
        Route(method: .post, path: "/api/v1/moderation/1/approve", otherDomainStatus: 403),
        Route(method: .post, path: "/api/v1/moderation/1/reject", otherDomainStatus: 403),
        Route(method: .post, path: "/api/v1/accounts/alice%40example.org/rename", body: #"{"new_address":"al@example.org"}"#, otherDomainStatus: 403),
        Route(method: .delete, path: "/api/v1/lists/eng@example.org", otherDomainStatus: 403),
        Route(method: .delete, path: "/api/v1/aliases/postmaster@example.org", otherDomainStatus: 403),
        Route(method: .delete, path: "/api/v1/accounts/alice%40example.org", otherDomainStatus: 403),
        Route(method: .delete, path: "/api/v1/domains/example.org", otherDomainStatus: 403),
        Route(method: .get, path: "/api/v1/storage", otherDomainStatus: 403),
        Route(method: .post, path: "/api/v1/storage/sweep", otherDomainStatus: 403),
        // The server reads and writes these paths: server admins only, whoever manages the account.
        Route(method: .post, path: "/api/v1/accounts/alice%40example.org/mailbox-import", body: #"{"path":"\#(mboxFile)"}"#, otherDomainStatus: 403),
        Route(
            method: .post, path: "/api/v1/accounts/alice%40example.org/mailbox-export",
            body: #"{"path":"\#(exportPath)","format":"mbox"}"#, otherDomainStatus: 403),
        // The server connects where it is told: server admins only.
        Route(
            method: .post, path: "/api/v1/migrations/imap",
            body: #"{"host":"127.0.0.1","port":9,"security":"plain","accounts":[{"login":"a","password":"p","address":"alice@example.org"}],"dry_run":true}"#,
            otherDomainStatus: 403),
    ]

    static let mboxFile: String = {
        let path = Scratch.url("mailroom-api", extension: "mbox").path
        FileManager.default.createFile(atPath: path, contents: Data("From a@b Thu Dec  3 14:55:24 2026\nSubject: x\n\nx\n".utf8))
        return path
    }()
    static let exportPath = Scratch.url("mailroom-api", extension: "mbox").path

    @Test(arguments: routes)
    func refusesMissingAndBadTokens(_ route: Route) async throws {
        let h = try Harness()
        try await h.app.test(.router) { client in
            for (token, code) in [(nil as String?, "unauthenticated"), ("mrt_notatoken", "invalid_token"), (h.revokedToken, "invalid_token")] {
                let (status, body) = try await h.request(client, route.method, route.path, token: token, body: route.body)
                #expect(status == 401)
                #expect(body.contains("\"code\":\"\(code)\""))
            }
        }
        // Nothing changed: the directory is as it was set up.
        #expect(h.dir.snapshot.entries.count == 5)
        #expect(try h.store.heldMessages().count == 1)
    }

    @Test(arguments: routes)
    func domainAdminOfAnotherDomainIsRefused(_ route: Route) async throws {
        let h = try Harness()
        let before = h.dir.snapshot.entries
        try await h.app.test(.router) { client in
            let (status, body) = try await h.request(client, route.method, route.path, token: h.otherDomainToken, body: route.body)
            #expect(status == route.otherDomainStatus, "\(body)")
            if status == 200 { #expect(!body.contains("example.org")) }
            if route.path.hasSuffix("audit") || route.path.hasSuffix("moderation") { #expect(!body.contains("example.org")) }
        }
        // A domain admin of the wrong domain changed nothing, whatever the status.
        #expect(h.dir.snapshot.entries == before)
        #expect(try h.store.heldMessages().count == 1)
    }

    @Test(arguments: routes)
    func serverAdminSucceeds(_ route: Route) async throws {
        let h = try Harness()
        try await h.app.test(.router) { client in
            let (status, body) = try await h.request(client, route.method, route.path, token: h.serverToken, body: route.body)
            // Removing a domain that still has accounts is refused with what to do, even for a server admin.
            let expected = route.path == "/api/v1/domains/example.org" && route.method == .delete ? 409...409 : 200...201
            #expect(expected.contains(status), "\(body)")
        }
    }

    static let malformed: [(HTTPRequest.Method, String, String, Int, String)] = [
        (.post, "/api/v1/domains", "{not json", 400, "invalid_json"),
        (.post, "/api/v1/domains", "[1,2]", 400, "invalid_json"),
        (.post, "/api/v1/domains", #"{"name":"x.org","colour":"red"}"#, 400, "unknown_field"),
        (.post, "/api/v1/domains", #"{"name":42}"#, 400, "invalid_field"),
        (.post, "/api/v1/domains", #"{}"#, 400, "missing_field"),
        (.post, "/api/v1/domains", #"{"name":"bad domain"}"#, 400, "invalid_address"),
        (.post, "/api/v1/accounts", #"{"address":"no-at-sign"}"#, 400, "invalid_address"),
        (.post, "/api/v1/accounts", #"{"address":"x@example.org","quota":"lots"}"#, 400, "invalid_quota"),
        (.post, "/api/v1/accounts", #"{"address":"x@example.org","name":"\#(String(repeating: "n", count: 5000))"}"#, 400, "field_too_long"),
        (.post, "/api/v1/accounts", #"{"address":"x@example.org","password":"short"}"#, 400, "weak_password"),
        (.post, "/api/v1/accounts", #"{"address":"alice@example.org"}"#, 409, "address_taken"),
        (.get, "/api/v1/accounts/nobody@example.org", "", 404, "account_not_found"),
        (.get, "/api/v1/accounts?page=0", "", 400, "invalid_page"),
        (.get, "/api/v1/accounts?limit=abc", "", 400, "invalid_limit"),
        (.get, "/api/v1/audit?since=yesterday", "", 400, "invalid_since"),
        (.get, "/api/v1/nothing-here", "", 404, "not_found"),
        (.post, "/api/v1/accounts/alice@example.org/mailbox-import", #"{"path":"relative.mbox"}"#, 400, "invalid_path"),
        (.post, "/api/v1/accounts/alice@example.org/mailbox-import", #"{"path":"/x","mbox_variant":"mboxcl"}"#, 400, "invalid_variant"),
        (.post, "/api/v1/accounts/alice@example.org/mailbox-export", #"{"path":"/nonexistent/x","format":"pst"}"#, 400, "invalid_format"),
        (.post, "/api/v1/accounts/nobody@example.org/mailbox-export", #"{"path":"/nonexistent/x","format":"mbox"}"#, 404, "no_such_account"),
        (.post, "/api/v1/migrations/imap", #"{"host":"h","port":993,"security":"ssl","accounts":[]}"#, 400, "invalid_security"),
        (.post, "/api/v1/migrations/imap", #"{"host":"192.0.2.1","port":143,"security":"plain","accounts":[{"login":"a","password":"p","address":"alice@example.org"}]}"#, 400, "plaintext_refused"),
        (.post, "/api/v1/migrations/imap", #"{"host":"127.0.0.1","port":143,"security":"plain","accounts":[{"login":"a","password":"p","address":"nobody@example.org"}]}"#, 404, "no_such_account"),
        (.post, "/api/v1/migrations/imap", #"{"host":"127.0.0.1","port":143,"security":"plain","accounts":[{"login":"a","address":"alice@example.org"}]}"#, 400, "missing_password"),
        (.post, "/api/v1/migrations/imap", #"{"host":"127.0.0.1","port":143,"security":"plain","accounts":[{"login":"a","password":"p","address":"alice@example.org"}],"map":["x"]}"#, 400, "invalid_map"),
        (.get, "/api/v1/migrations/imap/nope", "", 404, "no_such_migration"),
        (.delete, "/api/v1/tokens/abc", "", 400, "invalid_id"),
        (.post, "/api/v1/lists/eng@example.org/members", #"{"members":"alice@example.org"}"#, 400, "invalid_field"),
        (.post, "/api/v1/domains", "<1.1 MB>", 413, "body_too_large"),
    ]

    @Test(arguments: malformed)
    func badInputGetsAStableErrorAndTheServerStaysUp(
        method: HTTPRequest.Method, path: String, body: String, status: Int, code: String
    ) async throws {
        let h = try Harness()
        try await h.app.test(.router) { client in
            let payload = body == "<1.1 MB>" ? "{\"name\":\"" + String(repeating: "a", count: 1_100_000) + "\"}" : body
            let (s, text) = try await h.request(client, method, path, token: h.serverToken, body: payload.isEmpty ? nil : payload)
            #expect(s == status, "\(text.prefix(300))")
            #expect(text.contains("\"code\":\"\(code)\""), "\(text.prefix(300))")
            let (after, _) = try await h.request(client, .get, "/healthz", token: nil)
            #expect(after == 200)
        }
    }

    @Test func importsAreAuditedAndConflictsAre422() async throws {
        let h = try Harness()
        try await h.app.test(.router) { client in
            let dry = try await h.request(
                client, .post, "/api/v1/import/dovecot-passwd", token: h.serverToken,
                body: #"{"text":"z@example.org:{PLAIN}zz-secret\n","dry_run":true}"#)
            #expect(dry.0 == 200)
            let report = try AdminJSON.decoder().decode(MigrationReport.self, from: Data(dry.1.utf8))
            #expect(!report.applied && report.created.map(\.address) == ["z@example.org"])
            let conflict = try await h.request(
                client, .post, "/api/v1/import/dovecot-passwd", token: h.serverToken,
                body: #"{"text":"z@example.org:{PLAIN}zz-secret\neng@example.org:{PLAIN}x\n"}"#)
            #expect(conflict.0 == 422)
            #expect(conflict.1.contains("is already a distribution list"), "\(conflict.1)")
            let done = try await h.request(
                client, .post, "/api/v1/import/dovecot-passwd", token: h.serverToken, body: #"{"text":"z@example.org:{PLAIN}zz-secret\n"}"#)
            #expect(done.0 == 200)
            let audit = try await h.request(client, .get, "/api/v1/audit", token: h.serverToken)
            #expect(audit.1.contains("import.dovecot-passwd"))
            #expect(audit.1.contains("token:ops"))
            #expect(!audit.1.contains("zz-secret"))
        }
        #expect(h.dir.authenticate(address: "z@example.org", password: "zz-secret") != nil)
    }

    @Test func healthAndMetrics() async throws {
        let h = try Harness()
        try await h.app.test(.router) { client in
            let (hs, hb) = try await h.request(client, .get, "/healthz", token: nil)
            #expect(hs == 200 && hb.contains("\"status\":\"ok\""))
            _ = try await h.request(client, .get, "/api/v1/domains", token: h.serverToken)
            _ = try await h.request(client, .get, "/api/v1/domains", token: nil)
            let (ms, mb) = try await h.request(client, .get, "/metrics", token: nil)
            #expect(ms == 200)
            #expect(mb.contains(#"mailroom_directory_entries{kind="accounts"} 2"#))
            #expect(mb.contains(#"mailroom_directory_entries{kind="domains"} 2"#))
            #expect(mb.contains(#"mailroom_admin_requests_total{route="/api/v1/domains",method="GET",status="200"} 1"#))
            #expect(mb.contains(#"mailroom_admin_requests_total{route="/api/v1/domains",method="GET",status="401"} 1"#))
            #expect(mb.contains("mailroom_admin_request_duration_seconds_bucket"))
        }
    }

    @Test func auditRecordsActorAndSource() async throws {
        let h = try Harness()
        try await h.app.test(.router) { client in
            _ = try await h.request(client, .patch, "/api/v1/accounts/alice@example.org", token: h.serverToken, body: #"{"quota":"2G"}"#)
            let (_, body) = try await h.request(client, .get, "/api/v1/audit?target=alice@example.org&since=1h", token: h.serverToken)
            let entries = try AdminJSON.decoder().decode([AuditView].self, from: Data(body.utf8))
            let e = try #require(entries.first)
            #expect(e.actor == "token:ops")
            #expect(e.action == "account.update")
            #expect(e.after?.contains("2147483648") == true)
        }
    }
}
