import Foundation
import Hummingbird
import Testing

@testable import AdminModels
@testable import AdminAPI

/// The fields a request takes and the OpenAPI document are read from the types and routes
/// themselves; these pin what that reading gives.
@Suite struct ContractTests {
    @Test func requestFieldsComeFromTheTypes() {
        #expect(PasswordSet.fields == ["password", "generate"])
        #expect(AccountRename.fields == ["new_address", "keep_alias"])
        #expect(DovecotPasswdImport.fields == ["text", "domain", "dry_run"])
        #expect(
            ListUpdate.fields == [
                "name", "description", "posting_policy", "allowed_senders", "owners", "moderators", "subject_prefix", "reply_to", "hidden_members",
                "dmarc_rewrite",
            ])
        #expect(RoleSet.fields == ["role", "domains"])
    }

    @Test(arguments: [("sourceIp", "source_ip"), ("sourceIP", "source_ip"), ("dkimURLValue", "dkim_url_value"), ("name", "name"), ("keep_alias", "keep_alias")])
    func keysAreSnakeCasedAsTheEncoderDoes(_ key: String, _ snake: String) throws {
        #expect(JSONSchema.snake(key) == snake)
    }

    @Test func optionalFieldsAreNotRequired() throws {
        var components: [String: Any] = [:]
        _ = JSONSchema.of(AccountView.self, components: &components)
        let account = try #require(components["AccountView"] as? [String: Any])
        let required = Set(try #require(account["required"] as? [String]))
        #expect(required.isSuperset(of: ["address", "name", "quota", "state"]))
        #expect(required.isDisjoint(with: ["stored_bytes", "messages", "password_scheme", "last_logins"]))
        let properties = try #require(account["properties"] as? [String: Any])
        #expect((properties["created_at"] as? [String: String])?["format"] == "date-time")
    }

    /// The results defined in MailCore (so that Delivery and Storage need not import AdminModels)
    /// keep the schema names they had in AdminModels: the name leaves out the module.
    @Test func resultsFromMailCoreKeepTheirSchemaNames() {
        var components: [String: Any] = [:]
        let types: [any Decodable.Type] = [
            HeldView.self, QuarantineResult.self, QuarantineMessageView.self, BackupView.self, MailboxTransferView.self,
            SieveScriptView.self, VacationView.self, RulesTestView.self, ForwardView.self, BlobSweepReport.self, StorageUsage.self,
        ]
        for type in types { _ = JSONSchema.of(type, components: &components) }
        #expect(
            Set(components.keys) == [
                "HeldView", "ModerationResult", "QuarantineMessageView", "QuarantineView", "BackupView", "MailboxTransferView",
                "MailboxTransferView_Folder", "MailboxTransferView_Refused", "SieveScriptView", "VacationView", "RulesTestView",
                "ForwardView", "BlobSweepReport", "StorageUsage",
            ])
    }

    /// So do the directory's, the outbound queue's, the IMAP migrations', the webhooks' and the
    /// doctor's views, which moved to MailCore so that the modules that make them need not
    /// import AdminModels.
    @Test func viewsMovedToMailCoreLaterKeepTheirSchemaNames() {
        var components: [String: Any] = [:]
        let types: [any Decodable.Type] = [
            DomainView.self, AccountView.self, AccountCreated.self, AccountRemoved.self, AliasView.self, ListView.self,
            ResolutionView.self, TokenCreated.self, AuditView.self, ImportReport.self, TraceView.self, AccountRoleView.self,
            MigrationReport.self, QueueEntryView.self, QueueActionResult.self, QueueSummaryView.self, DKIMKeyView.self,
            IMAPMigrationView.self, WebhookCreated.self, WebhookDeliveryView.self, DNSRecordView.self, DoctorFinding.self,
            Page<AccountView>.self,
        ]
        for type in types { _ = JSONSchema.of(type, components: &components) }
        let names = Set(components.keys)
        for name in [
            "DomainView", "AccountView", "LoginView", "BanView", "AccountCreated", "AccountRemoved", "AliasView", "ListView", "MemberView",
            "ResolutionView", "RecipientView", "SkippedView", "TokenCreated", "TokenView", "AuditView", "ImportReport",
            "ImportReport_RowError", "TraceView", "TraceEventView", "AccountRoleView", "MigrationReport", "MigrationReport_Item",
            "QueueEntryView", "QueueActionResult", "QueueSummaryView", "QueueSummaryView_Row", "DKIMKeyView", "IMAPMigrationView",
            "IMAPMigrationView_Failure", "WebhookCreated", "WebhookView", "WebhookDeliveryView", "DNSRecordView", "DoctorFinding",
            "Page_AdminModels_AccountView",
        ] {
            #expect(names.contains(name), "\(name) is not among \(names.sorted())")
        }
    }

    @Test func endpointsFillTheirPaths() {
        #expect(API.getAccountSieveScript.url(["a@b.org", "my rules"]) == "/api/v1/accounts/a@b.org/sieve/my%20rules")
        #expect(API.getWebhookLog.url(["3"], query: "limit=5") == "/api/v1/webhooks/3/log?limit=5")
        #expect(API.getDomains.url([]) == "/api/v1/domains")
    }

    @Test func theDocumentHasEveryRegisteredRoute() throws {
        let contract = APIContract()
        let group = APIGroup(group: Router(context: AdminContext.self).group("api/v1"), contract: contract)
        group.on(API.getDomains) { _, _ in Response(status: .ok) }
        group.on(API.putAccountRole) { _, _ in Response(status: .ok) }
        let doc = contract.document()
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        #expect(Set(paths.keys) == ["/api/v1/domains", "/api/v1/accounts/{address}/role"])
        let put = try #require(paths["/api/v1/accounts/{address}/role"]?["put"] as? [String: Any])
        #expect(put["requestBody"] != nil)
        let responses = try #require(put["responses"] as? [String: Any])
        #expect(responses["200"] != nil && responses["default"] != nil)
    }
}
