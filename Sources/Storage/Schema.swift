import GRDB

/// The database schema, as named migrations. A landed migration is never edited: a change is a
/// new migration appended here.
enum Schema {
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
        return m
    }

    static var migrationNames: Set<String> { Set(migrator.migrations) }
}
