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
/// connection holds only the pages of each that it wrote, a closed one gives them back to the
/// system at once, and one at rest gives them back too (``PagedBuffers/release(_:)``).
///
/// Only blocks allocated in ``PagedBuffers/lent(to:_:)`` get pages of their own, and keep them as
/// they grow. Later ones come from malloc: swift-nio-ssl replaces its cipher-text buffer for each
/// piece of a large answer, and a mapping for each made a large FETCH over TLS cost 70% more CPU.
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
    /// Runs `body` with ``pagedBuffers`` as `channel`'s allocator, and its blocks mappings of
    /// their own; then gives the channel its own allocator back. Call it on the channel's loop.
    /// Returns the mappings made, for ``release(_:)``.
    static func lent(to channel: any Channel, _ body: () throws -> Void) throws -> [Int] {
        guard let options = channel.syncOptions else {
            try body()
            return []
        }
        let own = try options.getOption(.allocator)
        try options.setOption(.allocator, value: pagedBuffers)
        defer { try? options.setOption(.allocator, value: own) }
        return try mapping(body).mappings
    }

    #if os(Linux)
        /// Runs `body`, in which this thread's blocks of ``pagedBuffers`` are mappings of their
        /// own; returns what it returned and the mappings made.
        static func mapping<T>(_ body: () throws -> T) rethrows -> (result: T, mappings: [Int]) {
            let made = Made()
            let outer = pthread_getspecific(making)
            pthread_setspecific(making, Unmanaged.passUnretained(made).toOpaque())
            defer { pthread_setspecific(making, outer) }
            let result = try withExtendedLifetime(made) { try body() }
            return (result, made.mappings)
        }

        /// Gives the pages of `mappings` back to the system; those already unmapped are skipped.
        /// The blocks keep their addresses and sizes, and read as zeros from then on: call it only
        /// when nothing in them is still to be read.
        static func release(_ mappings: [Int]) {
            registry.withLock { registry in
                for id in mappings {
                    guard let block = registry.blocks[id] else { continue }
                    madvise(UnsafeMutableRawPointer(bitPattern: block.start), block.length, MADV_DONTNEED)
                }
            }
        }

        /// How many pages of `mappings` are in memory just now.
        static func residentPages(_ mappings: [Int]) -> Int {
            registry.withLock { registry in
                mappings.reduce(0) { count, id in
                    guard let block = registry.blocks[id] else { return count }
                    var pages = [UInt8](repeating: 0, count: block.length / page)
                    mincore(UnsafeMutableRawPointer(bitPattern: block.start), block.length, &pages)
                    return count + pages.count { $0 & 1 != 0 }
                }
            }
        }

        /// The mappings made in ``mapping(_:)`` on the thread that runs it.
        private final class Made {
            var mappings: [Int] = []
        }

        /// The thread's ``Made``, while ``mapping(_:)`` runs on it.
        private static let making: pthread_key_t = {
            var key = pthread_key_t()
            precondition(pthread_key_create(&key, nil) == 0, "no thread-specific key left")
            return key
        }()

        /// Live mappings, by an identity that outlives a move (growth), and by address.
        private struct Registry {
            var blocks: [Int: (start: UInt, length: Int)] = [:]
            var ids: [UInt: Int] = [:]
            var next = 0
        }
        private static let registry = Mutex(Registry())

        static let page = Int(sysconf(Int32(_SC_PAGESIZE)))

        /// Before each block from malloc: how far back malloc's own pointer is. Such a block never
        /// starts on a page boundary, and a mapping always does: that tells them apart.
        static let header = 16

        static func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
            if let made = pthread_getspecific(making) {
                return map(size, for: Unmanaged<Made>.fromOpaque(made).takeUnretainedValue())
            }
            guard let base = malloc(size + 2 * header) else { return nil }
            var block = base + header
            if Int(bitPattern: block) % page == 0 { block += header }
            (block - header).storeBytes(of: block - base, as: Int.self)
            return block
        }

        private static func map(_ size: Int, for made: Made) -> UnsafeMutableRawPointer? {
            let length = pages(size)
            guard let start = pagesOfTheirOwn(length) else { return nil }
            made.mappings.append(
                registry.withLock { registry in
                    let id = registry.next
                    registry.next += 1
                    registry.blocks[id] = (UInt(bitPattern: start), length)
                    registry.ids[UInt(bitPattern: start)] = id
                    return id
                })
            return start
        }

        /// Rare (the clear-text buffer grows for a large read): a new block and a copy. A mapping
        /// stays a mapping, under the same identity, so that it can still be released.
        static func reallocate(
            _ pointer: UnsafeMutableRawPointer?, from old: Int, to size: Int
        ) -> UnsafeMutableRawPointer? {
            guard let pointer else { return allocate(size) }
            guard Int(bitPattern: pointer) % page == 0 else {
                guard let moved = allocate(size) else { return nil }
                moved.copyMemory(from: pointer, byteCount: min(old, size))
                deallocate(pointer)
                return moved
            }
            let length = pages(size)
            guard let moved = pagesOfTheirOwn(length) else { return nil }
            moved.copyMemory(from: pointer, byteCount: min(old, size))
            registry.withLock { registry in
                guard let id = registry.ids.removeValue(forKey: UInt(bitPattern: pointer)),
                    let block = registry.blocks[id]
                else { preconditionFailure("A block on a page boundary that is no mapping of ours") }
                munmap(UnsafeMutableRawPointer(bitPattern: block.start), block.length)
                registry.ids[UInt(bitPattern: moved)] = id
                registry.blocks[id] = (UInt(bitPattern: moved), length)
            }
            return moved
        }

        static func deallocate(_ pointer: UnsafeMutableRawPointer?) {
            guard let pointer else { return }
            guard Int(bitPattern: pointer) % page == 0 else {
                return free(pointer - (pointer - header).load(as: Int.self))
            }
            registry.withLock { registry in
                guard let id = registry.ids.removeValue(forKey: UInt(bitPattern: pointer)),
                    let block = registry.blocks.removeValue(forKey: id)
                else { preconditionFailure("A block on a page boundary that is no mapping of ours") }
                munmap(UnsafeMutableRawPointer(bitPattern: block.start), block.length)
            }
        }

        private static func pagesOfTheirOwn(_ length: Int) -> UnsafeMutableRawPointer? {
            let start = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            return start == MAP_FAILED ? nil : start
        }

        private static func pages(_ size: Int) -> Int {
            (max(size, 1) + page - 1) / page * page
        }
    #else
        static func mapping<T>(_ body: () throws -> T) rethrows -> (result: T, mappings: [Int]) {
            (try body(), [])
        }

        static func release(_ mappings: [Int]) {}

        static func residentPages(_ mappings: [Int]) -> Int { 0 }
    #endif
}
