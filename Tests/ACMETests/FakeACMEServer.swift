import ACME
import Foundation
import HTTPClientKit
import NIOHTTP1
import Synchronization

/// A scripted ACME server in memory: enough of RFC 8555 for one order of HTTP-01 or
/// TLS-ALPN-01 authorizations, checking each JWS's signature and nonce, with knobs for the failures a client
/// must survive.
final class FakeACMEServer: ACMETransport {
    struct State {
        var nonceCounter = 0
        var issued: Set<String> = []
        var used: Set<String> = []
        /// Refuse this many requests with badNonce first.
        var badNonces = 0
        /// Authorizations answer `pending` this many polls (with Retry-After: 2) before settling.
        var pendingPolls = 1
        var validate: @Sendable (String) -> Bool = { _ in true }
        var names: [String] = []
        var authz: [String: String] = [:]  // name → status
        var orderStatus = "pending"
        var requests: [String] = []
        var csr: String?
        /// The challenges the client asked to have validated: "http-01 a.example".
        var challenged: [String] = []
    }
    let state = Mutex(State())
    let base = "https://acme.test"

    func send(method: HTTPMethod, url: String, headers: [(String, String)], body: Data?) async throws
        -> HTTPExchange.Response
    {
        try state.withLock { s in
            let path = String(url.dropFirst(base.count))
            s.requests.append("\(method) \(path)")
            func nonce() -> String {
                s.nonceCounter += 1
                let n = "n\(s.nonceCounter)"
                s.issued.insert(n)
                return n
            }
            func reply(_ status: Int, _ json: String, _ extra: [(String, String)] = []) -> HTTPExchange.Response {
                HTTPExchange.Response(
                    status: status, headers: [("Replay-Nonce", nonce())] + extra.map { (name: $0.0, value: $0.1) },
                    body: Array(json.utf8))
            }
            if path == "/dir" {
                return reply(
                    200, #"{"newNonce":"\#(base)/nonce","newAccount":"\#(base)/acct","newOrder":"\#(base)/order"}"#)
            }
            if path == "/nonce" { return reply(204, "") }
            if method == .GET {
                return reply(404, #"{"type":"urn:ietf:params:acme:error:malformed","detail":"no such resource"}"#)
            }
            // Every POST: a JWS whose protected header has a nonce we issued and the right url.
            let jws = try JSONSerialization.jsonObject(with: body ?? Data()) as! [String: String]
            let header = try JSONSerialization.jsonObject(with: Self.unbase64(jws["protected"]!)) as! [String: Any]
            let payload = Self.unbase64(jws["payload"]!)
            guard header["url"] as? String == url, let n = header["nonce"] as? String, s.issued.contains(n),
                !s.used.contains(n)
            else {
                return reply(400, #"{"type":"urn:ietf:params:acme:error:badNonce","detail":"stale"}"#)
            }
            s.used.insert(n)
            if s.badNonces > 0 {
                s.badNonces -= 1
                return reply(400, #"{"type":"urn:ietf:params:acme:error:badNonce","detail":"try again"}"#)
            }
            switch path {
            case "/acct":
                precondition(header["jwk"] != nil)
                return reply(201, #"{"status":"valid"}"#, [("Location", "\(base)/acct/1")])
            case "/order":
                precondition(header["kid"] as? String == "\(base)/acct/1")
                let ids = (try JSONSerialization.jsonObject(with: payload) as! [String: [[String: String]]])[
                    "identifiers"]!
                s.names = ids.map { $0["value"]! }
                for name in s.names { s.authz[name] = "pending" }
                return reply(201, order(s), [("Location", "\(base)/order/1")])
            case "/order/1":
                return reply(200, order(s))
            case "/finalize":
                s.csr = (try JSONSerialization.jsonObject(with: payload) as! [String: String])["csr"]
                s.orderStatus = "valid"
                return reply(200, order(s))
            case "/cert":
                return reply(200, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
            default:
                if path.hasPrefix("/authz/") {
                    let name = String(path.dropFirst(7))
                    if s.authz[name] == "processing" {
                        if s.pendingPolls > 0 {
                            s.pendingPolls -= 1
                            return reply(200, authz(name, "pending"), [("Retry-After", "2")])
                        }
                        s.authz[name] = s.validate(name) ? "valid" : "invalid"
                        if s.authz.values.allSatisfy({ $0 == "valid" }) { s.orderStatus = "ready" }
                        if s.authz[name] == "invalid" { s.orderStatus = "invalid" }
                    }
                    return reply(200, authz(name, s.authz[name]!))
                }
                if path.hasPrefix("/chall/") || path.hasPrefix("/alpn/") {
                    let type = path.hasPrefix("/chall/") ? "http-01" : "tls-alpn-01"
                    let name = String(path.drop { $0 != "/" }.dropFirst().drop { $0 != "/" }.dropFirst())
                    s.challenged.append("\(type) \(name)")
                    s.authz[name] = "processing"
                    return reply(
                        200, #"{"type":"\#(type)","url":"\#(url)","status":"processing","token":"tok-\#(name)"}"#)
                }
                return reply(404, #"{"type":"urn:ietf:params:acme:error:malformed","detail":"no such resource"}"#)
            }
        }
    }

    private func order(_ s: State) -> String {
        let authz = s.names.map { "\"\(base)/authz/\($0)\"" }.joined(separator: ",")
        let ids = s.names.map { #"{"type":"dns","value":"\#($0)"}"# }.joined(separator: ",")
        let cert = s.orderStatus == "valid" ? #","certificate":"\#(base)/cert""# : ""
        return
            #"{"status":"\#(s.orderStatus)","identifiers":[\#(ids)],"authorizations":[\#(authz)],"finalize":"\#(base)/finalize"\#(cert)}"#
    }

    private func authz(_ name: String, _ status: String) -> String {
        let error =
            status == "invalid"
            ? #","error":{"type":"urn:ietf:params:acme:error:unauthorized","detail":"wrong answer for \#(name)"}"# : ""
        let cstatus = status == "processing" ? "processing" : status
        return #"{"status":"\#(status)","identifier":{"type":"dns","value":"\#(name)"},"challenges":["#
            + #"{"type":"tls-alpn-01","url":"\#(base)/alpn/\#(name)","status":"pending","token":"tok-\#(name)"},"#
            + #"{"type":"http-01","url":"\#(base)/chall/\#(name)","status":"\#(cstatus)","token":"tok-\#(name)"\#(error)}]}"#
    }

    static func unbase64(_ s: String) -> Data {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t)!
    }
}
