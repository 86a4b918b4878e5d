import Foundation
import Synchronization

/// JSON Schemas of the API's request and response types, read from the types themselves: a
/// decoder that, instead of reading JSON, writes down every key a type's `init(from:)` asks
/// for, with its type and whether it may be missing. The document can then not drift from
/// the types the handlers and the CLI use.
public enum JSONSchema {
    /// The schema of `type`, with named object schemas collected into `components`.
    public static func of(_ type: any Decodable.Type, components: inout [String: Any]) -> [String: Any] {
        let recorder = Recorder()
        return recorder.schema(type, components: &components)
    }

    /// The JSON keys an object of `type` may have (what ``StrictRequest`` checks bodies against).
    public static func keys(_ type: any Decodable.Type) -> Set<String> {
        let id = ObjectIdentifier(type)
        if let known = keyCache.withLock({ $0[id] }) { return known }
        let decoder = SchemaDecoder(recorder: Recorder())
        _ = try? type.init(from: decoder)
        let keys = Set(decoder.fields.keys)
        keyCache.withLock { $0[id] = keys }
        return keys
    }

    private static let keyCache = Mutex<[ObjectIdentifier: Set<String>]>([:])

    final class Recorder {
        func schema(_ type: any Decodable.Type, components: inout [String: Any]) -> [String: Any] {
            if let special = Self.scalar(type) { return special }
            let name = Self.name(type)
            if let element = (type as? any ArrayMarker.Type)?.elementType {
                return ["type": "array", "items": schema(element, components: &components)]
            }
            if let value = (type as? any DictionaryMarker.Type)?.valueType {
                return ["type": "object", "additionalProperties": schema(value, components: &components)]
            }
            if let wrapped = (type as? any OptionalMarker.Type)?.wrappedType {
                return schema(wrapped, components: &components)
            }
            if components[name] == nil {
                components[name] = [:]  // marks it in progress (recursive types)
                let decoder = SchemaDecoder(recorder: self)
                _ = try? type.init(from: decoder)
                var properties: [String: Any] = [:]
                for (key, field) in decoder.fields {
                    properties[key] = schema(field.type, components: &components)
                }
                var object: [String: Any] = ["type": "object", "properties": properties]
                let required = decoder.fields.filter { !$0.value.optional }.map(\.key).sorted()
                if !required.isEmpty { object["required"] = required }
                components[name] = object
            }
            return ["$ref": "#/components/schemas/\(name)"]
        }

        /// The type's name without its module, so that a type keeps its schema name when it
        /// moves between modules. A generic's type arguments keep the module they were
        /// published with: the results that moved to MailCore were AdminModels' then
        /// (`Page_AdminModels_AccountView`).
        static func name(_ type: Any.Type) -> String {
            String(reflecting: type).split(separator: ".").dropFirst().joined(separator: "_")
                .replacingOccurrences(of: "<MailCore_", with: "<AdminModels_").replacingOccurrences(of: "<", with: "_").replacingOccurrences(of: ">", with: "").replacingOccurrences(of: " ", with: "")
        }

        static func scalar(_ type: Any.Type) -> [String: Any]? {
            switch type {
            case is String.Type: return ["type": "string"]
            case is Bool.Type: return ["type": "boolean"]
            case is Int.Type, is Int64.Type, is Int32.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type: return ["type": "integer"]
            case is Double.Type, is Float.Type: return ["type": "number"]
            case is Date.Type: return ["type": "string", "format": "date-time"]
            default: return nil
            }
        }
    }

    /// Snake case as the API's encoder writes keys (`sourceIp` → `source_ip`, `dkimURL` →
    /// `dkim_url`), as Foundation's `convertToSnakeCase` does.
    static func snake(_ key: String) -> String {
        let chars = Array(key)
        var out = ""
        for (i, ch) in chars.enumerated() {
            if ch.isUppercase, i > 0 {
                let previous = chars[i - 1]
                let nextIsLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if !previous.isUppercase || nextIsLower { out += "_" }
            }
            out += ch.lowercased()
        }
        return out
    }
}

protocol ArrayMarker { static var elementType: any Decodable.Type { get } }
extension Array: ArrayMarker where Element: Decodable { static var elementType: any Decodable.Type { Element.self } }
protocol DictionaryMarker { static var valueType: any Decodable.Type { get } }
extension Dictionary: DictionaryMarker where Key == String, Value: Decodable { static var valueType: any Decodable.Type { Value.self } }
protocol OptionalMarker { static var wrappedType: any Decodable.Type { get } }
extension Optional: OptionalMarker where Wrapped: Decodable { static var wrappedType: any Decodable.Type { Wrapped.self } }

/// Answers every question a type's `init(from:)` asks with a placeholder, and writes the
/// questions down.
final class SchemaDecoder: Decoder {
    struct Field {
        let type: any Decodable.Type
        let optional: Bool
    }

    let recorder: JSONSchema.Recorder
    var fields: [String: Field] = [:]
    /// Keys asked about with `decodeNil` first: the standard library's `decodeIfPresent` for
    /// String, Int, Bool and the other basic types does that, then `decode`.
    var maybeMissing: Set<String> = []
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    init(recorder: JSONSchema.Recorder) { self.recorder = recorder }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Keyed<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw Unsupported() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { throw Unsupported() }

    struct Unsupported: Error {}

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let decoder: SchemaDecoder
        var codingPath: [any CodingKey] = []
        var allKeys: [Key] { [] }

        func contains(_ key: Key) -> Bool { true }

        func record(_ key: Key, _ type: any Decodable.Type, optional: Bool) {
            decoder.fields[JSONSchema.snake(key.stringValue)] = SchemaDecoder.Field(type: type, optional: optional)
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            decoder.maybeMissing.insert(key.stringValue)
            return false
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            record(key, type, optional: decoder.maybeMissing.contains(key.stringValue))
            return try Placeholder.value(type, decoder.recorder)
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            record(key, type, optional: true)
            return nil
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            throw Unsupported()
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { throw Unsupported() }
        func superDecoder() throws -> any Decoder { throw Unsupported() }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw Unsupported() }
    }
}

/// A value of any type the API's types hold, so that decoding goes on to the next field.
private enum Placeholder {
    static func value<T: Decodable>(_ type: T.Type, _ recorder: JSONSchema.Recorder) throws -> T {
        let json: String
        switch type {
        case is String.Type: json = "\"\""
        case is Bool.Type: json = "false"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type, is Double.Type, is Float.Type: json = "0"
        case is Date.Type: json = "\"2026-01-01T00:00:00Z\""
        case is any ArrayMarker.Type: json = "[]"
        case is any DictionaryMarker.Type: json = "{}"
        default:
            // A nested object: built the same way, from placeholders.
            return try T(from: SchemaDecoder(recorder: recorder))
        }
        return try AdminJSON.decoder().decode(T.self, from: Data(json.utf8))
    }
}
