import AlignTensor
import AlignTraining

/// The per-pair result of a DPO-family loss.
public struct DPOLossOutput: Sendable {
    /// Loss of each pair, shape (P); recorded for backward w.r.t. the policy log-probs.
    public let losses: Tensor
    /// Mean of `losses` over the pairs (rank 0).
    public let loss: Tensor
    /// Implicit reward of each chosen response, shape (P), detached (see `DPOLosses.loss`).
    public let chosenRewards: Tensor
    /// Implicit reward of each rejected response, shape (P), detached.
    public let rejectedRewards: Tensor

    public init(losses: Tensor, loss: Tensor, chosenRewards: Tensor, rejectedRewards: Tensor) {
        self.losses = losses
        self.loss = loss
        self.chosenRewards = chosenRewards
        self.rejectedRewards = rejectedRewards
    }
}

/// The DPO-family losses of ALGORITHMS.md ("DPO family") as pure functions of per-pair tensors.
///
/// Notation: logπ(y) is the SUM of the response-token log-probs, ρ = logπθ(y) − logπ_ref(y),
/// Δ = ρ_w − ρ_l, |y| the number of response tokens, z = βΔ.
///
/// | kind     | per-pair loss                                                  |
/// |----------|----------------------------------------------------------------|
/// | sigmoid  | −(1−ε)·logσ(z) − ε·logσ(−z)   (cDPO; ε = label smoothing)      |
/// | robust   | [−(1−ε)·logσ(z) + ε·logσ(−z)] / (1−2ε)                         |
/// | hinge    | relu(1 − z)                                                    |
/// | ipo      | (ρ_w/|y_w| − ρ_l/|y_l| − 1/(2β))²                              |
/// | dpop     | −logσ(β·(Δ − λ·max(0, −ρ_w)))                                  |
/// | ln_dpo   | −logσ(β·(ρ_w/|y_w| − ρ_l/|y_l|))                               |
/// | simpo    | −logσ(β·(logπθ(y_w)/|y_w| − logπθ(y_l)/|y_l|) − γ)             |
///
/// Relation to Hugging Face TRL 1.16 (checked against its source; goldens in
/// `scripts/gen_dpo_goldens.py`):
/// - sigmoid, robust, hinge, ipo: `DPOTrainer._compute_loss` with the same `loss_type`. TRL's
///   `sigmoid` has NO label smoothing (TRL uses `label_smoothing` only for robust, exo_pair and
///   aot); ALGORITHMS.md's cDPO form wins here and equals the formula of TRL's
///   `CPOTrainer.cpo_loss(loss_type="sigmoid")` applied to the log-ratios.
/// - ipo: TRL also divides the log-ratios by the completion length (clamped to ≥ 1) before the
///   square; so do we.
/// - ln_dpo: TRL's `loss_type="sigmoid_norm"` (same formula, lengths clamped to ≥ 1).
/// - dpop (Smaug): not in TRL; tested by hand only.
/// - simpo: `CPOTrainer.cpo_loss(loss_type="simpo")`, whose inputs are per-token average
///   log-probs (`average_log_prob=True`): −logσ(β·(ā_w − ā_l − γ/β)) = −logσ(β·(ā_w − ā_l) − γ).
///   TRL's CPO applies label smoothing to simpo too; ALGORITHMS.md does not (the config rejects
///   `label_smoothing` for simpo), so it is ignored here.
/// - Rewards, as TRL logs them: β·ρ (detached) for every reference-based loss (also ipo and
///   ln_dpo, which are NOT length-normalised in the reward), and for simpo β·logπθ(y)/|y|
///   (CPOTrainer: `beta * policy_chosen_logps` where those logps are per-token averages).
/// - Lengths are clamped to ≥ 1 before dividing (as TRL's `clamp(min=1.0)`), so an empty
///   response gives a finite loss.
public enum DPOLosses {
    /// Computes the per-pair losses, their mean and the implicit rewards.
    ///
    /// - Parameters:
    ///   - policyChosen, policyRejected: logπθ(y) summed over response tokens, shape (P).
    ///     Gradients flow into these.
    ///   - referenceChosen, referenceRejected: logπ_ref(y), shape (P), treated as constants
    ///     (detached). Required for every kind except `.simpo`, which ignores them.
    ///   - chosenLength, rejectedLength: |y| as floats, shape (P) (used by ipo, ln_dpo, simpo).
    ///   - beta: β > 0.
    ///   - labelSmoothing: ε ∈ [0, 0.5); used by sigmoid (cDPO) and robust only, ignored by the
    ///     others (the configuration rejects it there).
    ///   - dpopLambda: λ ≥ 0 of dpop.
    ///   - simpoGamma: target margin γ of simpo.
    public static func loss(_ kind: DPOLoss,
                            policyChosen: Tensor, policyRejected: Tensor,
                            referenceChosen: Tensor?, referenceRejected: Tensor?,
                            chosenLength: Tensor, rejectedLength: Tensor,
                            beta: Float, labelSmoothing: Float = 0,
                            dpopLambda: Float = 50, simpoGamma: Float = 0.5) -> DPOLossOutput {
        let shape = policyChosen.shape
        precondition(shape.count == 1 && shape[0] > 0,
                     "DPOLosses.loss: expected per-pair tensors of shape (P) with P ≥ 1, got \(shape)")
        for (name, t) in [("policyRejected", policyRejected), ("chosenLength", chosenLength),
                          ("rejectedLength", rejectedLength)] {
            precondition(t.shape == shape, "DPOLosses.loss: \(name) has shape \(t.shape), policyChosen has \(shape)")
        }
        precondition(beta > 0 && beta.isFinite, "DPOLosses.loss: beta must be a finite number > 0, got \(beta)")

        // |y| ≥ 1 (TRL: `mask.sum(dim=1).clamp(min=1.0)`); the lengths are data, never differentiated.
        let lenW = chosenLength.detached().clamp(min: 1)
        let lenL = rejectedLength.detached().clamp(min: 1)

        if kind == .simpo {
            // Reference-free: per-token average log-probs of the policy.
            let avgW = policyChosen / lenW
            let avgL = policyRejected / lenL
            let losses = -((beta * (avgW - avgL) - simpoGamma).logSigmoid())
            return DPOLossOutput(losses: losses, loss: losses.mean(),
                                 chosenRewards: (beta * avgW).detached(),
                                 rejectedRewards: (beta * avgL).detached())
        }

        guard let referenceChosen, let referenceRejected else {
            preconditionFailure("DPOLosses.loss: loss \"\(kind.rawValue)\" needs the reference log-probs "
                                + "(referenceChosen and referenceRejected); only \"simpo\" is reference-free")
        }
        precondition(referenceChosen.shape == shape && referenceRejected.shape == shape,
                     "DPOLosses.loss: reference shapes \(referenceChosen.shape), \(referenceRejected.shape) do not match the policy's \(shape)")

        let rhoW = policyChosen - referenceChosen.detached()
        let rhoL = policyRejected - referenceRejected.detached()
        let eps = labelSmoothing

        let losses: Tensor
        switch kind {
        case .sigmoid:
            precondition(eps >= 0 && eps <= 0.5, "DPOLosses.loss: sigmoid label_smoothing must be in [0, 0.5], got \(eps)")
            let z = beta * (rhoW - rhoL)
            // −(1−ε)·logσ(z) − ε·logσ(−z); the second term is skipped when ε = 0 (plain DPO).
            let clean = (1 - eps) * -z.logSigmoid()
            losses = eps == 0 ? clean : clean + eps * -(-z).logSigmoid()
        case .robust:
            precondition(eps >= 0 && eps < 0.5, "DPOLosses.loss: robust label_smoothing must be in [0, 0.5), got \(eps)")
            let z = beta * (rhoW - rhoL)
            let unscaled = eps == 0 ? -z.logSigmoid()
                                    : (1 - eps) * -z.logSigmoid() + eps * (-z).logSigmoid()
            losses = unscaled / (1 - 2 * eps)
        case .hinge:
            losses = (1 - beta * (rhoW - rhoL)).relu()
        case .ipo:
            // β plays the role of τ: the target per-token margin is 1/(2β).
            losses = (rhoW / lenW - rhoL / lenL - 1 / (2 * beta)).square()
        case .dpop:
            precondition(dpopLambda >= 0, "DPOLosses.loss: dpop_lambda must be ≥ 0, got \(dpopLambda)")
            // max(0, −ρ_w) = max(0, logπ_ref(y_w) − logπθ(y_w)): penalises the chosen log-prob falling
            // below the reference's. relu's gradient at exactly 0 is 0 (as PyTorch), so at step 0
            // (policy = reference) dpop's gradient equals sigmoid's.
            let penalty = (-rhoW).relu()
            losses = -(beta * (rhoW - rhoL - dpopLambda * penalty)).logSigmoid()
        case .lnDPO:
            losses = -(beta * (rhoW / lenW - rhoL / lenL)).logSigmoid()
        case .simpo:
            preconditionFailure("unreachable: simpo handled above")
        }
        return DPOLossOutput(losses: losses, loss: losses.mean(),
                             chosenRewards: (beta * rhoW).detached(),
                             rejectedRewards: (beta * rhoL).detached())
    }
}

