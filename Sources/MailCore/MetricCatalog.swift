/// Every metric the protocols count into ``Stats``, declared once: its name (Prometheus
/// conventions: `_total` counters, base units), kind and help text. The alert rules and the
/// dashboard in deploy/ use these names; a test checks that each one they use is served.
public enum MetricCatalog {
    public static let connections = Stats.Metric(
        "mailroom_connections_total", .counter, "Connections accepted, by protocol and listener")
    public static let connectionsOpen = Stats.Metric(
        "mailroom_connections_open", .gauge, "Connections open now, by protocol and listener")
    public static let connectionsRefused = Stats.Metric(
        "mailroom_connections_refused_total", .counter, "Connections refused over the connection limits, by protocol and listener")
    public static let smtpMessages = Stats.Metric(
        "mailroom_smtp_messages_total", .counter, "Messages at the end of DATA, by listener and result (accepted, deferred, refused)")
    public static let smtpRecipientsRefused = Stats.Metric(
        "mailroom_smtp_recipients_refused_total", .counter, "Recipients refused at RCPT TO, by listener")
    public static let inboundResults = Stats.Metric(
        "mailroom_inbound_results_total", .counter, "Inbound authentication results by method and result")
    public static let inboundDecisions = Stats.Metric(
        "mailroom_inbound_decisions_total", .counter, "Messages from outside by decision (deliver, junk, quarantine, refuse, defer)")
    public static let inboundBlocklisted = Stats.Metric(
        "mailroom_inbound_blocklisted_connections_total", .counter, "Connections refused because a DNS blocklist names the client")
    public static let authFailures = Stats.Metric(
        "mailroom_auth_failures_total", .counter, "Failed logins by protocol and reason (credentials, banned)")
    public static let imapCommands = Stats.Metric("mailroom_imap_commands_total", .counter, "IMAP commands by name")
    // Read at each scrape.
    public static let queueOldest = Stats.Metric(
        "mailroom_queue_oldest_age_seconds", .gauge, "Age of the oldest message on the outbound queue (0 when it is empty)")
    public static let storeBytes = Stats.Metric(
        "mailroom_store_bytes", .gauge, "Bytes stored: messages (each once) and the database files")
    public static let filesystemBytes = Stats.Metric(
        "mailroom_data_filesystem_bytes", .gauge, "The data folder's file system: size and free (for the server's user)")
    public static let certificateExpiry = Stats.Metric(
        "mailroom_tls_certificate_expiry_timestamp_seconds", .gauge, "When the mail listeners' certificate expires (Unix time)")
    public static let bannedAddresses = Stats.Metric(
        "mailroom_auth_banned_addresses", .gauge, "Client addresses banned now after failed logins")
    public static let dnsLookups = Stats.Metric(
        "mailroom_dns_lookups_total", .counter, "DNS lookups by outcome (ok, nodata, nxdomain, servfail, timeout, malformed)")
    public static let deliveryDuration = Stats.Metric(
        "mailroom_outbound_delivery_duration_seconds", .histogram,
        "Time from queueing to the end of delivery (delivered or bounced), by result",
        buckets: [1, 5, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 5 * 24 * 3600])
}
