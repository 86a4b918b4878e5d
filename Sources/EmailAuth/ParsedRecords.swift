import Synchronization

/// What DNS record texts mean, each parsed once. The same few records (a sender's SPF record,
/// DMARC policy and DKIM key) come with almost every message from that sender, and parsing
/// them again each time (for a key: its tags, base64, the RSA key's DER and BoringSSL's set-up
/// for its modulus) was a large part of what checking a message cost. Keyed by the text, so a
/// changed record is read anew; how long a record is used is still the DNS cache's TTL.
final class ParsedRecords<Value: Sendable>: Sendable {
    private let entries = Mutex<[String: Value]>([:])
    let capacity: Int

    init(capacity: Int = 512) { self.capacity = capacity }

    func value(for text: String, parse: (String) -> Value) -> Value {
        if let value = entries.withLock({ $0[text] }) { return value }
        let value = parse(text)
        entries.withLock {
            // Bounded, whatever DNS serves: a full table starts again.
            if $0.count >= capacity { $0.removeAll(keepingCapacity: true) }
            $0[text] = value
        }
        return value
    }
}
