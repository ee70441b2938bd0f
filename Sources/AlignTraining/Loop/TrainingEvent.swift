import Foundation

/// What a training run reports while it runs. Libraries never print: the CLI renders these
/// (a progress bar on a terminal, plain lines otherwise) and they go to `metrics.jsonl`.
public enum TrainingEvent: Sendable {
    /// An optimizer step finished and was logged (`log_every`): its metrics, incl. `step`,
    /// `epoch`, `loss`, `learning_rate`, `grad_norm`, `tokens_per_second`, `num_tokens` (tokens
    /// seen so far, TRL's name).
    case step(step: Int, totalSteps: Int, metrics: [String: Double])
    /// An evaluation finished: metrics named `eval/…`.
    case evaluation(step: Int, metrics: [String: Double])
    /// A checkpoint was written.
    case checkpoint(step: Int, path: String)
    /// Training resumed from a checkpoint.
    case resumed(step: Int, path: String)
    /// A note worth showing (data statistics, a stop request, …).
    case message(String)
}

/// Receives events; called on the training thread.
public typealias TrainingCallback = (TrainingEvent) -> Void
