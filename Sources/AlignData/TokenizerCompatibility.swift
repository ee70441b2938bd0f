import Foundation

extension Tokenizer {
    /// The first token id two tokenizers read differently (a different vocabulary entry, or one
    /// that only one of them has), nil when they map every id to the same token. Two models
    /// exchange token ids (a reward model or a reference scoring the policy's samples) only when
    /// this is nil: the same vocabulary size is not enough.
    public func firstDifference(from other: Tokenizer) -> (id: Int, mine: String?, theirs: String?)? {
        if isSentencePieceStyle != other.isSentencePieceStyle {
            return (0, idToToken(0), other.idToToken(0))
        }
        for id in 0..<max(vocabSize, other.vocabSize) {
            let a = idToToken(id), b = other.idToToken(id)
            if a != b { return (id, a, b) }
        }
        return nil
    }

    /// Refuses `other` (the tokenizer of the model at `path`, given as `name`) unless it reads
    /// every token id as this one does; the error names the first id they differ on.
    /// `mine` names this tokenizer's owner in the message.
    public func requireSameVocabulary(_ other: Tokenizer, name: String, path: String, role: String, mine: String = "the policy") throws {
        guard let d = firstDifference(from: other) else { return }
        func show(_ t: String?) -> String { t.map { "\"\($0)\"" } ?? "absent" }
        let kinds = isSentencePieceStyle != other.isSentencePieceStyle
            ? " (\(other.isSentencePieceStyle ? "SentencePiece" : "byte-level") there, \(isSentencePieceStyle ? "SentencePiece" : "byte-level") here)" : ""
        throw AlignDataError(.invalidArgument, path: path,
                             "\(name): its tokenizer is not \(mine)'s\(kinds): token id \(d.id) is \(show(d.theirs)) there and \(show(d.mine)) for \(mine) (vocabularies of \(other.vocabSize) and \(vocabSize) tokens); \(role) reads \(mine)'s token ids, so the two must share a tokenizer")
    }
}
