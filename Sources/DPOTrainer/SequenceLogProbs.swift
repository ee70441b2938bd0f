import AlignData
import AlignNN
import AlignTensor

/// logπ(y|x) for every row of a right-padded batch: the sum of the response tokens'
/// log-probabilities (targets already shifted, −100 elsewhere), as a (rows) tensor that records
/// the graph when the model does.
func sequenceLogProbs(model: any CausalLM, rows b: Batch) -> Tensor {
    model.sequenceLogProbs(ids: b.ids, batch: b.batch, length: b.length, targets: b.targets)
}
