/// Punycode (RFC 3492), the encoding behind IDNA A-labels (`xn--…`).
///
/// Only the bootstring algorithm with the parameters of RFC 3492 §5; the IDNA mapping around it
/// (case folding, normalisation) is done by ``DomainName``.
public enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
    private static let initialBias = 72, initialN = 0x80

    /// RFC 3492 §6.1
    private static func adapt(_ delta: Int, _ numPoints: Int, _ firstTime: Bool) -> Int {
        var delta = firstTime ? delta / damp : delta / 2
        delta += delta / numPoints
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (((base - tMin + 1) * delta) / (delta + skew))
    }

    private static func digit(_ d: Int) -> Character {
        Character(Unicode.Scalar(UInt8(d < 26 ? d + 97 : d + 22)))
    }

    private static func value(of c: Unicode.Scalar) -> Int? {
        switch c.value {
        case 0x30...0x39: return Int(c.value) - 22
        case 0x41...0x5A: return Int(c.value) - 0x41
        case 0x61...0x7A: return Int(c.value) - 0x61
        default: return nil
        }
    }

    /// Encodes a label's Unicode scalars (RFC 3492 §6.3). Returns nil on overflow.
    public static func encode(_ input: String) -> String? {
        let scalars = input.unicodeScalars.map { Int($0.value) }
        var output = String(input.unicodeScalars.filter { $0.isASCII })
        let basicCount = output.unicodeScalars.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = initialN, delta = 0, bias = initialBias
        while handled < scalars.count {
            guard let m = scalars.filter({ $0 >= n }).min() else { return nil }
            let (product, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow, delta <= Int(Int32.max) - product else { return nil }
            delta += product
            n = m
            for c in scalars {
                if c < n {
                    delta += 1
                    guard delta <= Int(Int32.max) else { return nil }
                }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }

    /// Decodes a Punycode label (without the `xn--` prefix) (RFC 3492 §6.2). Returns nil when
    /// the input is not valid Punycode.
    public static func decode(_ input: String) -> String? {
        let scalars = Array(input.unicodeScalars)
        guard scalars.allSatisfy({ $0.isASCII }) else { return nil }
        var output: [Int] = []
        var start = 0
        if let lastDash = scalars.lastIndex(of: "-") {
            output = scalars[..<lastDash].map { Int($0.value) }
            start = lastDash + 1
        }
        var n = initialN, i = 0, bias = initialBias
        var pos = start
        while pos < scalars.count {
            let oldI = i
            var w = 1
            var k = base
            while true {
                guard pos < scalars.count, let d = value(of: scalars[pos]) else { return nil }
                pos += 1
                let (dw, o1) = d.multipliedReportingOverflow(by: w)
                guard !o1, i <= Int(Int32.max) - dw else { return nil }
                i += dw
                let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                if d < t { break }
                let (nw, o2) = w.multipliedReportingOverflow(by: base - t)
                guard !o2, nw <= Int(Int32.max) else { return nil }
                w = nw
                k += base
            }
            bias = adapt(i - oldI, output.count + 1, oldI == 0)
            n += i / (output.count + 1)
            guard n <= 0x10FFFF else { return nil }
            i %= output.count + 1
            output.insert(n, at: i)
            i += 1
        }
        var result = ""
        for v in output {
            guard let s = Unicode.Scalar(v) else { return nil }
            result.unicodeScalars.append(s)
        }
        return result
    }
}
