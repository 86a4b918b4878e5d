import NIOCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@testable import ServerKit

/// The allocator that swift-nio-ssl's lasting buffers come from: blocks made while TLS is added
/// are mappings of their own that a connection at rest gives back, and every block keeps its
/// bytes through growth and copies.
struct PagedBuffersTests {
    static func address(_ buffer: ByteBuffer) -> Int {
        buffer.withVeryUnsafeBytes { Int(bitPattern: $0.baseAddress) }
    }

    static func bytes(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) }
    }

    #if os(Linux)
        @Test func aBlockMadeWhileTLSIsAddedStartsItsOwnPages() {
            let (buffer, mappings) = PagedBuffers.mapping { pagedBuffers.buffer(capacity: 32 * 1024) }
            #expect(Self.address(buffer) % Int(getpagesize()) == 0)
            #expect(mappings.count == 1)
            // Later blocks come from malloc, and never start on a page boundary (which marks a mapping).
            for size in [1, 16, 4096 - 32, 4096 - 16, 4096, 16 * 1024] {
                #expect(Self.address(pagedBuffers.buffer(capacity: size)) % Int(getpagesize()) != 0)
            }
        }

        /// What a connection at rest does: the pages go back, the block stays usable, and what is
        /// written next reads back.
        @Test func releasedPagesGoBackAndComeBackOnUse() {
            var (buffer, mappings) = PagedBuffers.mapping { pagedBuffers.buffer(capacity: 32 * 1024) }
            buffer.writeBytes(Self.bytes(20_000, seed: 1))
            #expect(PagedBuffers.residentPages(mappings) == (20_000 + PagedBuffers.page - 1) / PagedBuffers.page)
            PagedBuffers.release(mappings)
            #expect(PagedBuffers.residentPages(mappings) == 0)
            buffer.clear()
            buffer.writeBytes(Self.bytes(100, seed: 2))
            #expect(PagedBuffers.residentPages(mappings) == 1)
            #expect(Array(buffer.readableBytesView) == Self.bytes(100, seed: 2))
            // What was there before reads as zeros.
            #expect(buffer.withVeryUnsafeBytes { $0[100..<3000].allSatisfy { $0 == 0 } })
        }

        /// The clear-text buffer grows for a large read: it stays a mapping that can be released.
        @Test func aMappingThatGrowsCanStillBeReleased() {
            var (buffer, mappings) = PagedBuffers.mapping { pagedBuffers.buffer(capacity: 32 * 1024) }
            buffer.writeBytes(Self.bytes(50_000, seed: 3))
            #expect(buffer.capacity >= 50_000)
            #expect(Self.address(buffer) % Int(getpagesize()) == 0)
            #expect(Array(buffer.readableBytesView) == Self.bytes(50_000, seed: 3))
            #expect(PagedBuffers.residentPages(mappings) >= 50_000 / PagedBuffers.page)
            PagedBuffers.release(mappings)
            #expect(PagedBuffers.residentPages(mappings) == 0)
        }

        /// Releasing a mapping that is gone (the connection closed, or TLS replaced the buffer)
        /// touches nothing, even when a new mapping took its address.
        @Test func aFreedMappingIsNotReleasedAgain() {
            var mappings: [Int] = []
            do {
                (_, mappings) = PagedBuffers.mapping { pagedBuffers.buffer(capacity: 32 * 1024) }
            }
            var (other, _) = PagedBuffers.mapping { pagedBuffers.buffer(capacity: 32 * 1024) }
            other.writeBytes(Self.bytes(10_000, seed: 4))
            PagedBuffers.release(mappings)
            #expect(Array(other.readableBytesView) == Self.bytes(10_000, seed: 4))
        }
    #endif

    @Test(arguments: [true, false])
    func bytesSurviveGrowthAndCopies(madeWhileAdding: Bool) {
        let make = { pagedBuffers.buffer(capacity: 32 * 1024) }
        var buffer = madeWhileAdding ? PagedBuffers.mapping(make).result : make()
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
        _ = PagedBuffers.mapping { buffer.writeBytes(Self.bytes(100_000, seed: 3)) }
        #expect(Array(buffer.readableBytesView) == first + more + Self.bytes(100_000, seed: 3))
    }
}
