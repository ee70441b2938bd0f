/// Reverse-mode automatic differentiation.
///
/// Each recorded op stores a `Node`: its name, its inputs and a backward function that maps the
/// gradient of the op's output to gradients of its inputs. `backward()` orders the recorded
/// graph topologically and runs the backward functions in reverse, collecting gradients in a
/// `Gradients` store keyed by tensor identity. Nothing is kept on the tensors themselves and
/// there is no global tape.

/// Gradient of an op's output → gradients of its inputs (nil where an input needs none).
/// Receives the output tensor itself so that nodes need not capture it (which would make a
/// reference cycle).
typealias BackwardFunction = (_ output: Tensor, _ gradOutput: Tensor) -> [Tensor?]

final class Node {
    let op: String
    private(set) var inputs: [Tensor]
    /// nil once `backward()` has run through this node without `retainGraph`.
    private(set) var backward: BackwardFunction?

    init(op: String, inputs: [Tensor], backward: @escaping BackwardFunction) {
        self.op = op
        self.inputs = inputs
        self.backward = backward
    }

    /// Drops the inputs and the backward function (with the tensors it saved) once this node's
    /// gradient has been passed on, so that a backward pass frees each activation as soon as
    /// the last op that needs it has run (as PyTorch does without `retain_graph`).
    func release() {
        backward = nil
        releaseInputs()
    }

    deinit { releaseInputs() }

    /// Lets go of the inputs and, iteratively, of the graph below them that nothing else holds.
    /// Left to ARC, a chain of N recorded ops would be freed by N nested deinits and overflow
    /// the stack for long chains.
    private func releaseInputs() {
        guard !inputs.isEmpty else { return }
        var pending = inputs
        inputs = []
        while var t = pending.popLast() {
            // a tensor only this loop holds is about to be freed: take its inputs first so that
            // freeing it does not recurse into them
            if isKnownUniquelyReferenced(&t), let node = t.node, !node.inputs.isEmpty {
                pending.append(contentsOf: node.inputs)
                node.inputs = []
            }
        }
    }
}

/// Whether ops record the graph. Scoped per task/thread by `withNoGrad` / `withGrad`;
/// there is no mutable global switch.
public enum GradMode {
    @TaskLocal public static var isEnabled: Bool = true
}

/// Runs `body` without recording any op (inference, reference models, metrics).
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

/// Runs `body` with recording switched back on inside a no-grad scope.
public func withGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(true, operation: body)
}

extension Tensor {
    /// Wraps `storage` as the result of op `name` on `inputs`, recording a node when any input
    /// requires a gradient and recording is on.
    static func result(_ name: String, shape: [Int], storage: Storage, inputs: [Tensor],
                       backward: @escaping BackwardFunction) -> Tensor {
        if GradMode.isEnabled && inputs.contains(where: { $0.requiresGrad }) {
            return Tensor(shape: shape, storage: storage, node: Node(op: name, inputs: inputs, backward: backward))
        }
        return Tensor(shape: shape, storage: storage)
    }

    /// Gradients of this tensor with respect to every leaf that requires them.
    ///
    /// For a non-scalar tensor pass `seed`, the gradient of some scalar with respect to this
    /// tensor (same shape). Leaves' gradients are distinct buffers (safe to scale in place).
    ///
    /// Each node's saved tensors are released as soon as its gradient has been passed on, so a
    /// graph can be backpropagated once; `retainGraph: true` keeps it for another pass.
    public func backward(seed: Tensor? = nil, retainGraph: Bool = false) -> Gradients {
        if let seed {
            precondition(seed.shape == shape, "backward: seed shape \(seed.shape) differs from tensor shape \(shape)")
        } else {
            precondition(count == 1, "backward: tensor of shape \(shape) is not a scalar; pass a seed gradient")
        }
        var grads = Gradients()
        guard requiresGrad else { return grads }
        var order = topologicalOrder()
        grads.accumulate(self, seed ?? Tensor.ones(shape))
        withNoGrad {
            // popping from the end visits the reverse topological order and drops the order's
            // own reference to each tensor as soon as it has been handled
            while let t = order.popLast() {
                guard let node = t.node else { continue }
                guard let g = grads.take(t) else {
                    if !retainGraph { node.release() }
                    continue
                }
                guard let backward = node.backward else {
                    preconditionFailure("backward: the graph through op \(node.op) was already used by an earlier backward(); pass retainGraph: true to the first one to backpropagate twice")
                }
                let inputGrads = backward(t, g)
                precondition(inputGrads.count == node.inputs.count,
                             "backward: op \(node.op) returned \(inputGrads.count) gradients for \(node.inputs.count) inputs")
                for (input, ig) in zip(node.inputs, inputGrads) {
                    guard input.requiresGrad, let ig else { continue }
                    precondition(ig.shape == input.shape,
                                 "backward: op \(node.op) produced gradient of shape \(ig.shape) for input of shape \(input.shape)")
                    grads.accumulate(input, ig)
                }
                if !retainGraph { node.release() }
            }
        }
        grads.makeLeafBuffersDistinct()
        return grads
    }

