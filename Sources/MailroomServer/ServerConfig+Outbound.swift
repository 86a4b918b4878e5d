import DNS
import Foundation
import NIOSSL
import Outbound
import SMTPClient
import TOMLKit

extension ServerConfig {
    /// `[routes]`, `[relay]`, `[queue]` and `[dns]`.
    static func parseOutbound(_ table: TOMLTable, _ reader: ConfigReader, _ config: inout ServerConfig) throws {
        if let v = table["routes"] {
            let t = try reader.table(v, "routes")
            for key in t.keys {
                guard let text = t[key]?.string, let hop = NextHop(parsing: text) else {
                    throw reader.error("routes.\(key)", "must be \"host:port\" (IPv6 as \"[::1]:25\"), like \"example.net\" = \"127.0.0.1:2526\"")
                }
                config.outbound.routes[key.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))] = hop
            }
        }
        if let v = table["relay"] {
            let t = try reader.table(v, "relay")
            try reader.checkKeys(t, allowed: ["host", "username", "password", "password_file", "tls", "ca_file"], path: "relay")
            guard let h = t["host"], let text = h.string, let hop = NextHop(parsing: text, defaultPort: 587) else {
                throw reader.error("relay.host", "is required: the smarthost as \"host:port\", like \"smtp.provider.net:587\"")
            }
            var relay = RelayHost(hop: hop, username: nil, password: nil)
            if let u = t["username"] { relay.username = try reader.string(u, "relay.username") }
            if let p = t["password"] { relay.password = try reader.string(p, "relay.password") }
            if let f = t["password_file"] {
                let path = try reader.string(f, "relay.password_file")
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw reader.error("relay.password_file", "cannot read \(path)")
                }
                relay.password = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if let p = t["tls"] { relay.tls = try tlsPolicy(p, "relay.tls", reader) }
            if let f = t["ca_file"] {
                let path = try reader.string(f, "relay.ca_file")
                guard (try? NIOSSLCertificate.fromPEMFile(path))?.isEmpty == false else {
                    throw reader.error("relay.ca_file", "cannot read PEM certificates from \(path)")
                }
                relay.caFile = path
            }
            config.outbound.relay = relay
        }
        if let v = table["queue"] {
            let t = try reader.table(v, "queue")
            try reader.checkKeys(
                t,
                allowed: [
                    "retry_min", "retry_max", "lifetime", "delay_warning", "destination_concurrency", "max_connections", "tls", "require_tls",
                    "verify_tls", "mx_port",
                ], path: "queue")
            if let d = t["retry_min"] { config.outbound.retryMin = max(1, try reader.duration(d, "queue.retry_min")) }
            if let d = t["retry_max"] { config.outbound.retryMax = max(1, try reader.duration(d, "queue.retry_max")) }
            if let d = t["lifetime"] { config.outbound.lifetime = try reader.duration(d, "queue.lifetime") }
            if let d = t["delay_warning"] {
                let off = d.string == "off" || d.int == 0
                config.outbound.delayWarning = off ? nil : try reader.duration(d, "queue.delay_warning")
            }
            func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int? { try reader.int(in: t, "queue", key, range) }
            if let n = try int("destination_concurrency", 1...1000) { config.outbound.destinationConcurrency = n }
            if let n = try int("max_connections", 1...10_000) { config.outbound.maxConnections = n }
            if let n = try int("mx_port", 1...65535) { config.outbound.mxPort = n }
            if let p = t["tls"] { config.outbound.tls = try tlsPolicy(p, "queue.tls", reader) }
            if let r = t["require_tls"] {
                config.outbound.requireTLS = Set(try reader.strings(r, "queue.require_tls", example: "[\"bank.example\"]").map { $0.lowercased() })
            }
            if let r = t["verify_tls"] {
                config.outbound.verifyTLS = Set(try reader.strings(r, "queue.verify_tls", example: "[\"bank.example\"]").map { $0.lowercased() })
            }
        }
        if let v = table["dns"] {
            let t = try reader.table(v, "dns")
            try reader.checkKeys(t, allowed: ["servers", "timeout_ms"], path: "dns")
            if let s = t["servers"] {
                config.dnsServers = try reader.strings(s, "dns.servers", example: "[\"127.0.0.1:53\"]").map {
                    guard let hop = NextHop(parsing: $0, defaultPort: 53), hop.isIPAddress else {
                        throw reader.error("dns.servers", "\"\($0)\" is not an IP address with an optional port, like \"127.0.0.1:53\" or \"[::1]:53\"")
                    }
                    return DNSServerAddress(host: hop.host, port: hop.port)
                }
            }
            if let n = t["timeout_ms"] {
                let ms = try reader.int(n, "dns.timeout_ms")
                guard (10...60_000).contains(ms) else { throw reader.error("dns.timeout_ms", "must be between 10 and 60000") }
                config.dnsTimeoutMilliseconds = ms
            }
        }
    }

    static func tlsPolicy(_ v: any TOMLValueConvertible, _ key: String, _ reader: ConfigReader) throws -> SMTPTLSPolicy {
        switch v.string {
        case "opportunistic": return .opportunistic
        case "required": return .required
        case "verify": return .verify
        case "none": return .none
        default:
            throw reader.error(
                key, "must be \"opportunistic\" (STARTTLS when offered), \"required\", \"verify\" (required, with a valid certificate) or \"none\"")
        }
    }
}
