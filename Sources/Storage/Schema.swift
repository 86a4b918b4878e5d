import GRDB

/// The database schema, as named migrations. A landed migration is never edited: a change is a
/// new migration appended here.
enum Schema {
    /// The full-text index's definition as v3-imap made it; `mailroom storage compact` builds a
    /// fresh index from it. A migration that changes the index changes this too.
    static let searchIndexColumns =
        "subject, from_addr, to_addr, cc, bcc, headers, body, content = '', tokenize = 'trigram'"

    /// How many segments of one level the full-text index lets gather before it merges them
    /// (FTS5 `automerge`; SQLite's default is 4, 16 its largest). Every merge rewrites what it
    /// merges, so fewer levels rewrite each message's trigrams fewer times: with the default,
    /// indexing a message cost 0.23 ms of CPU into an empty index and 0.52–0.56 ms once it held
    /// 30,000 to 100,000 messages; with 16 it stayed at 0.19–0.24 ms (bench/search-index/merging).
    /// A search reads up to 15 segments per level instead of 3.
    ///
    /// Since v25 no write merges (`automerge` 0): the search indexer does, in steps of its own
    /// (``SQLiteStore/mergeSearchIndex(pages:)``, `usermerge` 16: the same levels), each a
    /// short transaction that a delivery waits behind for a millisecond or two. Merging on
    /// writes came in lumps: the write that got a level to 16 segments merged it whole
    /// (`crisismerge` was 16 too) and went on up the levels, and on 20,000 indexed messages the
    /// indexer's transaction that did it held the writer for 290–430 ms (bench/accept-latency),
    /// which a single SMTP session's next message waited for; FTS5's incremental merging on
    /// writes (`crisismerge` 64 alone) still held it 20–40 ms at a time. The steps cost CPU:
    /// 1.8–1.9 ms per message of one session against 1.4, where 50 sessions accept 30% more.
    /// A write still merges a level that gathered 64 segments (`crisismerge`), should the steps
    /// ever fall that far behind.
    ///
    /// Steps v21 and v25 set this on the live index; a rebuilt one (`mailroom storage compact`)
    /// gets it here.
    static func setSearchIndexMerging(_ table: String, _ db: Database) throws {
        for (key, value) in [("automerge", 0), ("usermerge", 16), ("crisismerge", 64)] {
            try db.execute(sql: "INSERT INTO \(table) (\(table), rank) VALUES (?, ?)", arguments: [key, value])
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-directory") { db in
            try db.execute(
                sql: """
                    CREATE TABLE domains (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE,
                        alias_of INTEGER REFERENCES domains(id) ON DELETE RESTRICT,
                        catch_all TEXT,
                        created_at REAL NOT NULL
                    );
                    -- One address space for accounts, aliases and lists.
                    CREATE TABLE addresses (
                        key TEXT PRIMARY KEY,
                        kind TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE accounts (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE RESTRICT,
                        address TEXT NOT NULL,
                        address_key TEXT NOT NULL UNIQUE,
                        name TEXT NOT NULL DEFAULT '',
                        password_hash TEXT,
                        quota_bytes INTEGER NOT NULL DEFAULT 0,
                        state TEXT NOT NULL DEFAULT 'active',
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL
                    );
                    CREATE INDEX accounts_domain ON accounts(domain_id, address_key);
                    CREATE TABLE aliases (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE RESTRICT,
                        address TEXT NOT NULL,
                        address_key TEXT NOT NULL UNIQUE,
                        targets TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE lists (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE RESTRICT,
                        address TEXT NOT NULL,
                        address_key TEXT NOT NULL UNIQUE,
                        name TEXT NOT NULL DEFAULT '',
                        description TEXT NOT NULL DEFAULT '',
                        members TEXT NOT NULL DEFAULT '[]',
                        posting_policy TEXT NOT NULL DEFAULT 'anyone',
                        allowed_senders TEXT NOT NULL DEFAULT '[]',
                        owners TEXT NOT NULL DEFAULT '[]',
                        moderators TEXT NOT NULL DEFAULT '[]',
                        subject_prefix TEXT NOT NULL DEFAULT '',
                        reply_to TEXT NOT NULL DEFAULT 'sender',
                        hidden_members INTEGER NOT NULL DEFAULT 0,
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE tokens (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL,
                        secret_hash TEXT NOT NULL UNIQUE,
                        role TEXT NOT NULL,
                        domains TEXT NOT NULL DEFAULT '[]',
                        created_at REAL NOT NULL,
                        last_used_at REAL,
                        revoked_at REAL
                    );
                    CREATE TABLE audit (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at REAL NOT NULL,
                        actor TEXT NOT NULL,
                        action TEXT NOT NULL,
                        target TEXT NOT NULL,
                        domain TEXT,
                        before TEXT,
                        after TEXT,
                        source_ip TEXT
                    );
                    CREATE INDEX audit_at ON audit(at);
                    CREATE INDEX audit_domain ON audit(domain, at);
                    """)
        }
        m.registerMigration("v2-mailstore") { db in
            try db.execute(
                sql: """
                    -- Message bytes by SHA-256, stored once however many mailboxes refer to them
                    -- (refs counts them). Small messages keep their bytes here (data), so one
                    -- commit makes them durable together; larger ones are files in blobs/.
                    CREATE TABLE blobs (
                        hash TEXT PRIMARY KEY,
                        size INTEGER NOT NULL,
                        refs INTEGER NOT NULL,
                        data BLOB
                    );
                    CREATE TABLE mailboxes (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        special_use TEXT,
                        uidvalidity INTEGER NOT NULL,
                        uidnext INTEGER NOT NULL DEFAULT 1,
                        highestmodseq INTEGER NOT NULL DEFAULT 1,
                        UNIQUE (account_id, name)
                    );
                    CREATE TABLE messages (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
                        uid INTEGER NOT NULL,
                        modseq INTEGER NOT NULL,
                        blob_hash TEXT NOT NULL REFERENCES blobs(hash),
                        -- Per-recipient trace headers (Return-Path, Delivered-To) served before the blob.
                        header_prefix BLOB NOT NULL DEFAULT X'',
                        size INTEGER NOT NULL,
                        internal_date REAL NOT NULL,
                        flags TEXT NOT NULL DEFAULT '',
                        queue_id TEXT,
                        message_id TEXT,
                        UNIQUE (mailbox_id, uid)
                    );
                    CREATE INDEX messages_queue ON messages(queue_id);
                    -- Remote recipients waiting for the outbound queue runner.
                    CREATE TABLE queue (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        queue_id TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        recipient TEXT NOT NULL,
                        blob_hash TEXT NOT NULL REFERENCES blobs(hash),
                        header_prefix BLOB NOT NULL DEFAULT X'',
                        size INTEGER NOT NULL,
                        created_at REAL NOT NULL,
                        next_attempt REAL NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        last_reply TEXT
                    );
                    CREATE INDEX queue_next ON queue(next_attempt);
                    -- Messages held for a list moderator.
                    CREATE TABLE held (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        queue_id TEXT NOT NULL,
                        list_address TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        blob_hash TEXT NOT NULL REFERENCES blobs(hash),
                        header_prefix BLOB NOT NULL DEFAULT X'',
                        size INTEGER NOT NULL,
                        subject TEXT NOT NULL DEFAULT '',
                        created_at REAL NOT NULL
                    );
                    -- Every stage of every message, for `mailroom trace`.
                    CREATE TABLE delivery_events (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at REAL NOT NULL,
                        queue_id TEXT NOT NULL,
                        message_id TEXT,
                        event TEXT NOT NULL,
                        sender TEXT,
                        recipient TEXT,
                        client_ip TEXT,
                        helo TEXT,
                        tls TEXT,
                        auth_user TEXT,
                        detail TEXT,
                        reply TEXT
                    );
                    CREATE INDEX events_queue ON delivery_events(queue_id);
                    CREATE INDEX events_message ON delivery_events(message_id);
                    CREATE INDEX events_sender ON delivery_events(sender, at);
                    CREATE INDEX events_recipient ON delivery_events(recipient, at);
                    CREATE INDEX events_at ON delivery_events(at);
                    """)
        }
        m.registerMigration("v3-imap") { db in
            try db.execute(
                sql: """
                    -- What IMAP serves about a message, computed once when its bytes are stored:
                    -- ENVELOPE, BODYSTRUCTURE and BODY as the bytes to send, and the Date: header
                    -- (for SENTBEFORE and friends).
                    ALTER TABLE blobs ADD COLUMN envelope BLOB;
                    ALTER TABLE blobs ADD COLUMN bodystructure BLOB;
                    ALTER TABLE blobs ADD COLUMN body_simple BLOB;
                    ALTER TABLE blobs ADD COLUMN sent_date REAL;
                    -- Full-text index for SEARCH, one row per blob (rowid = blobs.rowid). Trigrams
                    -- give IMAP's case-insensitive substring match exactly, for strings of 3
                    -- characters or more. Contentless: the text is not stored twice.
                    CREATE VIRTUAL TABLE blob_text USING fts5(
                        subject, from_addr, to_addr, cc, bcc, headers, body, content = '', tokenize = 'trigram');
                    ALTER TABLE mailboxes ADD COLUMN keywords TEXT NOT NULL DEFAULT '';
                    CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
                    CREATE INDEX messages_blob ON messages(blob_hash);
                    -- UIDs removed from a mailbox, with the MODSEQ of their removal (QRESYNC, and
                    -- how other sessions learn of expunges).
                    CREATE TABLE expunged (
                        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
                        uid INTEGER NOT NULL,
                        modseq INTEGER NOT NULL,
                        PRIMARY KEY (mailbox_id, uid)
                    ) WITHOUT ROWID;
                    CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);
                    CREATE TABLE subscriptions (
                        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        PRIMARY KEY (account_id, name)
                    ) WITHOUT ROWID;
                    -- Monotonic counters (UIDVALIDITY is never handed out twice).
                    CREATE TABLE counters (
                        name TEXT PRIMARY KEY,
                        value INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
            for account in try Int64.fetchAll(db, sql: "SELECT id FROM accounts") {
                try SQLiteStore.ensureDefaultMailboxes(account, db)
            }
        }
        m.registerMigration("v4-outbound") { db in
            try db.execute(
                sql: """
                    -- Outbound queue state per remote recipient: queued (never tried), active (a
                    -- delivery is under way), deferred (waiting for next_attempt), held (by an admin).
                    ALTER TABLE queue ADD COLUMN domain TEXT NOT NULL DEFAULT '';
                    ALTER TABLE queue ADD COLUMN status TEXT NOT NULL DEFAULT 'queued';
                    ALTER TABLE queue ADD COLUMN message_id TEXT;
                    ALTER TABLE queue ADD COLUMN last_attempt REAL;
                    -- 1 once the sender was told the message is delayed.
                    ALTER TABLE queue ADD COLUMN warned INTEGER NOT NULL DEFAULT 0;
                    UPDATE queue SET domain = lower(substr(recipient, instr(recipient, '@') + 1));
                    DROP INDEX queue_next;
                    CREATE INDEX queue_due ON queue(status, next_attempt);
                    CREATE INDEX queue_message ON queue(queue_id);
                    CREATE INDEX queue_domain ON queue(domain);
                    -- Each delivery attempt of a queued recipient (for `mailroom queue show`).
                    CREATE TABLE queue_attempts (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        queue_row INTEGER NOT NULL REFERENCES queue(id) ON DELETE CASCADE,
                        at REAL NOT NULL,
                        mx TEXT,
                        ip TEXT,
                        tls TEXT,
                        reply TEXT NOT NULL
                    );
                    CREATE INDEX queue_attempts_row ON queue_attempts(queue_row);
                    -- DKIM signing keys; the active one of a domain signs its mail.
                    CREATE TABLE dkim_keys (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        domain TEXT NOT NULL,
                        selector TEXT NOT NULL,
                        algorithm TEXT NOT NULL,
                        private_key TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        active INTEGER NOT NULL DEFAULT 1,
                        UNIQUE (domain, selector)
                    );
                    """)
        }
        m.registerMigration("v5-blob-sweep") { db in
            try db.execute(
                sql: """
                    -- 0: referenced or not yet swept. 1: no message, queue entry or held message
                    -- refers to the blob; its inline bytes are gone and its file is to be removed.
                    -- 2: the file is removed too. The row stays so that its rowid, which keys the
                    -- contentless search index, is never handed to another blob; storing the same
                    -- bytes again brings it back to 0.
                    ALTER TABLE blobs ADD COLUMN gone INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX blobs_gone ON blobs(gone) WHERE gone = 1;
                    CREATE INDEX queue_blob ON queue(blob_hash);
                    CREATE INDEX held_blob ON held(blob_hash);
                    -- The highest UID some session has already seen as \\Recent (RFC 3501
                    -- §2.3.2): messages above it are recent for the next session to notice them.
                    -- Mail already stored counts as seen.
                    ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 0;
                    UPDATE mailboxes SET recent_uid = uidnext - 1;
                    """)
        }
        m.registerMigration("v6-sent-zone") { db in
            // The zone a message's Date: field was written in (minutes east of UTC), so that
            // SEARCH SENTON and its kin compare the sender's calendar day. Mail stored before
            // has none and is compared by its UTC day, as before.
            try db.execute(sql: "ALTER TABLE blobs ADD COLUMN sent_zone INTEGER")
        }
        m.registerMigration("v7-repair-recent-uid") { db in
            // v5-blob-sweep gained `recent_uid` after it had landed, so a database that ran the
            // first v5 never got the column. Add it there, with the same meaning: mail already
            // stored counts as seen.
            guard try !db.columns(in: "mailboxes").contains(where: { $0.name == "recent_uid" }) else { return }
            try db.execute(
                sql: """
                    ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 0;
                    UPDATE mailboxes SET recent_uid = uidnext - 1;
                    """)
        }
        m.registerMigration("v8-unseen-index") { db in
            // SELECT tells IMAP4rev1 clients the first unseen message (RFC 3501 §6.3.1); this
            // finds it without reading a mailbox's seen messages first. The condition must be
            // written the same way in the query for SQLite to use it.
            try db.execute(
                sql: "CREATE INDEX messages_unseen ON messages(mailbox_id, uid) WHERE instr(flags, '\\Seen') = 0")
        }
        m.registerMigration("v9-index-backlog") { db in
            // Messages whose words are not in the search index yet: delivery leaves indexing
            // (the costliest part of storing a message) to a background indexer, off the path
            // to 250. SEARCH reads these messages directly until they are indexed.
            try db.execute(sql: "CREATE TABLE index_backlog (blob_rowid INTEGER PRIMARY KEY)")
        }
        m.registerMigration("v10-quarantine") { db in
            // Messages the inbound checks held instead of delivering, with their envelope, so
            // that a release delivers them as they would have been.
            try db.execute(
                sql: """
                    CREATE TABLE quarantine (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        queue_id TEXT NOT NULL,
                        message_id TEXT,
                        sender TEXT NOT NULL,
                        recipients TEXT NOT NULL,
                        blob_hash TEXT NOT NULL REFERENCES blobs(hash),
                        size INTEGER NOT NULL,
                        subject TEXT NOT NULL DEFAULT '',
                        reason TEXT NOT NULL,
                        checks TEXT,
                        client_ip TEXT,
                        helo TEXT,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX quarantine_blob ON quarantine(blob_hash);
                    CREATE INDEX quarantine_created ON quarantine(created_at);
                    """)
        }
        m.registerMigration("v11-list-dmarc-rewrite") { db in
            // Lists rewrite From for posters whose domain publishes a strict DMARC policy.
            try db.execute(sql: "ALTER TABLE lists ADD COLUMN dmarc_rewrite TEXT NOT NULL DEFAULT 'auto'")
        }
        m.registerMigration("v12-junk") { db in
            // Per-user junk learning: how many ham and spam messages each account trained, in
            // how many of each every token was seen, and which messages (by blob, so that
            // every copy counts once) were trained as what, so that moving one back out of
            // Junk can undo its spam training.
            try db.execute(
                sql: """
                    CREATE TABLE junk_totals (
                        account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
                        ham INTEGER NOT NULL DEFAULT 0,
                        spam INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE TABLE junk_tokens (
                        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                        token TEXT NOT NULL,
                        ham INTEGER NOT NULL DEFAULT 0,
                        spam INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (account_id, token)
                    ) WITHOUT ROWID;
                    CREATE TABLE junk_trained (
                        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                        blob_hash TEXT NOT NULL,
                        class TEXT NOT NULL,
                        trained_at REAL NOT NULL,
                        PRIMARY KEY (account_id, blob_hash)
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v13-domain-mta-sts") { db in
            // Each domain's MTA-STS policy mode, served by the web listener; existing domains
            // start in testing, as new ones do.
            try db.execute(sql: "ALTER TABLE domains ADD COLUMN mta_sts TEXT NOT NULL DEFAULT 'testing'")
        }
        m.registerMigration("v14-login-history") { db in
            // "Why can't this user log in?": each account's last successful login per protocol,
            // and its recent failed ones with the reason (a few per account, so that guessing
            // cannot grow the table).
            try db.execute(
                sql: """
                    CREATE TABLE login_success (
                        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                        protocol TEXT NOT NULL,
                        at REAL NOT NULL,
                        ip TEXT NOT NULL,
                        PRIMARY KEY (account_id, protocol)
                    ) WITHOUT ROWID;
                    CREATE TABLE login_failures (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                        protocol TEXT NOT NULL,
                        at REAL NOT NULL,
                        ip TEXT NOT NULL,
                        reason TEXT NOT NULL
                    );
                    CREATE INDEX login_failures_account ON login_failures(account_id, id);
                    """)
        }
        m.registerMigration("v16-event-client-index") { db in
            // `mailroom trace --client`: what one sending host did.
            try db.execute(sql: "CREATE INDEX delivery_events_client ON delivery_events(client_ip, id)")
        }
        m.registerMigration("v17-sieve") { db in
            // Each account's Sieve scripts (at most one active: the partial unique index says
            // so), who its vacation replies went to and when (RFC 5230 §4.2: once per sender
            // and handle in the period), and the message ids the duplicate test has seen
            // (RFC 7352).
            try db.execute(
                sql: """
                    CREATE TABLE sieve_scripts (
                        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        script TEXT NOT NULL,
                        active INTEGER NOT NULL DEFAULT 0,
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (account_id, name)
                    ) WITHOUT ROWID;
                    CREATE UNIQUE INDEX sieve_scripts_active ON sieve_scripts(account_id) WHERE active = 1;
                    CREATE TABLE sieve_vacation_replies (
                        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                        handle TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        replied_at REAL NOT NULL,
                        PRIMARY KEY (account_id, handle, sender)
                    ) WITHOUT ROWID;
                    CREATE TABLE sieve_duplicates (
                        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                        handle TEXT NOT NULL,
                        unique_id TEXT NOT NULL,
                        first_seen REAL NOT NULL,
                        last_seen REAL NOT NULL,
                        PRIMARY KEY (account_id, handle, unique_id)
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v18-console") { db in
            // The web console: who may administer (an account's role; no row is a plain user),
            // each person's second factor (TOTP secret, recovery codes as SHA-256), signed-in
            // sessions (only the SHA-256 of the cookie is kept), and app passwords (a named
            // random password per device, kept as SHA-256: it is long and random, so a slow
            // hash would buy nothing and cost every IMAP login), and one-time password reset
            // links an admin hands out (SHA-256 of the link's token). And webhooks: each hook,
            // its deliveries (the log and the retry queue in one), and how far the dispatcher
            // has read the tables events come from.
            try db.execute(
                sql: """
                    CREATE TABLE account_roles (
                        account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
                        role TEXT NOT NULL,
                        domains TEXT NOT NULL DEFAULT '[]'
                    );
                    CREATE TABLE account_totp (
                        account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
                        secret BLOB NOT NULL,
                        enabled INTEGER NOT NULL DEFAULT 0,
                        recovery TEXT NOT NULL DEFAULT '[]',
                        last_step INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE TABLE console_sessions (
                        id_hash TEXT PRIMARY KEY,
                        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                        csrf TEXT NOT NULL,
                        verified INTEGER NOT NULL,
                        created_at REAL NOT NULL,
                        last_seen_at REAL NOT NULL,
                        ip TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX console_sessions_account ON console_sessions(account_id);
                    CREATE TABLE app_passwords (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        secret_hash TEXT NOT NULL UNIQUE,
                        created_at REAL NOT NULL,
                        last_used_at REAL,
                        UNIQUE (account_id, name)
                    );
                    CREATE TABLE password_resets (
                        token_hash TEXT PRIMARY KEY,
                        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                        expires_at REAL NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE webhooks (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        url TEXT NOT NULL,
                        events TEXT NOT NULL,
                        secret TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE webhook_deliveries (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        hook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
                        event TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        status TEXT NOT NULL DEFAULT 'pending',
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt REAL NOT NULL,
                        last_status INTEGER,
                        last_error TEXT,
                        finished_at REAL
                    );
                    CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt);
                    CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(hook_id, id);
                    CREATE TABLE webhook_cursors (
                        source TEXT PRIMARY KEY,
                        last_id INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v19-imap-migration") { db in
            // `mailroom migrate imap`: per account, source server and source folder, the
            // folder's UIDVALIDITY and the highest UID up to which every message was copied (or
            // found already there), so that another run fetches only what is new.
            try db.execute(
                sql: """
                    CREATE TABLE imap_migration_state (
                        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                        source TEXT NOT NULL,
                        folder TEXT NOT NULL,
                        uidvalidity INTEGER NOT NULL,
                        last_uid INTEGER NOT NULL,
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (account_id, source, folder)
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v20-imap-migration-uids") { db in
            // `mailroom migrate imap`: which of our messages each source message (account,
            // source, folder, UIDVALIDITY, UID) became, and its flags on the source at the last
            // run, so that the next run brings flag changes and deletions. `owned` is 1 when the
            // migration copied our message, 0 when it found it here already (mail that arrived
            // here directly is never changed by a migration).
            try db.execute(
                sql: """
                    CREATE TABLE imap_migration_messages (
                        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
                        source TEXT NOT NULL,
                        folder TEXT NOT NULL,
                        uidvalidity INTEGER NOT NULL,
                        source_uid INTEGER NOT NULL,
                        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
                        uid INTEGER NOT NULL,
                        source_flags TEXT NOT NULL,
                        owned INTEGER NOT NULL,
                        PRIMARY KEY (account_id, source, folder, uidvalidity, source_uid)
                    ) WITHOUT ROWID;
                    CREATE INDEX imap_migration_messages_target ON imap_migration_messages(mailbox_id, uid);
                    """)
        }
        m.registerMigration("v21-search-index-merging") { db in
            // Written out, not through setSearchIndexMerging: a landed step never changes.
            try db.execute(sql: "INSERT INTO blob_text (blob_text, rank) VALUES ('automerge', 16)")
        }
        m.registerMigration("v22-event-staging") { db in
            // Events as commits write them, before they are filed into delivery_events: no
            // index, so a delivery's event costs one appended row (see insertEvent).
            try db.execute(
                sql: """
                    CREATE TABLE event_staging (
                        id INTEGER PRIMARY KEY,
                        at REAL NOT NULL,
                        queue_id TEXT NOT NULL,
                        message_id TEXT,
                        event TEXT NOT NULL,
                        sender TEXT,
                        recipient TEXT,
                        client_ip TEXT,
                        helo TEXT,
                        tls TEXT,
                        auth_user TEXT,
                        detail TEXT,
                        reply TEXT
                    )
                    """)
        }
        m.registerMigration("v23-trace-indexes-nocase") { db in
            // A trace compares addresses without case (`sender = ? COLLATE NOCASE`), which an
            // index in the default collation cannot answer: every trace by sender or recipient
            // read the whole table. These are ordered by id, as a trace reads newest first.
            try db.execute(
                sql: """
                    DROP INDEX events_sender;
                    DROP INDEX events_recipient;
                    CREATE INDEX events_sender ON delivery_events(sender COLLATE NOCASE, id);
                    CREATE INDEX events_recipient ON delivery_events(recipient COLLATE NOCASE, id);
                    """)
        }
        m.registerMigration("v24-blob-meta") { db in
            // What IMAP answers without reading a message (ENVELOPE, BODYSTRUCTURE, BODY, the
            // Date: instant and zone), one row per stored message (blob_id = blobs.rowid), apart
            // from its bytes. A blob row with the bytes inline spans a page or more, so reading
            // a whole mailbox's envelopes (FETCH 1:* ENVELOPE, a first SORT, SEARCH by sent
            // date) read every message with them; these rows are about 600 bytes. A blob with
            // a row here is indexed, as an envelope in blobs said before. The copies in blobs
            // are read no more; `mailroom storage compact` clears them.
            try db.execute(
                sql: """
                    CREATE TABLE blob_meta (
                        blob_id INTEGER PRIMARY KEY,
                        envelope BLOB NOT NULL,
                        bodystructure BLOB,
                        body_simple BLOB,
                        sent_date REAL,
                        sent_zone INTEGER
                    );
                    INSERT INTO blob_meta (blob_id, envelope, bodystructure, body_simple, sent_date, sent_zone)
                        SELECT rowid, envelope, bodystructure, body_simple, sent_date, sent_zone FROM blobs
                        WHERE envelope IS NOT NULL;
                    """)
        }
        m.registerMigration("v25-search-index-merge-steps") { db in
            // Written out, not through setSearchIndexMerging: a landed step never changes.
            try db.execute(
                sql: """
                    INSERT INTO blob_text (blob_text, rank) VALUES ('automerge', 0);
                    INSERT INTO blob_text (blob_text, rank) VALUES ('usermerge', 16);
                    INSERT INTO blob_text (blob_text, rank) VALUES ('crisismerge', 64);
                    """)
        }
        m.registerMigration("v26-sort-keys") { db in
            // What SORT compares, per stored message (see SortKeys, and blob_meta's sent_date
            // for DATE): a first SORT of a large mailbox read and parsed every ~600-byte
            // envelope for one of its strings. A row goes with its blob_meta row. The indexer
            // writes them with blob_meta, and works off sort_keys_backlog (messages stored
            // before) from their envelopes; until then SORT reads the envelope, as before.
            try db.execute(
                sql: """
                    CREATE TABLE sort_keys (
                        blob_id INTEGER PRIMARY KEY REFERENCES blob_meta(blob_id) ON DELETE CASCADE,
                        sent_date REAL,
                        subject BLOB NOT NULL,
                        from_addr BLOB NOT NULL,
                        to_addr BLOB NOT NULL,
                        cc_addr BLOB NOT NULL,
                        from_name BLOB NOT NULL,
                        to_name BLOB NOT NULL
                    );
                    CREATE TABLE sort_keys_backlog (blob_id INTEGER PRIMARY KEY);
                    INSERT INTO sort_keys_backlog (blob_id) SELECT blob_id FROM blob_meta;
                    """)
        }
        m.registerMigration("v27-messages-blob-id") { db in
            // Each message's blob by rowid, the key of blob_meta, sort_keys and the search
            // index: reading a mailbox's stored fields looked each message's blob up by its
            // 64-character hash, 2.3 µs a message (230 ms of a first SORT of 100,000, the
            // rows themselves 30 ms). blob_hash stays: blob files and the queue are named by it.
            try db.execute(
                sql: """
                    ALTER TABLE messages ADD COLUMN blob_id INTEGER;
                    UPDATE messages SET blob_id = (SELECT rowid FROM blobs WHERE hash = messages.blob_hash);
                    """)
        }
        m.registerMigration("v28-thread-keys") { db in
            // What THREAD=REFERENCES links messages by (see ThreadKeys), kept with the SORT
            // keys: a first THREAD of 100,000 messages read every message's header for its
            // References (about 3 s of CPU). NULL until known; the indexer reads the headers
            // of messages stored before, off thread_keys_backlog, and THREAD reads those it
            // has not reached.
            try db.execute(
                sql: """
                    ALTER TABLE sort_keys ADD COLUMN thread BLOB;
                    CREATE TABLE thread_keys_backlog (blob_id INTEGER PRIMARY KEY);
                    INSERT INTO thread_keys_backlog (blob_id) SELECT blob_id FROM blob_meta;
                    """)
        }
        m.registerMigration("v29-messages-by-blob-id") { db in
            // Messages found by their blob's rowid rather than its 64-character hash: the hash
            // index took each new message's entry at a random place, a page split every few
            // messages and a random leaf to read and write back per delivery (1.45 of the 16.8
            // pages a delivery wrote at 20,000 messages, bench/delivery-writes), where rowids
            // only grow. A message without blob_id (none is written so since v27) gets it first:
            // the blob sweep asks this index whether a blob is still used.
            try db.execute(
                sql: """
                    UPDATE messages SET blob_id = (SELECT rowid FROM blobs WHERE hash = messages.blob_hash)
                        WHERE blob_id IS NULL;
                    CREATE INDEX messages_blob_id ON messages(blob_id);
                    DROP INDEX messages_blob;
                    """)
        }
        // v30 and v31 change no row: foreign keys stay on while they run (`.immediate`) rather
        // than being checked over the whole database before they commit (GRDB's default), which
        // took most of the start that upgraded 100,000 messages (bench/upgrade-start).
        m.registerMigration("v30-messages-without-blob-foreign-key", foreignKeyChecks: .immediate) { db in
            // v29 dropped the index on messages(blob_hash), but the foreign key from that column
            // to blobs(hash) stayed, and SQLite checks a blob being deleted against it by reading
            // every message: 15 ms per blob (its transaction included) at 100,000 messages, where
            // it was 0.26 ms with the index (bench/blob-delete), for the blob of each outbound
            // message once it is delivered and each one `mailroom storage compact` removes. The
            // statements that delete blobs ask messages_blob_id themselves whether a message
            // still uses one.
            //
            // The clause goes by SQLite's own procedure for removing a constraint, which changes
            // no stored row ("Making Other Kinds Of Table Schema Changes", lang_altertable.html):
            // the table's text loses it and the schema version moves on, in this transaction. A
            // table whose text is not v1-directory's (edited by hand) keeps its key: its blob
            // deletions stay slow, and nothing else changes.
            let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
            try db.execute(sql: "PRAGMA writable_schema = ON")
            try db.execute(
                sql: "UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'messages'",
                arguments: ["blob_hash TEXT NOT NULL REFERENCES blobs(hash)", "blob_hash TEXT NOT NULL"])
            try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
            try db.execute(sql: "PRAGMA writable_schema = OFF")
        }
        m.registerMigration("v31-messages-without-queue-index", foreignKeyChecks: .immediate) { db in
            // Nothing looks a message up by its queue ID (`mailroom trace` reads delivery_events),
            // and the index cost every delivery one more page to write (1.00 of the 15.8 pages a
            // delivery wrote at 20,000 messages, bench/delivery-writes). The column stays.
            try db.execute(sql: "DROP INDEX messages_queue")
        }
        return m
    }

    static var migrationNames: Set<String> { Set(migrator.migrations) }
}
