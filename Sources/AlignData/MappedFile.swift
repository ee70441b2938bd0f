import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file, read-only memory mappings exposed as `Data`.
///
/// The mapping is private and read-only; it is unmapped when the last copy of
/// the returned `Data` goes away. (As with any mmap, truncating the file in
/// place while it is mapped is undefined; replacing it by rename is safe.)
enum MappedFile {
    static func map(_ url: URL) throws -> Data {
        let shown = displayPath(of: url)
        guard url.isFileURL else {
            throw AlignDataError(.io, path: shown, "not a file URL")
        }
        let fd: Int32 = url.withUnsafeFileSystemRepresentation { p in
            guard let p else { return -1 }
            return open(p, O_RDONLY | O_CLOEXEC)
        }
        guard fd >= 0 else {
            throw AlignDataError(.io, path: shown, "cannot open file: \(lastErrorString())")
        }
        defer { _ = close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw AlignDataError(.io, path: shown, "cannot stat file: \(lastErrorString())")
        }
        guard (st.st_mode & mode_t(S_IFMT)) == mode_t(S_IFREG) else {
            throw AlignDataError(.io, path: shown, "not a regular file")
        }
        guard let size = Int(exactly: st.st_size), size > 0 else { return Data() }
        let mapped: UnsafeMutableRawPointer? = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let base = mapped, base != UnsafeMutableRawPointer(bitPattern: -1) else {
            // Some file systems cannot be mapped; fall back to reading the file.
            do {
                return try Data(contentsOf: url)
            } catch {
                throw AlignDataError(.io, path: shown, "cannot read file: \(error.localizedDescription)")
            }
        }
        return Data(bytesNoCopy: base, count: size, deallocator: .custom { pointer, count in
            _ = munmap(pointer, count)
        })
    }
}

/// `strerror(errno)` as a Swift string.
func lastErrorString() -> String {
    String(cString: strerror(errno))
}
