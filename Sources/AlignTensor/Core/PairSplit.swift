import CKernels
import Dispatch

/// Work over independent items split between the calling thread and CKernels' helper thread
/// (`few_rows_pair.c`), which stays awake between a decode step's jobs: a split costs about a
/// microsecond where a `DispatchQueue.concurrentPerform` hand-off wakes a sleeping pool thread.
/// For the short parallel sections of a decode step (attention over the cache, products sharing
/// one input); longer work keeps using the pool (`parallelChunks`).
public enum PairSplit {
    /// Runs `body` over `range` split into a lower half on this thread and an upper half on the
    /// helper thread when there are two workers, else over the whole range here (or, on more
    /// workers, across the pool). Items must be independent: each item's result must not depend
    /// on which thread computes it. `body` runs outside this task's task-local values on the
    /// helper thread (no `withNoGrad`), so it must not build tensors.
    public static func run(_ range: Range<Int>, _ body: (Range<Int>) -> Void) {
        if range.isEmpty { return }
        if kernelWorkers == 1 || range.count == 1 { return body(range) }
        if kernelWorkers > 2 {
            let chunk = (range.count + kernelWorkers - 1) / kernelWorkers
            let parts = (range.count + chunk - 1) / chunk
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                let lo = range.lowerBound + p * chunk
                body(lo..<Swift.min(lo + chunk, range.upperBound))
            }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var job = escapable
            withUnsafeMutablePointer(to: &job) { pointer in
                align_pair_run({ context, lo, hi in
                    let body = context!.assumingMemoryBound(to: ((Range<Int>) -> Void).self).pointee
                    body(Int(lo)..<Int(hi))
                }, pointer, range.lowerBound, range.upperBound)
            }
        }
    }
}