extension DPOLosses {
    /// One batch of pairs as `align dpo` trains on it, whoever made the pairs (a preference file,
    /// or the policy's own samples ranked by a reward: `align online-dpo`): the configured loss,
    /// plus `sft_weight`·NLL of the chosen responses (RPO, the mean over their tokens), and TRL's
    /// metrics (`nll_loss` with RPO).
    public static func step(_ config: DPOConfig, policyChosen chosen: Tensor, policyRejected rejected: Tensor,
                            referenceChosen: Tensor?, referenceRejected: Tensor?,
                            chosenLength: Tensor, rejectedLength: Tensor) -> (loss: Tensor, metrics: [String: Double]) {
        let out = loss(config.loss, policyChosen: chosen, policyRejected: rejected,
                       referenceChosen: referenceChosen, referenceRejected: referenceRejected,
                       chosenLength: chosenLength, rejectedLength: rejectedLength,
                       beta: Float(config.beta), labelSmoothing: Float(config.labelSmoothing),
                       dpopLambda: Float(config.dpopLambda), simpoGamma: Float(config.simpoGamma))
        var total = out.loss
        var metrics = DPOMetrics.compute(out, kind: config.loss, policyChosen: chosen, policyRejected: rejected,
                                         chosenLength: chosenLength, rejectedLength: rejectedLength)
        if config.sftWeight > 0 {
            // RPO: NLL of the chosen responses, mean over their tokens
            let nll = -chosen.sum() * (1 / Float(max(1, chosenLength.scalars.reduce(0, +))))
            metrics["nll_loss"] = Double(nll.item)
            total = total + nll * Float(config.sftWeight)
        }
        return (total, metrics)
    }
}

