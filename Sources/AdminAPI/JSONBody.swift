import AdminModels
import Directory
import Foundation
import Hummingbird
import NIOCore
import Offload

enum JSONBody {
    static func response(_ value: some Encodable, status: Int = 200) throws -> Response {
        let data = try AdminJSON.encoder().encode(value)
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(status: Int, code: String, message: String) -> Response {
        (try? response(ErrorBody(code: code, message: message), status: status))
            ?? Response(status: .internalServerError)
    }

    static func text(_ text: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Reads a JSON body of type `T`, refusing malformed JSON and fields `T` does not know.
    static func decode<T: StrictRequest>(
        _ type: T.Type, from request: Request, context: AdminContext, limit: Int = 1024 * 1024
    ) async throws -> T {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        let data = Data(buffer.readableBytesView)
        guard let object = try? JSONSerialization.jsonObject(with: data), let fields = object as? [String: Any] else {
            throw AdminError.invalid("invalid_json", "the request body must be a JSON object")
        }
        if let unknown = fields.keys.sorted().first(where: { !T.fields.contains($0) }) {
            throw AdminError.invalid(
                "unknown_field", "unknown field \"\(unknown)\"; this request takes \(T.fields.sorted().joined(separator: ", "))")
        }
        do {
            return try AdminJSON.decoder().decode(T.self, from: data)
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
            let field = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw AdminError.invalid("invalid_field", "field \"\(field)\" has the wrong type")
        } catch DecodingError.keyNotFound(let key, _) {
            throw AdminError.invalid("missing_field", "field \"\(key.stringValue.snakeCased)\" is required")
        } catch {
            throw AdminError.invalid("invalid_json", "the request body is not valid: \(error)")
        }
    }
}

extension String {
    var snakeCased: String {
        var out = ""
        for ch in self {
            if ch.isUppercase {
                out += "_" + ch.lowercased()
            } else {
                out.append(ch)
            }
        }
        return out
    }
}

/// Runs blocking store work off the async executors.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await BlockingPool.shared.run(body)
}
