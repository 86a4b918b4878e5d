import TLSHello

/// The `tls-hello` target: the ClientHello sniffer never waits for more than one bounded record,
/// decides the same way however many bytes follow what it decided on, and whatever it reads
/// encodes and reads back to the same SNI and ALPN.
enum TLSHelloFuzz {
    static func run(_ bytes: [UInt8]) {
        let trailing: [UInt8] = [23, 3, 3, 0, 2, 0xAB, 0xCD]
        do {
            guard let hello = try ClientHello.parse(bytes) else {
                guard bytes.count < 5 + ClientHello.Limits.maxRecordLength else {
                    fatalError("tls-hello: \(bytes.count) bytes and still waiting for more")
                }
                return
            }
            guard (try? ClientHello.parse(bytes + trailing)) == hello else {
                fatalError("tls-hello: bytes after the record changed the hello: \(bytes)")
            }
            guard (try? ClientHello.parse(hello.encoded())) == hello else {
                fatalError("tls-hello round trip failed: \(hello) from \(bytes)")
            }
        } catch {
            do {
                _ = try ClientHello.parse(bytes + trailing)
                fatalError("tls-hello: \(error) went away with more bytes: \(bytes)")
            } catch let again {
                guard again == error else { fatalError("tls-hello: \(error) became \(again) with more bytes") }
            }
        }
    }
}
