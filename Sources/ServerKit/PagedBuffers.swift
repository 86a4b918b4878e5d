@_spi(CustomByteBufferAllocator) import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The allocator swift-nio-ssl takes its two lasting buffers from, when ``ServerTLS`` adds it to a
/// connection: 32 KiB for the clear text it reads, 16 KiB for the cipher text it writes.
///
/// From malloc's heap, those buffers landed on memory that earlier handshakes had touched, and
/// counted in full for as long as the connection lasted. In pages of their own (`mmap`), a
/// connection at rest holds only the page or two of each that it wrote, and a closed one gives
/// them back to the system at once.
///
/// Only blocks allocated in ``PagedBuffers/lent(to:_:)`` get pages of their own.
/// Later ones come from malloc: swift-nio-ssl replaces its cipher-text buffer for each piece of a
/// large answer, and a mapping for each made a large FETCH over TLS cost 70% more CPU.
#if os(Linux)
    let pagedBuffers = ByteBufferAllocator(
        allocate: { size in PagedBuffers.allocate(size) },
        reallocate: { pointer, old, size in PagedBuffers.reallocate(pointer, from: old, to: size) },
        deallocate: { pointer in PagedBuffers.deallocate(pointer) },
        copy: { destination, source, count in destination.copyMemory(from: source, byteCount: Int(count)) })
#else
    let pagedBuffers = ByteBufferAllocator()
#endif

enum PagedBuffers {
    /// How many threads are adding TLS just now. Read without regard to which thread: another
    /// loop's block that gets a mapping by chance is as correct as one from malloc.
    private static let adding = Atomic<Int>(0)

    /// Runs `body` with ``pagedBuffers`` as `channel`'s allocator, and its blocks mappings of
    /// their own; then gives the channel its own allocator back. Call it on the channel's loop.
    static func lent(to channel: any Channel, _ body: () throws -> Void) throws {
        guard let options = channel.syncOptions else { return try body() }
        let own = try options.getOption(.allocator)
        try options.setOption(.allocator, value: pagedBuffers)
        defer { try? options.setOption(.allocator, value: own) }
        try whileAdding(body)
    }

    /// Runs `body`, in which blocks of ``pagedBuffers`` are mappings of their own.
    static func whileAdding<T>(_ body: () throws -> T) rethrows -> T {
        adding.add(1, ordering: .relaxed)
        defer { adding.subtract(1, ordering: .relaxed) }
        return try body()
    }

    #if os(Linux)
        /// Each block starts with a header that holds the length of its mapping, or 0 when malloc
        /// gave it: `munmap` needs the length, and `free` must not see a mapping.
        static let header = 16

        static func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
            let length = size + header
            if adding.load(ordering: .relaxed) == 0 {
                guard let base = malloc(length) else { return nil }
                base.storeBytes(of: 0, as: Int.self)
                return base + header
            }
            let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let base, base != MAP_FAILED else { return nil }
            base.storeBytes(of: length, as: Int.self)
            return base + header
        }

        /// Rare (the clear-text buffer grows for a large read): a new block and a copy.
        static func reallocate(
            _ pointer: UnsafeMutableRawPointer?, from old: Int, to size: Int
        ) -> UnsafeMutableRawPointer? {
            guard let pointer else { return allocate(size) }
            guard let moved = allocate(size) else { return nil }
            moved.copyMemory(from: pointer, byteCount: min(old, size))
            deallocate(pointer)
            return moved
        }

        static func deallocate(_ pointer: UnsafeMutableRawPointer?) {
            guard let pointer else { return }
            let base = pointer - header
            let mapped = base.load(as: Int.self)
            if mapped == 0 { free(base) } else { munmap(base, mapped) }
        }
    #endif
}
