import Foundation

/// Dovecot's passwd-file (https://doc.dovecot.org/configuration_manual/authentication/passwd_file/):
/// one user a line, `user:password:uid:gid:gecos:home:shell:extra_fields`, every field after the
/// password optional; `#` starts a comment line.
///
///     alice@example.org:{SHA512-CRYPT}$6$...::::/var/vmail/alice::userdb_quota_rule=*:storage=1G
public enum DovecotPasswd {
    public struct Entry: Hashable, Sendable {
        /// The line the entry is on (1-based).
        public var line: Int
        /// As written: an address, or a bare name that takes `--domain`.
        public var user: String
        /// `{SCHEME}hash` as written (a bare `$6$`, `$5$` or `$2y$` crypt string is given its
        /// scheme); empty when the user has no password.
        public var password: String
        /// uid, gid, gecos, home, shell and extra fields, kept as written for `format`.
        public var rest: [String]

        public init(line: Int, user: String, password: String, rest: [String] = []) {
            self.line = line
            self.user = user
            self.password = password
            self.rest = rest
        }
    }

    public struct LineError: Error, Hashable, Sendable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static let maxLineBytes = 65_536

    /// Every entry and every bad line; the hashes are checked, so that a hash Mailroom cannot
    /// verify is refused here rather than at the user's first login.
    public static func parse(_ text: String) -> (entries: [Entry], errors: [LineError]) {
        var entries: [Entry] = []
        var errors: [LineError] = []
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .enumerated()
        {
            let number = i + 1
            // "\r\n" is one Character, so it is a separator of its own.
            let line = raw
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard line.utf8.count <= maxLineBytes else {
                errors.append(LineError(line: number, message: "is longer than \(maxLineBytes) bytes"))
                continue
            }
            // The eighth field, extra_fields, may itself hold colons (userdb_quota_rule=*:storage=1G).
            let fields = line.split(separator: ":", maxSplits: 7, omittingEmptySubsequences: false).map(String.init)
            let user = fields[0].trimmingCharacters(in: .whitespaces)
            guard !user.isEmpty else {
                errors.append(LineError(line: number, message: "has no user name before the first colon"))
                continue
            }
            guard fields.count >= 2 else {
                errors.append(LineError(line: number, message: "has no password field: expected user:{SCHEME}hash:..."))
                continue
            }
            var password = fields[1]
            if !password.isEmpty && !password.hasPrefix("{") {
                // Dovecot's default_pass_scheme is CRYPT: a bare crypt string names its own scheme.
                if password.hasPrefix("$6$") {
                    password = "{SHA512-CRYPT}" + password
                } else if password.hasPrefix("$5$") {
                    password = "{SHA256-CRYPT}" + password
                } else if password.hasPrefix("$2y$") || password.hasPrefix("$2b$") || password.hasPrefix("$2a$") {
                    password = "{BLF-CRYPT}" + password
                }
            }
            if !password.isEmpty {
                do { _ = try ForeignPasswordHash(password) } catch {
                    errors.append(LineError(line: number, message: "the password of \(user) \(error.message)"))
                    continue
                }
            }
            entries.append(Entry(line: number, user: user, password: password, rest: Array(fields.dropFirst(2))))
        }
        return (entries, errors)
    }

    /// The entry as a passwd-file line.
    public static func format(_ entry: Entry) -> String {
        ([entry.user, entry.password] + entry.rest).joined(separator: ":")
    }
}
