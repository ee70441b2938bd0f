import Foundation

/// The evaluation metrics each trainer writes (as in metrics.jsonl), known from the configuration
/// alone, so `early_stopping.metric` is checked with the other config errors, before the model
/// is loaded, instead of after the first evaluation.
public enum EvalMetricNames {
    /// `align sft`: token NLL and its exponential.
    public static let sft = ["eval/loss", "eval/perplexity"]

    /// `align dpo`: the loss, TRL's reward and log-prob metrics, and `nll_loss` with `sft_weight` > 0.
    public static func dpo(sftWeight: Double) -> [String] {
        ["eval/loss", "eval/rewards/chosen", "eval/rewards/rejected", "eval/rewards/margins", "eval/rewards/accuracies",
         "eval/logps/chosen", "eval/logps/rejected"] + (sftWeight > 0 ? ["eval/nll_loss"] : [])
    }

    /// `align rm`: the loss, accuracy and margins, and the ensemble spread with several heads.
    public static func rm(numHeads: Int) -> [String] {
        ["eval/loss", "eval/accuracy", "eval/margin_mean", "eval/margin_std"] + (numHeads > 1 ? ["eval/reward_std"] : [])
    }

    /// A config check: `early_stopping.metric` and `early_stopping.stop_metric` must be among
    /// `names(ctx)` (nil: unknown, skip).
    static func check(_ names: @escaping @Sendable (ConfigCheckContext) -> [String]?) -> @Sendable (ConfigCheckContext) -> Void {
        { ctx in
            guard case .section? = ctx.value("early_stopping"), let known = names(ctx) else { return }
            for key in ["early_stopping.metric", "early_stopping.stop_metric"] {
                guard let metric = ctx.string(key), !known.contains(metric) else { continue }
                let hint = MetricsFile.suggestion(for: metric, among: known).map { "did you mean \"\($0)\"? " } ?? ""
                ctx.fail(key, "\"\(metric)\" is not an evaluation metric of this run; \(hint)it writes: \(known.joined(separator: ", "))")
            }
        }
    }
}
