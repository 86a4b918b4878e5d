extension UInt8 {
    /// The byte with an ASCII capital letter lowered; any other byte (UTF-8 included) as it is.
    @inlinable public var asciiLowercased: UInt8 { (0x41...0x5A).contains(self) ? self | 0x20 : self }

    /// The byte with an ASCII small letter raised; any other byte as it is.
    @inlinable public var asciiUppercased: UInt8 { (0x61...0x7A).contains(self) ? self - 0x20 : self }
}

extension Collection<UInt8> {
    /// Whether these bytes start with `prefix`, a lower-case ASCII literal, in any ASCII case:
    /// protocol keywords and header field names, compared without making Strings of them.
    @inlinable public func hasASCIIPrefix(lowercased prefix: StaticString) -> Bool {
        let p = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        return count >= p.count && zip(self, p).allSatisfy { $0.asciiLowercased == $1 }
    }
}
