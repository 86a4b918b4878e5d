// What admin operations return about storage, backups, quarantine, moderation and Sieve is a
// domain value defined in MailCore (`StorageReports.swift`, `AdminResults.swift`,
// `SieveResults.swift`), so that Delivery and Storage do not depend on the admin API's types.
// The API sends those values as they are: re-exported here, the CLI and the API see them
// beside the request types, and their JSON (and schema names) are the same as before.
@_exported import MailCore
