import Foundation

/// Allocation of tensor buffers: huge pages for large ones, and a cache of very large freed
/// buffers reused by size.
///
/// A training step allocates the same large activations and gradients every step. glibc
/// returns blocks over 32 MiB to the kernel on free, so each step would fault in (and the
/// kernel zero) hundreds of MiB again; profiles showed that page clearing as one of the
/// largest costs of a cross-entropy over a 50k vocabulary. Buffers of at least `minBytes`
/// (32 MiB: the ones glibc never recycles) are kept here after use, up to `capacityBytes` in
/// total (oldest dropped first), and handed out again for a request that fits: the smallest
/// cached buffer of at least the requested size and at most `slack` times it. Shapes that vary
/// from batch to batch (the logits of the scored positions, say) thus reuse each other's
/// buffers instead of filling the cache with sizes that never come back. Buffers of 2 MiB and
/// more are 2 MiB aligned and advised as transparent huge pages (one fault per 2 MiB instead of
/// per 4 KiB, and fewer TLB misses in the GEMMs). Smaller buffers go straight to malloc.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()

    let minBytes: Int
    let capacityBytes: Int
    /// A cached buffer serves requests down to 1/slack of its size.
    static let slack = 2
    private let lock = NSLock()
    /// Cached buffers, oldest first.
    private var cached: [(bytes: Int, pointer: UnsafeMutableRawPointer)] = []
    /// Sizes of the pool-sized buffers handed out (their capacity, which may exceed the request).
    private var capacities: [UnsafeMutableRawPointer: Int] = [:]
    private var cachedBytes = 0

    init() {
        MallocTuning.apply()   // before the first tensor buffer: glibc's own recycling of the smaller ones
        let env = ProcessInfo.processInfo.environment
        minBytes = env["ALIGN_BUFFER_POOL_MIN_KB"].flatMap { Int($0) }.map { $0 << 10 } ?? 32 << 20
        // ALIGN_BUFFER_POOL_MB overrides the default: a sixteenth of physical memory, at most 1 GiB
        if let v = ProcessInfo.processInfo.environment["ALIGN_BUFFER_POOL_MB"], let mb = Int(v), mb >= 0 {
            capacityBytes = mb << 20
        } else {
            capacityBytes = Swift.min(Int(ProcessInfo.processInfo.physicalMemory / 16), 1 << 30)
        }
    }

    /// Request size rounded up to whole 64 KiB.
    func roundedSize(_ bytes: Int) -> Int { (bytes + 0xFFFF) & ~0xFFFF }

    func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        guard capacityBytes > 0 else { return Self.systemAllocate(bytes, hugePages: false) }
        guard bytes >= minBytes else { return Self.systemAllocate(bytes) }
        let size = roundedSize(bytes)
        lock.lock()
        var best: Int?
        for (i, c) in cached.enumerated() where c.bytes >= size && c.bytes <= size * Self.slack {
            if best == nil || c.bytes < cached[best!].bytes { best = i }
        }
        if let i = best {
            let (capacity, p) = cached.remove(at: i)
            cachedBytes -= capacity
            capacities[p] = capacity
            lock.unlock()
            return p
        }
        lock.unlock()
        let p = Self.systemAllocate(size)
        lock.lock()
        capacities[p] = size
        lock.unlock()
        return p
    }

    func release(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        guard capacityBytes > 0, bytes >= minBytes else { Foundation.free(pointer); return }
        var evicted: [UnsafeMutableRawPointer] = []
        lock.lock()
        let capacity = capacities.removeValue(forKey: pointer) ?? roundedSize(bytes)
        cached.append((capacity, pointer))
        cachedBytes += capacity
        while cachedBytes > capacityBytes, !cached.isEmpty {
            let (s, p) = cached.removeFirst()
            cachedBytes -= s
            evicted.append(p)
        }
        lock.unlock()
        for p in evicted { Foundation.free(p) }
    }

    static let hugePage = 2 << 20

    static func systemAllocate(_ bytes: Int, hugePages: Bool = true) -> UnsafeMutableRawPointer {
        var raw: UnsafeMutableRawPointer?
        let large = hugePages && bytes >= hugePage
        let rc = posix_memalign(&raw, large ? hugePage : 64, Swift.max(bytes, 64))
        guard rc == 0, raw != nil else { MemoryBudget.allocationFailed(bytes: bytes, what: "a tensor buffer") }
        #if os(Linux)
        if large { _ = madvise(raw, bytes / hugePage * hugePage, MADV_HUGEPAGE) }
        #endif
        return raw!
    }
}
