import Foundation

/// How Mailroom writes and reads JSON: snake_case keys, ISO 8601 dates, sorted keys (so that
/// output is stable for scripts and tests). The admin API (as `AdminJSON`), the audit log's
/// before and after values, and backup manifests all use it, so each reads like the others.
public enum JSONConventions {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