    /// Recorded tensors reachable from self, each after all of its inputs.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        // iterative post-order DFS: deep graphs must not overflow the stack
        var stack: [(Tensor, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (t, next) = stack.popLast() {
            let inputs = t.node?.inputs ?? []
            if next < inputs.count {
                stack.append((t, next + 1))
                let child = inputs[next]
                if child.requiresGrad && visited.insert(ObjectIdentifier(child)).inserted {
                    stack.append((child, 0))
                }
            } else {
                order.append(t)
            }
        }
        return order
    }
}

/// Gradients keyed by tensor identity, as returned by `Tensor.backward()`.
public struct Gradients {
    private struct Entry {
        let tensor: Tensor   // keeps the key alive
        var grad: Tensor
        var owned: Bool      // grad's buffer was allocated by this store and may be written in place
    }
    private var entries: [ObjectIdentifier: Entry] = [:]

    public init() {}

    /// The gradient for `tensor`, if it received one.
    public subscript(_ tensor: Tensor) -> Tensor? { entries[ObjectIdentifier(tensor)]?.grad }

    /// Number of tensors with a gradient.
    public var count: Int { entries.count }

    /// Sets or replaces a gradient (e.g. when merging accumulated micro-batches).
    public mutating func set(_ tensor: Tensor, _ grad: Tensor) {
        precondition(grad.shape == tensor.shape, "Gradients.set: gradient shape \(grad.shape) differs from tensor shape \(tensor.shape)")
        entries[ObjectIdentifier(tensor)] = Entry(tensor: tensor, grad: grad.detached(), owned: false)
    }

    mutating func accumulate(_ tensor: Tensor, _ grad: Tensor) {
        let key = ObjectIdentifier(tensor)
        guard var e = entries[key] else {
            entries[key] = Entry(tensor: tensor, grad: grad, owned: false)
            return
        }
        if e.owned {
            addInPlace(e.grad.pointer, grad.pointer, count: grad.count)
        } else {
            // a buffer of this store's own, holding the sum in one pass (not a copy, then the sum)
            let s = Storage(uninitializedCount: grad.count)
            addInto(s.pointer, e.grad.pointer, grad.pointer, count: grad.count)
            e.grad = Tensor(shape: tensor.shape, storage: s)
            e.owned = true
        }
        entries[key] = e
    }

    /// Adds every gradient of `other` into this store (gradient accumulation over micro-batches).
    public mutating func add(_ other: Gradients) {
        for (_, e) in other.entries { accumulate(e.tensor, e.grad) }
    }

    mutating func take(_ tensor: Tensor) -> Tensor? {
        entries.removeValue(forKey: ObjectIdentifier(tensor))?.grad
    }

    /// Multiplies every gradient by `factor` in place.
    public mutating func scale(by factor: Float) {
        makeLeafBuffersDistinct()
        for key in entries.keys {
            var e = entries[key]!
            if !e.owned {
                e.grad = e.grad.copy()
                e.owned = true
            }
            scaleInPlace(e.grad.pointer, factor, count: e.grad.count)
            entries[key] = e
        }
    }

    /// Square root of the sum of squares of every gradient, accumulated in Double.
    public func globalNorm() -> Float {
        var total = 0.0
        for (_, e) in entries { total += sumOfSquares(e.grad.pointer, count: e.grad.count) }
        return Float(total.squareRoot())
    }

    /// The global norm with the squares summed in the order of `tensors` (those without a
    /// gradient skipped), so processes holding equal gradients compute the same bits whatever
    /// their dictionaries' order.
    public func globalNorm(inOrder tensors: [Tensor]) -> Float {
        var total = 0.0
        for t in tensors { if let g = self[t] { total += sumOfSquares(g.pointer, count: g.count) } }
        return Float(total.squareRoot())
    }

    /// Copies gradients that share a buffer so that each can be changed independently.
    mutating func makeLeafBuffersDistinct() {
        var seen = Set<ObjectIdentifier>()
        for key in entries.keys {
            var e = entries[key]!
            if !seen.insert(ObjectIdentifier(e.grad.storage)).inserted {
                e.grad = e.grad.copy()
                e.owned = true
                seen.insert(ObjectIdentifier(e.grad.storage))
                entries[key] = e
            }
        }
    }
}
