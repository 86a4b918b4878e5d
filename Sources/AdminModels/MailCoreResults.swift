// What admin operations return is a domain value defined in MailCore: about storage, backups,
// quarantine, moderation and Sieve (`StorageReports.swift`, `AdminResults.swift`,
// `SieveResults.swift`), the directory (`DirectoryViews.swift`), the outbound queue and DKIM
// keys (`QueueViews.swift`), IMAP migrations (`IMAPMigrationView.swift`), webhooks
// (`WebhookViews.swift`) and the doctor (`DoctorViews.swift`), so that the modules doing the
// work do not depend on the admin API's types. The API sends those values as they are:
// re-exported here, the CLI and the API see them beside the request types, and their JSON
// (and schema names) are the same as before.
@_exported import MailCore