/// TRL's logged DPO metrics for one batch: means over the pairs.
///
/// - `rewards/chosen`, `rewards/rejected`: means of the output's rewards.
/// - `rewards/margins`: mean of chosen − rejected reward.
/// - `rewards/accuracies`: fraction of pairs with chosen reward STRICTLY greater than rejected
///   (TRL: `(chosen_rewards > rejected_rewards).float().mean()`; ties count as wrong, so step 0
///   gives 0).
/// - `logps/chosen`, `logps/rejected`: means of the policy log-probs, i.e. of the summed
///   logπθ(y) for the reference-based losses (DPOTrainer), and of the per-token averages
///   logπθ(y)/|y| for simpo (CPOTrainer computes its logps with `average_log_prob=True` for
///   simpo), so that rewards/chosen = β·logps/chosen holds for simpo as in TRL.
///
/// The `loss` metric is not here: the objective logs its total loss (DPO loss plus the optional
/// SFT term).
public struct DPOMetrics: Equatable, Sendable {
    public let rewardsChosen: Double
    public let rewardsRejected: Double
    public let rewardsMargins: Double
    public let rewardsAccuracies: Double
    public let logpsChosen: Double
    public let logpsRejected: Double
    /// Number of pairs the means are over (to weight averages across micro-batches).
    public let pairs: Int

    public init(_ output: DPOLossOutput, kind: DPOLoss,
                policyChosen: Tensor, policyRejected: Tensor,
                chosenLength: Tensor, rejectedLength: Tensor) {
        let rw = output.chosenRewards.scalars, rl = output.rejectedRewards.scalars
        let pw = policyChosen.scalars, pl = policyRejected.scalars
        let n = rw.count
        precondition(n > 0 && rl.count == n && pw.count == n && pl.count == n
                     && chosenLength.count == n && rejectedLength.count == n,
                     "DPOMetrics: all per-pair tensors must have the same number of pairs ≥ 1 (rewards \(n), rejected rewards \(rl.count), logps \(pw.count)/\(pl.count), lengths \(chosenLength.count)/\(rejectedLength.count))")
        var sums = (rw: 0.0, rl: 0.0, margin: 0.0, acc: 0.0, pw: 0.0, pl: 0.0)
        let lw = chosenLength.scalars, ll = rejectedLength.scalars
        for i in 0..<n {
            sums.rw += Double(rw[i])
            sums.rl += Double(rl[i])
            sums.margin += Double(rw[i]) - Double(rl[i])
            sums.acc += rw[i] > rl[i] ? 1 : 0
            if kind == .simpo {
                sums.pw += Double(pw[i]) / Double(Swift.max(lw[i], 1))
                sums.pl += Double(pl[i]) / Double(Swift.max(ll[i], 1))
            } else {
                sums.pw += Double(pw[i])
                sums.pl += Double(pl[i])
            }
        }
        let d = Double(n)
        rewardsChosen = sums.rw / d
        rewardsRejected = sums.rl / d
        rewardsMargins = sums.margin / d
        rewardsAccuracies = sums.acc / d
        logpsChosen = sums.pw / d
        logpsRejected = sums.pl / d
        pairs = n
    }

    /// The metrics under TRL's names.
    public var dictionary: [String: Double] {
        [
            "rewards/chosen": rewardsChosen,
            "rewards/rejected": rewardsRejected,
            "rewards/margins": rewardsMargins,
            "rewards/accuracies": rewardsAccuracies,
            "logps/chosen": logpsChosen,
            "logps/rejected": logpsRejected,
        ]
    }

    /// Shorthand for `DPOMetrics(...).dictionary`.
    public static func compute(_ output: DPOLossOutput, kind: DPOLoss,
                               policyChosen: Tensor, policyRejected: Tensor,
                               chosenLength: Tensor, rejectedLength: Tensor) -> [String: Double] {
        DPOMetrics(output, kind: kind, policyChosen: policyChosen, policyRejected: policyRejected,
                   chosenLength: chosenLength, rejectedLength: rejectedLength).dictionary
    }
}
