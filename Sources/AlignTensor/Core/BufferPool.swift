import Foundation

/// Allocation of tensor buffers: huge pages for large ones, and a cache of very large freed
/// buffers reused by size.
///
/// A training step allocates the same large activations and gradients every step. glibc
/// returns blocks over 32 MiB to the kernel on free, so each step would fault in (and the
/// kernel zero) hundreds of MiB again; profiles showed that page clearing as one of the
/// largest costs of a cross-entropy over a 50k vocabulary. Buffers of at least `minBytes`
/// (32 MiB: the ones glibc never recycles) are kept here after use, up to `capacityBytes` in
/// total (oldest dropped first), and handed out again for a request of the same rounded size.
/// Buffers of 2 MiB and more are 2 MiB aligned and advised as transparent huge pages (one fault
/// per 2 MiB instead of per 4 KiB, and fewer TLB misses in the GEMMs). Smaller buffers go
/// straight to malloc.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()

    let minBytes: Int
    let capacityBytes: Int
    private let lock = NSLock()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var order: [(bytes: Int, pointer: UnsafeMutableRawPointer)] = []
    private var cachedBytes = 0

    init() {
        let env = ProcessInfo.processInfo.environment
        minBytes = env["ALIGN_BUFFER_POOL_MIN_KB"].flatMap { Int($0) }.map { $0 << 10 } ?? 32 << 20
        // ALIGN_BUFFER_POOL_MB overrides the default: a sixteenth of physical memory, at most 1 GiB
        if let v = ProcessInfo.processInfo.environment["ALIGN_BUFFER_POOL_MB"], let mb = Int(v), mb >= 0 {
            capacityBytes = mb << 20
        } else {
            capacityBytes = Swift.min(Int(ProcessInfo.processInfo.physicalMemory / 16), 1 << 30)
        }
    }

    /// Request size rounded up to whole 64 KiB, so equal tensors share a bucket.
    func roundedSize(_ bytes: Int) -> Int { (bytes + 0xFFFF) & ~0xFFFF }

    func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        if bytes >= minBytes {
            let size = roundedSize(bytes)
            lock.lock()
            if var list = free[size], let p = list.popLast() {
                free[size] = list
                cachedBytes -= size
                if let i = order.firstIndex(where: { $0.pointer == p }) { order.remove(at: i) }
                lock.unlock()
                return p
            }
            lock.unlock()
            return Self.systemAllocate(size)
        }
        return Self.systemAllocate(bytes)
    }

    func release(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        guard bytes >= minBytes else { Foundation.free(pointer); return }
        let size = roundedSize(bytes)
        var evicted: [UnsafeMutableRawPointer] = []
        lock.lock()
        free[size, default: []].append(pointer)
        order.append((size, pointer))
        cachedBytes += size
        while cachedBytes > capacityBytes, !order.isEmpty {
            let (s, p) = order.removeFirst()
            if var list = free[s], let i = list.firstIndex(of: p) {
                list.remove(at: i)
                free[s] = list
                cachedBytes -= s
                evicted.append(p)
            }
        }
        lock.unlock()
        for p in evicted { Foundation.free(p) }
    }

    static let hugePage = 2 << 20

    static func systemAllocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        var raw: UnsafeMutableRawPointer?
        let large = bytes >= hugePage
        let rc = posix_memalign(&raw, large ? hugePage : 64, Swift.max(bytes, 64))
        precondition(rc == 0 && raw != nil, "Storage: cannot allocate \(bytes) bytes")
        #if os(Linux)
        if large { _ = madvise(raw, bytes / hugePage * hugePage, MADV_HUGEPAGE) }
        #endif
        return raw!
    }
}
