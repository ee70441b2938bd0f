import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file by streaming into a temporary file in the destination's
/// directory, fsync-ing it, and renaming it over the destination, so readers
/// never observe a partially written file. On any error the temporary file is
/// removed and the destination is left untouched.
final class AtomicFileWriter {
    private let destination: URL
    private let shown: String
    private let temporary: URL
    private var fd: Int32

    /// Creates the temporary file next to `url`.
    init(url: URL) throws {
        destination = url
        shown = displayPath(of: url)
        guard url.isFileURL else { throw AlignDataError(.io, path: shown, "not a file URL") }
        let suffix = String(UInt64.random(in: 0 ... UInt64.max), radix: 36)
        temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(suffix)")
        fd = temporary.withUnsafeFileSystemRepresentation { p -> Int32 in
            guard let p else { return -1 }
            return open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(0o644))
        }
        guard fd >= 0 else {
            throw AlignDataError(.io, path: shown, "cannot create temporary file \(temporary.lastPathComponent): \(lastErrorString())")
        }
    }

    deinit {
        if fd >= 0 { discard() }
    }

    /// Appends `bytes` (handles short writes and EINTR).
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard var pointer = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = write(fd, pointer, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw AlignDataError(.io, path: shown, "write failed: \(lastErrorString())")
            }
            pointer += n
            left -= n
        }
    }

    /// Flushes, closes and renames the temporary file onto the destination.
    func commit() throws {
        guard fsync(fd) == 0 else {
            let message = lastErrorString()
            discard()
            throw AlignDataError(.io, path: shown, "fsync failed: \(message)")
        }
        let closed = close(fd)
        fd = -1
        guard closed == 0 else {
            let message = lastErrorString()
            unlinkTemporary()
            throw AlignDataError(.io, path: shown, "close failed: \(message)")
        }
        let renamed = temporary.withUnsafeFileSystemRepresentation { from in
            destination.withUnsafeFileSystemRepresentation { to in
                rename(from!, to!)
            }
        }
        guard renamed == 0 else {
            let message = lastErrorString()
            unlinkTemporary()
            throw AlignDataError(.io, path: shown, "cannot rename temporary file into place: \(message)")
        }
    }

    /// Closes and deletes the temporary file.
    func discard() {
        if fd >= 0 {
            _ = close(fd)
            fd = -1
        }
        unlinkTemporary()
    }

    private func unlinkTemporary() {
        _ = temporary.withUnsafeFileSystemRepresentation { p in p.map { unlink($0) } }
    }
}
