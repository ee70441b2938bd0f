import XCTest
@testable import AlignTensor

/// The graph machinery: recording, no-grad scopes, detach, gradient accumulation when a tensor
/// is used more than once, and independence of the returned gradient buffers.
final class AutogradTests: XCTestCase {
    func testReusedTensorAccumulatesGradient() {
        let x = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
        let y = (x * x + x * 3).sum()   // dy/dx = 2x + 3
        XCTAssertEqual(y.backward()[x]!.scalars, [5, 7, 9])
    }

    func testNoGradScopeRecordsNothing() {
        let x = Tensor([1, 2], shape: [2], requiresGrad: true)
        let y = withNoGrad { (x * 2).exp() }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.opName)
        let z = withNoGrad { withGrad { x * 2 } }
        XCTAssertTrue(z.requiresGrad)
        XCTAssertTrue(GradMode.isEnabled)
    }

    func testDetachStopsGradient() {
        let x = Tensor([1, 2], shape: [2], requiresGrad: true)
        let y = (x * x.detached()).sum()   // d/dx = x (the detached factor is a constant)
        XCTAssertEqual(y.backward()[x]!.scalars, [1, 2])
    }

    func testGradientsOnlyForTensorsThatRequireThem() {
        let x = Tensor([1, 2], shape: [2], requiresGrad: true)
        let c = Tensor([3, 4], shape: [2])
        let g = (x * c).sum().backward()
        XCTAssertNil(g[c])
        XCTAssertEqual(g[x]!.scalars, [3, 4])
        XCTAssertEqual(g.count, 1)
    }

    func testLeafGradientsAreDistinctBuffers() {
        // a + b passes the same upstream buffer to both leaves; scaling one must not touch the other
        let a = Tensor([1, 1], shape: [2], requiresGrad: true), b = Tensor([2, 2], shape: [2], requiresGrad: true)
        var g = (a + b).backward(seed: Tensor([1, 2], shape: [2]))
        XCTAssertFalse(g[a]!.storage === g[b]!.storage)
        g.scale(by: 0.5)
        XCTAssertEqual(g[a]!.scalars, [0.5, 1])
        XCTAssertEqual(g[b]!.scalars, [0.5, 1])
    }

    func testGradientStoreAddsMicroBatches() {
        let w = Tensor([1, -1], shape: [2], requiresGrad: true)
        var total = Gradients()
        total.add((w * 2).sum().backward())
        total.add((w * 3).sum().backward())
        XCTAssertEqual(total[w]!.scalars, [5, 5])
        XCTAssertEqual(total.globalNorm(), (50 as Float).squareRoot(), accuracy: 1e-6)
    }

    func testDeepChainDoesNotOverflowTheStack() {
        let x = Tensor([1], shape: [1], requiresGrad: true)
        var y = x
        for _ in 0..<20_000 { y = y * 1.0001 }
        let g = y.sum().backward()[x]!.item
        XCTAssertEqual(g, Float(pow(1.0001, 20_000.0)), accuracy: 1e-2)
    }

    func testBackwardOfTensorWithoutGraphIsEmpty() {
        XCTAssertEqual(Tensor.ones([1]).backward().count, 0)
    }

    /// A backward pass frees each activation once the last op that needs it has run, even while
    /// the caller still holds the loss: the graph's memory is gone when backward returns.
    func testBackwardReleasesTheGraph() {
        let w = Tensor([0.5, -1, 2], shape: [3], requiresGrad: true)
        weak var hidden: Tensor?
        weak var storage: Storage?
        let loss: Tensor = {
            let h = (w * 3).exp()     // an activation that exp's backward saves
            hidden = h
            storage = h.storage
            return (h * h).sum()
        }()
        XCTAssertNotNil(hidden, "held by the graph before backward")
        let g = loss.backward()
        XCTAssertNil(hidden, "released by backward")
        XCTAssertNil(storage)
        // d/dw Σ exp(3w)² = 6·exp(6w)
        for (a, e) in zip(g[w]!.scalars, [0.5, -1, 2].map { 6 * Foundation.exp(6 * Float($0)) }) { XCTAssertEqual(a, e, accuracy: e * 1e-5) }
        XCTAssertEqual(loss.opName, "sum")   // the loss itself stays usable as a value
    }

    func testRetainGraphAllowsASecondBackward() {
        let w = Tensor([1, 2], shape: [2], requiresGrad: true)
        let loss = ((w * w).exp()).sum()
        let first = loss.backward(retainGraph: true)[w]!.scalars
        let second = loss.backward()[w]!.scalars
        XCTAssertEqual(first, second)
        XCTAssertEqual(first[0], 2 * Foundation.exp(1), accuracy: 1e-5)
    }

    /// Buffers of at least the pool's minimum size come back for a later request that fits
    /// (the same size or up to half smaller), not for one more than twice smaller.
    func testBufferPoolReusesLargeBuffersThatFit() {
        let pool = BufferPool()   // a pool of its own: no buffers of other tests cached
        guard pool.capacityBytes >= 3 * pool.minBytes else { return }   // pool switched off by ALIGN_BUFFER_POOL_MB
        let big = pool.minBytes * 3 / 2
        let p = pool.allocate(bytes: big)
        pool.release(p, bytes: big)
        let q = pool.allocate(bytes: big - 4096)            // fits: the cached buffer is reused
        XCTAssertEqual(p, q)
        pool.release(q, bytes: big - 4096)
        let r = pool.allocate(bytes: pool.minBytes)        // 1.5× smaller: still within the slack
        XCTAssertEqual(r, p)
        pool.release(r, bytes: pool.minBytes)
        let bigger = pool.allocate(bytes: big * 2)          // larger than anything cached: fresh
        XCTAssertNotEqual(bigger, p)
        pool.release(bigger, bytes: big * 2)
        // large storage round-trips through the pool and is zeroed when asked to be
        let s = Storage(count: BufferPool.shared.minBytes / 4 + 1, repeating: 0)
        XCTAssertEqual(s.pointer[0], 0)
        XCTAssertEqual(s.pointer[s.count - 1], 0)
    }

    /// The malloc settings are applied once (the pool applied them already) and leave alone
    /// those the environment sets.
    func testMallocTuningAppliesOnceAndRespectsTheEnvironment() {
        _ = BufferPool.shared
        let first = MallocTuning.applied.map(\.name)
        MallocTuning.apply()
        XCTAssertEqual(MallocTuning.applied.map(\.name), first)
        #if canImport(Glibc)
        let env = ProcessInfo.processInfo.environment
        guard env["ALIGN_MALLOC_TUNING"] != "0" else { return XCTAssertEqual(first, []) }
        var expected: [String] = []
        for (name, variable) in [("M_MMAP_THRESHOLD", "MALLOC_MMAP_THRESHOLD_"), ("M_TRIM_THRESHOLD", "MALLOC_TRIM_THRESHOLD_"),
                                 ("M_TOP_PAD", "MALLOC_TOP_PAD_")] where env[variable] == nil && env["GLIBC_TUNABLES"] == nil {
            expected.append(name)
        }
        if env["GLIBC_TUNABLES"] == nil { XCTAssertEqual(first, expected) }
        #else
        XCTAssertEqual(first, [])
        #endif
    }

    func testDeferredInitializationSkipsTheDrawsAndIsScoped() {
        var rng = RandomGenerator(seed: 4)
        let before = rng
        let (a, b) = withDeferredInitialization {
            (Tensor.randn([3, 2], std: 1, rng: &rng, requiresGrad: true), Tensor.uniform([4], low: 1, high: 2, rng: &rng))
        }
        XCTAssertEqual(a.scalars, [Float](repeating: 0, count: 6))
        XCTAssertTrue(a.requiresGrad)
        XCTAssertEqual(b.scalars, [0, 0, 0, 0])
        XCTAssertEqual(rng.next(), { var r = before; return r.next() }())   // the generator did not move
        XCTAssertFalse(ParameterInitialization.isDeferred)
        XCTAssertNotEqual(Tensor.randn([3], rng: &rng).scalars, [0, 0, 0])
    }
}
