import Foundation

/// Writes `data` to `url` through a temporary file in the same directory that is renamed into
/// place, so a crash or a full disk never leaves a half-written file behind.
public func writeFileAtomically(_ data: Data, to url: URL) throws {
    let writer = try AtomicFileWriter(url: url)
    try data.withUnsafeBytes { try writer.append($0) }
    try writer.commit()
}
