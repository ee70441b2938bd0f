import AlignData
import Foundation

/// One sampled response as the reward sources see it.
public struct RewardSample: Sendable {
    /// The prompt's record (its text and other fields, e.g. `answer`).
    public var record: PromptRecord
    /// The prompt as the policy saw it (template applied) and the response, as token ids.
    public var promptIDs: [Int]
    public var responseIDs: [Int]
    /// The response decoded without special tokens.
    public var response: String
    /// Whether the response ended with a stop (EOS) token.
    public var endedWithEOS: Bool

    public init(record: PromptRecord, promptIDs: [Int], responseIDs: [Int], response: String, endedWithEOS: Bool) {
        self.record = record
        self.promptIDs = promptIDs
        self.responseIDs = responseIDs
        self.response = response
        self.endedWithEOS = endedWithEOS
    }
}
