import NIOCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@testable import ServerKit

/// The allocator that swift-nio-ssl's lasting buffers come from: blocks made while TLS is added
/// are mappings of their own, and every block keeps its bytes through growth and copies.
struct PagedBuffersTests {
    static func address(_ buffer: ByteBuffer) -> Int {
        buffer.withVeryUnsafeBytes { Int(bitPattern: $0.baseAddress) }
    }

    static func bytes(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) }
    }

    #if os(Linux)
        @Test func aBlockMadeWhileTLSIsAddedStartsItsOwnPages() {
            let buffer = PagedBuffers.whileAdding { pagedBuffers.buffer(capacity: 32 * 1024) }
            #expect((Self.address(buffer) - PagedBuffers.header) % Int(getpagesize()) == 0)
        }
    #endif

    @Test(arguments: [true, false])
    func bytesSurviveGrowthAndCopies(madeWhileAdding: Bool) {
        let make = { pagedBuffers.buffer(capacity: 32 * 1024) }
        var buffer = madeWhileAdding ? PagedBuffers.whileAdding(make) : make()
        let first = Self.bytes(20_000, seed: 1)
        buffer.writeBytes(first)
        let copy = buffer
        // Grows past its capacity, and first copies: the copy keeps what it had.
        let more = Self.bytes(70_000, seed: 2)
        buffer.writeBytes(more)
        #expect(buffer.capacity >= 90_000)
        #expect(Array(buffer.readableBytesView) == first + more)
        #expect(Array(copy.readableBytesView) == first)
        // Grows inside the window too (a mapping replaces whatever the block was).
        PagedBuffers.whileAdding { buffer.writeBytes(Self.bytes(100_000, seed: 3)) }
        #expect(Array(buffer.readableBytesView) == first + more + Self.bytes(100_000, seed: 3))
    }
}
