import AlignNN
import AlignTraining

/// An online trainer's objective (PPO, HPA, best-of-N): its session's policy, reward and batch
/// geometry under the names the trainers' maths uses.
package protocol OnlineObjective: AnyObject {
    var session: OnlineSession { get }
}

extension OnlineObjective {
    package var policy: any CausalLM { session.policy }
    package var reward: RewardFunction { session.reward }
    package var batchSize: Int { session.batchSize }
    package var gradAccum: Int { session.gradAccum }
    package var padID: Int { session.padID }
    package var communicator: Communicator { session.communicator }
}
