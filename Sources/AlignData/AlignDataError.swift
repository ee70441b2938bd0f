import Foundation

/// The single error type thrown by AlignData's readers and writers.
///
/// `description` names the file (as given by the caller) followed by what is
/// wrong and where, e.g.
/// `model.gguf: tensor 'blk.0.attn_q.weight' data [offset 123, 4096 bytes] runs past end of file (size 2000)`.
public struct AlignDataError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// Broad category of the failure, for callers that branch on it.
    public enum Kind: String, Sendable {
        /// The file could not be opened, read, written or renamed.
        case io
        /// The bytes do not form a valid file of the expected format (truncated, corrupt, inconsistent).
        case malformed
        /// The file is valid but uses a feature this library does not implement (a dtype, a version).
        case unsupported
        /// A tensor or metadata key that was asked for is not in the file.
        case notFound
        /// A metadata value or tensor exists but has a different type than requested.
        case typeMismatch
        /// The caller passed inconsistent arguments (e.g. data count != product(shape)).
        case invalidArgument
    }

    /// Category of the failure.
    public let kind: Kind
    /// The file the error is about (as the caller spelled it), or "" when there is none.
    public let path: String
    /// What is wrong, naming the tensor or key involved.
    public let message: String

    /// Creates an error about `path`.
    public init(_ kind: Kind, path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    /// `"<path>: <message>"`, or just the message when there is no path.
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }

    /// Same as `description`, so `localizedDescription` is informative too.
    public var errorDescription: String? { description }
}

/// The path string used in error messages for a file URL: the path as the caller
/// spelled it (relative paths stay relative).
func displayPath(of url: URL) -> String {
    url.isFileURL ? url.relativePath : url.absoluteString
}
